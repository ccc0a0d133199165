/*
 * hang_smfi_main.c - fault injection for tests/daemon_start.sh: wraps
 * libmilter's smfi_main() so that it never returns once libmilter has
 * stopped, as libmilter's worker pool does when a connection is accepted
 * while its controller tears the pool down. Loaded with LD_PRELOAD.
 */
#include <dlfcn.h>
#include <string.h>
#include <unistd.h>

int	smfi_main(void);

int
smfi_main(void)
{
	void *sym = dlsym(RTLD_NEXT, "smfi_main");
	int (*real)(void);

	if (sym == NULL)
		return -1;
	memcpy(&real, &sym, sizeof(real));
	(void)real();
	for (;;)
		pause();
}
