/*
 * version.c - library versions for -V / --version.
 */
#include <stdio.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <libconfig.h>
#include <pcre2.h>

#include "egress/version.h"

void
version_core_libs(char *out, size_t outsz)
{
	char pcre[64] = "?";

	if (pcre2_config(PCRE2_CONFIG_VERSION, pcre) < 0)
		snprintf(pcre, sizeof(pcre), "?");
	snprintf(out, outsz, "PCRE2 %s\nlibconfig %d.%d.%d (headers)\n", pcre,
	    LIBCONFIG_VER_MAJOR, LIBCONFIG_VER_MINOR, LIBCONFIG_VER_REVISION);
}
