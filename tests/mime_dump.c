/*
 * mime_dump - test program: parse a message file with the MIME parser and
 * print the part tree, headers, decoded data (length, hash, first bytes) and
 * findings. Used to make and check tests/data/mime golden files.
 *
 * usage: mime_dump [-c chunk] [-d depth] [-p parts] [-b boundary_length]
 *                  [-H part_header_bytes] [-D decoded_bytes] [-n] file
 *   -c  body chunk size (0 = whole body in one call)
 *   -n  leave header fields out of the dump
 *   -a  check: parse at chunk sizes 1 2 3 7 64 4096 and whole, exit 1 when
 *       any dump differs from the whole-body one (prints nothing else)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "egress/buf.h"
#include "egress/mime.h"
#include "mime_collect.h"

static int
read_file(const char *path, struct buf *b)
{
	char tmp[65536];
	size_t n;
	FILE *fp;

	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		if (buf_append(b, tmp, n) != BUF_OK) {
			fclose(fp);
			return -1;
		}
	fclose(fp);
	return 0;
}

int
main(int argc, char **argv)
{
	static const size_t sizes[] = { 1, 2, 3, 7, 64, 4096 };
	struct mime_limits lim;
	struct buf msg, out, other;
	size_t chunk = 0, i;
	int ch, headers = 1, all = 0, rc = 0;

	memset(&lim, 0, sizeof(lim));
	while ((ch = getopt(argc, argv, "ac:d:p:b:H:D:n")) != -1) {
		switch (ch) {
		case 'a': all = 1; break;
		case 'c': chunk = strtoul(optarg, NULL, 10); break;
		case 'd': lim.depth = strtoul(optarg, NULL, 10); break;
		case 'p': lim.parts = strtoul(optarg, NULL, 10); break;
		case 'b': lim.boundary_length = strtoul(optarg, NULL, 10); break;
		case 'H': lim.part_header_bytes = strtoul(optarg, NULL, 10); break;
		case 'D': lim.decoded_bytes = strtoul(optarg, NULL, 10); break;
		case 'n': headers = 0; break;
		default:
			fprintf(stderr, "usage: mime_dump [-a] [-c chunk] "
			    "[-d n] [-p n] [-b n] [-H n] [-D n] [-n] file\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "mime_dump: one file expected\n");
		return 2;
	}
	buf_init(&msg, 0);
	buf_init(&out, 0);
	buf_init(&other, 0);
	if (read_file(argv[optind], &msg) != 0) {
		perror(argv[optind]);
		return 2;
	}
	if (mt_dump(&out, buf_cstr(&msg), msg.len, &lim, all ? 0 : chunk,
	    headers) != 0) {
		fprintf(stderr, "mime_dump: parser failure\n");
		return 2;
	}
	if (!all)
		fwrite(buf_cstr(&out), 1, out.len, stdout);
	for (i = 0; all && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		buf_reset(&other);
		if (mt_dump(&other, buf_cstr(&msg), msg.len, &lim, sizes[i],
		    headers) != 0) {
			fprintf(stderr, "mime_dump: parser failure\n");
			return 2;
		}
		if (other.len != out.len || memcmp(buf_cstr(&other),
		    buf_cstr(&out), out.len) != 0) {
			fprintf(stderr, "%s: chunk size %zu differs\n",
			    argv[optind], sizes[i]);
			rc = 1;
		}
	}
	buf_fini(&msg);
	buf_fini(&out);
	buf_fini(&other);
	return rc;
}
