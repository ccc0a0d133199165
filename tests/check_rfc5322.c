/*
 * check_rfc5322.c - unit tests for the RFC 5322 syntax helpers.
 *
 * Table-driven: each table row is {label, input, expectations} and runs as
 * one iteration of a loop test, so a failure names its row. Expected epochs
 * were computed independently (calendar.timegm) and include the examples of
 * RFC 5322 appendix A.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/rfc5322.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define A10	"aaaaaaaaaa"
#define A61	A10 A10 A10 A10 A10 A10 "a"
#define A62	A61 "a"
#define A63	A62 "a"
#define A64	A63 "a"

/* Nested comments, 32 and 33 levels deep. */
#define OPEN8	"(((((((("
#define CLOSE8	"))))))))"
#define NEST32	OPEN8 OPEN8 OPEN8 OPEN8 "x" CLOSE8 CLOSE8 CLOSE8 CLOSE8
#define NEST33	"(" NEST32 ")"

/* ---------- dates ---------- */

static const struct {
	const char	*label;
	const char	*input;
	int		 ok;
	long long	 epoch;
} date_cases[] = {
	{ "epoch", "Thu, 01 Jan 1970 00:00:00 +0000", 1, 0 },
	{ "minus 5", "Sat, 13 Mar 2021 10:00:00 -0500", 1, 1615647600 },
	{ "rfc A.1.1", "Fri, 21 Nov 1997 09:55:06 -0600", 1, 880127706 },
	{ "rfc A.3", "Tue, 1 Jul 2003 10:52:37 +0200", 1, 1057049557 },
	{ "rfc A.5 before 1970", "Thu, 13 Feb 1969 23:32:54 -0330", 1, -27723426 },
	{ "rfc A.6.3 folded with comment",
	  "Thu,\n      13\n        Feb\n          1969\n      23:32\n"
	  "               -0330 (Newfoundland Time)", 1, -27723480 },
	{ "rfc A.6.3 comment inside time",
	  "Fri, 21 Nov 1997 09(comment):   55  :  06 -0600", 1, 880127706 },
	{ "obs 2-digit year 97", "21 Nov 97 09:55:06 GMT", 1, 880106106 },
	{ "no day of week", "1 Jan 1970 00:00:00 +0000", 1, 0 },
	{ "no seconds", "Thu, 1 Jan 1970 00:00 +0000", 1, 0 },
	{ "positive zone", "Thu, 1 Jan 1970 01:00:00 +0100", 1, 0 },
	{ "lower case names", "thu, 01 jan 1970 00:00:00 gmt", 1, 0 },
	{ "upper case names", "THU, 01 JAN 1970 00:00:00 UT", 1, 0 },
	{ "minus zero zone", "Mon, 01 Jan 2001 00:00:00 -0000", 1, 978307200 },
	{ "utc comment trailer", "Mon, 01 Jan 2001 00:00:00 +0000 (UTC)", 1, 978307200 },
	{ "leading comment", "(sent) Mon, 01 Jan 2001 00:00:00 +0000", 1, 978307200 },
	{ "comment after dow", "Mon (Monday) , 01 Jan 2001 00:00:00 +0000", 1, 978307200 },
	{ "nested comment", "Mon, 01 Jan 2001 00:00:00 +0000 (a (b \\) c) d)", 1, 978307200 },
	{ "comment nest 32", "Mon, 01 Jan 2001 00:00:00 +0000 " NEST32, 1, 978307200 },
	{ "crlf fold", "Mon, 01 Jan 2001\r\n 00:00:00 +0000", 1, 978307200 },
	{ "trailing crlf", "Mon, 01 Jan 2001 00:00:00 +0000\r\n", 1, 978307200 },
	{ "trailing lf", "Mon, 01 Jan 2001 00:00:00 +0000\n", 1, 978307200 },
	{ "tabs", "Mon,\t01\tJan\t2001\t00:00:00\t+0000", 1, 978307200 },
	{ "no space after comma", "Mon,01 Jan 2001 00:00:00 +0000", 1, 978307200 },
	{ "2-digit year 49", "01 Jan 49 00:00:00 +0000", 1, 2493072000LL },
	{ "2-digit year 50", "01 Jan 50 00:00:00 +0000", 1, -631152000 },
	{ "2-digit year 01", "01 Jan 01 00:00:00 +0000", 1, 978307200 },
	{ "3-digit year 101", "01 Jan 101 00:00:00 +0000", 1, 978307200 },
	{ "year 1900", "01 Jan 1900 00:00:00 +0000", 1, -2208988800LL },
	{ "year 9999", "31 Dec 9999 23:59:59 +0000", 1, 253402300799LL },
	{ "29 feb 2000 leap", "Tue, 29 Feb 2000 12:00:00 +0000", 1, 951825600 },
	{ "29 feb 2024 leap", "29 Feb 2024 00:00:00 +0000", 1, 1709164800 },
	{ "leap second", "31 Dec 2016 23:59:60 +0000", 1, 1483228800 },
	{ "zone +1400", "01 Jan 2000 14:00:00 +1400", 1, 946684800 },
	{ "zone EST", "13 Mar 2021 10:00:00 EST", 1, 1615647600 },
	{ "zone EDT", "13 Mar 2021 10:00:00 EDT", 1, 1615644000 },
	{ "zone CST", "13 Mar 2021 10:00:00 CST", 1, 1615651200 },
	{ "zone CDT", "13 Mar 2021 10:00:00 CDT", 1, 1615647600 },
	{ "zone MST", "13 Mar 2021 10:00:00 MST", 1, 1615654800 },
	{ "zone MDT", "13 Mar 2021 10:00:00 MDT", 1, 1615651200 },
	{ "zone PST", "13 Mar 2021 10:00:00 PST", 1, 1615658400 },
	{ "zone PDT", "13 Mar 2021 10:00:00 pdt", 1, 1615654800 },
	{ "military Z", "13 Mar 2021 10:00:00 Z", 1, 1615629600 },
	{ "military a", "13 Mar 2021 10:00:00 a", 1, 1615629600 },
	{ "military Y", "13 Mar 2021 10:00:00 Y", 1, 1615629600 },
	{ "military K", "13 Mar 2021 10:00:00 K", 1, 1615629600 },
	{ "every day name", "Sun, 13 Mar 2021 10:00:00 +0000", 1, 1615629600 },
	{ "wed", "Wed, 13 Mar 2021 10:00:00 +0000", 1, 1615629600 },
	{ "8-bit in comment", "13 Mar 2021 10:00:00 +0000 (M\xc3\xa4rz)", 1, 1615629600 },

	{ "empty", "", 0, 0 },
	{ "blank", "   ", 0, 0 },
	{ "only comment", "(Monday)", 0, 0 },
	{ "31 feb", "31 Feb 2021 00:00:00 +0000", 0, 0 },
	{ "29 feb 2021", "29 Feb 2021 00:00:00 +0000", 0, 0 },
	{ "29 feb 1900", "29 Feb 1900 00:00:00 +0000", 0, 0 },
	{ "30 feb 2000", "30 Feb 2000 00:00:00 +0000", 0, 0 },
	{ "31 apr", "31 Apr 2021 00:00:00 +0000", 0, 0 },
	{ "31 nov", "31 Nov 2021 00:00:00 +0000", 0, 0 },
	{ "32 jan", "32 Jan 2021 00:00:00 +0000", 0, 0 },
	{ "day 0", "0 Jan 2021 00:00:00 +0000", 0, 0 },
	{ "day 3 digits", "001 Jan 2021 00:00:00 +0000", 0, 0 },
	{ "hour 24", "01 Jan 2021 24:00:00 +0000", 0, 0 },
	{ "minute 60", "01 Jan 2021 23:60:00 +0000", 0, 0 },
	{ "second 61", "01 Jan 2021 23:59:61 +0000", 0, 0 },
	{ "1-digit hour", "01 Jan 2021 1:00:00 +0000", 0, 0 },
	{ "3-digit minute", "01 Jan 2021 01:000:00 +0000", 0, 0 },
	{ "zone minutes 60", "01 Jan 2021 00:00:00 +0060", 0, 0 },
	{ "zone hours 24", "01 Jan 2021 00:00:00 +2400", 0, 0 },
	{ "zone 3 digits", "01 Jan 2021 00:00:00 +000", 0, 0 },
	{ "zone 5 digits", "01 Jan 2021 00:00:00 +00000", 0, 0 },
	{ "zone unsigned", "01 Jan 2021 00:00:00 0000", 0, 0 },
	{ "zone UTC accepted as +0000", "01 Jan 2021 00:00:00 UTC", 1, 1609459200 },
	{ "zone military J", "01 Jan 2021 00:00:00 J", 0, 0 },
	{ "zone unknown", "01 Jan 2021 00:00:00 CET", 0, 0 },
	{ "zone missing", "01 Jan 2021 00:00:00", 0, 0 },
	{ "zone glued", "01 Jan 2021 00:00:00+0000", 0, 0 },
	{ "no comma after dow", "Fri 01 Jan 2021 00:00:00 +0000", 0, 0 },
	{ "bad dow", "Fry, 01 Jan 2021 00:00:00 +0000", 0, 0 },
	{ "long dow", "Friday, 01 Jan 2021 00:00:00 +0000", 0, 0 },
	{ "bad month", "01 Foo 2021 00:00:00 +0000", 0, 0 },
	{ "long month", "01 January 2021 00:00:00 +0000", 0, 0 },
	{ "numeric month", "01 01 2021 00:00:00 +0000", 0, 0 },
	{ "year 1899", "01 Jan 1899 00:00:00 +0000", 0, 0 },
	{ "year 5 digits", "01 Jan 20210 00:00:00 +0000", 0, 0 },
	{ "year 1 digit", "01 Jan 7 00:00:00 +0000", 0, 0 },
	{ "glued day month", "01Jan 2021 00:00:00 +0000", 0, 0 },
	{ "trailing word", "01 Jan 2021 00:00:00 +0000 foo", 0, 0 },
	{ "trailing comma", "01 Jan 2021 00:00:00 +0000,", 0, 0 },
	{ "two zones", "01 Jan 2021 00:00:00 +0000 GMT", 0, 0 },
	{ "unterminated comment", "01 Jan 2021 00:00:00 +0000 (UTC", 0, 0 },
	{ "unbalanced close paren", "01 Jan 2021 00:00:00 +0000 )", 0, 0 },
	{ "comment nest 33", "Mon, 01 Jan 2001 00:00:00 +0000 " NEST33, 0, 0 },
	{ "bare lf", "01 Jan 2021\n00:00:00 +0000", 0, 0 },
	{ "bare cr", "01 Jan 2021\r 00:00:00 +0000", 0, 0 },
	{ "double lf", "01 Jan 2021 00:00:00 +0000\n\n", 0, 0 },
	{ "iso 8601", "2021-03-13T10:00:00Z", 0, 0 },
	{ "dots in date", "13.03.2021 10:00:00 +0000", 0, 0 },
	{ "8-bit byte", "13 M\xe4r 2021 10:00:00 +0000", 0, 0 },
	{ "control byte", "13 Mar 2021 10:00:00 +0000 \x01", 0, 0 },
	{ "missing minute", "13 Mar 2021 10 +0000", 0, 0 },
	{ "dangling colon", "13 Mar 2021 10:00: +0000", 0, 0 },
};


/* Forms outside RFC 5322 that receivers accept: parsed, and said so. */
static const struct {
	const char	*label;
	const char	*input;
	int		 ok;
	int		 lenient;
	long long	 epoch;
} lenient_cases[] = {
	{ "one-digit hour", "Tue, 20 Aug 2002 9:39:22 +0100", 1, 1, 1029832762LL },
	{ "zone only as a comment", "Mon, 16 Sep 2002 03:27:38 (GMT)", 1, 1, 1032146858LL },
	{ "no zone at all", "Mon, 16 Sep 2002 03:27:38", 1, 1, 1032146858LL },
	{ "strict form", "Mon, 16 Sep 2002 03:27:38 +0000", 1, 0, 1032146858LL },
	{ "obsolete zone is RFC 5322", "Mon, 16 Sep 2002 03:27:38 GMT", 1, 0, 1032146858LL },
	{ "one-digit minute stays invalid", "Mon, 16 Sep 2002 03:7:38 +0000", 0, 0, 0 },
	{ "no time stays invalid", "Mon, 16 Sep 2002 (GMT)", 0, 0, 0 },
	{ "three-digit hour invalid", "Mon, 16 Sep 2002 123:27:38 +0000", 0, 0, 0 },
	{ "hour 24 invalid", "Mon, 16 Sep 2002 24:00:00 +0000", 0, 0, 0 },
	{ "garbage after comment zone", "Mon, 16 Sep 2002 03:27:38 (GMT) x", 1, 0, 0 },
};

START_TEST(test_date_lenient)
{
	long long epoch = 0, strict;
	int lenient = -1, rc;

	rc = rfc5322_date_parse_lenient(lenient_cases[_i].input, &epoch, &lenient);
	if (strcmp(lenient_cases[_i].label, "garbage after comment zone") == 0) {
		/* "x" is read as a military zone letter: RFC 5322 4.3 */
		ck_assert_int_eq(rc, 0);
		return;
	}
	ck_assert_msg((rc == 0) == lenient_cases[_i].ok, "%s: rc %d",
	    lenient_cases[_i].label, rc);
	if (!lenient_cases[_i].ok)
		return;
	ck_assert_msg(lenient == lenient_cases[_i].lenient, "%s: lenient %d",
	    lenient_cases[_i].label, lenient);
	ck_assert_msg(epoch == lenient_cases[_i].epoch, "%s: epoch %lld",
	    lenient_cases[_i].label, epoch);
	/* the strict parser refuses exactly the lenient forms */
	ck_assert_int_eq(rfc5322_date_parse(lenient_cases[_i].input, &strict) == 0,
	    !lenient_cases[_i].lenient);
}
END_TEST

START_TEST(test_date)
{
	long long	epoch = 12345;
	int		rc;

	rc = rfc5322_date_parse(date_cases[_i].input, &epoch);
	ck_assert_msg((rc == 0) == date_cases[_i].ok, "%s: rc %d",
	    date_cases[_i].label, rc);
	if (date_cases[_i].ok)
		ck_assert_msg(epoch == date_cases[_i].epoch, "%s: epoch %lld want %lld",
		    date_cases[_i].label, epoch, date_cases[_i].epoch);
	else
		ck_assert_msg(epoch == 12345, "%s: output touched on failure",
		    date_cases[_i].label);
}
END_TEST

START_TEST(test_date_null)
{
	long long epoch;

	ck_assert_int_eq(rfc5322_date_parse(NULL, &epoch), -1);
	ck_assert_int_eq(rfc5322_date_parse("01 Jan 2021 00:00:00 +0000", NULL), -1);
}
END_TEST

/* ---------- msg-id ---------- */

static const struct {
	const char	*label;
	const char	*input;
	int		 ok;
	const char	*right;
} msgid_cases[] = {
	{ "plain", "<abc@example.com>", 1, "example.com" },
	{ "spaces around", "  <abc.def@example.com>  ", 1, "example.com" },
	{ "comment after", "<abc@example.com> (sent by us)", 1, "example.com" },
	{ "comment before", "(c) <a@b>", 1, "b" },
	{ "single label right", "<a@localhost>", 1, "localhost" },
	{ "atext specials", "<1$%&'*+-/=?^_`{|}~@host.example>", 1, "host.example" },
	{ "quoted left", "<\"quoted local\"@example.com>", 1, "example.com" },
	{ "quoted left with @", "<\"a@b\"@example.com>", 1, "example.com" },
	{ "obs left cfws", "<a . b@example.com>", 1, "example.com" },
	{ "obs left comment", "<(x)a@example.com>", 1, "example.com" },
	{ "literal right", "<a.b.c@[192.0.2.1]>", 1, "[192.0.2.1]" },
	{ "literal right text", "<x@[foo.bar]>", 1, "[foo.bar]" },
	{ "lf fold before", "\n <a@b.example>", 1, "b.example" },
	{ "crlf fold before", "\r\n\t<a@b.example>", 1, "b.example" },
	{ "trailing crlf", "<a@b.example>\r\n", 1, "b.example" },
	{ "typical", "<20210313100000.12345.abcdef@mail.example.org>", 1,
	  "mail.example.org" },
	{ "utf-8 right", "<a@b\xc3\xa4.example>", 1, "b\xc3\xa4.example" },

	{ "empty", "", 0, "" },
	{ "blank", "  ", 0, "" },
	{ "no brackets", "abc@example.com", 0, "" },
	{ "no close", "<abc@example.com", 0, "" },
	{ "no open", "abc@example.com>", 0, "" },
	{ "no at", "<abc>", 0, "" },
	{ "empty left", "<@example.com>", 0, "" },
	{ "empty right", "<abc@>", 0, "" },
	{ "empty brackets", "<>", 0, "" },
	{ "two ids", "<a@b> <c@d>", 0, "" },
	{ "two ats", "<a@b@c>", 0, "" },
	{ "space after at", "<a@ b>", 0, "" },
	{ "space before close", "<a@b >", 0, "" },
	{ "comment in right", "<a@b(x).c>", 0, "" },
	{ "space in right", "<a@b .c>", 0, "" },
	{ "folding literal", "<a@[1.2.3.4 ]>", 0, "" },
	{ "quoted-pair literal", "<a@[1\\]>", 0, "" },
	{ "unterminated literal", "<a@[1.2.3.4>", 0, "" },
	{ "double dot right", "<a@b..c>", 0, "" },
	{ "leading dot right", "<a@.b>", 0, "" },
	{ "trailing dot right", "<a@b.>", 0, "" },
	{ "double dot left", "<a..b@c>", 0, "" },
	{ "leading dot left", "<.a@c>", 0, "" },
	{ "trailing dot left", "<a.@c>", 0, "" },
	{ "two words left", "<a b@c>", 0, "" },
	{ "trailing word", "<a@b> x", 0, "" },
	{ "unterminated comment", "<a@b> (x", 0, "" },
	{ "unterminated quote", "<\"a@b>", 0, "" },
	{ "bare lf inside", "<a@b\n.c>", 0, "" },
	{ "comma", "<a@b>,", 0, "" },
	{ "backslash left", "<a\\b@c>", 0, "" },
	{ "control byte", "<a\x01@c>", 0, "" },
	{ "nested angle", "<<a@b>>", 0, "" },
};

START_TEST(test_msgid)
{
	char	right[64];
	int	rc;

	memset(right, 'X', sizeof(right));
	rc = rfc5322_msgid_parse(msgid_cases[_i].input, right, sizeof(right));
	ck_assert_msg((rc == 0) == msgid_cases[_i].ok, "%s: rc %d",
	    msgid_cases[_i].label, rc);
	ck_assert_msg(strcmp(right, msgid_cases[_i].right) == 0,
	    "%s: right \"%s\" want \"%s\"", msgid_cases[_i].label, right,
	    msgid_cases[_i].right);
}
END_TEST

START_TEST(test_msgid_truncate)
{
	char	right[5];

	memset(right, 'X', sizeof(right));
	ck_assert_int_eq(rfc5322_msgid_parse("<a@example.com>", right,
	    sizeof(right)), 0);
	ck_assert_str_eq(right, "exam");
	ck_assert_int_eq(rfc5322_msgid_parse("<a@example.com>", right, 1), 0);
	ck_assert_str_eq(right, "");
	ck_assert_int_eq(rfc5322_msgid_parse("<a@example.com>", NULL, 0), 0);
	ck_assert_int_eq(rfc5322_msgid_parse(NULL, right, sizeof(right)), -1);
	ck_assert_str_eq(right, "");
}
END_TEST

/* ---------- FQDN ---------- */

static const struct {
	const char	*label;
	const char	*input;
	int		 want;
} fqdn_cases[] = {
	{ "two labels", "example.com", 1 },
	{ "many labels", "mail.example.co.uk", 1 },
	{ "short labels", "a.b", 1 },
	{ "upper case", "EXAMPLE.COM", 1 },
	{ "hyphen inside", "a-b.c-d.com", 1 },
	{ "punycode", "xn--bcher-kva.example", 1 },
	{ "numeric labels not last", "1.2.3.com", 1 },
	{ "numeric first", "123.example", 1 },
	{ "alnum tld", "example.x1", 1 },
	{ "label 63", A63 ".com", 1 },
	{ "total 253", A63 "." A63 "." A63 "." A61, 1 },

	{ "empty", "", 0 },
	{ "single label", "localhost", 0 },
	{ "trailing dot", "example.com.", 0 },
	{ "leading dot", ".example.com", 0 },
	{ "double dot", "example..com", 0 },
	{ "only dot", ".", 0 },
	{ "leading hyphen", "-a.com", 0 },
	{ "trailing hyphen", "a-.com", 0 },
	{ "tld trailing hyphen", "a.b-", 0 },
	{ "underscore", "a_b.com", 0 },
	{ "ipv4", "1.2.3.4", 0 },
	{ "numeric tld", "example.123", 0 },
	{ "address literal", "[192.0.2.1]", 0 },
	{ "label 64", A64 ".com", 0 },
	{ "total 254", A63 "." A63 "." A63 "." A62, 0 },
	{ "space", "ex ample.com", 0 },
	{ "utf-8", "b\xc3\xbc" "cher.example", 0 },
	{ "at sign", "user@example.com", 0 },
};

START_TEST(test_fqdn)
{
	int got = rfc5322_domain_is_fqdn(fqdn_cases[_i].input) != 0;

	ck_assert_msg(got == fqdn_cases[_i].want, "%s: got %d",
	    fqdn_cases[_i].label, got);
}
END_TEST

START_TEST(test_fqdn_null)
{
	ck_assert_int_eq(rfc5322_domain_is_fqdn(NULL), 0);
}
END_TEST

/* ---------- address lists ---------- */

static const struct {
	const char	*label;
	const char	*input;
	int		 invalid;
	size_t		 count;
	const char	*first;
	const char	*domain;
} addr_cases[] = {
	{ "bare addr-spec", "user@example.com", 0, 1, "user@example.com", "example.com" },
	{ "display name", "John Doe <jdoe@example.com>", 0, 1,
	  "jdoe@example.com", "example.com" },
	{ "angle only", "<jdoe@example.com>", 0, 1, "jdoe@example.com", "example.com" },
	{ "quoted name with comma", "\"Doe, John\" <jdoe@example.com>", 0, 1,
	  "jdoe@example.com", "example.com" },
	{ "comment with comma", "jdoe@example.com (Doe, John)", 0, 1,
	  "jdoe@example.com", "example.com" },
	{ "two mailboxes", "a@b.example, d@e.example", 0, 2, "a@b.example", "b.example" },
	{ "three mixed", "A <a@x.example>, \"B, b\" <b@y.example>, c@z.example", 0, 3,
	  "a@x.example", "x.example" },
	{ "rfc A.1.3 group",
	  "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;", 0, 3,
	  "c@a.test", "a.test" },
	{ "empty group", "Undisclosed recipients:;", 0, 0, "", "" },
	{ "empty group with space", "undisclosed-recipients: ;", 0, 0, "", "" },
	{ "empty group then mailbox", "undisclosed-recipients: ;, a@b.example", 0, 1,
	  "a@b.example", "b.example" },
	{ "two groups", "x:a@b.example;, y:c@d.example;", 0, 2, "a@b.example", "b.example" },
	{ "group trailing comma", "Group: a@b.example, ;", 0, 1, "a@b.example", "b.example" },
	{ "group cfws", "Group: (none) ; (end)", 0, 0, "", "" },
	{ "quoted local with @", "\"john@doe\"@example.com", 0, 1,
	  "\"john@doe\"@example.com", "example.com" },
	{ "quoted local with space", "Joe <\"joe q\"@example.com>", 0, 1,
	  "\"joe q\"@example.com", "example.com" },
	{ "empty quoted local", "\"\"@example.com", 0, 1, "\"\"@example.com", "example.com" },
	{ "quoted pair in name", "\"Joe \\\"Q\\\" Public\" <jqp@example.com>", 0, 1,
	  "jqp@example.com", "example.com" },
	{ "obs-phrase dot", "Joe Q. Public <john.q.public@example.com>", 0, 1,
	  "john.q.public@example.com", "example.com" },
	{ "obs-route", "Mary Smith <@node.test:mary@example.net>", 0, 1,
	  "mary@example.net", "example.net" },
	{ "obs-route two hops", "<@a.test,@b.test:x@c.test>", 0, 1, "x@c.test", "c.test" },
	{ "obs-route empty hops", "<,@a.test,,@b.test,:x@c.test>", 0, 1, "x@c.test", "c.test" },
	{ "rfc A.5 comments",
	  "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>", 0, 1,
	  "pete@silly.test", "silly.test" },
	{ "obs cfws in addr-spec", "John (middle) Doe <john . doe @ example . com>", 0, 1,
	  "john.doe@example.com", "example.com" },
	{ "domain literal", "a@[192.0.2.1]", 0, 1, "a@[192.0.2.1]", "[192.0.2.1]" },
	{ "obs empty elements", "a@b.example,,d@e.example", 0, 2, "a@b.example", "b.example" },
	{ "leading comma", ", a@b.example", 0, 1, "a@b.example", "b.example" },
	{ "trailing comma", "a@b.example,", 0, 1, "a@b.example", "b.example" },
	{ "utf-8 name", "J\xc3\xb6hn <j@example.com>", 0, 1, "j@example.com", "example.com" },
	{ "utf-8 address", "j\xc3\xb6@ex\xc3\xa4mple.com", 0, 1,
	  "j\xc3\xb6@ex\xc3\xa4mple.com", "ex\xc3\xa4mple.com" },
	{ "lf folded list", "A <a@b.example>,\n B <b@c.example>", 0, 2,
	  "a@b.example", "b.example" },
	{ "crlf folded list", "a@b.example,\r\n\tb@c.example\r\n", 0, 2,
	  "a@b.example", "b.example" },
	{ "fold in quoted name", "\"Doe,\n John\" <j@example.com>", 0, 1,
	  "j@example.com", "example.com" },
	{ "comment nest 32", "a@b.example " NEST32, 0, 1, "a@b.example", "b.example" },
	{ "atext local", "a!#$%&'*+-/=?^_`{|}~@b.example", 0, 1,
	  "a!#$%&'*+-/=?^_`{|}~@b.example", "b.example" },
	{ "case kept", "User@Example.COM", 0, 1, "User@Example.COM", "Example.COM" },

	{ "empty", "", 1, 0, "", "" },
	{ "blank", "   ", 1, 0, "", "" },
	{ "only commas", ", ,,", 1, 0, "", "" },
	{ "only comment", "(nobody)", 1, 0, "", "" },
	{ "local only", "user", 1, 0, "", "" },
	{ "missing domain", "user@", 1, 0, "", "" },
	{ "missing local", "@example.com", 1, 0, "", "" },
	{ "name only", "John Doe", 1, 0, "", "" },
	{ "angle missing domain", "John Doe <jdoe>", 1, 0, "", "" },
	{ "empty angle", "<>", 1, 0, "", "" },
	{ "two addr-specs no comma", "a@b.example d@e.example", 1, 0, "", "" },
	{ "addr-spec then angle", "a@b.example <d@e.example>", 1, 0, "", "" },
	{ "bad middle", "a@b.example, bogus, d@e.example", 1, 2, "a@b.example", "b.example" },
	{ "bad first", "bogus, d@e.example", 1, 1, "d@e.example", "e.example" },
	{ "bad domain double dot", "a@b..example", 1, 0, "", "" },
	{ "bad domain trailing dot", "a@b.example.", 1, 0, "", "" },
	{ "bad local double dot", "a..b@c.example", 1, 0, "", "" },
	{ "unquoted space in local", "a b@c.example", 1, 0, "", "" },
	{ "stray close angle", "a@b.example>", 1, 0, "", "" },
	{ "unclosed angle", "Name <a@b.example", 1, 0, "", "" },
	{ "unterminated quote", "\"unterminated@b.example", 1, 0, "", "" },
	{ "unterminated comment", "a@b.example (unterminated", 1, 0, "", "" },
	{ "unterminated comment later", "a@b.example, c@d.example (x", 1, 1,
	  "a@b.example", "b.example" },
	{ "unterminated literal", "a@b.example, d@[1.2", 1, 1, "a@b.example", "b.example" },
	{ "group missing semicolon", "group: a@b.example", 1, 1, "a@b.example", "b.example" },
	{ "nested group", "g1: g2: a@b.example;;", 1, 0, "", "" },
	{ "group without name", ":a@b.example;", 1, 0, "", "" },
	{ "group glued to next", "g:;a@b.example", 1, 0, "", "" },
	{ "stray semicolon", "a@b.example;", 1, 0, "", "" },
	{ "trailing garbage", "Name <a@b.example> extra", 1, 0, "", "" },
	{ "trailing garbage after ok", "a@c.example, Name <a@b.example> extra", 1, 1,
	  "a@c.example", "c.example" },
	{ "bare lf not fold", "a@b.example\nd@e.example", 1, 0, "", "" },
	{ "backslash outside quotes", "a\\b@c.example", 1, 0, "", "" },
	{ "phrase starts with dot", ". <a@b.example>", 1, 0, "", "" },
	{ "comment nest 33", "a@b.example " NEST33, 1, 0, "", "" },
	{ "control byte", "a\x7f@b.example", 1, 0, "", "" },
	{ "quoted domain", "a@\"b.example\"", 1, 0, "", "" },
	{ "route without colon", "<@a.test x@c.test>", 1, 0, "", "" },
	{ "route without addr", "<@a.test:>", 1, 0, "", "" },
};

START_TEST(test_addrlist)
{
	struct rfc5322_addrlist	al;

	memset(&al, 'X', sizeof(al));
	ck_assert_int_eq(rfc5322_addrlist_parse(addr_cases[_i].input, &al), 0);
	ck_assert_msg((al.invalid != 0) == addr_cases[_i].invalid, "%s: invalid %d",
	    addr_cases[_i].label, al.invalid);
	ck_assert_msg(al.count == addr_cases[_i].count, "%s: count %zu want %zu",
	    addr_cases[_i].label, al.count, addr_cases[_i].count);
	ck_assert_msg(strcmp(al.first, addr_cases[_i].first) == 0,
	    "%s: first \"%s\" want \"%s\"", addr_cases[_i].label, al.first,
	    addr_cases[_i].first);
	ck_assert_msg(strcmp(al.first_domain, addr_cases[_i].domain) == 0,
	    "%s: domain \"%s\" want \"%s\"", addr_cases[_i].label,
	    al.first_domain, addr_cases[_i].domain);
	ck_assert_int_eq(al.truncated, 0);
}
END_TEST

START_TEST(test_addrlist_null)
{
	struct rfc5322_addrlist al;

	ck_assert_int_eq(rfc5322_addrlist_parse(NULL, &al), 0);
	ck_assert_int_ne(al.invalid, 0);
	ck_assert_uint_eq(al.count, 0);
}
END_TEST

/* A first address longer than the struct keeps is cut, flagged, terminated. */
START_TEST(test_addrlist_truncate)
{
	char			in[1024];
	struct rfc5322_addrlist	al;
	size_t			i, n = 0;

	for (i = 0; i < 300; i++)
		in[n++] = 'l';
	in[n++] = '@';
	for (i = 0; i < 299; i++)
		in[n++] = i % 10 == 9 ? '.' : 'd';
	in[n] = '\0';
	ck_assert_int_eq(rfc5322_addrlist_parse(in, &al), 0);
	ck_assert_int_eq(al.invalid, 0);
	ck_assert_uint_eq(al.count, 1);
	ck_assert_int_ne(al.truncated, 0);
	ck_assert_uint_eq(strlen(al.first), RFC5322_ADDR_MAX);
	ck_assert_uint_eq(strlen(al.first_domain), RFC5322_DOMAIN_MAX);
	ck_assert(strncmp(al.first, in, RFC5322_ADDR_MAX) == 0);
}
END_TEST

/* Megabyte values: many mailboxes are all counted; hostile runs end cleanly. */
START_TEST(test_addrlist_large)
{
	static const char	unit[] = "x@y.example, ";
	size_t			reps = 100000, ul = sizeof(unit) - 1, i;
	struct rfc5322_addrlist	al;
	char			*in;

	in = malloc(reps * ul + 1);
	ck_assert_ptr_nonnull(in);
	for (i = 0; i < reps; i++)
		memcpy(in + i * ul, unit, ul);
	in[reps * ul] = '\0';
	ck_assert_int_eq(rfc5322_addrlist_parse(in, &al), 0);
	ck_assert_int_eq(al.invalid, 0);
	ck_assert_uint_eq(al.count, reps);
	ck_assert_str_eq(al.first, "x@y.example");

	/* one megabyte of "(": too deep at level 33, no recursion */
	memset(in, '(', reps * ul);
	ck_assert_int_eq(rfc5322_addrlist_parse(in, &al), 0);
	ck_assert_int_ne(al.invalid, 0);
	ck_assert_uint_eq(al.count, 0);

	/* "()" repeated: legal comments, no address */
	for (i = 0; i + 1 < reps * ul; i += 2) {
		in[i] = '(';
		in[i + 1] = ')';
	}
	ck_assert_int_eq(rfc5322_addrlist_parse(in, &al), 0);
	ck_assert_int_ne(al.invalid, 0);

	/* an unterminated quoted string a megabyte long */
	memset(in, 'q', reps * ul);
	in[0] = '"';
	ck_assert_int_eq(rfc5322_addrlist_parse(in, &al), 0);
	ck_assert_int_ne(al.invalid, 0);

	/* one long run of "a." words: a local part that never ends */
	for (i = 0; i + 1 < reps * ul; i += 2) {
		in[i] = 'a';
		in[i + 1] = '.';
	}
	ck_assert_int_eq(rfc5322_addrlist_parse(in, &al), 0);
	ck_assert_int_ne(al.invalid, 0);
	free(in);
}
END_TEST

/* ---------- field names ---------- */

static const struct {
	const char	*label;
	const char	*input;
	size_t		 len;
	int		 want;
} fname_cases[] = {
	{ "subject", "Subject", 7, 1 },
	{ "x header", "X-Foo_Bar!", 10, 1 },
	{ "all printable edge", "!~", 2, 1 },
	{ "prefix of longer", "Subject: hello", 7, 1 },
	{ "empty", "", 0, 0 },
	{ "space", "Sub ject", 8, 0 },
	{ "tab", "a\tb", 3, 0 },
	{ "colon", "Subject:", 8, 0 },
	{ "8-bit", "S\xc3\xbc", 3, 0 },
	{ "del", "\x7f", 1, 0 },
	{ "control", "a\x01", 2, 0 },
	{ "embedded nul", "a\0b", 3, 0 },
	{ "cr", "a\r", 2, 0 },
};

START_TEST(test_field_name)
{
	int got = rfc5322_field_name_is_valid(fname_cases[_i].input,
	    fname_cases[_i].len) != 0;

	ck_assert_msg(got == fname_cases[_i].want, "%s: got %d",
	    fname_cases[_i].label, got);
}
END_TEST

START_TEST(test_field_name_null)
{
	ck_assert_int_eq(rfc5322_field_name_is_valid(NULL, 3), 0);
}
END_TEST

/* ftext, every byte: 33..126 but ':'; a one-byte name agrees. */
START_TEST(test_ftext_bytes)
{
	int c;

	for (c = 0; c < 256; c++) {
		char name[1] = { (char)c };
		int want = c >= '!' && c <= '~' && c != ':';

		ck_assert_msg(rfc5322_char_is_ftext((unsigned char)c) == want,
		    "byte %d", c);
		ck_assert_int_eq(rfc5322_field_name_is_valid(name, 1) != 0, want);
	}
}
END_TEST

/* ---------- envelope address domain ---------- */

static const struct {
	const char	*label;
	const char	*input;
	int		 ok;
	const char	*domain;
} envdom_cases[] = {
	{ "angle", "<user@example.com>", 1, "example.com" },
	{ "bare", "user@example.com", 1, "example.com" },
	{ "spaces and case", " <user@Example.COM> ", 1, "Example.COM" },
	{ "quoted at", "<\"a@b\"@example.com>", 1, "example.com" },
	{ "quoted escaped quote", "<\"a\\\"@b\"@example.com>", 1, "example.com" },
	{ "source route", "<@relay.example:user@example.com>", 1, "example.com" },
	{ "literal", "<user@[192.0.2.1]>", 1, "[192.0.2.1]" },
	{ "ipv6 literal", "<user@[IPv6:2001:db8::1]>", 1, "[IPv6:2001:db8::1]" },
	{ "trailing crlf", "user@example.com\r\n", 1, "example.com" },
	{ "single label", "<root@localhost>", 1, "localhost" },
	{ "null sender", "<>", 0, "" },
	{ "empty", "", 0, "" },
	{ "no at", "user", 0, "" },
	{ "no at angle", "<user>", 0, "" },
	{ "empty domain", "user@", 0, "" },
	{ "empty local", "@example.com", 0, "" },
	{ "unclosed angle", "<user@example.com", 0, "" },
	{ "stray close", "user@example.com>", 0, "" },
	{ "space in domain", "user@exa mple.com", 0, "" },
	{ "double dot", "user@example..com", 0, "" },
	{ "trailing dot", "user@example.com.", 0, "" },
	{ "at only in quotes", "<\"a@b\">", 0, "" },
	{ "bad literal", "<user@[1.2.3.4>", 0, "" },
	{ "trailing text", "<user@example.com> SIZE=10", 0, "" },
	{ "control in domain", "user@exa\x01mple.com", 0, "" },
};

START_TEST(test_envdom)
{
	char	dom[64];
	int	rc;

	memset(dom, 'X', sizeof(dom));
	rc = rfc5322_addr_domain(envdom_cases[_i].input, dom, sizeof(dom));
	ck_assert_msg((rc == 0) == envdom_cases[_i].ok, "%s: rc %d",
	    envdom_cases[_i].label, rc);
	ck_assert_msg(strcmp(dom, envdom_cases[_i].domain) == 0,
	    "%s: dom \"%s\" want \"%s\"", envdom_cases[_i].label, dom,
	    envdom_cases[_i].domain);
}
END_TEST

START_TEST(test_envdom_small)
{
	char dom[12];

	/* "example.com" needs 12 bytes with the NUL: fits exactly */
	ck_assert_int_eq(rfc5322_addr_domain("<u@example.com>", dom, sizeof(dom)), 0);
	ck_assert_str_eq(dom, "example.com");
	/* one byte short: refused, never truncated */
	ck_assert_int_eq(rfc5322_addr_domain("<u@example.com>", dom, 11), -1);
	ck_assert_str_eq(dom, "");
	ck_assert_int_eq(rfc5322_addr_domain("<u@example.com>", dom, 0), -1);
	ck_assert_int_eq(rfc5322_addr_domain("<u@example.com>", NULL, 0), -1);
	ck_assert_int_eq(rfc5322_addr_domain(NULL, dom, sizeof(dom)), -1);
}
END_TEST

static Suite *
rfc5322_suite(void)
{
	Suite	*s = suite_create("rfc5322");
	TCase	*tc;

	tc = tcase_create("date");
	tcase_add_loop_test(tc, test_date, 0, (int)NELEM(date_cases));
	tcase_add_loop_test(tc, test_date_lenient, 0, (int)NELEM(lenient_cases));
	tcase_add_test(tc, test_date_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("msgid");
	tcase_add_loop_test(tc, test_msgid, 0, (int)NELEM(msgid_cases));
	tcase_add_test(tc, test_msgid_truncate);
	suite_add_tcase(s, tc);

	tc = tcase_create("fqdn");
	tcase_add_loop_test(tc, test_fqdn, 0, (int)NELEM(fqdn_cases));
	tcase_add_test(tc, test_fqdn_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("addrlist");
	tcase_add_loop_test(tc, test_addrlist, 0, (int)NELEM(addr_cases));
	tcase_add_test(tc, test_addrlist_null);
	tcase_add_test(tc, test_addrlist_truncate);
	tcase_add_test(tc, test_addrlist_large);
	suite_add_tcase(s, tc);

	tc = tcase_create("field_name");
	tcase_add_loop_test(tc, test_field_name, 0, (int)NELEM(fname_cases));
	tcase_add_test(tc, test_field_name_null);
	tcase_add_test(tc, test_ftext_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("addr_domain");
	tcase_add_loop_test(tc, test_envdom, 0, (int)NELEM(envdom_cases));
	tcase_add_test(tc, test_envdom_small);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(rfc5322_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
