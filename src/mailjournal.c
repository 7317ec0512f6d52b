/* See mailjournal.h. */
#include "mailjournal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "util.h"

void mailjournal_key(const char *id, const char *secret_hash, int mails,
		     char out[MAILJOURNAL_KEY_MAX])
{
	const char *hex = strncmp(secret_hash, "\\x", 2) == 0 ? secret_hash + 2 : secret_hash;

	snprintf(out, MAILJOURNAL_KEY_MAX, "%s:%.8s:%d", id, hex, mails);
}

void mailjournal_append(const struct config *cfg, const char *key, const struct smtp_result *res)
{
	char line[64 + MAILJOURNAL_KEY_MAX + SMTP_REPLY_MAX];
	int fd, n;

	if (cfg->mail_journal[0] == '\0')
		return;
	n = snprintf(line, sizeof line, "%lld %s %s %d %s\n", (long long)time(NULL), key,
		     res->ok ? "sent" : "failed", res->code, res->reply);
	if (n < 0 || (size_t)n >= sizeof line)
		return;	/* the reply is bounded by SMTP_REPLY_MAX: cannot happen */
	fd = open(cfg->mail_journal, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0 || write(fd, line, (size_t)n) != n)
		log_warn("mail_journal %s: the outcome of %s is not kept", cfg->mail_journal, key);
	if (fd >= 0)
		close(fd);
}

/* Reads path for key's lines; the last one found wins. */
static int find_in(const char *path, const char *key, struct smtp_result *res)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, *p, *end;
	size_t cap = 0, klen = strlen(key);
	int found = 0;

	if (f == NULL) {
		if (errno != ENOENT)
			log_warn("mail_journal %s", path);
		return 0;
	}
	while (getline(&line, &cap, f) > 0) {
		struct smtp_result got = { 0 };
		const char *errstr;
		/* UNIXTIME KEY OUTCOME CODE REPLY */
		if ((p = strchr(line, ' ')) == NULL || strncmp(p + 1, key, klen) != 0 ||
		    p[1 + klen] != ' ')
			continue;
		p += 2 + klen;
		if (strncmp(p, "sent ", 5) != 0 && strncmp(p, "failed ", 7) != 0)
			continue;
		got.ok = p[0] == 's';
		p = strchr(p, ' ') + 1;
		if ((end = strchr(p, ' ')) == NULL)
			continue;
		*end = '\0';
		got.code = (int)util_parse_int(p, 0, 999, &errstr);
		if (errstr)
			continue;
		snprintf(got.reply, sizeof got.reply, "%.*s", (int)strcspn(end + 1, "\n"), end + 1);
		*res = got;
		found = 1;
	}
	free(line);
	fclose(f);
	return found;
}

int mailjournal_find(const struct config *cfg, const char *key, struct smtp_result *res)
{
	char old[4096];
	int found;

	if (cfg->mail_journal[0] == '\0')
		return 0;
	memset(res, 0, sizeof *res);
	snprintf(old, sizeof old, "%s.1", cfg->mail_journal);
	found = find_in(old, key, res);
	return find_in(cfg->mail_journal, key, res) || found;
}

void mailjournal_rotate(const struct config *cfg)
{
	char old[4096];
	struct stat st, now;
	int fd;

	if (cfg->mail_journal[0] == '\0' || stat(cfg->mail_journal, &st) < 0 ||
	    st.st_size <= MAILJOURNAL_ROTATE_BYTES)
		return;
	/*
	 * Notifiers on one host must not both rotate: the second would move a
	 * new, small journal over the lines the first just moved.  Whoever
	 * holds the lock rotates the journal it locked, if it is still there.
	 */
	if ((fd = open(cfg->mail_journal, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &now) == 0 &&
	    stat(cfg->mail_journal, &st) == 0 && st.st_ino == now.st_ino &&
	    st.st_size > MAILJOURNAL_ROTATE_BYTES) {
		snprintf(old, sizeof old, "%s.1", cfg->mail_journal);
		if (rename(cfg->mail_journal, old) < 0)
			log_warn("mail_journal: could not move %s to %s", cfg->mail_journal, old);
		else
			log_info("mail_journal: %s moved to %s, a new one begins", cfg->mail_journal,
				 old);
	}
	close(fd);
}
