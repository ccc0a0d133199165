/*
 * scan_bench - throughput of the whole outbound scan (prints figures,
 * asserts nothing).
 *
 * Builds three messages in memory, each SIZE MB (default 25) of header and
 * body with CRLF line ends:
 *   base64   multipart/mixed: a short text part and an attachment of random
 *            bytes, base64 in 76-column lines;
 *   text     text/plain, 72-column lines of words;
 *   html     multipart/alternative: half text/plain, half text/html with a
 *            link (<a href>, and a bare URL in the text half) every 8 lines.
 * Each message goes through what the daemon runs for one transaction:
 * scan_new() with the config (the built-in defaults, or the file given with
 * -c), scan_header() per field, scan_eoh(), scan_body() in 64 KiB chunks
 * (what an MTA sends at most per body call), scan_finish(), policy_decide(),
 * scan_free(). Beside it, a plain memchr('\n') pass over the same bytes. The
 * figures are the best and the median MB/s of ROUNDS rounds and the ratio
 * scan/memchr of the best figures.
 *
 * With the defaults, limits.decoded_bytes (1 MiB) bounds what the content
 * consumers (links, attachment sniffing, operator rules) see of each part;
 * the parser still decodes and the body checks still read every byte. The
 * "all decoded" rows rerun the same config with that limit raised above the
 * message size, so every decoded byte reaches every consumer.
 *
 * Does not use bench/mime_bench's generator: that one builds a body for the
 * parser alone, this one whole messages (header fields, HTML, links) of real
 * base64-encoded random bytes.
 *
 * -m base64|text|html runs that message alone and -d skips the "all
 * decoded" rows (for a profiler).
 *
 * usage: scan_bench [-c CONFIG] [-s SIZE_MB] [-r ROUNDS] [-m MESSAGE] [-d]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "egress/buf.h"
#include "egress/config.h"
#include "egress/findings.h"
#include "egress/policy.h"
#include "egress/scan.h"

#define CHUNK		65536	/* what an MTA sends at most per body call */
#define MAX_FIELDS	16
#define MAX_ROUNDS	100

/* One generated message: the header fields as the MTA delivers them, and
 * the raw bytes (header section and body) the memchr pass reads. */
struct msg {
	const char	*label;
	const char	*name[MAX_FIELDS];
	char		*value[MAX_FIELDS];	/* owned */
	size_t		 nfield;
	struct buf	 raw;			/* header section + body */
	size_t		 body_off;		/* where the body starts in raw */
};

static size_t	sink;

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
	fprintf(stderr, "scan_bench: %s\n", what);
	exit(1);
}

static void
put(struct buf *b, const char *s)
{
	if (buf_puts(b, s) != BUF_OK)
		die("no memory");
}

static void
add_field(struct msg *m, const char *name, const char *value)
{
	if (m->nfield == MAX_FIELDS || (m->value[m->nfield] = strdup(value)) ==
	    NULL)
		die("no memory");
	m->name[m->nfield++] = name;
	put(&m->raw, name);
	put(&m->raw, ": ");
	put(&m->raw, value);
	put(&m->raw, "\r\n");
}

/* The fields an outbound message carries, Postfix's Received first. */
static void
msg_begin(struct msg *m, const char *label, const char *ctype)
{
	memset(m, 0, sizeof(*m));
	m->label = label;
	buf_init(&m->raw, 0);
	add_field(m, "Received", "from client.example.org (client.example.org "
	    "[192.0.2.10])\n\tby mta.example.org (Postfix) with ESMTPSA id "
	    "4XyzAbC1d2\n\tfor <rcpt@example.net>; Sun, 22 Nov 2026 07:00:00 "
	    "+0000 (UTC)");
	add_field(m, "From", "Sender Name <sender@example.org>");
	add_field(m, "To", "Recipient <rcpt@example.net>");
	add_field(m, "Subject", "Quarterly figures and the documents you asked "
	    "for");
	add_field(m, "Date", "Sun, 22 Nov 2026 07:00:00 +0000");
	add_field(m, "Message-ID", "<20261122070000.1234@example.org>");
	add_field(m, "MIME-Version", "1.0");
	add_field(m, "Content-Type", ctype);
	put(&m->raw, "\r\n");
	m->body_off = m->raw.len;
}

static void
msg_fini(struct msg *m)
{
	size_t i;

	for (i = 0; i < m->nfield; i++)
		free(m->value[i]);
	buf_fini(&m->raw);
}

static unsigned long long
rnd(unsigned long long *s)
{
	/* xorshift64: reproducible random bytes, no libc state */
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* base64 of random bytes, 57 bytes (76 characters) a line, up to `size`. */
static void
make_base64(struct msg *m, size_t size)
{
	static const char al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned long long seed = 0x9e3779b97f4a7c15ULL;
	const char *tail = "\r\n--b0--\r\n";

	msg_begin(m, "base64 attachment",
	    "multipart/mixed; boundary=\"b0\"");
	put(&m->raw, "This is a multi-part message in MIME format.\r\n\r\n"
	    "--b0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
	    "Please find the figures attached.\r\n\r\n--b0\r\n"
	    "Content-Type: application/octet-stream; name=\"figures.bin\"\r\n"
	    "Content-Disposition: attachment; filename=\"figures.bin\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n");
	while (m->raw.len + 78 + strlen(tail) <= size) {
		unsigned char in[57];
		char line[78];
		size_t i, o = 0;

		for (i = 0; i < sizeof(in); i++)
			in[i] = (unsigned char)(rnd(&seed) >> 32);
		for (i = 0; i < sizeof(in); i += 3) {
			unsigned long v = (unsigned long)in[i] << 16 |
			    (unsigned long)in[i + 1] << 8 | in[i + 2];

			line[o++] = al[v >> 18 & 63];
			line[o++] = al[v >> 12 & 63];
			line[o++] = al[v >> 6 & 63];
			line[o++] = al[v & 63];
		}
		line[o++] = '\r';
		line[o++] = '\n';
		if (buf_append(&m->raw, line, o) != BUF_OK)
			die("no memory");
	}
	put(&m->raw, tail + 2);
}

/* 72-column lines of words up to `end`; every `link` lines (0: never) a
 * line with a link, bare in text, <a href> in HTML. */
static void
fill_text(struct msg *m, size_t end, int html, unsigned link)
{
	static const char words[] = "the quick brown fox jumps over the lazy "
	    "dog, and then some more words to fill a line of text with. ";
	char line[256];
	size_t off = 0;
	unsigned n = 0;

	while (m->raw.len < end) {
		size_t i, k = 0;

		n++;
		if (link && n % link == 0) {
			k = (size_t)snprintf(line, sizeof(line), html ?
			    "<p>Details: <a href=\"https://www.example.com/"
			    "reports/%u?ref=mail\">the report of week %u"
			    "</a></p>\r\n" : "Details: https://www.example.com/"
			    "reports/%u?ref=mail (report %u)\r\n", n, n);
		} else {
			if (html)
				k = (size_t)snprintf(line, sizeof(line), "<p>");
			for (i = 0; i < 72; i++)
				line[k++] = words[(off + i) % (sizeof(words) - 1)];
			off += 7;
			if (html)
				k += (size_t)snprintf(line + k,
				    sizeof(line) - k, "</p>");
			line[k++] = '\r';
			line[k++] = '\n';
		}
		if (buf_append(&m->raw, line, k) != BUF_OK)
			die("no memory");
	}
}

static void
make_text(struct msg *m, size_t size)
{
	msg_begin(m, "text/plain", "text/plain; charset=us-ascii");
	fill_text(m, size, 0, 0);
}

static void
make_html(struct msg *m, size_t size)
{
	msg_begin(m, "text + HTML with links",
	    "multipart/alternative; boundary=\"b1\"");
	put(&m->raw, "--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n"
	    "\r\n");
	fill_text(m, m->body_off + size / 2, 0, 8);
	put(&m->raw, "\r\n--b1\r\nContent-Type: text/html; charset=us-ascii"
	    "\r\n\r\n<html><body>\r\n");
	fill_text(m, size > 40 ? size - 40 : size, 1, 8);
	put(&m->raw, "</body></html>\r\n\r\n--b1--\r\n");
}

/* One transaction as the daemon runs it; the verdict goes to *v. */
static void
scan_once(const struct config *cfg, const struct msg *m, struct verdict *v,
    struct buf *summary)
{
	const char *rcpts[] = { "rcpt@example.net" };
	struct envelope env = {
		.queue_id = "4XyzAbC1d2",
		.mail_from = "sender@example.org",
		.client_addr = "192.0.2.10",
		.rcpts = rcpts,
		.nrcpt = 1,
		.esmtp_size = (long long)m->raw.len,
		.now = 1795330860LL,	/* a minute after the Date field */
	};
	const char *body = m->raw.data + m->body_off;
	size_t len = m->raw.len - m->body_off, off, n, i;
	struct findings *f;
	struct scan *s;

	if ((s = scan_new(cfg, &env)) == NULL)
		die("scan_new failed");
	for (i = 0; i < m->nfield; i++)
		if (scan_header(s, m->name[i], m->value[i]) != 0)
			die("scan_header failed");
	if (scan_eoh(s) != 0)
		die("scan_eoh failed");
	for (off = 0; off < len; off += n) {
		n = len - off < CHUNK ? len - off : CHUNK;
		if (scan_body(s, body + off, n) != 0)
			die("scan_body failed");
	}
	if (scan_finish(s) != 0)
		die("scan_finish failed");
	f = scan_findings(s);
	policy_decide(cfg, &env, f, scan_is_bounce(s), v);
	sink += f->n;
	if (summary != NULL) {
		for (i = 0; i < f->n; i++)
			if (buf_printf(summary, "%s%s(%d)", i ? " " : "",
			    f->v[i].id, f->v[i].score) != BUF_OK)
				die("no memory");
		if (buf_printf(summary, "%sscore=%d action=%s", f->n ? " " : "",
		    v->score, action_name(v->action)) != BUF_OK)
			die("no memory");
	}
	scan_free(s);
}

static void
memchr_once(const struct msg *m)
{
	const char *p = m->raw.data, *e = m->raw.data + m->raw.len;
	size_t lines = 0;

	while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		lines++;
		p++;
	}
	sink += lines;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Best and median of `n` times, as MB/s of `mb`. */
static void
rates(double *t, int n, double mb, double *best, double *median)
{
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	*best = mb / t[0];
	*median = mb / (n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2);
}

static void
report(const char *label, const struct config *cfg, const struct msg *m,
    int rounds)
{
	double ts[MAX_ROUNDS], tm[MAX_ROUNDS], t0;
	double mb = (double)m->raw.len / (1024.0 * 1024.0);
	double sb, smed, mbest, mmed;
	struct verdict v;
	struct buf summary;
	int r;

	buf_init(&summary, 0);
	scan_once(cfg, m, &v, &summary);	/* warm-up, and what it found */
	for (r = 0; r < rounds; r++) {
		/* interleaved, so drift hits both alike */
		t0 = now();
		scan_once(cfg, m, &v, NULL);
		ts[r] = now() - t0;
		t0 = now();
		memchr_once(m);
		tm[r] = now() - t0;
	}
	rates(ts, rounds, mb, &sb, &smed);
	rates(tm, rounds, mb, &mbest, &mmed);
	printf("%-24s %-12s %6.1f MB  scan %7.1f / %7.1f MB/s  "
	    "memchr %8.1f / %8.1f MB/s  scan/memchr %.4f (%.0fx the time)\n",
	    m->label, label, mb, sb, smed, mbest, mmed, sb / mbest, mbest / sb);
	printf("%-24s %-12s   findings: %s\n", "", "",
	    summary.len ? buf_cstr(&summary) : "(none)");
	buf_fini(&summary);
}

static void
usage(void)
{
	fputs("usage: scan_bench [-c CONFIG] [-s SIZE_MB] [-r ROUNDS] "
	    "[-m base64|text|html] [-d]\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	size_t size_mb = 25;
	int rounds = 7, o, i;
	long long saved;
	struct msg msgs[3];
	struct config *cfg;
	static const char *const kinds[3] = { "base64", "text", "html" };
	int only = -1, as_config_only = 0;

	while ((o = getopt(argc, argv, "c:s:r:m:dh")) != -1) {
		switch (o) {
		case 'm':
			for (only = 0; only < 3; only++)
				if (strcmp(optarg, kinds[only]) == 0)
					break;
			if (only == 3)
				usage();
			break;
		case 'd':
			as_config_only = 1;
			break;
		case 'c':
			path = optarg;
			break;
		case 's':
			size_mb = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || size_mb < 1 || size_mb > 1024 || rounds < 1 ||
	    rounds > MAX_ROUNDS)
		usage();
	if (path != NULL) {
		struct cfg_errors errs;

		cfg_errors_init(&errs, path);
		cfg = config_load(path, &errs);
		if (cfg == NULL)
			fputs(buf_cstr(&errs.text), stderr);
		cfg_errors_fini(&errs);
	} else
		cfg = config_default();
	if (cfg == NULL)
		die("no configuration");

	memset(msgs, 0, sizeof(msgs));
	if (only < 0 || only == 0)
		make_base64(&msgs[0], size_mb << 20);
	if (only < 0 || only == 1)
		make_text(&msgs[1], size_mb << 20);
	if (only < 0 || only == 2)
		make_html(&msgs[2], size_mb << 20);
	printf("scan_bench: config %s, %d rounds (best / median), %d KiB "
	    "body chunks\n", path ? path : "built-in defaults", rounds,
	    CHUNK / 1024);
	printf("  scan = scan_new .. scan_header x%zu .. scan_body .. "
	    "scan_finish .. policy_decide .. scan_free\n", msgs[only < 0 ? 0 : only].nfield);
	for (i = 0; i < 3; i++)
		if (only < 0 || only == i)
			report("as config", cfg, &msgs[i], rounds);
	/* the same, every decoded byte reaching every content consumer */
	saved = cfg->limits.decoded_bytes;
	cfg->limits.decoded_bytes = (long long)(size_mb << 20) * 2;
	for (i = 0; i < 3 && !as_config_only; i++)
		if (only < 0 || only == i)
			report("all decoded", cfg, &msgs[i], rounds);
	cfg->limits.decoded_bytes = saved;
	for (i = 0; i < 3; i++)
		if (only < 0 || only == i)
			msg_fini(&msgs[i]);
	config_free(cfg);
	return sink == 0;
}
