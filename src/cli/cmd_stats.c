/*
 * cmd_stats.c - egressctl stats: what the running daemon counted.
 *
 * usage: egressctl [-c CONF] stats [-c CONF] [--url URL] [--raw]
 *
 * Fetches the daemon's /metrics page (metrics.listen of the config, or
 * --url) over plain HTTP and prints a summary (metrics_summary_format) or,
 * with --raw, the page as it came. The counters live in the daemon's
 * memory, so this is the only way to read them; the sender record's own
 * history is `egressctl report`.
 *
 * The client is deliberately tiny: HTTP/1.0, one GET, the whole answer read
 * until the server closes (bounded by STATS_PAGE_MAX and a receive timeout),
 * and only to a loopback address: it is a local tool, not a general HTTP
 * client, and the page is read as untrusted input all the same.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "egress/buf.h"
#include "egress/config.h"
#include "egress/metrics.h"
#include "commands.h"

#define STATS_PAGE_MAX		(16 * 1024 * 1024)
#define STATS_TIMEOUT_S		10
#define STATS_PATH_MAX		256

struct url {
	char		host[METRICS_HOST_MAX];
	int		family;
	unsigned	port;
	char		path[STATS_PATH_MAX];
};

/* "http://HOST:PORT[/PATH]" with HOST a loopback literal or localhost. */
static int
url_parse(const char *s, struct url *u, const char **why)
{
	char hostport[METRICS_HOST_MAX + 16];
	const char *slash;
	size_t n;

	*why = "is not http://ADDRESS:PORT/PATH";
	if (strncasecmp(s, "http://", 7) != 0)
		return -1;
	s += 7;
	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(hostport))
		return -1;
	memcpy(hostport, s, n);
	hostport[n] = '\0';
	if (metrics_listen_parse(hostport, u->host, &u->family, &u->port) != 0)
		return -1;
	snprintf(u->path, sizeof(u->path), "%s", slash ? slash : "/metrics");
	if (strlen(u->path) >= STATS_PATH_MAX - 1 || strpbrk(u->path, " \r\n\t"))
		return -1;
	if (!metrics_host_is_loopback(u->host, u->family)) {
		*why = "is not a loopback address (egressctl stats only talks to this host)";
		return -1;
	}
	return 0;
}

/* GET the page into body. Returns 0, or -1 after saying why on stderr. */
static int
http_get(const struct url *u, const char *shown, struct buf *body)
{
	struct sockaddr_storage ss;
	struct timeval tv = { STATS_TIMEOUT_S, 0 };
	socklen_t sl;
	struct buf resp;
	char req[STATS_PATH_MAX + 128], chunk[65536];
	const char *hdr_end, *p;
	ssize_t n;
	size_t off = 0;
	int fd, status = 0, rc = -1;

	memset(&ss, 0, sizeof(ss));
	if (u->family == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)u->port);
		(void)inet_pton(AF_INET6, u->host, &s6->sin6_addr);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)u->port);
		(void)inet_pton(AF_INET, u->host, &s4->sin_addr);
		sl = sizeof(*s4);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		fprintf(stderr, "egressctl: socket: %s\n", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		fprintf(stderr, "egressctl: cannot connect to %s: %s (is the daemon running with metrics.listen set?)\n",
		    shown, strerror(errno));
		close(fd);
		return -1;
	}
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n"
	    "Accept: text/plain\r\nConnection: close\r\n\r\n", u->path, u->host);
	for (off = 0; off < (size_t)n; ) {
		ssize_t w = write(fd, req + off, (size_t)n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "egressctl: %s: write: %s\n", shown,
			    strerror(errno));
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	buf_init(&resp, STATS_PAGE_MAX);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "egressctl: %s: read: %s\n", shown,
			    errno == EAGAIN ? "timed out" : strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (buf_append(&resp, chunk, (size_t)n) != BUF_OK) {
			fprintf(stderr, "egressctl: %s: answer over %d bytes\n", shown,
			    STATS_PAGE_MAX);
			goto out;
		}
	}
	p = buf_cstr(&resp);
	if (sscanf(p, "HTTP/1.%*1[01] %3d", &status) != 1) {
		fprintf(stderr, "egressctl: %s: not an HTTP answer\n", shown);
		goto out;
	}
	if ((hdr_end = strstr(p, "\r\n\r\n")) == NULL) {
		fprintf(stderr, "egressctl: %s: answer ends in its header\n", shown);
		goto out;
	}
	if (status != 200) {
		fprintf(stderr, "egressctl: %s: HTTP status %d\n", shown, status);
		goto out;
	}
	hdr_end += 4;
	if (buf_append(body, hdr_end, resp.len - (size_t)(hdr_end - p)) != BUF_OK) {
		fprintf(stderr, "egressctl: out of memory\n");
		goto out;
	}
	rc = 0;
out:
	buf_fini(&resp);
	close(fd);
	return rc;
}

int
cmd_stats(const struct ctl_opts *o, int argc, char **argv)
{
	struct ctl_opts opts = *o;
	const char *urltext = NULL, *why;
	char deflt[METRICS_HOST_MAX + 32];
	struct metrics_summary *sum;
	struct config *cfg;
	struct buf body, out;
	struct url u;
	int i, raw = 0, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
			urltext = argv[++i];
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			opts.config_path = argv[++i];
		else if (strcmp(argv[i], "--raw") == 0)
			raw = 1;
		else {
			fprintf(stderr, "usage: egressctl stats [-c CONF] [--url URL] [--raw]\n");
			return CTL_EXIT_USAGE;
		}
	}
	if (urltext == NULL) {
		if ((cfg = ctl_load_config(&opts, &rc)) == NULL)
			return rc;
		if (cfg->metrics.listen == NULL) {
			fprintf(stderr, "egressctl: metrics are off (metrics.listen is not set in %s); give --url\n",
			    cfg->path ? cfg->path : "the configuration");
			config_free(cfg);
			return CTL_EXIT_CONFIG;
		}
		snprintf(deflt, sizeof(deflt), "http://%s/metrics", cfg->metrics.listen);
		config_free(cfg);
		urltext = deflt;
	}
	if (url_parse(urltext, &u, &why) != 0) {
		fprintf(stderr, "egressctl: \"%s\" %s\n", urltext, why);
		return CTL_EXIT_USAGE;
	}
	buf_init(&body, STATS_PAGE_MAX);
	if (http_get(&u, urltext, &body) != 0) {
		buf_fini(&body);
		return CTL_EXIT_SOFTWARE;
	}
	if (raw) {
		fwrite(body.data ? body.data : "", 1, body.len, stdout);
		buf_fini(&body);
		return CTL_EXIT_OK;
	}
	if ((sum = metrics_summary_new()) == NULL) {
		buf_fini(&body);
		fprintf(stderr, "egressctl: out of memory\n");
		return CTL_EXIT_SOFTWARE;
	}
	metrics_summary_feed(sum, buf_cstr(&body), body.len);
	buf_fini(&body);
	if (metrics_summary_samples(sum) == 0) {
		fprintf(stderr, "egressctl: %s: no milter-egress metrics in the answer\n",
		    urltext);
		metrics_summary_free(sum);
		return CTL_EXIT_DATAERR;
	}
	buf_init(&out, 0);
	rc = metrics_summary_format(sum, &out);
	metrics_summary_free(sum);
	if (rc != BUF_OK) {
		buf_fini(&out);
		fprintf(stderr, "egressctl: out of memory\n");
		return CTL_EXIT_SOFTWARE;
	}
	fputs(buf_cstr(&out), stdout);
	buf_fini(&out);
	return CTL_EXIT_OK;
}
