/*
 * check_attach - attachment names, magic sniffing and archive listings.
 *
 * ZIP, RAR and 7z fixtures are built here byte by byte (stored entries, no
 * compression), so every flag the checks read is set on purpose. Each
 * fixture is fed at every chunk size and must give the same findings.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "egress/content.h"

static const size_t chunk_sizes[] = { 1, 2, 3, 7, 64, 4096, 0 /* whole */ };
#define NCHUNK (sizeof(chunk_sizes) / sizeof(chunk_sizes[0]))

static struct content_config cc;

static void
setup(void)
{
	ck_assert_int_eq(content_config_defaults(&cc), 0);
	cc.attachment_max_size = 100000;
}

static void
teardown(void)
{
	content_config_fini(&cc);
}

/* ---- a growable byte string for fixtures ---- */

struct bytes {
	unsigned char	*p;
	size_t		 n, cap;
};

static void
put(struct bytes *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		ck_assert_ptr_nonnull(b->p = realloc(b->p, b->cap));
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void
put8(struct bytes *b, unsigned v)
{
	unsigned char c = (unsigned char)v;

	put(b, &c, 1);
}

static void
put16(struct bytes *b, unsigned v)
{
	put8(b, v & 0xff);
	put8(b, (v >> 8) & 0xff);
}

static void
put32(struct bytes *b, uint32_t v)
{
	put16(b, v & 0xffff);
	put16(b, v >> 16);
}

static void
put64(struct bytes *b, uint64_t v)
{
	put32(b, (uint32_t)v);
	put32(b, (uint32_t)(v >> 32));
}

static void
putfill(struct bytes *b, int c, size_t n)
{
	while (n-- > 0)
		put8(b, (unsigned)c);
}

/* ---- a tiny ZIP writer: stored entries ---- */

struct zent {
	const char	*name;
	size_t		 size;		/* bytes of filler data */
	unsigned	 flags;		/* general-purpose flags */
};

/*
 * Build a ZIP. With descriptor set, local headers carry bit 3 and zero
 * sizes (the local walk must stop; the central directory has the names).
 */
static void
zip_build(struct bytes *b, const struct zent *e, size_t n, int descriptor,
    const char *comment)
{
	uint32_t *offs = calloc(n, sizeof(uint32_t));
	size_t i, cd;

	ck_assert_ptr_nonnull(offs);
	for (i = 0; i < n; i++) {
		unsigned fl = e[i].flags | (descriptor ? 8 : 0);

		offs[i] = (uint32_t)b->n;
		put(b, "PK\x03\x04", 4);
		put16(b, 20);
		put16(b, fl);
		put16(b, 0);		/* stored */
		put32(b, 0);		/* time, date */
		put32(b, 0);		/* crc */
		put32(b, descriptor ? 0 : (uint32_t)e[i].size);
		put32(b, descriptor ? 0 : (uint32_t)e[i].size);
		put16(b, (unsigned)strlen(e[i].name));
		put16(b, 4);		/* extra */
		put(b, e[i].name, strlen(e[i].name));
		put(b, "\xfe\xca\0\0", 4);
		putfill(b, 'D', e[i].size);
		if (descriptor) {
			put(b, "PK\x07\x08", 4);
			put32(b, 0);
			put32(b, (uint32_t)e[i].size);
			put32(b, (uint32_t)e[i].size);
		}
	}
	cd = b->n;
	for (i = 0; i < n; i++) {
		put(b, "PK\x01\x02", 4);
		put16(b, 20);
		put16(b, 20);
		put16(b, e[i].flags | (descriptor ? 8 : 0));
		put16(b, 0);
		put32(b, 0);
		put32(b, 0);
		put32(b, (uint32_t)e[i].size);
		put32(b, (uint32_t)e[i].size);
		put16(b, (unsigned)strlen(e[i].name));
		put16(b, 0);
		put16(b, 0);
		put16(b, 0);
		put16(b, 0);
		put32(b, 0);
		put32(b, offs[i]);
		put(b, e[i].name, strlen(e[i].name));
	}
	put(b, "PK\x05\x06", 4);
	put16(b, 0);
	put16(b, 0);
	put16(b, (unsigned)n);
	put16(b, (unsigned)n);
	put32(b, (uint32_t)(b->n - cd - 12));
	put32(b, (uint32_t)cd);
	put16(b, comment ? (unsigned)strlen(comment) : 0);
	if (comment)
		put(b, comment, strlen(comment));
	free(offs);
}

/* ---- RAR4 / RAR5 / 7z writers ---- */

static void
rar4_build(struct bytes *b, const char *name, size_t size, int enc_file,
    int enc_headers)
{
	put(b, "Rar!\x1a\x07\x00", 7);
	put16(b, 0);			/* main header */
	put8(b, 0x73);
	put16(b, enc_headers ? 0x0080 : 0);
	put16(b, 13);
	putfill(b, 0, 6);
	if (enc_headers) {
		putfill(b, 0xa5, 64);	/* what follows is ciphertext */
		return;
	}
	put16(b, 0);			/* file header */
	put8(b, 0x74);
	put16(b, 0x8000 | (enc_file ? 0x04 : 0));
	put16(b, (unsigned)(32 + strlen(name)));
	put32(b, (uint32_t)size);	/* packed */
	put32(b, (uint32_t)size);	/* unpacked */
	put8(b, 2);
	put32(b, 0);
	put32(b, 0);
	put8(b, 20);
	put8(b, 0x30);
	put16(b, (unsigned)strlen(name));
	put32(b, 0x20);
	put(b, name, strlen(name));
	putfill(b, 'R', size);
	put16(b, 0);			/* end of archive */
	put8(b, 0x7b);
	put16(b, 0x4000);
	put16(b, 7);
}

static void
vint(struct bytes *b, uint64_t v)
{
	do {
		put8(b, (unsigned)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
		v >>= 7;
	} while (v > 0);
}

static void
rar5_build(struct bytes *b, const char *name, size_t size, int enc_file,
    int enc_archive)
{
	struct bytes h = { 0 };

	put(b, "Rar!\x1a\x07\x01\x00", 8);
	if (enc_archive) {
		put32(b, 0);
		vint(b, 3);
		vint(b, 4);		/* archive encryption header */
		vint(b, 0);
		vint(b, 0);
		putfill(b, 0xa5, 48);
		return;
	}
	put32(b, 0);			/* main archive header */
	vint(b, 3);
	vint(b, 1);
	vint(b, 0);
	vint(b, 0);
	/* file header body */
	vint(&h, 2);			/* type */
	vint(&h, 2 | (enc_file ? 1 : 0));	/* data area, [extra area] */
	if (enc_file)
		vint(&h, 4);		/* extra area size */
	vint(&h, size);			/* data size */
	vint(&h, 0);			/* file flags */
	vint(&h, size);			/* unpacked size */
	vint(&h, 0x20);			/* attributes */
	vint(&h, 0);			/* compression */
	vint(&h, 0);			/* host os */
	vint(&h, strlen(name));
	put(&h, name, strlen(name));
	if (enc_file) {
		vint(&h, 3);		/* record size */
		vint(&h, 1);		/* encryption record */
		vint(&h, 0);
		vint(&h, 0);
	}
	put32(b, 0);
	vint(b, h.n);
	put(b, h.p, h.n);
	putfill(b, 'R', size);
	put32(b, 0);			/* end of archive */
	vint(b, 3);
	vint(b, 5);
	vint(b, 0);
	vint(b, 0);
	free(h.p);
}

static void
sevenzip_build(struct bytes *b, int aes, size_t packed)
{
	struct bytes h = { 0 };

	put8(&h, 0x17);			/* kEncodedHeader */
	put(&h, "\x06\x00\x0b\x01\x00\x0c", 6);
	if (aes)
		put(&h, "\x24\x06\xf1\x07\x01\x00\x00", 7);
	else
		put(&h, "\x23\x03\x01\x01\x05\x5d\x00", 7);
	put8(&h, 0);
	put(b, "7z\xbc\xaf\x27\x1c\x00\x04", 8);
	put32(b, 0);
	put64(b, packed);
	put64(b, h.n);
	put32(b, 0);
	putfill(b, 'Z', packed);
	put(b, h.p, h.n);
	free(h.p);
}

/* ---- running a scan ---- */

static void
run(const char *name, const char *type, const char *disp, const void *data,
    size_t len, size_t chunk, char *out, size_t outsz)
{
	struct findings f;
	struct attach_scan *as;
	size_t i, l;

	findings_init(&f, 0);
	ck_assert_ptr_nonnull(as = attach_scan_new(&cc, &f, name, type, disp));
	if (chunk == 0)
		chunk = len ? len : 1;
	for (i = 0; i < len; i += chunk)
		ck_assert_int_eq(attach_scan_feed(as, (const char *)data + i,
		    len - i < chunk ? len - i : chunk), 0);
	ck_assert_int_eq(attach_scan_finish(as, 0), 0);
	out[0] = '\0';
	for (i = 0; i < f.n; i++) {
		l = strlen(out);
		snprintf(out + l, outsz - l, "%s%s=%s", i ? ";" : "", f.v[i].id,
		    f.v[i].detail);
	}
	l = strlen(out);
	snprintf(out + l, outsz - l, "|%s", attach_scan_kind(as));
	attach_scan_free(as);
	findings_fini(&f);
}

static void
expect_all_chunks(const char *label, const char *name, const char *disp,
    const struct bytes *b, const char *want)
{
	char got[2048];
	size_t k;

	for (k = 0; k < NCHUNK; k++) {
		run(name, "application/octet-stream", disp, b->p, b->n,
		    chunk_sizes[k], got, sizeof(got));
		ck_assert_msg(strcmp(got, want) == 0, "%s (chunk %zu): got %s want %s",
		    label, chunk_sizes[k], got, want);
	}
}

/* ---- names ---- */

static const struct {
	const char	*name;
	int		 dangerous, dbl, macro, risky;
} name_cases[] = {
	{ "setup.exe", 1, 0, 0, 0 },
	{ "SETUP.EXE", 1, 0, 0, 0 },
	{ "run.ps1", 1, 0, 0, 0 },
	{ "disk.iso", 1, 0, 0, 0 },
	{ "shortcut.lnk", 1, 0, 0, 0 },
	{ "x.settingcontent-ms", 0, 0, 0, 1 },
	{ "trailing.exe. . ", 1, 0, 0, 0 },
	{ "dir/sub\\evil.js", 1, 0, 0, 0 },
	{ "invoice.pdf.exe", 1, 1, 0, 0 },
	{ "invoice.pdf      .exe", 1, 1, 0, 0 },
	{ "invoice.PDF_.scr", 1, 1, 0, 0 },
	{ "photo.jpg...exe", 1, 1, 0, 0 },
	{ "report\xe2\x80\xae" "fdp.exe", 1, 1, 0, 0 },	/* U+202E */
	{ "archive.tar.gz", 0, 0, 0, 0 },
	{ "my.notes.exe", 1, 0, 0, 0 },			/* notes: not a document */
	{ "invoice.pdf", 0, 0, 0, 0 },
	{ "budget.xlsm", 0, 0, 1, 0 },
	{ "Letter.DOCM", 0, 0, 1, 0 },
	{ "addin.xlam", 0, 0, 1, 0 },
	{ "report.docx", 0, 0, 0, 0 },
	{ "exe", 0, 0, 0, 0 },
	{ ".exe", 0, 0, 0, 0 },
	{ "", 0, 0, 0, 0 },
	/* Gmail's blocked list is refused, the rest of the risky types scored */
	{ "Site.url", 0, 0, 0, 1 },
	{ "module.psm1", 0, 0, 0, 1 },
	{ "installer.dmg", 1, 0, 0, 0 },
	{ "app.apk", 1, 0, 0, 0 },
	{ "tool.mjs", 1, 0, 0, 0 },
	{ "patch.ex_", 1, 0, 0, 0 },
	{ "invoice.pdf.url", 0, 1, 0, 1 },
	{ "notes.txt", 0, 0, 0, 0 },
	{ "photo.jpeg", 0, 0, 0, 0 },
};

START_TEST(test_names)
{
	const char *n = name_cases[_i].name;

	ck_assert_msg(attach_name_dangerous(&cc, n) == name_cases[_i].dangerous,
	    "dangerous %s", n);
	ck_assert_msg(attach_name_double_ext(&cc, n) == name_cases[_i].dbl,
	    "double %s", n);
	ck_assert_msg(attach_name_macro(&cc, n) == name_cases[_i].macro,
	    "macro %s", n);
	ck_assert_msg(attach_name_risky(&cc, n) == name_cases[_i].risky,
	    "risky %s", n);
}
END_TEST

START_TEST(test_name_findings)
{
	char got[1024];

	run("invoice.pdf.exe", "application/pdf", "attachment", "hello", 5, 0,
	    got, sizeof(got));
	ck_assert_str_eq(got, "attachment.double_extension=invoice.pdf.exe;"
	    "attachment.extension=invoice.pdf.exe|data");
	run("budget.xlsm", NULL, "attachment", "x", 1, 0, got, sizeof(got));
	ck_assert_str_eq(got, "attachment.macro=budget.xlsm|data");
	run("notes.txt", "text/plain", "attachment", "plain text", 10, 0, got,
	    sizeof(got));
	ck_assert_str_eq(got, "|data");
	/* declared types */
	run("setup.bin", "application/x-msdownload", "attachment", "\x7f" "ELF", 4,
	    0, got, sizeof(got));
	ck_assert_str_eq(got, "attachment.executable=setup.bin "
	    "(application/x-msdownload)|elf");
	run("sheet.xlsx", "application/vnd.ms-excel.sheet.macroenabled.12",
	    "attachment", "x", 1, 0, got, sizeof(got));
	ck_assert_str_eq(got, "attachment.macro=sheet.xlsx|data");
	run("a.bin", "application/octet-stream", "attachment", "x", 1, 0, got,
	    sizeof(got));
	ck_assert_str_eq(got, "|data");
	/* compressed single files: the name inside counts, tarballs do not */
	run("report.scr.xz", "application/x-xz", "attachment", "x", 1, 0, got,
	    sizeof(got));
	ck_assert_str_eq(got, "attachment.archive_executable=report.scr.xz: report.scr|data");
	run("bundle.zip.bz2", NULL, "attachment", "x", 1, 0, got, sizeof(got));
	ck_assert_str_eq(got, "attachment.archive_executable=bundle.zip.bz2: bundle.zip|data");
	run("sources-1.2.tar.gz", NULL, "attachment", "x", 1, 0, got, sizeof(got));
	ck_assert_str_eq(got, "|data");
	run("notes.txt.gz", NULL, "attachment", "x", 1, 0, got, sizeof(got));
	ck_assert_str_eq(got, "|data");
	/* a gzip member names its file in the header (FNAME) */
	run("logs.gz", "application/gzip", "attachment",
	    "\x1f\x8b\x08\x08\0\0\0\0\0\x03setup.exe\0\x4b\x04\0", 23, 0, got, sizeof(got));
	ck_assert_str_eq(got, "attachment.archive_executable=logs.gz: setup.exe|data");
	run("logs.gz", "application/gzip", "attachment",
	    "\x1f\x8b\x08\x08\0\0\0\0\0\x03server.log\0\x4b\x04\0", 24, 0, got, sizeof(got));
	ck_assert_str_eq(got, "|data");
}
END_TEST

/* ---- magic ---- */

static void
pe_build(struct bytes *b, int stub_only)
{
	put(b, "MZ", 2);
	putfill(b, 0, 0x3a);
	put32(b, stub_only ? 0x7fffffff : 0x80);
	put(b, "This program cannot be run in DOS mode.\r\n", 41);
	putfill(b, 0, 0x80 - b->n);
	if (!stub_only)
		put(b, "PE\0\0\x4c\x01", 6);
	putfill(b, 0x90, 5000);
}

static const struct {
	const char	*label;
	const char	*head;
	size_t		 headlen;
	const char	*name;
	const char	*disp;
	const char	*want;
} magic_cases[] = {
	{ "elf", "\x7f" "ELF\x02\x01\x01", 7, "readme", NULL,
	  "attachment.executable=readme|elf" },
	{ "macho 64", "\xcf\xfa\xed\xfe\x07\x00\x00\x01", 8, "a.bin", NULL,
	  "attachment.executable=a.bin|macho" },
	{ "macho 32 be", "\xfe\xed\xfa\xce\x00\x00\x00\x12", 8, "a.bin", NULL,
	  "attachment.executable=a.bin|macho" },
	{ "macho fat", "\xca\xfe\xba\xbe\x00\x00\x00\x02", 8, "a.bin", NULL,
	  "attachment.executable=a.bin|macho" },
	{ "macho fat64", "\xca\xfe\xba\xbf\x00\x00\x00\x02", 8, "a.bin", NULL,
	  "attachment.executable=a.bin|macho" },
	{ "java class is not macho", "\xca\xfe\xba\xbe\x00\x00\x00\x34", 8,
	  "A.class", NULL, "|data" },
	{ "lnk", "L\0\0\0\x01\x14\x02\0\0\0\0\0", 12, "doc.pdf", NULL,
	  "attachment.executable=doc.pdf|lnk" },
	{ "shebang attachment", "#!/bin/sh\necho hi\n", 18, "run.txt",
	  "attachment", "attachment.script=run.txt|script" },
	{ "perl script attachment", "#!/usr/bin/perl -w\nuse strict;\n", 30,
	  "fix.pl", "attachment", "attachment.script=fix.pl|script" },
	{ "tcsh script with a space", "#! /bin/tcsh\necho\n", 18, "build",
	  "attachment", "attachment.script=build|script" },
	{ "shebang inline text miss", "#!/bin/sh\necho hi\n", 18, NULL, NULL,
	  "|data" },
	{ "pdf", "%PDF-1.7\n%\xe2\xe3\n", 12, "a.pdf", "attachment", "|pdf" },
	{ "short MZ miss", "MZ", 2, NULL, NULL, "|data" },	/* regression */
	{ "MZ with far e_lfanew miss", "MZ\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
	  "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
	  "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
	  "\xfd\xff\xff\xff", 64, NULL, NULL, "|data" },
	{ "plain text miss", "MZ is a band name, not a program", 32, NULL,
	  NULL, "|data" },
	{ "ole plain", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0", 10, "a.doc",
	  "attachment", "|ole" },
};

START_TEST(test_magic)
{
	char got[1024];
	size_t k;

	for (k = 0; k < NCHUNK; k++) {
		run(magic_cases[_i].name, NULL, magic_cases[_i].disp,
		    magic_cases[_i].head, magic_cases[_i].headlen, chunk_sizes[k],
		    got, sizeof(got));
		ck_assert_msg(strcmp(got, magic_cases[_i].want) == 0,
		    "%s: got %s", magic_cases[_i].label, got);
	}
}
END_TEST

START_TEST(test_pe)
{
	struct bytes b = { 0 };

	pe_build(&b, 0);
	expect_all_chunks("pe", "photo.jpg", "attachment", &b,
	    "attachment.executable=photo.jpg|pe");
	b.n = 0;
	pe_build(&b, 1);
	expect_all_chunks("pe stub", NULL, NULL, &b,
	    "attachment.executable=(unnamed part)|pe");
	free(b.p);
}
END_TEST

START_TEST(test_ole_macro)
{
	struct bytes b = { 0 };

	put(&b, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8);
	putfill(&b, 0, 5001);		/* past the sniff window, odd offset */
	put(&b, "_\0V\0B\0A\0_\0P\0R\0O\0J\0E\0C\0T\0", 24);
	putfill(&b, 0, 100);
	expect_all_chunks("ole vba", "report.doc", "attachment", &b,
	    "attachment.macro=report.doc|ole");
	b.n = 0;
	put(&b, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8);
	putfill(&b, 0, 700);
	put(&b, "M\0a\0c\0r\0o\0s\0", 12);
	expect_all_chunks("ole macros", "report.doc", "attachment", &b,
	    "attachment.macro=report.doc|ole");
	b.n = 0;
	put(&b, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8);
	putfill(&b, 0, 9000);
	put(&b, "W\0o\0r\0d\0D\0o\0c\0", 14);
	expect_all_chunks("ole clean", "report.doc", "attachment", &b, "|ole");
	free(b.p);
}
END_TEST

/* ---- ZIP ---- */

START_TEST(test_zip_clean)
{
	static const struct zent e[] = { { "docs/readme.txt", 40, 0 },
	    { "docs/", 0, 0 }, { "img/a.png", 300, 0 } };
	struct bytes b = { 0 };

	zip_build(&b, e, 3, _i, NULL);
	expect_all_chunks("zip clean", "files.zip", "attachment", &b, "|zip");
	free(b.p);
}
END_TEST

START_TEST(test_zip_exe)
{
	static const struct zent e[] = { { "readme.txt", 40, 0 },
	    { "bin/setup.exe", 1000, 0 } };
	struct bytes b = { 0 };

	zip_build(&b, e, 2, _i, "a comment");
	expect_all_chunks("zip exe", "files.zip", "attachment", &b,
	    "attachment.archive_executable=files.zip: bin/setup.exe|zip");
	free(b.p);
}
END_TEST

START_TEST(test_zip_nested)
{
	static const struct zent e[] = { { "inner.zip", 300, 0 } };
	struct bytes b = { 0 };

	zip_build(&b, e, 1, _i, NULL);
	expect_all_chunks("zip nested", "outer.zip", "attachment", &b,
	    "attachment.archive_executable=outer.zip: inner.zip|zip");
	free(b.p);
}
END_TEST

START_TEST(test_zip_encrypted)
{
	static const struct zent e[] = { { "secret.docx", 500, 1 } };
	struct bytes b = { 0 };

	zip_build(&b, e, 1, _i, NULL);
	expect_all_chunks("zip encrypted", "secret.zip", "attachment", &b,
	    "attachment.encrypted_archive=secret.zip|zip");
	free(b.p);
}
END_TEST

START_TEST(test_zip_vba)
{
	static const struct zent e[] = { { "[Content_Types].xml", 50, 0 },
	    { "word/vbaProject.bin", 200, 0 } };
	struct bytes b = { 0 };

	zip_build(&b, e, 2, _i, NULL);
	expect_all_chunks("docx with vba", "letter.docx", "attachment", &b,
	    "attachment.macro=letter.docx: word/vbaProject.bin|zip");
	free(b.p);
}
END_TEST

/* Entries behind a big one, central directory lost: the local walk. */
START_TEST(test_zip_big_local_walk)
{
	static const struct zent e[] = { { "start.txt", 10, 0 },
	    { "big.bin", 3 * CONTENT_ZIP_TAIL, 0 }, { "tool.scr", 5, 0 } };
	struct bytes b = { 0 };
	char want[256];

	zip_build(&b, e, 3, _i, NULL);
	/* cut before the central directory: only the local walk can see */
	b.n = (size_t)((unsigned char *)memmem(b.p, b.n, "PK\x01\x02", 4) - b.p);
	snprintf(want, sizeof(want), "attachment.archive_executable=big.zip: "
	    "tool.scr;size.attachment=big.zip %zu|zip", b.n);
	expect_all_chunks("zip big", "big.zip", "attachment", &b, want);
	free(b.p);
}
END_TEST

/* An exe entry near the end with descriptors: the central directory. */
START_TEST(test_zip_big_central)
{
	static const struct zent e[] = { { "big.bin", 2 * CONTENT_ZIP_TAIL, 0 },
	    { "evil.vbs", 10, 0 } };
	struct bytes b = { 0 };

	zip_build(&b, e, 2, 1, NULL);
	cc.attachment_max_size = 0;
	expect_all_chunks("zip central", "big.zip", "attachment", &b,
	    "attachment.archive_executable=big.zip: evil.vbs|zip");
	free(b.p);
}
END_TEST

/* ---- RAR and 7z ---- */

START_TEST(test_rar)
{
	struct bytes b = { 0 };

	rar4_build(&b, "docs.txt", 300, 0, 0);
	expect_all_chunks("rar4 clean", "a.rar", "attachment", &b, "|rar");
	b.n = 0;
	rar4_build(&b, "payload.exe", 300, 0, 0);
	expect_all_chunks("rar4 exe", "a.rar", "attachment", &b,
	    "attachment.archive_executable=a.rar: payload.exe|rar");
	b.n = 0;
	rar4_build(&b, "docs.txt", 300, 1, 0);
	expect_all_chunks("rar4 enc file", "a.rar", "attachment", &b,
	    "attachment.encrypted_archive=a.rar|rar");
	b.n = 0;
	rar4_build(&b, "docs.txt", 300, 0, 1);
	expect_all_chunks("rar4 enc headers", "a.rar", "attachment", &b,
	    "attachment.encrypted_archive=a.rar|rar");
	b.n = 0;
	rar5_build(&b, "docs.txt", 300, 0, 0);
	expect_all_chunks("rar5 clean", "a.rar", "attachment", &b, "|rar5");
	b.n = 0;
	rar5_build(&b, "x/run.bat", 300, 0, 0);
	expect_all_chunks("rar5 exe", "a.rar", "attachment", &b,
	    "attachment.archive_executable=a.rar: x/run.bat|rar5");
	b.n = 0;
	rar5_build(&b, "docs.txt", 300, 1, 0);
	expect_all_chunks("rar5 enc file", "a.rar", "attachment", &b,
	    "attachment.encrypted_archive=a.rar|rar5");
	b.n = 0;
	rar5_build(&b, "docs.txt", 300, 0, 1);
	expect_all_chunks("rar5 enc archive", "a.rar", "attachment", &b,
	    "attachment.encrypted_archive=a.rar|rar5");
	free(b.p);
}
END_TEST

START_TEST(test_7z)
{
	struct bytes b = { 0 };

	sevenzip_build(&b, 1, 5000);
	expect_all_chunks("7z aes", "a.7z", "attachment", &b,
	    "attachment.encrypted_archive=a.7z|7z");
	b.n = 0;
	sevenzip_build(&b, 0, 5000);
	expect_all_chunks("7z lzma", "a.7z", "attachment", &b, "|7z");
	free(b.p);
}
END_TEST

START_TEST(test_size)
{
	char *big = calloc(1, 100001);
	char got[512];

	ck_assert_ptr_nonnull(big);
	run("big.txt", "text/plain", "attachment", big, 100001, 4096, got,
	    sizeof(got));
	ck_assert_str_eq(got, "size.attachment=big.txt 100001|data");
	run("ok.txt", "text/plain", "attachment", big, 100000, 4096, got,
	    sizeof(got));
	ck_assert_str_eq(got, "|data");
	/* inline body parts are not attachments */
	run(NULL, "text/plain", NULL, big, 100001, 4096, got, sizeof(got));
	ck_assert_str_eq(got, "|data");
	free(big);
}
END_TEST

/*
 * The MIME reader delivers the first `split` bytes (attach_scan_feed) and
 * streams the rest past its limit (attach_scan_tail), both in chunks.
 */
static void
run_split(const char *name, const struct bytes *b, size_t split, size_t chunk,
    char *out, size_t outsz)
{
	struct findings f;
	struct attach_scan *as;
	size_t i, k, l;

	findings_init(&f, 0);
	ck_assert_ptr_nonnull(as = attach_scan_new(&cc, &f, name,
	    "application/octet-stream", "attachment"));
	if (chunk == 0)
		chunk = b->n;
	for (i = 0; i < b->n; i += k) {
		k = b->n - i < chunk ? b->n - i : chunk;
		if (i < split && k > split - i)
			k = split - i;
		if (i < split)
			ck_assert_int_eq(attach_scan_feed(as,
			    (const char *)b->p + i, k), 0);
		else
			ck_assert_int_eq(attach_scan_tail(as,
			    (const char *)b->p + i, k), 0);
	}
	ck_assert_int_eq(attach_scan_finish(as, b->n), 0);
	out[0] = '\0';
	for (i = 0; i < f.n; i++) {
		l = strlen(out);
		snprintf(out + l, outsz - l, "%s%s=%s", i ? ";" : "", f.v[i].id,
		    f.v[i].detail);
	}
	l = strlen(out);
	snprintf(out + l, outsz - l, "|%s", attach_scan_kind(as));
	attach_scan_free(as);
	findings_fini(&f);
}

static void
expect_split(const char *label, const char *name, const struct bytes *b,
    const char *want)
{
	static const size_t splits[] = { 1024, 100000 };	/* 1024: least limit */
	char got[2048];
	size_t i, k;

	for (i = 0; i < sizeof(splits) / sizeof(splits[0]); i++)
		for (k = 0; k < NCHUNK; k++) {
			run_split(name, b, splits[i], chunk_sizes[k], got,
			    sizeof(got));
			ck_assert_msg(strcmp(got, want) == 0, "%s (split %zu, "
			    "chunk %zu): got %s want %s", label, splits[i],
			    chunk_sizes[k], got, want);
		}
}

/*
 * Bytes past the delivered ones reach the tail window only: the central
 * directory lists the entry behind the big one, the local walk does not.
 */
START_TEST(test_tail_bytes)
{
	static const struct zent e[] = { { "start.txt", 10, 0 },
	    { "big.bin", 3 * CONTENT_ZIP_TAIL, 0 }, { "tool.scr", 5, 0 } };
	struct bytes b = { 0 };
	char want[256];

	zip_build(&b, e, 3, _i, NULL);
	snprintf(want, sizeof(want), "attachment.archive_executable=big.zip: "
	    "tool.scr;size.attachment=big.zip %zu|zip", b.n);
	expect_split("zip tail", "big.zip", &b, want);
	/* without the central directory the local walk stays in front */
	b.n = (size_t)((unsigned char *)memmem(b.p, b.n, "PK\x01\x02", 4) - b.p);
	snprintf(want, sizeof(want), "size.attachment=big.zip %zu|zip", b.n);
	expect_split("zip tail, no directory", "big.zip", &b, want);
	b.n = 0;
	sevenzip_build(&b, 1, 3 * CONTENT_ZIP_TAIL);
	snprintf(want, sizeof(want), "attachment.encrypted_archive=a.7z;"
	    "size.attachment=a.7z %zu|7z", b.n);
	expect_split("7z tail", "a.7z", &b, want);
	free(b.p);
}
END_TEST

/* Garbage must never crash or read out of bounds. */
START_TEST(test_garbage_archives)
{
	static const char *const heads[] = { "PK\x03\x04", "Rar!\x1a\x07\x00",
	    "Rar!\x1a\x07\x01\x00", "7z\xbc\xaf\x27\x1c", "PK\x05\x06" };
	unsigned char buf[3000];
	char got[512];
	size_t i, j;
	uint32_t x = 12345;

	for (i = 0; i < 5; i++)
		for (j = 0; j < 50; j++) {
			size_t k;

			for (k = 0; k < sizeof(buf); k++) {
				x = x * 1103515245 + 12345;
				buf[k] = (unsigned char)(x >> 16);
			}
			memcpy(buf, heads[i], strlen(heads[i]));
			run("g.bin", NULL, "attachment", buf, sizeof(buf) - j * 37,
			    chunk_sizes[j % NCHUNK], got, sizeof(got));
		}
}
END_TEST

static Suite *
attach_suite(void)
{
	Suite *s = suite_create("attach");
	TCase *tc = tcase_create("attach");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_names, 0,
	    sizeof(name_cases) / sizeof(name_cases[0]));
	tcase_add_test(tc, test_name_findings);
	tcase_add_loop_test(tc, test_magic, 0,
	    sizeof(magic_cases) / sizeof(magic_cases[0]));
	tcase_add_test(tc, test_pe);
	tcase_add_test(tc, test_ole_macro);
	/* loop index: 0 = sizes in local headers, 1 = data descriptors */
	tcase_add_loop_test(tc, test_zip_clean, 0, 2);
	tcase_add_loop_test(tc, test_zip_exe, 0, 2);
	tcase_add_loop_test(tc, test_zip_nested, 0, 2);
	tcase_add_loop_test(tc, test_zip_encrypted, 0, 2);
	tcase_add_loop_test(tc, test_zip_vba, 0, 2);
	tcase_add_loop_test(tc, test_zip_big_local_walk, 0, 2);
	tcase_add_test(tc, test_zip_big_central);
	tcase_add_loop_test(tc, test_tail_bytes, 0, 2);
	tcase_add_test(tc, test_rar);
	tcase_add_test(tc, test_7z);
	tcase_add_test(tc, test_size);
	tcase_add_test(tc, test_garbage_archives);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(attach_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
