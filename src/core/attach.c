/*
 * attach.c - attachment checks: names, magic bytes, archive listings.
 *
 * One attach_scan per leaf part, fed the decoded content as it streams.
 * Memory: the first CONTENT_SNIFF_MAX bytes are kept for sniffing; archives
 * also keep the last CONTENT_ZIP_TAIL bytes (the ZIP central directory and
 * the 7z end header live at the end of the file) and one header of at most
 * CONTENT_ARCHIVE_HDR_MAX bytes. Nothing is decompressed.
 *
 * What is recognised:
 *   types       a declared executable type (application/x-msdownload ...)
 *               and the Office "macroEnabled" types;
 *   names       the last extension against the refused list (Gmail's
 *               blocked types by default) and the scored list, document
 *               extension followed by a dangerous one ("a.pdf.exe", also with
 *               spaces, dots or underscores between them), a right-to-left
 *               override (U+202E) anywhere in the name, macro extensions;
 *   magic       PE (MZ with a PE header or DOS stub text), ELF, Mach-O (thin
 *               32/64 both byte orders, fat and fat64; Java class files,
 *               which share CAFEBABE, are told apart by the version field),
 *               Windows shortcuts, shebang scripts (attachments only; a
 *               check of their own, scored: scripts are posted as text), OLE
 *               compound files, ZIP, RAR4, RAR5, 7z, PDF;
 *   ZIP         local file headers followed as they stream, and the
 *               central directory from the tail window: entry names that are
 *               executables or archives, general-purpose bit 0 (encrypted),
 *               vbaProject.bin (macros in an OOXML file whatever its
 *               extension). After an entry whose size is in a data
 *               descriptor (or is ZIP64), the walk goes on at the next
 *               "PK\3\4" signature; entries of a stored archive inside are
 *               then listed too, which is wanted. Past
 *               limits.decoded_bytes the MIME reader hands the rest of the
 *               part to attach_scan_tail(): those bytes only go through the
 *               tail window (and the size), so the central directory of a
 *               large archive is read while the local walk stays within the
 *               delivered bytes;
 *   RAR4        file headers (names, encrypted flag) and the encrypted-
 *               headers flag of the main header;
 *   RAR5        file headers (names, encryption extra record) and the
 *               archive encryption header;
 *   7z          only header encryption (-mhe) or an uncompressed header
 *               naming the AES coder is seen: with a compressed header the
 *               coder list is inside LZMA data, and 7z entry names are not
 *               listed at all (XXX: would need an LZMA decoder);
 *   OLE         "_VBA_PROJECT" and "Macros" directory entry names (UTF-16LE)
 *               anywhere in the delivered bytes.
 * Each finding id fires at most once per part.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "egress/content.h"

enum kind {
	K_NONE = 0, K_PE, K_ELF, K_MACHO, K_LNK, K_SCRIPT, K_OLE, K_ZIP,
	K_RAR4, K_RAR5, K_7Z, K_PDF,
};

static const char *const kind_names[] = {
	"data", "pe", "elf", "macho", "lnk", "script", "ole", "zip", "rar",
	"rar5", "7z", "pdf",
};

enum {
	F_EXT = 1u << 0,
	F_DOUBLE = 1u << 1,
	F_EXEC = 1u << 2,
	F_MACRO = 1u << 3,
	F_ARCH_EXE = 1u << 4,
	F_ENCRYPTED = 1u << 5,
	F_SIZE = 1u << 6,
	F_RISKY = 1u << 7,
	F_SCRIPT = 1u << 8,
};

#define NAME_MAX_KEPT	255
#define OLE_CARRY	32

struct attach_scan {
	const struct content_config *cc;
	struct findings	*f;
	char		 name[NAME_MAX_KEPT + 1];	/* "" when none */
	int		 attachment;	/* named or disposition=attachment */
	unsigned	 fired;
	uint64_t	 off;		/* decoded bytes seen */
	unsigned char	 head[CONTENT_SNIFF_MAX];
	size_t		 headlen;
	int		 sniffed;
	enum kind	 kind;
	/* archive tail: linear buffer of 2 windows, compacted when full */
	unsigned char	*tail;
	size_t		 taillen;
	/* header chain (ZIP local, RAR) */
	int		 chain;		/* walking */
	uint64_t	 next;		/* stream offset of the next header */
	unsigned char	 hdr[CONTENT_ARCHIVE_HDR_MAX];
	size_t		 hlen;
	int		 search;	/* looking for the next "PK\3\4" */
	unsigned char	 sig[3];	/* last bytes seen while searching */
	size_t		 siglen;
	uint64_t	 sig_end;	/* stream offset just after sig */
	/* OLE stream-name search */
	unsigned char	 carry[OLE_CARRY];
	size_t		 carrylen;
	int		 failed;
};

/* Declared types that say "executable" (sent by some clients as is). */
static const char *const exec_types[] = {
	"application/x-msdownload", "application/x-msdos-program",
	"application/x-dosexec", "application/x-executable",
	"application/x-msi", "application/x-ms-installer",
	"application/vnd.microsoft.portable-executable",
	"application/x-ms-shortcut", "application/hta",
	"application/x-elf", "application/x-mach-binary",
	"application/x-sharedlib", NULL,
};

static const char *const archive_exts[] = {
	"zip", "zipx", "rar", "7z", "cab", "gz", "tgz", "bz2", "tbz", "xz",
	"txz", "tar", "arj", "lzh", "lha", "ace", "z", "r00", "001", NULL,
};

/* Extensions that a disguised name shows first. */
static const char *const document_exts[] = {
	"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods",
	"odp", "rtf", "txt", "csv", "htm", "html", "xml", "jpg", "jpeg", "png",
	"gif", "bmp", "tif", "tiff", "mp3", "mp4", "wav", "avi", "mov", "zip",
	"rar", "eml", "msg", "ics", "vcf", NULL,
};

static uint16_t
le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	    ((uint32_t)p[3] << 24);
}

static uint64_t
le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32);
}

static uint32_t
be32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* ---- names ---- */

static int
in_list(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(v[i], s) == 0)
			return 1;
	return 0;
}

static int
in_static(const char *const *v, const char *s)
{
	for (; *v != NULL; v++)
		if (strcasecmp(*v, s) == 0)
			return 1;
	return 0;
}

/*
 * Copy name lowercased without what Windows ignores at the end (spaces,
 * dots) and the path (the part after the last / or \).
 */
static size_t
name_norm(const char *name, char *out, size_t outsz)
{
	const char *b = name, *p;
	size_t n, i;

	for (p = name; *p; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	n = strlen(b);
	while (n > 0 && (b[n - 1] == ' ' || b[n - 1] == '.' || b[n - 1] == '\t'))
		n--;
	if (n >= outsz)
		n = outsz - 1;
	for (i = 0; i < n; i++)
		out[i] = (char)((b[i] >= 'A' && b[i] <= 'Z') ? b[i] + 32 : b[i]);
	out[n] = '\0';
	return n;
}

/* The extension of a normalised name (after the last dot), or NULL. */
static const char *
name_ext(const char *n)
{
	const char *d = strrchr(n, '.');

	return d != NULL && d != n && d[1] != '\0' ? d + 1 : NULL;
}

/* Is the last extension of the normalised name on the list? */
static int
name_ext_in(const char *name, char *const *list, size_t n)
{
	char norm[NAME_MAX_KEPT + 1];
	const char *e;

	name_norm(name, norm, sizeof(norm));
	e = name_ext(norm);
	return e != NULL && in_list(list, n, e);
}

int
attach_name_dangerous(const struct content_config *cc, const char *name)
{
	return name_ext_in(name, cc->extensions, cc->nextensions);
}

int
attach_name_risky(const struct content_config *cc, const char *name)
{
	return name_ext_in(name, cc->risky_extensions, cc->nrisky_extensions);
}

int
attach_name_macro(const struct content_config *cc, const char *name)
{
	return name_ext_in(name, cc->macro_extensions, cc->nmacro_extensions);
}

int
attach_name_double_ext(const struct content_config *cc, const char *name)
{
	char n[NAME_MAX_KEPT + 1];
	const char *e, *e2;
	size_t l;

	if (strstr(name, "\xe2\x80\xae") != NULL)	/* U+202E RLO */
		return 1;
	l = name_norm(name, n, sizeof(n));
	if ((e = name_ext(n)) == NULL || (!in_list(cc->extensions,
	    cc->nextensions, e) && !in_list(cc->risky_extensions,
	    cc->nrisky_extensions, e)))
		return 0;
	/* "invoice.pdf   .exe", "invoice.pdf_.exe", "invoice.pdf...exe" */
	l = (size_t)(e - 1 - n);
	while (l > 0 && (n[l - 1] == ' ' || n[l - 1] == '.' ||
	    n[l - 1] == '_' || n[l - 1] == '\t' || n[l - 1] == '-'))
		l--;
	n[l] = '\0';
	if ((e2 = name_ext(n)) == NULL)
		return 0;
	return in_static(document_exts, e2);
}

/* ---- findings ---- */

static int
fire(struct attach_scan *as, unsigned bit, const char *id, const char *detail)
{
	if (as->fired & bit)
		return 0;
	as->fired |= bit;
	return findings_add(as->f, id, "%s", detail);
}

static int
fire2(struct attach_scan *as, unsigned bit, const char *id, const char *entry)
{
	if (as->fired & bit)
		return 0;
	as->fired |= bit;
	return findings_add(as->f, id, "%s: %s", as->name[0] ? as->name : "(part)",
	    entry);
}

static const char *
label(const struct attach_scan *as)
{
	return as->name[0] ? as->name : "(unnamed part)";
}

/* An archive entry name: executable or nested archive? */
static int
archive_entry(struct attach_scan *as, const unsigned char *p, size_t n)
{
	char nm[NAME_MAX_KEPT + 1], norm[NAME_MAX_KEPT + 1];
	const char *e;
	size_t i;

	if (n > NAME_MAX_KEPT)
		n = NAME_MAX_KEPT;
	for (i = 0; i < n && p[i] != '\0'; i++)
		nm[i] = (char)p[i];
	nm[i] = '\0';
	if (i == 0 || nm[i - 1] == '/' || nm[i - 1] == '\\')
		return 0;		/* directory */
	name_norm(nm, norm, sizeof(norm));
	if (strcmp(norm, "vbaproject.bin") == 0 &&
	    fire2(as, F_MACRO, "attachment.macro", nm) != 0)
		return -1;
	if ((e = name_ext(norm)) == NULL)
		return 0;
	if ((in_list(as->cc->extensions, as->cc->nextensions, e) ||
	    in_static(archive_exts, e)) &&
	    fire2(as, F_ARCH_EXE, "attachment.archive_executable", nm) != 0)
		return -1;
	return 0;
}

/*
 * A compressed single file ("report.scr.xz", a gzip member named in its
 * header): the name inside is what the receiver unpacks. Executables and
 * archives other than tar (a .tar.gz is how sources travel) are reported
 * as archive_executable, with the nesting shown: "a.scr.xz > a.scr".
 */
static const char *const compress_exts[] = {
	"gz", "xz", "bz2", "z", "lz", "lzma", "zst", NULL,
};

static int
compressed_inner(struct attach_scan *as, const char *inner)
{
	char norm[NAME_MAX_KEPT + 1];
	const char *e;

	name_norm(inner, norm, sizeof(norm));
	if ((e = name_ext(norm)) == NULL || strcmp(e, "tar") == 0)
		return 0;
	if (!in_list(as->cc->extensions, as->cc->nextensions, e) &&
	    (!in_static(archive_exts, e) || in_static(compress_exts, e)))
		return 0;
	return fire2(as, F_ARCH_EXE, "attachment.archive_executable", inner);
}

/* The part's own name without its compression suffix, if it has one. */
static int
compressed_name(struct attach_scan *as, const char *filename)
{
	char norm[NAME_MAX_KEPT + 1], inner[NAME_MAX_KEPT + 1];
	const char *e;
	size_t l;

	l = name_norm(filename, norm, sizeof(norm));
	if ((e = name_ext(norm)) == NULL || !in_static(compress_exts, e))
		return 0;
	l = (size_t)(e - 1 - norm);
	memcpy(inner, norm, l);
	inner[l] = '\0';
	return compressed_inner(as, inner);
}

/* gzip (RFC 1952): FNAME, the original file name, after the fixed header. */
static int
gzip_name(struct attach_scan *as, const unsigned char *h, size_t n)
{
	char nm[NAME_MAX_KEPT + 1];
	size_t i = 10, k = 0;

	if (n < 10 || h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 || !(h[3] & 0x08))
		return 0;
	if (h[3] & 0x04) {			/* FEXTRA */
		if (n < 12)
			return 0;
		i = 12 + (size_t)le16(h + 10);
	}
	for (; i < n && h[i] != '\0' && k < NAME_MAX_KEPT; i++)
		nm[k++] = (char)h[i];
	if (i >= n || h[i] != '\0' || k == 0)
		return 0;			/* cut off by the sniff window */
	nm[k] = '\0';
	return compressed_inner(as, nm);
}

/* ---- sniffing ---- */

static enum kind
sniff(const struct attach_scan *as)
{
	const unsigned char *h = as->head;
	size_t n = as->headlen;

	if (n >= 2 && h[0] == 'M' && h[1] == 'Z') {
		size_t pe = n >= 0x40 ? le32(h + 0x3c) : SIZE_MAX;

		if (pe < n && n - pe >= 4 && memcmp(h + pe, "PE\0\0", 4) == 0)
			return K_PE;
		if (memmem(h, n, "This program cannot be run in DOS mode", 38) ||
		    memmem(h, n, "This program must be run under Win32", 36))
			return K_PE;
	}
	if (n >= 4 && memcmp(h, "\x7f" "ELF", 4) == 0)
		return K_ELF;
	if (n >= 4) {
		uint32_t m = be32(h);

		if (m == 0xfeedface || m == 0xfeedfacf || m == 0xcefaedfe ||
		    m == 0xcffaedfe)
			return K_MACHO;
		/* fat: nfat_arch is small; Java class: version >= 45 */
		if ((m == 0xcafebabe || m == 0xcafebabf) && n >= 8 &&
		    be32(h + 4) >= 1 && be32(h + 4) < 45)
			return K_MACHO;
		if (m == 0xbebafeca && n >= 8 && le32(h + 4) >= 1 &&
		    le32(h + 4) < 45)
			return K_MACHO;
	}
	if (n >= 8 && memcmp(h, "L\0\0\0\x01\x14\x02\0", 8) == 0)
		return K_LNK;
	if (n >= 8 && memcmp(h, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0)
		return K_OLE;
	if (n >= 4 && (memcmp(h, "PK\x03\x04", 4) == 0 ||
	    memcmp(h, "PK\x05\x06", 4) == 0))
		return K_ZIP;
	if (n >= 7 && memcmp(h, "Rar!\x1a\x07\x00", 7) == 0)
		return K_RAR4;
	if (n >= 8 && memcmp(h, "Rar!\x1a\x07\x01\x00", 8) == 0)
		return K_RAR5;
	if (n >= 6 && memcmp(h, "7z\xbc\xaf\x27\x1c", 6) == 0)
		return K_7Z;
	if (n >= 5 && memmem(h, n < 1024 ? n : 1024, "%PDF-", 5) != NULL)
		return K_PDF;
	if (as->attachment && n >= 3 && h[0] == '#' && h[1] == '!' &&
	    (h[2] == '/' || (h[2] == ' ' && n >= 4 && h[3] == '/')))
		return K_SCRIPT;
	return K_NONE;
}

/* ---- archive header chains ---- */

enum { CH_MORE = 0, CH_NEXT = 1, CH_STOP = 2, CH_SEARCH = 3 };

static int
parse_zip_local(struct attach_scan *as, const unsigned char *h, size_t n,
    uint64_t *adv, int *rc)
{
	uint16_t flags, fnlen, exlen;
	uint32_t csize;

	if (n < 30)
		return CH_MORE;
	if (memcmp(h, "PK\x03\x04", 4) != 0)
		return CH_STOP;		/* central directory, or lost */
	flags = le16(h + 6);
	csize = le32(h + 18);
	fnlen = le16(h + 26);
	exlen = le16(h + 28);
	if (n < 30 + (size_t)fnlen && n < sizeof(as->hdr))
		return CH_MORE;
	if (flags & 1)
		*rc |= fire(as, F_ENCRYPTED, "attachment.encrypted_archive",
		    label(as));
	*rc |= archive_entry(as, h + 30, n - 30 < fnlen ? n - 30 : fnlen);
	*adv = 30 + (uint64_t)fnlen + exlen;
	/*
	 * Size in a data descriptor, or ZIP64: the next entry is found by
	 * its signature (a stored archive inside is then listed too).
	 */
	if ((flags & 8) || csize == UINT32_MAX)
		return CH_SEARCH;
	*adv += csize;
	return CH_NEXT;
}

static int
parse_rar4(struct attach_scan *as, const unsigned char *h, size_t n,
    uint64_t *adv, int *rc)
{
	uint16_t flags, hsize;
	uint8_t type;
	uint64_t add = 0;

	if (n < 7)
		return CH_MORE;
	type = h[2];
	flags = le16(h + 3);
	hsize = le16(h + 5);
	if (hsize < 7)
		return CH_STOP;
	if (flags & 0x8000) {
		if (n < 11)
			return CH_MORE;
		add = le32(h + 7);
	}
	if (type == 0x73 && (flags & 0x0080)) {
		*rc |= fire(as, F_ENCRYPTED, "attachment.encrypted_archive",
		    label(as));
		return CH_STOP;		/* headers encrypted: nothing to list */
	}
	if (type == 0x74) {
		size_t noff = (flags & 0x100) ? 40 : 32;
		uint16_t nsize;

		if (n < noff)
			return n < hsize ? CH_MORE : CH_STOP;
		nsize = le16(h + 26);
		if (n < noff + nsize && n < hsize && n < sizeof(as->hdr))
			return CH_MORE;
		if ((flags & 0x100) && le32(h + 32) != 0)
			return CH_STOP;	/* > 4 GiB */
		if (flags & 0x04)
			*rc |= fire(as, F_ENCRYPTED,
			    "attachment.encrypted_archive", label(as));
		if (n > noff)
			*rc |= archive_entry(as, h + noff,
			    n - noff < nsize ? n - noff : nsize);
		add = le32(h + 7);
	}
	if (type == 0x7b)
		return CH_STOP;		/* end of archive */
	*adv = hsize + add;
	return CH_NEXT;
}

/* RAR5 variable-length integer; returns bytes used or 0. */
static size_t
vint(const unsigned char *p, size_t n, uint64_t *out)
{
	size_t i;
	uint64_t v = 0;

	for (i = 0; i < n && i < 10; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0) {
			*out = v;
			return i + 1;
		}
	}
	return 0;
}

/* Read a vint at *p (bounded by hend) and advance; 0 when truncated. */
static int
rv(const unsigned char *h, size_t hend, size_t *p, uint64_t *out)
{
	size_t u;

	if (*p >= hend || (u = vint(h + *p, hend - *p, out)) == 0)
		return 0;
	*p += u;
	return 1;
}

static int
parse_rar5(struct attach_scan *as, const unsigned char *h, size_t n,
    uint64_t *adv, int *rc)
{
	uint64_t hsize, type, flags, extra = 0, data = 0, v, ff, nlen;
	size_t k, p, hend, full;

	if (n < 5)
		return CH_MORE;
	if ((k = vint(h + 4, n - 4, &hsize)) == 0)
		return n < 14 ? CH_MORE : CH_STOP;
	if (hsize == 0 || hsize > (1u << 21))
		return CH_STOP;
	full = 4 + k + (size_t)hsize;
	if (n < full && n < sizeof(as->hdr))
		return CH_MORE;
	hend = n < full ? n : full;
	p = 4 + k;
	if (!rv(h, hend, &p, &type) || !rv(h, hend, &p, &flags) ||
	    ((flags & 1) && !rv(h, hend, &p, &extra)) ||
	    ((flags & 2) && !rv(h, hend, &p, &data)))
		return CH_STOP;
	if (type == 4) {	/* archive encryption header */
		*rc |= fire(as, F_ENCRYPTED, "attachment.encrypted_archive",
		    label(as));
		return CH_STOP;
	}
	if (type == 5)
		return CH_STOP;
	if (type == 2) {	/* file header */
		/* flags, unpacked size, attributes, [mtime], [crc] */
		if (!rv(h, hend, &p, &ff) || !rv(h, hend, &p, &v) ||
		    !rv(h, hend, &p, &v))
			return CH_STOP;
		p += ((ff & 2) ? 4 : 0) + ((ff & 4) ? 4 : 0);
		/* compression info, host os, name length */
		if (!rv(h, hend, &p, &v) || !rv(h, hend, &p, &v) ||
		    !rv(h, hend, &p, &nlen))
			return CH_STOP;
		if (p < hend)
			*rc |= archive_entry(as, h + p,
			    hend - p < nlen ? hend - p : (size_t)nlen);
		/* extra area: records {size, type, ...}; type 1 = crypt */
		if (extra > 0 && extra <= hsize && full <= n) {
			size_t q = full - (size_t)extra;

			while (q < full) {
				uint64_t rsize, rtype;
				size_t u = vint(h + q, full - q, &rsize), u2;

				if (u == 0 || rsize == 0 || rsize > full - q - u)
					break;
				if ((u2 = vint(h + q + u, full - q - u, &rtype)) == 0)
					break;
				if (rtype == 1)
					*rc |= fire(as, F_ENCRYPTED,
					    "attachment.encrypted_archive",
					    label(as));
				q += u + (size_t)rsize;
			}
		}
	}
	*adv = 4 + k + hsize + data;
	return CH_NEXT;
}

static int
chain_parse(struct attach_scan *as, uint64_t *adv, int *rc)
{
	switch (as->kind) {
	case K_ZIP:
		return parse_zip_local(as, as->hdr, as->hlen, adv, rc);
	case K_RAR4:
		return parse_rar4(as, as->hdr, as->hlen, adv, rc);
	case K_RAR5:
		return parse_rar5(as, as->hdr, as->hlen, adv, rc);
	default:
		return CH_STOP;
	}
}

/*
 * Feed the chain walker bytes p[0..n) that start at stream offset off.
 * A header is collected (up to CONTENT_ARCHIVE_HDR_MAX bytes) from the
 * offset the previous one announced, then parsed.
 */
/*
 * Find "PK\3\4" at or after as->next in p[0..n) (stream offset off),
 * also across the chunk boundary. Sets *at to its stream offset.
 */
static int
sig_search(struct attach_scan *as, const unsigned char *p, size_t n,
    uint64_t off, uint64_t *at)
{
	static const unsigned char sig[4] = { 'P', 'K', 3, 4 };
	uint64_t from = as->next > off ? as->next : off;
	const unsigned char *q, *hit;
	size_t qn, k;

	if (from >= off + n)
		return 0;
	q = p + (from - off);
	qn = (size_t)(off + n - from);
	if (as->siglen > 0 && as->sig_end == from) {
		unsigned char join[6];
		size_t jn = as->siglen, t = qn < 3 ? qn : 3;

		memcpy(join, as->sig, jn);
		memcpy(join + jn, q, t);
		if ((hit = memmem(join, jn + t, sig, 4)) != NULL &&
		    (size_t)(hit - join) < jn) {
			size_t pre = jn - (size_t)(hit - join);

			/* the header starts in the carry: seed it from there */
			*at = from - pre;
			memcpy(as->hdr, as->sig + jn - pre, pre);
			as->hlen = pre;
			return 1;
		}
	}
	if ((hit = memmem(q, qn, sig, 4)) != NULL) {
		*at = from + (uint64_t)(hit - q);
		as->hlen = 0;
		return 1;
	}
	/* keep the last three bytes (fewer when the chunk is short) */
	if (qn >= 3) {
		memcpy(as->sig, q + qn - 3, 3);
		as->siglen = 3;
	} else {
		size_t keep = as->sig_end == from ? as->siglen : 0;

		if (keep + qn > 3)
			keep = 3 - qn;
		memmove(as->sig, as->sig + as->siglen - keep, keep);
		for (k = 0; k < qn; k++)
			as->sig[keep + k] = q[k];
		as->siglen = keep + qn;
	}
	as->sig_end = off + n;
	return 0;
}

static int
chain_feed(struct attach_scan *as, const unsigned char *p, size_t n,
    uint64_t off)
{
	uint64_t end = off + n;
	int rc = 0;

	while (as->chain) {
		uint64_t pos = as->next + as->hlen, adv = 0;
		int r;

		if (as->search) {
			uint64_t at;

			if (!sig_search(as, p, n, off, &at))
				break;
			as->search = 0;
			as->next = at;
			continue;
		}

		/* pos >= off: earlier bytes were collected from earlier chunks */
		if (pos < end && pos >= off && as->hlen < sizeof(as->hdr)) {
			size_t take = sizeof(as->hdr) - as->hlen;

			if (take > end - pos)
				take = (size_t)(end - pos);
			memcpy(as->hdr + as->hlen, p + (pos - off), take);
			as->hlen += take;
		}
		if (as->hlen == 0)
			break;		/* next header lies beyond this chunk */
		r = chain_parse(as, &adv, &rc);
		if (r == CH_MORE) {
			if (as->hlen < sizeof(as->hdr) && as->next + as->hlen >= end)
				break;	/* wait for more bytes */
			as->chain = 0;
			break;
		}
		if ((r != CH_NEXT && r != CH_SEARCH) || adv == 0) {
			as->chain = 0;
			break;
		}
		if (r == CH_SEARCH) {
			as->search = 1;
			as->siglen = 0;
		}
		/* keep collected bytes that already belong to the next header */
		if (adv < as->hlen) {
			memmove(as->hdr, as->hdr + adv, as->hlen - (size_t)adv);
			as->hlen -= (size_t)adv;
		} else
			as->hlen = 0;
		as->next += adv;
	}
	return rc ? -1 : 0;
}

/* ---- the tail window ---- */

static int
tail_add(struct attach_scan *as, const unsigned char *p, size_t n)
{
	const size_t W = CONTENT_ZIP_TAIL;

	if (as->tail == NULL && (as->tail = malloc(2 * W)) == NULL)
		return -1;
	if (n >= W) {
		memcpy(as->tail, p + n - W, W);
		as->taillen = W;
		return 0;
	}
	if (as->taillen + n > 2 * W) {
		size_t keep = W - n;

		memmove(as->tail, as->tail + as->taillen - keep, keep);
		as->taillen = keep;
	}
	memcpy(as->tail + as->taillen, p, n);
	as->taillen += n;
	return 0;
}

static int
zip_central(struct attach_scan *as)
{
	const unsigned char *t = as->tail;
	size_t n = as->taillen, e, pos;
	uint32_t cdsize;
	int rc = 0;

	if (t == NULL || n < 22)
		return 0;
	for (e = n - 22 + 1; e-- > 0;)
		if (memcmp(t + e, "PK\x05\x06", 4) == 0)
			break;
	if (e == (size_t)-1 || memcmp(t + e, "PK\x05\x06", 4) != 0)
		return 0;
	cdsize = le32(t + e + 12);
	if (cdsize <= e) {
		pos = e - cdsize;
	} else {
		/* directory larger than the window: list what is inside */
		for (pos = 0; pos + 4 <= e; pos++)
			if (memcmp(t + pos, "PK\x01\x02", 4) == 0)
				break;
	}
	while (pos + 46 <= e && memcmp(t + pos, "PK\x01\x02", 4) == 0) {
		uint16_t flags = le16(t + pos + 8), fnlen = le16(t + pos + 28);
		uint16_t exlen = le16(t + pos + 30), cmlen = le16(t + pos + 32);

		if (flags & 1)
			rc |= fire(as, F_ENCRYPTED, "attachment.encrypted_archive",
			    label(as));
		if (pos + 46 + fnlen > e)
			break;
		rc |= archive_entry(as, t + pos + 46, fnlen);
		pos += 46 + (size_t)fnlen + exlen + cmlen;
	}
	return rc ? -1 : 0;
}

static int
sevenzip_end(struct attach_scan *as)
{
	uint64_t hoff, hsize, start, tail_start;
	const unsigned char *t = as->tail;
	size_t s, i;

	if (as->headlen < 32 || t == NULL)
		return 0;
	hoff = le64(as->head + 12);
	hsize = le64(as->head + 20);
	tail_start = as->off - as->taillen;
	if (hoff > as->off || hsize > as->off)
		return 0;
	start = 32 + hoff;
	if (start < tail_start || start >= as->off || hsize < 4)
		return 0;
	s = (size_t)(start - tail_start);
	if (hsize > as->taillen - s)
		hsize = as->taillen - s;
	if (t[s] != 0x01 && t[s] != 0x17)
		return 0;
	for (i = s; i + 4 <= s + hsize; i++)
		if (memcmp(t + i, "\x06\xf1\x07\x01", 4) == 0)
			return fire(as, F_ENCRYPTED, "attachment.encrypted_archive",
			    label(as));
	return 0;
}

/* ---- OLE macro stream names ---- */

static int
ole_search(struct attach_scan *as, const unsigned char *p, size_t n)
{
	static const char vba[] = "_\0V\0B\0A\0_\0P\0R\0O\0J\0E\0C\0T\0";
	static const char mac[] = "M\0a\0c\0r\0o\0s\0";
	unsigned char join[2 * OLE_CARRY];
	size_t jn, take;

	if (as->fired & F_MACRO)
		return 0;
	take = n < OLE_CARRY ? n : OLE_CARRY;
	memcpy(join, as->carry, as->carrylen);
	memcpy(join + as->carrylen, p, take);
	jn = as->carrylen + take;
	if (memmem(join, jn, vba, sizeof(vba) - 1) ||
	    memmem(join, jn, mac, sizeof(mac) - 1) ||
	    memmem(p, n, vba, sizeof(vba) - 1) ||
	    memmem(p, n, mac, sizeof(mac) - 1))
		return fire(as, F_MACRO, "attachment.macro", label(as));
	if (jn >= OLE_CARRY) {
		memcpy(as->carry, n >= OLE_CARRY ? p + n - OLE_CARRY :
		    join + jn - OLE_CARRY, OLE_CARRY);
		as->carrylen = OLE_CARRY;
	} else {
		memcpy(as->carry, join, jn);
		as->carrylen = jn;
	}
	return 0;
}

/* ---- streaming ---- */

static int
process(struct attach_scan *as, const unsigned char *p, size_t n, uint64_t off)
{
	switch (as->kind) {
	case K_ZIP:
	case K_RAR4:
	case K_RAR5:
		if (chain_feed(as, p, n, off) != 0)
			return -1;
		/* FALLTHROUGH */
	case K_7Z:
		return tail_add(as, p, n);
	case K_OLE:
		return ole_search(as, p, n);
	default:
		return 0;
	}
}

static int
sniff_done(struct attach_scan *as)
{
	as->sniffed = 1;
	as->kind = sniff(as);
	if (gzip_name(as, as->head, as->headlen) != 0)
		return -1;
	switch (as->kind) {
	case K_PE:
	case K_ELF:
	case K_MACHO:
	case K_LNK:
		if (fire(as, F_EXEC, "attachment.executable", label(as)) != 0)
			return -1;
		break;
	case K_SCRIPT:
		/* Source text a person reads before running it: scored. */
		if (fire(as, F_SCRIPT, "attachment.script", label(as)) != 0)
			return -1;
		break;
	case K_ZIP:
		as->chain = 1;
		as->next = 0;
		break;
	case K_RAR4:
		as->chain = 1;
		as->next = 7;
		break;
	case K_RAR5:
		as->chain = 1;
		as->next = 8;
		break;
	default:
		break;
	}
	return process(as, as->head, as->headlen, 0);
}

struct attach_scan *
attach_scan_new(const struct content_config *cc, struct findings *f,
    const char *filename, const char *type, const char *disposition)
{
	struct attach_scan *as;
	int rc = 0;

	if ((as = calloc(1, sizeof(*as))) == NULL)
		return NULL;
	as->cc = cc;
	as->f = f;
	if (filename != NULL) {
		size_t l = strlen(filename);

		if (l > NAME_MAX_KEPT)
			l = NAME_MAX_KEPT;
		memcpy(as->name, filename, l);
		as->name[l] = '\0';
	}
	as->attachment = filename != NULL || (disposition != NULL &&
	    strcmp(disposition, "attachment") == 0);
	if (filename != NULL && filename[0] != '\0') {
		/* the most specific first: with equal actions it gives the reply */
		if (attach_name_double_ext(cc, filename))
			rc |= fire(as, F_DOUBLE, "attachment.double_extension",
			    filename);
		if (attach_name_dangerous(cc, filename))
			rc |= fire(as, F_EXT, "attachment.extension", filename);
		else if (attach_name_risky(cc, filename))
			rc |= fire(as, F_RISKY, "attachment.extension_risky",
			    filename);
		if (attach_name_macro(cc, filename))
			rc |= fire(as, F_MACRO, "attachment.macro", filename);
		rc |= compressed_name(as, filename);
	}
	if (type != NULL && in_static(exec_types, type)) {
		as->fired |= F_EXEC;	/* once per part, with the type shown */
		rc |= findings_add(f, "attachment.executable", "%s (%s)",
		    label(as), type);
	}
	if (type != NULL && strcasestr(type, "macroenabled") != NULL)
		rc |= fire(as, F_MACRO, "attachment.macro", label(as));
	if (rc != 0) {
		free(as);
		return NULL;
	}
	return as;
}

int
attach_scan_feed(struct attach_scan *as, const char *data, size_t n)
{
	const unsigned char *p = (const unsigned char *)data;
	uint64_t off = as->off;

	if (as->failed)
		return -1;
	as->off += n;
	if (!as->sniffed) {
		size_t take = sizeof(as->head) - as->headlen;

		if (take > n)
			take = n;
		memcpy(as->head + as->headlen, p, take);
		as->headlen += take;
		p += take;
		n -= take;
		off += take;
		if (as->headlen < sizeof(as->head))
			return 0;
		if (sniff_done(as) != 0)
			goto fail;
	}
	if (n > 0 && process(as, p, n, off) != 0)
		goto fail;
	return 0;
fail:
	as->failed = 1;
	return -1;
}

int
attach_scan_tail(struct attach_scan *as, const char *data, size_t n)
{
	if (as->failed)
		return -1;
	/* sniffing sees only what was delivered before the limit */
	if (!as->sniffed && sniff_done(as) != 0)
		goto fail;
	as->off += n;
	if (as->kind != K_ZIP && as->kind != K_7Z)
		return 1;	/* nothing is read from the end */
	if (n > 0 && tail_add(as, (const unsigned char *)data, n) != 0)
		goto fail;
	return 0;
fail:
	as->failed = 1;
	return -1;
}

int
attach_scan_finish(struct attach_scan *as, size_t decoded_size)
{
	uint64_t size = decoded_size > as->off ? decoded_size : as->off;

	if (as->failed)
		return -1;
	if (!as->sniffed && sniff_done(as) != 0)
		return -1;
	if (as->kind == K_ZIP && zip_central(as) != 0)
		return -1;
	if (as->kind == K_7Z && sevenzip_end(as) != 0)
		return -1;
	if (as->attachment && as->cc->attachment_max_size > 0 &&
	    size > (uint64_t)as->cc->attachment_max_size &&
	    findings_add(as->f, "size.attachment", "%s %llu", label(as),
	    (unsigned long long)size) != 0)
		return -1;
	return 0;
}

const char *
attach_scan_kind(const struct attach_scan *as)
{
	return kind_names[as->kind];
}

void
attach_scan_free(struct attach_scan *as)
{
	if (as == NULL)
		return;
	free(as->tail);
	free(as);
}
