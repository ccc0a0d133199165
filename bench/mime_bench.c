/*
 * mime_bench - throughput of the streaming MIME parser (prints figures,
 * asserts nothing).
 *
 * Builds two messages in memory: SIZE MB (default 25) of a base64
 * attachment in a multipart/mixed, and SIZE MB of 72-column text, then feeds
 * each to the parser in 64 KiB chunks (as the MTA sends them) with a handler
 * that only counts decoded bytes, several rounds, and prints MB/s beside a
 * plain memchr('\n') pass over the same bytes; the ratio is the figure.
 *
 * usage: mime_bench [SIZE_MB [ROUNDS]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "egress/buf.h"
#include "egress/findings.h"
#include "egress/mime.h"

#define CHUNK	65536

static size_t	sink;

static int
count_data(void *ctx, const struct mime_part_info *in, const char *p,
    size_t n)
{
	(void)ctx;
	(void)in;
	(void)p;
	sink += n;
	return 0;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "mime_bench: %s\n", what);
	exit(1);
}

static void
make_base64(struct buf *b, size_t size)
{
	static const char al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned seed = 12345;
	size_t i;

	if (buf_puts(b, "--b0\r\nContent-Type: text/plain\r\n\r\nSee the "
	    "attachment.\r\n--b0\r\nContent-Type: application/octet-stream;"
	    " name=\"data.bin\"\r\nContent-Disposition: attachment; "
	    "filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n"
	    "\r\n") != BUF_OK)
		die("no memory");
	while (b->len < size) {
		char line[78];

		for (i = 0; i < 76; i++) {
			seed = seed * 1103515245u + 12345u;
			line[i] = al[(seed >> 16) & 63];
		}
		line[76] = '\r';
		line[77] = '\n';
		if (buf_append(b, line, sizeof(line)) != BUF_OK)
			die("no memory");
	}
	if (buf_puts(b, "--b0--\r\n") != BUF_OK)
		die("no memory");
}

static void
make_text(struct buf *b, size_t size, int part)
{
	static const char words[] = "the quick brown fox jumps over the lazy "
	    "dog, and then some more words to fill a line of text with. ";
	size_t off = 0;

	if (part && buf_puts(b, "--b0\r\nContent-Type: text/plain\r\n\r\n") !=
	    BUF_OK)
		die("no memory");
	while (b->len < size) {
		char line[74];
		size_t i;

		for (i = 0; i < 72; i++)
			line[i] = words[(off + i) % (sizeof(words) - 1)];
		off += 7;
		line[72] = '\r';
		line[73] = '\n';
		if (buf_append(b, line, sizeof(line)) != BUF_OK)
			die("no memory");
	}
	if (part && buf_puts(b, "--b0--\r\n") != BUF_OK)
		die("no memory");
}

static double
run_parser(const struct buf *body, int multipart, int rounds)
{
	struct mime_handler h = { 0 };
	struct findings f;
	struct mime_parser *p;
	double t0, best = 1e9;
	size_t off, n;
	int r;

	h.part_data = count_data;
	for (r = 0; r < rounds; r++) {
		findings_init(&f, 0);
		if ((p = mime_parser_new(&(struct mime_limits){
		    .decoded_bytes = (size_t)-1 }, &h, 1, &f)) == NULL)
			die("no memory");
		t0 = now();
		if (mime_parser_header(p, "MIME-Version", "1.0") != 0 ||
		    mime_parser_header(p, "Content-Type", multipart ?
		    "multipart/mixed; boundary=\"b0\"" :
		    "text/plain; charset=us-ascii") != 0 ||
		    mime_parser_eoh(p) != 0)
			die("parser failure");
		for (off = 0; off < body->len; off += n) {
			n = body->len - off < CHUNK ? body->len - off : CHUNK;
			if (mime_parser_body(p, body->data + off, n) != 0)
				die("parser failure");
		}
		if (mime_parser_finish(p) != 0)
			die("parser failure");
		t0 = now() - t0;
		if (t0 < best)
			best = t0;
		mime_parser_free(p);
		findings_fini(&f);
	}
	return best;
}

static double
run_memchr(const struct buf *body, int rounds)
{
	double t0, best = 1e9;
	const char *p, *e;
	size_t lines;
	int r;

	for (r = 0; r < rounds; r++) {
		t0 = now();
		lines = 0;
		for (p = body->data, e = body->data + body->len;
		    (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
			lines++;
		sink += lines;
		t0 = now() - t0;
		if (t0 < best)
			best = t0;
	}
	return best;
}

static void
report(const char *label, const struct buf *body, int multipart, int rounds)
{
	double mb = (double)body->len / (1024.0 * 1024.0);
	double tp = run_parser(body, multipart, rounds);
	double tm = run_memchr(body, rounds);

	printf("%-28s %7.1f MB  parser %8.1f MB/s  memchr %8.1f MB/s  "
	    "ratio %5.1fx\n", label, mb, mb / tp, mb / tm, tp / tm);
}

int
main(int argc, char **argv)
{
	size_t size = (argc > 1 ? strtoul(argv[1], NULL, 10) : 25) << 20;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	struct buf b64, text, mtext;

	buf_init(&b64, 0);
	buf_init(&text, 0);
	buf_init(&mtext, 0);
	make_base64(&b64, size);
	make_text(&text, size, 0);
	make_text(&mtext, size, 1);
	printf("mime_bench: best of %d rounds, %d KiB chunks\n", rounds,
	    CHUNK / 1024);
	report("base64 attachment", &b64, 1, rounds);
	report("text/plain", &text, 0, rounds);
	report("text part in a multipart", &mtext, 1, rounds);
	buf_fini(&b64);
	buf_fini(&text);
	buf_fini(&mtext);
	return sink == 0;
}
