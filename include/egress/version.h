/*
 * version - the versions of the libraries the core was built with and
 * runs with, for `-V` / `--version` of the daemon and egressctl.
 */
#ifndef EGRESS_VERSION_H
#define EGRESS_VERSION_H

#include <stddef.h>

/*
 * One line per library, "NAME VERSION\n": PCRE2 (the running library)
 * and libconfig (its headers: libconfig 1.5 has no run-time query).
 * Truncated to outsz.
 */
void	version_core_libs(char *out, size_t outsz);

#endif
