/*
 * The one growable byte buffer: request bodies, JSON text, mail text.  Every
 * buffer has a hard cap fixed at init; an append that would pass it fails and
 * leaves the buffer as it was, so a hostile input can never grow memory
 * without bound.  The data is always NUL-terminated for convenience; len does
 * not count the NUL.
 */
#ifndef MAILPROOF_BUF_H
#define MAILPROOF_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;	/* allocated bytes */
	size_t max;	/* hard limit on len */
};

void buf_init(struct buf *b, size_t max);
/* Returns 0, or -1 when max would be exceeded or memory ran out. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
/* Keeps the first n bytes (n <= len): what follows is dropped. */
void buf_truncate(struct buf *b, size_t n);
void buf_free(struct buf *b);
/*
 * Appends the whole file at path.  Returns 0, or -1 with a one-line reason
 * naming the file in err (cannot open, too large for the cap, read error).
 */
int buf_read_file(struct buf *b, const char *path, char *err, size_t errlen);
/* Hands the data to the caller (who frees it) and empties the buffer. */
char *buf_steal(struct buf *b);

#endif
