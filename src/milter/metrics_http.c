/*
 * metrics_http.c - the daemon's registry of metrics and its /metrics page.
 *
 * Off unless metrics.listen is set: then shell_metrics() is NULL, every
 * metrics_* update is a no-op and the callbacks read no clock.
 *
 * Start-up in two steps, because the daemon forks to detach and a thread
 * does not survive a fork: shell_metrics_listen() binds the socket before
 * detaching (as root, before privileges are dropped, so a port in use or
 * a privileged port is reported on the terminal with a non-zero exit), and
 * shell_metrics_start() hands that socket to libmicrohttpd after the fork,
 * in the process that serves; its one thread inherits the signal mask
 * main() sets (stop and reload signals blocked).
 *
 * The server answers GET (and HEAD) /metrics with the exposition, 405 for
 * another method on /metrics, 404 for any other path. It reads no request
 * body and keeps at most METRICS_HTTP_CONNS connections with a timeout, so
 * a slow or hostile client cannot hold it. The listen address is loopback
 * unless the operator set metrics.allow_remote (config.c refuses it
 * otherwise); there is no authentication: put a proxy in front for that.
 *
 * The settings are read once: a changed metrics section takes effect at the
 * next start.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "egress/buf.h"
#include "egress/metrics.h"
#include "egress/policy.h"
#include "shell.h"

#define METRICS_HTTP_CONNS	16
#define METRICS_HTTP_TIMEOUT	10		/* seconds per connection */
#define METRICS_PAGE_MAX	(4 * 1024 * 1024)
#define METRICS_CTYPE		"text/plain; version=0.0.4; charset=utf-8"

static struct metrics	*registry;
static int		 listen_fd = -1;
static struct MHD_Daemon *mhd;
static char		 listen_text[128];
static char		 errbuf[256];

struct metrics *
shell_metrics(void)
{
	return registry;
}

uint64_t
shell_metrics_clock(void)
{
	struct timespec ts;

	if (registry == NULL)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* never 0 while on: 0 means "not measured" to shell_metrics_stage */
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + 1;
}

uint64_t
shell_metrics_since(uint64_t t0)
{
	uint64_t t1;

	if (t0 == 0 || (t1 = shell_metrics_clock()) < t0)
		return 0;
	return t1 - t0;
}

void
shell_metrics_stage(enum metrics_stage s, uint64_t t0)
{
	if (t0 != 0)
		metrics_stage(registry, s, shell_metrics_since(t0));
}

void
shell_metrics_reloaded(const struct config *c)
{
	const char *now = c->metrics.listen ? c->metrics.listen : "";

	metrics_reload(registry, 1);
	if (strcmp(now, listen_text) != 0)
		shell_log(LOG_WARNING, "metrics.listen changed to \"%s\": it takes effect at the next start (still %s)",
		    now, listen_text[0] ? listen_text : "off");
}

void
shell_metrics_store(enum metrics_store_op op, uint64_t t0, int rc)
{
	if (t0 != 0)
		metrics_store(registry, op, shell_metrics_since(t0), rc);
}

void
shell_metrics_verdict(const struct verdict *v, int monitor,
    const struct findings *f, const struct sender_facts *facts)
{
	if (registry == NULL)
		return;
	metrics_message(registry, v->action, v->would, monitor);
	metrics_findings(registry, f);
	metrics_sender_facts(registry, facts);
}

/* "metrics: WHAT LISTEN: strerror(err)" (err 0: no reason). */
static const char *
fail(const char *what, const char *listen_addr, int err)
{
	snprintf(errbuf, sizeof(errbuf), "metrics: %s %s%s%s", what, listen_addr,
	    err ? ": " : "", err ? strerror(err) : "");
	return errbuf;
}

const char *
shell_metrics_listen(const struct config *cfg)
{
	char host[METRICS_HOST_MAX];
	struct sockaddr_storage ss;
	socklen_t sl;
	unsigned port;
	int family, fd, on = 1;

	if (cfg->metrics.listen == NULL)
		return NULL;
	/* validated at load; a failure here is a programming error */
	if (metrics_listen_parse(cfg->metrics.listen, host, &family, &port) != 0)
		return fail("invalid listen address", cfg->metrics.listen, 0);
	memset(&ss, 0, sizeof(ss));
	if (family == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		(void)inet_pton(AF_INET6, host, &s6->sin6_addr);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		(void)inet_pton(AF_INET, host, &s4->sin_addr);
		sl = sizeof(*s4);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return fail("cannot create a socket for", cfg->metrics.listen, errno);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (family == 6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 16) != 0) {
		int err = errno;

		close(fd);
		return fail("cannot listen on", cfg->metrics.listen, err);
	}
	if ((registry = metrics_new()) == NULL) {
		close(fd);
		return fail("out of memory for", cfg->metrics.listen, 0);
	}
	listen_fd = fd;
	snprintf(listen_text, sizeof(listen_text), "%s", cfg->metrics.listen);
	return NULL;
}

static enum MHD_Result
answer(struct MHD_Connection *conn, unsigned status, const char *ctype,
    const char *body, size_t len, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	if ((r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	    MHD_RESPMEM_MUST_COPY)) == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (allow != NULL)
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **con_cls)
{
	static const char not_found[] = "not found: the metrics are at /metrics\n";
	static const char not_allowed[] = "method not allowed: use GET\n";
	struct buf page;
	enum MHD_Result rc;

	(void)cls;
	(void)version;
	(void)upload;
	/* Answered at the first call, with the headers; later calls of the
	 * same request (a body nobody asked for) are read and dropped. */
	if (*con_cls != NULL) {
		*upload_len = 0;
		return MHD_YES;
	}
	*con_cls = conn;
	if (strcmp(url, "/metrics") != 0)
		return answer(conn, MHD_HTTP_NOT_FOUND, "text/plain", not_found,
		    sizeof(not_found) - 1, NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
		    not_allowed, sizeof(not_allowed) - 1, "GET, HEAD");
	buf_init(&page, METRICS_PAGE_MAX);
	if (metrics_write(registry, PACKAGE_VERSION, &page) != BUF_OK) {
		buf_fini(&page);
		shell_log(LOG_ERR, "metrics: cannot write the page (out of memory)");
		return answer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
		    "out of memory\n", 14, NULL);
	}
	rc = answer(conn, MHD_HTTP_OK, METRICS_CTYPE, buf_cstr(&page), page.len,
	    NULL);
	buf_fini(&page);
	return rc;
}

const char *
shell_metrics_start(void)
{
	if (registry == NULL)
		return NULL;
	/* poll(), not select(): the daemon's descriptors (one per milter
	 * connection) may pass FD_SETSIZE */
	mhd = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD, 0, NULL, NULL,
	    handle, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_CONNS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_HTTP_TIMEOUT,
	    MHD_OPTION_END);
	if (mhd == NULL) {
		snprintf(errbuf, sizeof(errbuf),
		    "metrics: cannot start the HTTP server on %s", listen_text);
		return errbuf;
	}
	listen_fd = -1;		/* the daemon's now */
	shell_log(LOG_INFO, "metrics: serving http://%s/metrics", listen_text);
	return NULL;
}

void
shell_metrics_stop(void)
{
	if (mhd != NULL)
		MHD_stop_daemon(mhd);	/* closes the listening socket */
	mhd = NULL;
	if (listen_fd >= 0)
		close(listen_fd);
	listen_fd = -1;
	/* the registry stays: a callback still running may touch it */
}
