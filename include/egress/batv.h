/*
 * batv - Bounce Address Tag Validation (draft-levine-smtp-batv), the
 * "prvs" scheme: outbound mail of the signing domains leaves with the
 * envelope sender
 *
 *     prvs=KDDDHHHHHH=local@domain
 *
 * K the key number (one digit), DDD the day the tag expires (days since
 * 1970-01-01, mod 1000), HHHHHH six hex digits of a keyed hash (SipHash-2-4,
 * ledger.h) of "K DDD" and the lower-cased address. A bounce can only come
 * back to such an address when the mail really left here, so a bounce to a
 * tagged address whose tag verifies and has not expired is evidence; one
 * whose tag is wrong or past its day is not.
 *
 * Pure: the caller hands in the key and the day. The hash is this
 * implementation's (the draft leaves the hash to the signer, as only the
 * signer verifies).
 *
 * The `batv` section:
 *   batv = {
 *     enabled = false;
 *     key_file = "/etc/milter-egress/batv.key";   # 32 hex digits
 *     senders = [ "example.com" ];                # domains whose mail is signed
 *     validity = "7d";                            # 1d .. 30d
 *     refuse_untagged = false;
 *   };
 */
#ifndef EGRESS_BATV_H
#define EGRESS_BATV_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "egress/cfg.h"
#include "egress/ledger.h"

#define BATV_ADDR_MAX	340	/* a tagged address, NUL included */

enum batv_result {
	BATV_UNTAGGED = 0,	/* no prvs tag */
	BATV_VALID,		/* tag verifies and has not expired */
	BATV_BAD,		/* malformed tag or wrong hash */
	BATV_EXPIRED,		/* right hash, past its day (or too far ahead) */
};

struct batv_conf {
	int		 enabled;
	char		*key_file;
	unsigned char	 key[LEDGER_KEY_LEN];	/* read at load */
	int		 keynum;		/* 0..9, the K of new tags */
	struct strlist	 senders;		/* domains, lower case */
	long long	 validity;		/* days a tag lives */
	int		 refuse_untagged;
};

const char	*batv_result_name(enum batv_result);

/*
 * Sign addr ("local@domain", no brackets) for mail sent on day `today`
 * (days since the epoch): "prvs=KDDDHHHHHH=local@domain" into out.
 * Returns 0, or -1 when addr has no '@' or out is too small.
 */
int	batv_sign(const unsigned char key[LEDGER_KEY_LEN], int keynum,
	    long long today, long long validity, const char *addr, char *out,
	    size_t outlen);

/*
 * Check a recipient: untagged, valid, bad or expired on day today. The
 * original address (the tag removed) goes to orig (orig gets addr itself
 * when untagged); orig may be NULL.
 */
enum batv_result batv_check(const unsigned char key[LEDGER_KEY_LEN],
	    long long today, long long validity, const char *addr, char *orig,
	    size_t origlen);

/* Is addr of one of the signing domains (case-insensitive)? */
int	batv_is_sender(const struct batv_conf *, const char *addr);

void	batv_conf_default(struct batv_conf *);
void	batv_conf_fini(struct batv_conf *);
/*
 * Parse the `batv` group (may be NULL) over c. When enabled, key_file must
 * name a readable file of 32 hex digits (read here: a bad one is an error
 * with file, line and key) and senders must not be empty.
 */
int	batv_config_load(struct batv_conf *c, const config_setting_t *grp,
	    struct cfg_errors *errs) __attribute__((warn_unused_result));

#endif
