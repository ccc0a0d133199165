/*
 * null_milter - a libmilter filter that does nothing, the floor
 * bench/postfix_bench.sh compares milter-egress against: it asks for every
 * stage milter-egress asks for (connect, MAIL, RCPT, headers, body, end of
 * message) and answers each with "continue", so what it costs Postfix is the
 * milter protocol alone.
 *
 * usage: bench/null_milter SOCKET      (e.g. unix:/tmp/null.sock)
 */
#include <stdio.h>
#include <stdlib.h>

#include <libmilter/mfapi.h>

static sfsistat
cont_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)ctx; (void)host; (void)addr;
	return SMFIS_CONTINUE;
}

static sfsistat
cont_argv(SMFICTX *ctx, char **argv)
{
	(void)ctx; (void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat
cont_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx; (void)name; (void)value;
	return SMFIS_CONTINUE;
}

static sfsistat
cont_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	(void)ctx; (void)p; (void)n;
	return SMFIS_CONTINUE;
}

static sfsistat
cont_ctx(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

int
main(int argc, char **argv)
{
	struct smfiDesc desc = {
		.xxfi_name = "null",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = 0,
		.xxfi_connect = cont_connect,
		.xxfi_envfrom = cont_argv,
		.xxfi_envrcpt = cont_argv,
		.xxfi_header = cont_header,
		.xxfi_eoh = cont_ctx,
		.xxfi_body = cont_body,
		.xxfi_eom = cont_ctx,
		.xxfi_abort = cont_ctx,
		.xxfi_close = cont_ctx,
	};

	if (argc != 2) {
		fprintf(stderr, "usage: null_milter SOCKET\n");
		return 2;
	}
	if (smfi_setconn(argv[1]) == MI_FAILURE ||
	    smfi_register(desc) == MI_FAILURE) {
		fprintf(stderr, "null_milter: cannot set up %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
