/*
 * check_diagnose.c - the DNS client, SPF, DMARC/DKIM records, block lists
 * and the diagnosis plan, over an injected resolver (a table of answers).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "egress/authrec.h"
#include "egress/diagnose.h"
#include "egress/dns.h"
#include "egress/dnsbl.h"
#include "egress/json.h"
#include "egress/preflight.h"
#include "egress/spf.h"

#define KEY2048 "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqsOw7wc95OB4Rzmmr+tFMI+YoRekdTJN49lX4EYOuAyKgJgKYnOUqU5xyd4qarzsgsT4NzKlLUHyA3pexTOEoCe81AEWVRKNQ7Vgd7we/AMcNC1BF2QVePLKZ9S1B6MDUykn03WDUnqYU+fswwG9QnasymfdIxfeMar72jfOO8jLh3FJgfKWXgJl40tR0lza+L4kvIG9Q3GOifqEDqLKP9D06o7zSKAQpWg9XltQIJ+cFg/Onc27SxvY9G8awpb1+fqOojiPy9tNBoGO1HtEI6gTvf9A8+JtZgigAadqBfT90EWa6wqUAk6Wnzc65sJAnsjfpj8m9yk4GTBu8svnwwIDAQAB"
#define KEY512 "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBANYvBJP7iDFt0LwiAXwAZMP4ypCMk2P3Sz04yUXRET3gu8JkYA7Nns5oTqTIGar6EYajMhmGrg/JrhjCLlyR89ECAwEAAQ=="

struct fake_rr {
	const char	*name;
	enum dns_type	 type;
	enum dns_status	 status;
	const char	*rr[3];
};

/* The zone the tests ask; a name absent here is NXDOMAIN. */
static const struct fake_rr zone[] = {
	{ "example.test", DNS_T_TXT, DNS_OK, { "v=spf1 ip4:192.0.2.0/24 include:_spf.example.test -all", "google-site-verification=x" } },
	{ "_spf.example.test", DNS_T_TXT, DNS_OK, { "v=spf1 ip6:2001:db8::/32 a:mail.example.test ~all" } },
	{ "mail.example.test", DNS_T_A, DNS_OK, { "198.51.100.7" } },
	{ "mail.example.test", DNS_T_AAAA, DNS_OK, { NULL } },
	{ "mx.test", DNS_T_TXT, DNS_OK, { "v=spf1 mx -all" } },
	{ "mx.test", DNS_T_MX, DNS_OK, { "mx1.mx.test", "mx2.mx.test" } },
	{ "mx1.mx.test", DNS_T_A, DNS_OK, { "203.0.113.5" } },
	{ "mx2.mx.test", DNS_T_A, DNS_OK, { "203.0.113.6" } },
	{ "loop.test", DNS_T_TXT, DNS_OK, { "v=spf1 include:loop.test -all" } },
	{ "void.test", DNS_T_TXT, DNS_OK, { "v=spf1 a:n1.void.test a:n2.void.test a:n3.void.test -all" } },
	{ "two.test", DNS_T_TXT, DNS_OK, { "v=spf1 -all", "v=spf1 +all" } },
	{ "broken.test", DNS_T_TXT, DNS_OK, { "v=spf1 ip4:192.0.2.1/33 -all" } },
	{ "fail.test", DNS_T_TXT, DNS_SERVFAIL, { NULL } },
	{ "redir.test", DNS_T_TXT, DNS_OK, { "v=spf1 redirect=example.test" } },
	{ "macro.test", DNS_T_TXT, DNS_OK, { "v=spf1 exists:%{ir}.%{l}._spf.%{d} -all" } },
	{ "10.2.0.192.postmaster._spf.macro.test", DNS_T_A, DNS_OK, { "127.0.0.2" } },
	{ "_dmarc.example.test", DNS_T_TXT, DNS_OK, { "v=DMARC1; p=reject; adkim=s; rua=mailto:d@example.test" } },
	{ "sel._domainkey.example.test", DNS_T_TXT, DNS_OK, { "v=DKIM1; k=rsa; p=" KEY2048 } },
	{ "old._domainkey.example.test", DNS_T_TXT, DNS_OK, { "v=DKIM1; p=" } },
	{ "weak._domainkey.example.test", DNS_T_TXT, DNS_OK, { "v=DKIM1; k=rsa; p=" KEY512 } },
	{ "10.2.0.192.zen.test", DNS_T_A, DNS_OK, { "127.0.0.4" } },
	{ "10.2.0.192.zen.test", DNS_T_TXT, DNS_OK, { "listed, see https://example.invalid/10" } },
	{ "7.100.51.198.zen.test", DNS_T_A, DNS_OK, { "127.255.255.254" } },
	{ "7.100.51.198.zen.spamhaus.org", DNS_T_A, DNS_OK, { "127.255.255.254" } },
	{ "1.113.0.203.zen.test", DNS_T_A, DNS_TIMEOUT, { NULL } },
	{ "10.2.0.192.in-addr.arpa", DNS_T_PTR, DNS_OK, { "out.example.test" } },
	{ "out.example.test", DNS_T_A, DNS_OK, { "192.0.2.10" } },
	{ "7.100.51.198.in-addr.arpa", DNS_T_PTR, DNS_OK, { "dyn-7.isp.test" } },
	{ "dyn-7.isp.test", DNS_T_A, DNS_OK, { "198.51.100.99" } },
	{ "nomx.test", DNS_T_MX, DNS_OK, { NULL } },
	{ "nullmx.test", DNS_T_MX, DNS_OK, { "." } },
	{ "_dmarc.sf.test", DNS_T_TXT, DNS_SERVFAIL, { NULL } },
	{ "_dmarc.nospf.test", DNS_T_TXT, DNS_OK, { "v=DMARC1; p=quarantine" } },
	{ "nospf.test", DNS_T_TXT, DNS_SERVFAIL, { NULL } },
	{ NULL, 0, 0, { NULL } },
};

static unsigned fake_calls;

static int
fake_query(void *arg, const char *name, enum dns_type type, struct dns_answer *out)
{
	const struct fake_rr *z;
	int name_exists = 0;

	(void)arg;
	fake_calls++;
	out->nrr = 0;
	out->status = DNS_OK;
	for (z = zone; z->name; z++) {
		if (strcasecmp(z->name, name) != 0)
			continue;
		name_exists = 1;
		if (z->type != type)
			continue;
		out->status = z->status;
		for (size_t i = 0; i < 3 && z->rr[i]; i++) {
			snprintf(out->rr[i].data, sizeof(out->rr[i].data), "%s", z->rr[i]);
			out->rr[i].pref = (uint16_t)(10 * (i + 1));
			out->nrr++;
		}
		return 0;
	}
	if (!name_exists)
		out->status = DNS_NXDOMAIN;
	return 0;
}

static void
client(struct dns_client *c)
{
	dns_client_init(c, fake_query, NULL, 0);
}

/* ---- dns ---- */

START_TEST(t_reverse_names)
{
	char out[DNS_NAME_MAX + 1];

	ck_assert_int_eq(dns_reverse_name("192.0.2.10", "zen.test", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "10.2.0.192.zen.test");
	ck_assert_int_eq(dns_reverse_name("2001:db8::1", "ip6.arpa", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	ck_assert_int_eq(dns_reverse_name("not-an-ip", "zen.test", out, sizeof(out)), -1);
	ck_assert_int_eq(dns_reverse_name("192.0.2.10", "zen.test", out, 8), -1);
}
END_TEST

START_TEST(t_budget)
{
	struct dns_client c;
	struct dns_answer *a = malloc(sizeof(*a));

	dns_client_init(&c, fake_query, NULL, 2);
	ck_assert_int_eq(dns_ask(&c, "example.test", DNS_T_TXT, a), DNS_OK);
	ck_assert_int_eq(dns_ask(&c, "example.test", DNS_T_TXT, a), DNS_OK);
	ck_assert_int_eq(dns_ask(&c, "example.test", DNS_T_TXT, a), DNS_BUDGET);
	ck_assert_uint_eq(c.asked, 2);
	/* a name no resolver would take is not asked */
	ck_assert_int_eq(dns_ask(&c, "a..b", DNS_T_A, a), DNS_NXDOMAIN);
	ck_assert(dns_status_is_failure(DNS_TIMEOUT));
	ck_assert(!dns_status_is_failure(DNS_NXDOMAIN));
	free(a);
}
END_TEST

/* ---- spf ---- */

static const struct {
	const char	*label, *txt;
	int		 ok;
} spf_parse_cases[] = {
	{ "plain", "v=spf1 ip4:192.0.2.0/24 mx a:x.test/24//64 -all", 1 },
	{ "modifiers", "v=spf1 redirect=_spf.test exp=explain.test foo=bar", 1 },
	{ "upper case", "V=SPF1 IP4:192.0.2.1 -ALL", 1 },
	{ "unknown mechanism", "v=spf1 foo -all", 0 },
	{ "bad prefix", "v=spf1 ip4:192.0.2.0/33", 0 },
	{ "bad ip6", "v=spf1 ip6:2001:db8::zz", 0 },
	{ "two redirects", "v=spf1 redirect=a.test redirect=b.test", 0 },
	{ "include without domain", "v=spf1 include -all", 0 },
	{ "all with argument", "v=spf1 all:x", 0 },
	{ "not spf", "v=spf10 -all", 0 },
};

START_TEST(t_spf_parse)
{
	struct spf_record *rec = malloc(sizeof(*rec));
	int r = spf_record_parse(spf_parse_cases[_i].txt, rec);

	ck_assert_msg((r == 0) == spf_parse_cases[_i].ok, "%s: %s",
	    spf_parse_cases[_i].label, rec->error);
	free(rec);
}
END_TEST

static const struct {
	const char	*label, *ip, *domain;
	enum spf_result	 want;
} spf_eval_cases[] = {
	{ "ip4 network", "192.0.2.10", "example.test", SPF_PASS },
	{ "include ip6", "2001:db8::25", "example.test", SPF_PASS },
	{ "include a", "198.51.100.7", "example.test", SPF_PASS },
	{ "not covered", "203.0.113.1", "example.test", SPF_FAIL },
	{ "mx", "203.0.113.6", "mx.test", SPF_PASS },
	{ "mx miss", "203.0.113.7", "mx.test", SPF_FAIL },
	{ "include loop: lookup limit", "192.0.2.1", "loop.test", SPF_PERMERROR },
	{ "void lookups", "192.0.2.1", "void.test", SPF_PERMERROR },
	{ "two records", "192.0.2.1", "two.test", SPF_PERMERROR },
	{ "syntax", "192.0.2.1", "broken.test", SPF_PERMERROR },
	{ "servfail", "192.0.2.1", "fail.test", SPF_TEMPERROR },
	{ "no record", "192.0.2.1", "nothing.test", SPF_NONE },
	{ "redirect", "192.0.2.77", "redir.test", SPF_PASS },
	{ "macro exists", "192.0.2.10", "macro.test", SPF_PASS },
	{ "macro exists miss", "192.0.2.11", "macro.test", SPF_FAIL },
	{ "v4-mapped", "::ffff:192.0.2.10", "example.test", SPF_PASS },
	{ "not an ip", "300.1.1.1", "example.test", SPF_PERMERROR },
};

START_TEST(t_spf_eval)
{
	struct dns_client c;
	struct spf_eval ev;
	enum spf_result r;

	client(&c);
	r = spf_check_host(&c, spf_eval_cases[_i].ip, spf_eval_cases[_i].domain,
	    NULL, NULL, &ev);
	ck_assert_msg(r == spf_eval_cases[_i].want, "%s: got %s (%s), want %s",
	    spf_eval_cases[_i].label, spf_result_name(r), ev.why,
	    spf_result_name(spf_eval_cases[_i].want));
	ck_assert_uint_le(ev.dns_terms, SPF_DNS_LIMIT + 1);
}
END_TEST

/* ---- dmarc / dkim ---- */

START_TEST(t_dmarc_parse)
{
	struct dmarc_record r;

	ck_assert_int_eq(dmarc_record_parse("v=DMARC1; p=reject; sp=none; adkim=s; pct=50", &r), 0);
	ck_assert_int_eq(r.p, DMARC_P_REJECT);
	ck_assert_int_eq(r.sp, DMARC_P_NONE);
	ck_assert_int_eq(r.adkim, 's');
	ck_assert_int_eq(r.aspf, 'r');
	ck_assert_int_eq(r.pct, 50);
	ck_assert_int_eq(dmarc_record_parse("v = DMARC1 ;p = quarantine;", &r), 0);
	ck_assert_int_eq(r.p, DMARC_P_QUARANTINE);
	ck_assert_int_eq(dmarc_record_parse("v=DMARC1; rua=mailto:x@y", &r), -1);
	ck_assert_int_eq(dmarc_record_parse("p=reject; v=DMARC1", &r), -1);
	ck_assert_int_eq(dmarc_record_parse("v=DMARC1; p=reject; p=none", &r), -1);
	ck_assert_int_eq(dmarc_record_parse("v=DMARC1; p=maybe", &r), -1);
	ck_assert_int_eq(dmarc_record_parse("v=DMARC1; p=none; adkim=x", &r), -1);
	ck_assert_int_eq(dmarc_record_parse("v=DMARC1; p=none; pct=101", &r), -1);
	ck_assert(dmarc_is_record("v=DMARC1; p=none"));
	ck_assert(!dmarc_is_record("v=spf1 -all"));
}
END_TEST

START_TEST(t_dkim_key)
{
	struct dkim_key k;
	struct dkim_sig s;

	ck_assert_int_eq(dkim_key_parse("v=DKIM1; k=rsa; p=" KEY2048, &k), 0);
	ck_assert_uint_eq(k.bits, 2048);
	ck_assert_int_eq(dkim_key_parse("k=rsa; t=y; p=" KEY512, &k), 0);
	ck_assert_uint_eq(k.bits, 512);
	ck_assert(k.testing);
	ck_assert_int_eq(dkim_key_parse("v=DKIM1; p=", &k), 0);
	ck_assert(k.revoked);
	ck_assert_int_eq(dkim_key_parse("v=DKIM1; k=rsa; p=bm90IGEga2V5", &k), -1);
	ck_assert_int_eq(dkim_key_parse("v=DKIM1; k=rsa; p=!!!", &k), -1);
	ck_assert_int_eq(dkim_key_parse("v=DKIM2; p=abc", &k), -1);
	ck_assert_int_eq(dkim_key_parse("k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", &k), 0);
	ck_assert_uint_eq(k.bits, 256);
	ck_assert_int_eq(dkim_sig_parse("v=1; a=rsa-sha256; d=example.test;\r\n\ts=sel; h=from:to; bh=x; b=y", &s), 0);
	ck_assert_str_eq(s.d, "example.test");
	ck_assert_str_eq(s.s, "sel");
	ck_assert_int_eq(dkim_sig_parse("v=1; a=rsa-sha256; b=y", &s), -1);
}
END_TEST

/* ---- block lists ---- */

START_TEST(t_dnsbl)
{
	struct dns_client c;
	struct dnsbl_result r;

	client(&c);
	ck_assert_int_eq(dnsbl_check(&c, "192.0.2.10", "zen.test", 0, &r), DNSBL_LISTED);
	ck_assert_str_eq(r.code, "127.0.0.4");
	ck_assert_ptr_nonnull(strstr(r.txt, "listed"));
	ck_assert_int_eq(dnsbl_check(&c, "192.0.2.11", "zen.test", 0, &r), DNSBL_CLEAN);
	/* a refusal code is never a listing, on any list */
	ck_assert_int_eq(dnsbl_check(&c, "198.51.100.7", "zen.test", 0, &r), DNSBL_UNCHECKED);
	ck_assert_int_eq(dnsbl_check(&c, "198.51.100.7", "zen.spamhaus.org", 0, &r), DNSBL_UNCHECKED);
	ck_assert_ptr_nonnull(strstr(r.meaning, "public or open resolver"));
	ck_assert_int_eq(dnsbl_check(&c, "203.0.113.1", "zen.test", 0, &r), DNSBL_UNCHECKED);
	ck_assert_int_eq(dnsbl_check(&c, "nonsense", "zen.test", 0, &r), DNSBL_UNCHECKED);
}
END_TEST

START_TEST(t_find_ip)
{
	char ip[64];

	ck_assert(diag_find_ip("550 5.7.1 Service unavailable; Client host [192.0.2.10] blocked", ip, sizeof(ip)));
	ck_assert_str_eq(ip, "192.0.2.10");
	ck_assert(diag_find_ip("see https://check.spamhaus.org/query/ip/198.51.100.7.", ip, sizeof(ip)));
	ck_assert_str_eq(ip, "198.51.100.7");
	ck_assert(diag_find_ip("rejected 2001:DB8::25 listed", ip, sizeof(ip)));
	ck_assert_str_eq(ip, "2001:db8::25");
	ck_assert(!diag_find_ip("550 5.1.1 user unknown at 10:42:11", ip, sizeof(ip)));
	ck_assert(!diag_find_ip("version 1.2.3.4.5 failed", ip, sizeof(ip)));
	ck_assert(!diag_find_ip(NULL, ip, sizeof(ip)));
}
END_TEST

/* ---- the plan ---- */

static const char *const egress[] = { "192.0.2.10" };
static const char *const lists[] = { "zen.test" };

static const struct diag_check *
find_check(const struct diag_result *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->checks[i].name, name) == 0)
			return &r->checks[i];
	return NULL;
}

START_TEST(t_plan_reputation)
{
	struct diag_conf cf = { egress, 1, "out.example.test", lists, 1, NULL, 0, NULL };
	struct diag_subject s = { "reputation", "blocked", "192.0.2.10", "example.test",
	    "example.test", "gmail.test", NULL, 0, 0 };
	struct diag_result *r = malloc(sizeof(*r));
	struct dns_client c;
	const struct diag_check *k;

	client(&c);
	diagnose_run(&c, &cf, &s, r);
	ck_assert_str_eq(r->bucket, "reputation");
	ck_assert_ptr_nonnull(k = find_check(r, "dnsbl"));
	ck_assert_int_eq(k->verdict, DIAG_FAIL);
	ck_assert_ptr_nonnull(strstr(r->fix, "192.0.2.10 is listed on zen.test"));
	ck_assert_ptr_nonnull(k = find_check(r, "rdns"));
	ck_assert_int_eq(k->verdict, DIAG_OK);
	ck_assert_ptr_nonnull(k = find_check(r, "helo"));
	ck_assert_int_eq(k->verdict, DIAG_OK);
	ck_assert_ptr_null(find_check(r, "spf"));	/* not this bucket */
	free(r);
}
END_TEST

START_TEST(t_plan_dmarc)
{
	static const char *const out_ip[] = { "203.0.113.9" };
	struct diag_conf cf = { out_ip, 1, NULL, lists, 1, NULL, 0, NULL };
	struct diag_subject s = { "authentication", "authfailure", NULL, "example.test",
	    "example.test", "gmail.test", NULL, 0, 1 };
	struct diag_result *r = malloc(sizeof(*r));
	struct dns_client c;
	const struct diag_check *k;

	client(&c);
	diagnose_run(&c, &cf, &s, r);
	ck_assert_ptr_nonnull(k = find_check(r, "spf"));
	ck_assert_int_eq(k->verdict, DIAG_FAIL);
	ck_assert_ptr_nonnull(k = find_check(r, "dmarc"));
	ck_assert_int_eq(k->verdict, DIAG_FAIL);
	ck_assert_ptr_nonnull(strstr(r->fix, "p=reject"));
	ck_assert_ptr_nonnull(strstr(r->fix, "no DKIM signature"));
	ck_assert_ptr_nonnull(strstr(r->fix, "add the IP to SPF or sign with DKIM"));
	free(r);
}
END_TEST

START_TEST(t_plan_dkim_aligned)
{
	static const char *const out_ip[] = { "203.0.113.9" };
	struct dkim_sig sig[2];
	struct diag_conf cf = { out_ip, 1, NULL, lists, 1, NULL, 0, NULL };
	struct diag_subject s = { "authentication", "authfailure", NULL, "example.test",
	    "example.test", NULL, sig, 2, 1 };
	struct diag_result *r = malloc(sizeof(*r));
	struct dns_client c;

	memset(sig, 0, sizeof(sig));
	strcpy(sig[0].d, "example.test");
	strcpy(sig[0].s, "old");
	strcpy(sig[1].d, "example.test");
	strcpy(sig[1].s, "sel");
	client(&c);
	diagnose_run(&c, &cf, &s, r);
	ck_assert_int_eq(find_check(r, "dmarc")->verdict, DIAG_OK);
	/* the revoked selector is still a failure with its own fix */
	ck_assert_ptr_nonnull(strstr(r->fix, "revoked selector old"));
	free(r);
}
END_TEST

START_TEST(t_plan_unchecked)
{
	static const char *const ip[] = { "203.0.113.1" };
	struct diag_conf cf = { ip, 1, NULL, lists, 1, NULL, 0, NULL };
	struct diag_subject s = { "reputation", "blocked", NULL, NULL, NULL, NULL, NULL, 0, 0 };
	struct diag_result *r = malloc(sizeof(*r));
	struct dns_client c;

	client(&c);
	diagnose_run(&c, &cf, &s, r);
	/* a timeout is "could not check", never clean */
	ck_assert_int_eq(find_check(r, "dnsbl")->verdict, DIAG_UNCHECKED);
	ck_assert_ptr_nonnull(strstr(find_check(r, "dnsbl")->answer, "NOT CHECKED"));
	free(r);
}
END_TEST

START_TEST(t_plan_mx)
{
	static const struct { const char *dom; enum diag_verdict want; } cases[] = {
		{ "mx.test", DIAG_OK }, { "nowhere.test", DIAG_FAIL },
		{ "nullmx.test", DIAG_FAIL }, { "nomx.test", DIAG_FAIL },
	};
	struct diag_conf cf = { NULL, 0, NULL, NULL, 0, NULL, 0, NULL };
	struct diag_result *r = malloc(sizeof(*r));
	struct dns_client c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diag_subject s = { "recipient", "hostunknown", NULL, NULL, NULL,
		    cases[i].dom, NULL, 0, 0 };

		client(&c);
		diagnose_run(&c, &cf, &s, r);
		ck_assert_msg(find_check(r, "mx") && find_check(r, "mx")->verdict == cases[i].want,
		    "%s", cases[i].dom);
	}
	free(r);
}
END_TEST

START_TEST(t_format)
{
	struct diag_result *r = calloc(1, sizeof(*r));
	struct diag_check *k;
	struct buf b;
	struct json w;

	snprintf(r->bucket, sizeof(r->bucket), "all");
	k = diag_add(r, "dnsbl", DIAG_FAIL);
	snprintf(k->asked, sizeof(k->asked), "x");
	snprintf(k->answer, sizeof(k->answer), "evil\x1b[31m\n\"txt\"");
	snprintf(r->fix, sizeof(r->fix), "do it");
	buf_init(&b, 0);
	ck_assert_int_eq(diag_format_text(&b, r), 0);
	ck_assert_ptr_null(strchr(buf_cstr(&b), '\x1b'));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "fix: do it\n"));
	buf_reset(&b);
	json_init(&w, &b);
	json_obj_begin(&w);
	diag_format_json_members(&w, r);
	json_obj_end(&w);
	ck_assert_int_eq(json_finish(&w), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "\\\"txt\\\""));
	ck_assert_ptr_null(strchr(buf_cstr(&b), '\x1b'));
	buf_fini(&b);
	free(r);
}
END_TEST

START_TEST(t_preflight)
{
	static const char *const bad_ip[] = { "203.0.113.9" };
	static const char *const good_ip[] = { "192.0.2.10" };
	static const struct {
		const char *const *ips;
		const char *from, *mailfrom;
		enum preflight_verdict want;
	} cases[] = {
		{ bad_ip, "example.test", NULL, PREFLIGHT_WILL_FAIL },
		{ good_ip, "example.test", NULL, PREFLIGHT_PASS },
		/* SPF passes for another domain: not aligned */
		{ good_ip, "example.test", "mx.test", PREFLIGHT_WILL_FAIL },
		{ bad_ip, "nothing.test", NULL, PREFLIGHT_PASS },	/* no DMARC */
		{ bad_ip, "sf.test", NULL, PREFLIGHT_UNKNOWN },		/* SERVFAIL */
		{ bad_ip, "nospf.test", NULL, PREFLIGHT_UNKNOWN },	/* SPF unanswered */
	};
	struct preflight_result r;
	struct dns_client c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diag_conf cf = { cases[i].ips, 1, NULL, NULL, 0, NULL, 0, NULL };

		client(&c);
		preflight_evaluate(&c, &cf, cases[i].from, cases[i].mailfrom, &r);
		ck_assert_msg(r.v == cases[i].want, "%s/%s from %s: got %s (%s)",
		    cases[i].from, cases[i].mailfrom ? cases[i].mailfrom : "-",
		    cases[i].ips[0], preflight_verdict_name(r.v), r.why);
	}
	client(&c);
	{
		struct diag_conf cf = { bad_ip, 1, NULL, NULL, 0, NULL, 0, NULL };

		preflight_evaluate(&c, &cf, "example.test", NULL, &r);
		ck_assert_ptr_nonnull(strstr(r.why, "p=reject"));
	}
}
END_TEST

START_TEST(t_preflight_signed)
{
	struct diagnose_conf dc;

	ck_assert_int_eq(diagnose_conf_default(&dc), 0);
	ck_assert(preflight_signed(&dc, NULL, "example.test", "example.test"));
	ck_assert(!preflight_signed(&dc, NULL, "example.test", "other.test"));
	ck_assert(!preflight_signed(&dc, NULL, "example.test", NULL));
	ck_assert(!preflight_signed(&dc, NULL, "", "example.test"));
	dc.dkim_signed_domains.v = calloc(2, sizeof(char *));
	dc.dkim_signed_domains.v[0] = strdup("example.test");
	dc.dkim_signed_domains.n = 1;
	ck_assert(preflight_signed(&dc, NULL, "news.example.test", NULL));
	ck_assert(!preflight_signed(&dc, NULL, "badexample.test", NULL));
	diagnose_conf_fini(&dc);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("diagnose");
	TCase *tc = tcase_create("all");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, t_reverse_names);
	tcase_add_test(tc, t_budget);
	tcase_add_loop_test(tc, t_spf_parse, 0, sizeof(spf_parse_cases) / sizeof(spf_parse_cases[0]));
	tcase_add_loop_test(tc, t_spf_eval, 0, sizeof(spf_eval_cases) / sizeof(spf_eval_cases[0]));
	tcase_add_test(tc, t_dmarc_parse);
	tcase_add_test(tc, t_dkim_key);
	tcase_add_test(tc, t_dnsbl);
	tcase_add_test(tc, t_find_ip);
	tcase_add_test(tc, t_plan_reputation);
	tcase_add_test(tc, t_plan_dmarc);
	tcase_add_test(tc, t_plan_dkim_aligned);
	tcase_add_test(tc, t_plan_unchecked);
	tcase_add_test(tc, t_plan_mx);
	tcase_add_test(tc, t_format);
	tcase_add_test(tc, t_preflight);
	tcase_add_test(tc, t_preflight_signed);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
