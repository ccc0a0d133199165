/*
 * fuzz_config - the configuration loader on arbitrary files: config_load
 * either returns a snapshot or NULL with at least one "FILE:LINE: KEY:"
 * error, never crashes; the integer literals are read back from the file
 * (cfg_literal), so the bytes reach that reader too. The address and name
 * validators it uses (milter socket, Redis address, header field name,
 * roles mode) run on the raw bytes as well; an accepted header name has
 * no colon, control character or white space.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "egress/config.h"
#include "egress/roles.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
const char *__lsan_default_suppressions(void);

/*
 * libconfig 1.5's scanner leaks on some syntax errors (the buffer of an
 * unterminated string, a token before a stray quote): allocations made
 * inside libconfig are not ours (config_load always calls config_destroy).
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct cfg_errors errs;
	struct config *c;
	char in[1024], why[160];
	enum role_mode m;
	size_t n = size < sizeof(in) - 1 ? size : sizeof(in) - 1, i;
	FILE *fp;

	memcpy(in, data, n);
	in[n] = '\0';
	(void)cfg_socket_check(in, why, sizeof(why));
	(void)cfg_hostport_check(in, why, sizeof(why));
	(void)role_mode_parse(in, &m);
	if (cfg_header_name_is_valid(in))
		for (i = 0; in[i] != '\0'; i++)
			if (in[i] == ':' || (unsigned char)in[i] <= ' ' ||
			    (unsigned char)in[i] >= 0x7f)
				abort();

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fuzz_config.%ld.conf", (long)getpid());
	if ((fp = fopen(path, "w")) == NULL)
		return 0;
	if (size > 0 && fwrite(data, 1, size, fp) != size) {
		fclose(fp);
		return 0;
	}
	fclose(fp);
	cfg_errors_init(&errs, path);
	c = config_load(path, &errs);
	if (c == NULL && errs.count == 0)
		abort();
	if (c != NULL && errs.count != 0)
		abort();
	config_free(c);
	cfg_errors_fini(&errs);
	(void)unlink(path);
	return 0;
}
