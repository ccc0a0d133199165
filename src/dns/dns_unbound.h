/*
 * dns_unbound - the resolver behind egressctl diagnose: libunbound,
 * recursing itself (block lists refuse public resolvers), or asking
 * configured stub servers per zone (`diagnose.stubs`, for tests and for
 * sites with their own DNS).
 */
#ifndef EGRESS_DNS_UNBOUND_H
#define EGRESS_DNS_UNBOUND_H

#include "egress/diagconf.h"
#include "egress/dns.h"

#include <stddef.h>

struct dns_unbound;

/* Returns NULL with the reason in err. */
struct dns_unbound	*dns_unbound_new(const struct diagnose_conf *, char *err,
			    size_t errlen);
void			 dns_unbound_free(struct dns_unbound *);
/* The dns_query_fn; arg is the struct dns_unbound. */
int			 dns_unbound_query(void *arg, const char *name,
			    enum dns_type type, struct dns_answer *out);

#endif
