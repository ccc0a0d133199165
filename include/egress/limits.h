/*
 * limits - the `limits` section: every bound on untrusted input in one place.
 *
 * Plain data, filled by config.c (defaults documented in
 * milter-egress.conf(5)) and read by every module that enforces one of them.
 */
#ifndef EGRESS_LIMITS_H
#define EGRESS_LIMITS_H

struct limits {
	long long	message_size;		/* bytes; 0 = unlimited */
	long long	recipients;
	long long	header_bytes;		/* whole header section */
	long long	header_count;
	long long	line_length;		/* octets without CRLF (998) */
	long long	mime_depth;
	long long	mime_parts;
	long long	boundary_length;
	long long	part_header_bytes;
	long long	decoded_bytes;		/* inspected per part */
	long long	urls;
	long long	findings;
	long long	pcre2_match_limit;
	long long	pcre2_depth_limit;
	long long	pcre2_heap_limit;	/* KiB */
};

#endif
