/*
 * mime_oracle - test-only cross-check of the MIME parser against GMime.
 *
 * For each file given, both parsers build the part tree and the trees are
 * compared as lists of "depth kind" lines in document order, kind being
 * multipart, message or leaf (a message/rfc822 part is followed by its
 * inner entity one level deeper, in both). Types are shown, not compared:
 * for an invalid Content-Type GMime says application/octet-stream where
 * RFC 2045 5.2 (and this parser) says text/plain.
 *
 * Known, deliberate differences that remain: in a header section GMime
 * skips lines that are not header fields, where this parser (like Postfix
 * and Python's email package) takes such a line as the start of the content;
 * an inner message made only of such lines is empty to GMime and a text
 * part here.
 * Prints the files that differ with both trees; exit 1 when any differs.
 * GMime is used here only: it is never linked into the daemon or the core.
 * Built and run by scripts/mime-oracle.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

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

/*
 * An inner message of only empty lines: this parser skips empty lines
 * before an inner header section and so makes no inner entity there.
 */
static int
gm_blank(GMimeMessage *m)
{
	GMimeObject *o = g_mime_message_get_mime_part(m);
	GMimeDataWrapper *w;
	GMimeStream *ms;
	GByteArray *ba;
	guint i;
	int blank = 1;

	if (g_mime_header_list_get_count(g_mime_object_get_header_list(
	    (GMimeObject *)m)) > 0 || !GMIME_IS_PART(o) ||
	    g_mime_header_list_get_count(g_mime_object_get_header_list(o)) > 0)
		return 0;
	if ((w = g_mime_part_get_content((GMimePart *)o)) == NULL)
		return 1;
	ms = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(w, ms);
	ba = g_mime_stream_mem_get_byte_array((GMimeStreamMem *)ms);
	for (i = 0; ba != NULL && i < ba->len; i++)
		if (ba->data[i] != '\r' && ba->data[i] != '\n')
			blank = 0;
	g_object_unref(ms);
	return blank;
}

static void
gm_walk(GMimeObject *o, unsigned depth, struct buf *out)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	char *t = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
	int i, n;

	if (t != NULL) {
		for (char *c = t; *c; c++)
			*c = (char)g_ascii_tolower(*c);
	}
	if (buf_printf(out, "%u %s %s\n", depth, GMIME_IS_MULTIPART(o) ?
	    "multipart" : GMIME_IS_MESSAGE_PART(o) ? "message" : "leaf",
	    t ? t : "?") != BUF_OK)
		abort();
	g_free(t);
	if (GMIME_IS_MULTIPART(o)) {
		n = g_mime_multipart_get_count((GMimeMultipart *)o);
		for (i = 0; i < n; i++)
			gm_walk(g_mime_multipart_get_part((GMimeMultipart *)o, i),
			    depth + 1, out);
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *m = g_mime_message_part_get_message(
		    (GMimeMessagePart *)o);

		if (m != NULL && g_mime_message_get_mime_part(m) != NULL &&
		    !gm_blank(m))
			gm_walk(g_mime_message_get_mime_part(m), depth + 1, out);
	}
}

static int
gm_tree(const char *msg, size_t len, struct buf *out)
{
	GMimeStream *s;
	GMimeParser *p;
	GMimeMessage *m;

	s = g_mime_stream_mem_new_with_buffer(msg, len);
	p = g_mime_parser_new_with_stream(s);
	m = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	g_object_unref(s);
	if (m == NULL)
		return -1;
	if (g_mime_message_get_mime_part(m) != NULL)
		gm_walk(g_mime_message_get_mime_part(m), 0, out);
	g_object_unref(m);
	return 0;
}

/*
 * Our tree from the dump's "begin" lines. Returns 1 when a container was
 * made an opaque leaf (a limit or a missing boundary: by design, GMime has
 * no such rule), 0, or -1.
 */
static int
our_tree(const char *msg, size_t len, struct buf *out)
{
	struct buf d;
	const char *l, *e, *kind;
	unsigned id, parent, depth;
	char type[256];
	int opaque = 0;

	buf_init(&d, 0);
	if (mt_dump(&d, msg, len, NULL, 0, 0) != 0)
		return -1;
	for (l = buf_cstr(&d); *l; l = e + 1) {
		if ((e = strchr(l, '\n')) == NULL)
			break;
		if (sscanf(l, "begin %u parent=%u depth=%u type=%255s", &id,
		    &parent, &depth, type) != 4)
			continue;
		if (memmem(l, (size_t)(e - l), " opaque", 7) != NULL)
			opaque = 1;
		kind = memmem(l, (size_t)(e - l), " multipart", 10) ?
		    "multipart" : memmem(l, (size_t)(e - l), " message", 8) ?
		    "message" : "leaf";
		if (buf_printf(out, "%u %s %s\n", depth, kind, type) != BUF_OK)
			abort();
	}
	buf_fini(&d);
	return opaque;
}

/* Equal as "depth kind" lines, the type after them ignored. */
static int
same_shape(const char *a, const char *b)
{
	const char *ea, *eb, *ta, *tb;

	for (; *a && *b; a = ea + 1, b = eb + 1) {
		if ((ea = strchr(a, '\n')) == NULL || (eb = strchr(b, '\n')) == NULL)
			return 0;
		ta = strchr(strchr(a, ' ') + 1, ' ');
		tb = strchr(strchr(b, ' ') + 1, ' ');
		if (ta - a != tb - b || memcmp(a, b, (size_t)(ta - a)) != 0)
			return 0;
	}
	return *a == '\0' && *b == '\0';
}

int
main(int argc, char **argv)
{
	struct buf msg, a, b;
	const char *m;
	size_t len, skip = 0;
	int i = 1, same = 0, differ = 0, nogm = 0, opaque = 0, r;

	if (argc > 2 && strcmp(argv[1], "-s") == 0) {
		skip = strtoul(argv[2], NULL, 10);
		i = 3;
	}
	g_mime_init();
	for (; i < argc; i++) {
		buf_init(&msg, 0);
		buf_init(&a, 0);
		buf_init(&b, 0);
		if (read_file(argv[i], &msg) != 0) {
			perror(argv[i]);
			buf_fini(&msg);
			continue;
		}
		m = buf_cstr(&msg);
		len = msg.len;
		if (skip > len)
			skip = len;
		m += skip;
		len -= skip;
		if (len > 5 && memcmp(m, "From ", 5) == 0) {
			const char *nl = memchr(m, '\n', len);

			len -= nl ? (size_t)(nl + 1 - m) : len;
			m = nl ? nl + 1 : m + msg.len;
		}
		if (gm_tree(m, len, &b) != 0)
			nogm++;		/* GMime found no message at all */
		else if ((r = our_tree(m, len, &a)) < 0) {
			printf("%s: parse failure\n", argv[i]);
			differ++;
		} else if (r > 0)
			opaque++;
		else if (!same_shape(buf_cstr(&a), buf_cstr(&b))) {
			printf("%s: differs\n--- ours\n%s--- gmime\n%s", argv[i],
			    buf_cstr(&a), buf_cstr(&b));
			differ++;
		} else
			same++;
		buf_fini(&msg);
		buf_fini(&a);
		buf_fini(&b);
	}
	printf("oracle: %d same, %d differ, %d not a message to GMime, "
	    "%d with opaque parts\n", same, differ, nogm, opaque);
	g_mime_shutdown();
	return differ ? 1 : 0;
}
