/*
 * spool.c - a private copy of one message body, for the long-line repair.
 *
 * The repair needs the body twice (plan, rewrite) after it has gone past,
 * so the shell keeps a copy while a repair is possible: in memory up to
 * SPOOL_MEM_MAX bytes, then in a file created with mkstemp() in the spool
 * directory and unlinked at once (no name on disk, mode 0600, gone when
 * closed). The copy is bounded by the byte limit given (limits.message_size);
 * past it spool_write() fails with EFBIG and the copy is unusable.
 *
 * Threading: one spool per message, one thread at a time. Nothing is
 * fsync'ed: the copy lives only for the message.
 */
#include <sys/types.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shell.h"

struct spool {
	char		*mem;
	size_t		 len;		/* bytes in mem */
	int		 fd;		/* -1 while in memory */
	long long	 total;
	long long	 max;		/* 0: no limit */
	char		*dir;
	int		 broken;
	/* reading back */
	size_t		 rpos;
	int		 reading;
};

struct spool *
spool_new(const char *dir, long long max)
{
	struct spool *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->fd = -1;
	s->max = max;
	if ((s->dir = strdup(dir != NULL && dir[0] ? dir : "/tmp")) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
spool_free(struct spool *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->mem);
	free(s->dir);
	free(s);
}

/* Move the bytes held in memory to an unlinked file. */
static int
spool_to_file(struct spool *s)
{
	char path[4096];
	size_t off = 0;

	if (snprintf(path, sizeof(path), "%s/milter-egress.XXXXXX", s->dir) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((s->fd = mkstemp(path)) < 0)
		return -1;
	(void)unlink(path);
	while (off < s->len) {
		ssize_t w = write(s->fd, s->mem + off, s->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	free(s->mem);
	s->mem = NULL;
	s->len = 0;
	return 0;
}

int
spool_write(struct spool *s, const void *p, size_t n)
{
	const char *c = p;

	if (s->broken)
		return -1;
	if (s->max > 0 && s->total + (long long)n > s->max) {
		s->broken = 1;
		errno = EFBIG;
		return -1;
	}
	s->total += (long long)n;
	if (s->fd < 0 && s->len + n <= SPOOL_MEM_MAX) {
		char *m;

		if ((m = realloc(s->mem, s->len + n + 1)) == NULL) {
			s->broken = 1;
			return -1;
		}
		s->mem = m;
		memcpy(s->mem + s->len, c, n);
		s->len += n;
		return 0;
	}
	if (s->fd < 0 && spool_to_file(s) != 0) {
		s->broken = 1;
		return -1;
	}
	while (n > 0) {
		ssize_t w = write(s->fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->broken = 1;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
spool_is_usable(const struct spool *s)
{
	return s != NULL && !s->broken;
}

int
spool_rewind(struct spool *s)
{
	if (s->broken)
		return -1;
	s->rpos = 0;
	s->reading = 1;
	if (s->fd >= 0 && lseek(s->fd, 0, SEEK_SET) != 0) {
		s->broken = 1;
		return -1;
	}
	return 0;
}

ssize_t
spool_read(struct spool *s, void *p, size_t n)
{
	ssize_t r;

	if (s->broken || !s->reading)
		return -1;
	if (s->fd < 0) {
		size_t k = s->len - s->rpos < n ? s->len - s->rpos : n;

		memcpy(p, s->mem + s->rpos, k);
		s->rpos += k;
		return (ssize_t)k;
	}
	do
		r = read(s->fd, p, n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		s->broken = 1;
	return r;
}
