/*
 * ledger - what this server sent: the evidence a bounce must match before
 * it may change the sender record (DESIGN.md "Evidence").
 *
 * Pure: the entry, its text codec, the keyed recipient hash, the matching
 * rule and the `ledger` configuration section. The store keeps the entries
 * (store.h: store_ledger_*); the milter writes one per message at end of
 * message and asks for one when a bounce names a message.
 *
 * An entry: the final Message-ID (after repair: a generated or replaced one
 * is the one recorded), the queue id, the sender keys the sender record
 * uses, the time, the verdict, and a keyed 64-bit hash of each recipient
 * (SipHash-2-4 of the normalised address under the installation's 128-bit
 * secret), so the store never holds recipient addresses and nobody without
 * the key can test an address against it.
 *
 * Limits: LEDGER_MSGID_MAX bytes of Message-ID, LEDGER_QID_MAX of queue id,
 * LEDGER_RCPTS_MAX recipient hashes (more recipients set `truncated`; a
 * recipient beyond the bound does not match), LEDGER_REC_MAX bytes encoded.
 */
#ifndef EGRESS_LEDGER_H
#define EGRESS_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "egress/sender.h"

struct cfg_errors;

#define LEDGER_MSGID_MAX	250	/* bytes of a normalised Message-ID */
#define LEDGER_QID_MAX		32	/* bytes of a queue id */
#define LEDGER_RCPTS_MAX	1000	/* recipient hashes per entry */
#define LEDGER_KEY_LEN		16	/* bytes of the hash key */
/* version, time, verdict, ids, three keys, flags, 16 hex digits a recipient */
#define LEDGER_REC_MAX		(64 + LEDGER_QID_MAX + LEDGER_MSGID_MAX + \
				 3 * SENDER_KEY_MAX + 16 * LEDGER_RCPTS_MAX)
#define LEDGER_MARK_MAX		33	/* a dedup marker: 32 hex digits, NUL */

enum ledger_verdict {
	LEDGER_ACCEPTED = 0,	/* passed as it came */
	LEDGER_TAGGED,		/* passed with a findings header */
	LEDGER_REPAIRED,	/* passed after a repair (Date, Message-ID, lines) */
	LEDGER_HELD,		/* quarantined */
	LEDGER_REJECTED,	/* refused by milter-egress (its own rejection) */
	LEDGER__COUNT
};

/* How strictly a bounce must match before it counts. */
enum ledger_require {
	LEDGER_STRICT = 0,	/* only matched failures count */
	LEDGER_RELAXED,		/* ledger misses count too, and are logged */
	LEDGER_OFF,		/* the ledger is not consulted */
};

/* Why a failure did not count (LEDGER_MATCHED: it did). */
enum ledger_reason {
	LEDGER_MATCHED = 0,
	LEDGER_NO_ORIGINAL_ID,		/* neither Message-ID nor queue id */
	LEDGER_UNKNOWN_MESSAGE,		/* no entry for either id */
	LEDGER_RCPT_NOT_IN_MESSAGE,	/* entry found, recipient not among its */
	LEDGER_SENDER_MISMATCH,		/* entry of another sender */
	LEDGER_LOCAL_SUBMISSION,	/* bounce from an authenticated/local client */
	LEDGER_OWN_REJECTION,		/* the MTA returning milter-egress's refusal */
	LEDGER_DUPLICATE,		/* this failure was counted before */
	LEDGER_BATV_INVALID,		/* to a BATV-tagged address, tag wrong */
	LEDGER_BATV_EXPIRED,		/* to a BATV-tagged address, tag expired */
	LEDGER__REASONS
};

struct ledger_conf {
	int		 enabled;
	long long	 ttl;		/* seconds an entry (and a marker) is kept */
	long long	 max_entries;	/* beyond it the oldest entries go first */
	char		*key_file;	/* NULL: STATE_DIR/ledger.key */
	enum ledger_require require;
};

struct ledger_entry {
	int64_t		 when;		/* seconds */
	enum ledger_verdict verdict;
	char		 msgid[LEDGER_MSGID_MAX + 1];	/* normalised, see below */
	char		 qid[LEDGER_QID_MAX + 1];	/* "" when unknown */
	char		 env[SENDER_KEY_MAX];		/* "env:a@b" or "" */
	char		 auth[SENDER_KEY_MAX];		/* "auth:login" or "" */
	char		 dom[SENDER_KEY_MAX];		/* "dom:b" or "" */
	int		 truncated;	/* more recipients than LEDGER_RCPTS_MAX */
	size_t		 nrcpt;
	uint64_t	 rcpt[LEDGER_RCPTS_MAX];	/* keyed hashes */
};

const char	*ledger_verdict_name(enum ledger_verdict);
/* "matched", "no-original-id", "unknown-message", ... (the log words). */
const char	*ledger_reason_name(enum ledger_reason);
const char	*ledger_require_name(enum ledger_require);

/*
 * Normalise a Message-ID value for the ledger: the first "<...>" (without
 * the brackets) or else the trimmed value; no white space, no control
 * bytes, at most LEDGER_MSGID_MAX bytes. Returns 0, or -1 (out gets "")
 * when nothing usable remains. out has LEDGER_MSGID_MAX + 1 bytes.
 */
int	ledger_msgid_norm(const char *in, char *out, size_t outlen);

/* SipHash-2-4 of data under a 16-byte key. */
uint64_t ledger_siphash(const unsigned char key[LEDGER_KEY_LEN],
	    const void *data, size_t len);
/* The hash of a recipient: of its lower-cased address without <>. */
uint64_t ledger_rcpt_hash(const unsigned char key[LEDGER_KEY_LEN],
	    const char *addr);

/* Fill entry e: zeroes it, then sets ids, keys (may be NULL), time, verdict. */
void	ledger_entry_init(struct ledger_entry *e, const char *msgid_norm,
	    const char *qid, const struct sender_keys *keys, int64_t when,
	    enum ledger_verdict verdict);
/* Add a recipient's hash (beyond LEDGER_RCPTS_MAX: sets truncated). */
void	ledger_entry_add_rcpt(struct ledger_entry *e,
	    const unsigned char key[LEDGER_KEY_LEN], const char *addr);
int	ledger_entry_has_rcpt(const struct ledger_entry *e, uint64_t hash);

/*
 * Text codec (tab-separated, versioned "L1"). encode returns the length
 * written (< outlen) or -1; decode returns 0 or -1 for anything malformed,
 * never reading outside in[0..len).
 */
int	ledger_encode(const struct ledger_entry *e, char *out, size_t outlen);
int	ledger_decode(const char *in, size_t len, struct ledger_entry *e);

/*
 * Does a failure named by a bounce match entry e (found by the bounce's
 * queue id or Message-ID)? sender_env is the "env:" key of the sender the
 * bounce names (NULL or "" when it names none: then the entry's sender is
 * taken), rcpt_hash the failed recipient's hash. Checks, in order: own
 * rejection, sender, recipient. Duplicates and local submission are the
 * caller's (they need the store and the connection).
 */
enum ledger_reason ledger_match(const struct ledger_entry *e,
	    const char *sender_env, uint64_t rcpt_hash);

/* The sender keys a matched entry charges: its own, as recorded at send. */
void	ledger_entry_keys(const struct ledger_entry *, struct sender_keys *);

/*
 * The dedup marker of one failure: 32 hex digits of two keyed hashes of
 * (Message-ID or queue id, recipient, status). out has LEDGER_MARK_MAX bytes.
 */
void	ledger_mark(const unsigned char key[LEDGER_KEY_LEN], const char *msgid,
	    const char *rcpt, const char *status, char out[LEDGER_MARK_MAX]);

/*
 * Parse a key file's text: 32 hex digits (white space around is allowed).
 * Returns 0 and fills key, or -1.
 */
int	ledger_key_parse(const char *text, size_t len,
	    unsigned char key[LEDGER_KEY_LEN]);

/* ---- the `ledger` section ---- */

void	ledger_conf_default(struct ledger_conf *);
void	ledger_conf_fini(struct ledger_conf *);
/*
 * Parse the `ledger` group (may be NULL) over c, which holds the defaults.
 * Errors (FILE:LINE: key: text) go to errs; returns 0 or -1.
 */
int	ledger_config_load(struct ledger_conf *c, const config_setting_t *grp,
	    struct cfg_errors *errs) __attribute__((warn_unused_result));

#endif
