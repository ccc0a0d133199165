/*
 * vocab - reasons, their categories and what is permanent by default: the
 * table of DESIGN.md, written once. The classifier names reasons with it,
 * the sender policy checks configured rules against it, and the store files
 * counts under its categories.
 *
 * Two constant tables and linear lookups (35 reasons, 9 categories): pure,
 * no allocation, safe from any thread.
 */
#include <string.h>

#include "egress/vocab.h"

enum category {
	CAT_RECIPIENT,
	CAT_MAILBOX,
	CAT_REPUTATION,
	CAT_AUTHENTICATION,
	CAT_CONTENT,
	CAT_POLICY,
	CAT_RATE,
	CAT_TRANSIENT,
	CAT_REPORT,
	CAT__COUNT
};

static const struct {
	const char	*name;
	int		 permanent;	/* its failures are hard by default */
} categories[CAT__COUNT] = {
	[CAT_RECIPIENT] =	{ "recipient", 1 },
	[CAT_MAILBOX] =		{ "mailbox", 0 },
	[CAT_REPUTATION] =	{ "reputation", 0 },
	[CAT_AUTHENTICATION] =	{ "authentication", 0 },
	[CAT_CONTENT] =		{ "content", 0 },
	[CAT_POLICY] =		{ "policy", 0 },
	[CAT_RATE] =		{ "rate", 0 },
	[CAT_TRANSIENT] =	{ "transient", 0 },
	[CAT_REPORT] =		{ "report", 0 },
};

static const struct {
	const char	*name;
	enum category	 category;
	int		 permanent;	/* only within a permanent category */
} reasons[] = {
	{ "userunknown",	CAT_RECIPIENT, 1 },
	{ "hostunknown",	CAT_RECIPIENT, 1 },
	{ "hasmoved",		CAT_RECIPIENT, 1 },
	{ "suspend",		CAT_RECIPIENT, 0 },	/* accounts come back */
	{ "notaccept",		CAT_RECIPIENT, 1 },
	{ "mailboxfull",	CAT_MAILBOX, 0 },
	{ "exceedlimit",	CAT_MAILBOX, 0 },
	{ "blocked",		CAT_REPUTATION, 0 },
	{ "badreputation",	CAT_REPUTATION, 0 },
	{ "requireptr",		CAT_REPUTATION, 0 },
	{ "authfailure",	CAT_AUTHENTICATION, 0 },
	{ "spamdetected",	CAT_CONTENT, 0 },
	{ "virusdetected",	CAT_CONTENT, 0 },
	{ "contenterror",	CAT_CONTENT, 0 },
	{ "notcompliantrfc",	CAT_CONTENT, 0 },
	{ "mesgtoobig",		CAT_CONTENT, 0 },
	{ "filtered",		CAT_CONTENT, 0 },
	{ "policyviolation",	CAT_POLICY, 0 },
	{ "securityerror",	CAT_POLICY, 0 },
	{ "rejected",		CAT_POLICY, 0 },
	{ "norelaying",		CAT_POLICY, 0 },
	{ "speeding",		CAT_RATE, 0 },
	{ "toomanyconn",	CAT_RATE, 0 },
	{ "expired",		CAT_TRANSIENT, 0 },
	{ "networkerror",	CAT_TRANSIENT, 0 },
	{ "systemerror",	CAT_TRANSIENT, 0 },
	{ "systemfull",		CAT_TRANSIENT, 0 },
	{ "mailererror",	CAT_TRANSIENT, 0 },
	{ "syntaxerror",	CAT_TRANSIENT, 0 },
	{ "failedstarttls",	CAT_TRANSIENT, 0 },
	{ "onhold",		CAT_TRANSIENT, 0 },
	{ "undefined",		CAT_TRANSIENT, 0 },
	{ "delivered",		CAT_REPORT, 0 },
	{ "vacation",		CAT_REPORT, 0 },
	{ "feedback",		CAT_REPORT, 0 },
};

#define NREASONS	(sizeof(reasons) / sizeof(reasons[0]))

static int
reason_index(const char *name)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < NREASONS; i++)
		if (strcmp(reasons[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
category_index(const char *name)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < CAT__COUNT; i++)
		if (strcmp(categories[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *
vocab_reason_lookup(const char *name)
{
	int i = reason_index(name);

	return i < 0 ? NULL : reasons[i].name;
}

const char *
vocab_reason_category(const char *reason)
{
	int i = reason_index(reason);

	return i < 0 ? NULL : categories[reasons[i].category].name;
}

int
vocab_reason_is_permanent(const char *reason)
{
	int i = reason_index(reason);

	return i >= 0 && reasons[i].permanent &&
	    categories[reasons[i].category].permanent;
}

const char *
vocab_category_lookup(const char *name)
{
	int i = category_index(name);

	return i < 0 ? NULL : categories[i].name;
}

int
vocab_category_is_known(const char *name)
{
	return category_index(name) >= 0;
}

int
vocab_category_is_permanent(const char *category)
{
	int i = category_index(category);

	return i >= 0 && categories[i].permanent;
}

size_t
vocab_reason_count(void)
{
	return NREASONS;
}

const char *
vocab_reason_at(size_t i)
{
	return i < NREASONS ? reasons[i].name : NULL;
}
