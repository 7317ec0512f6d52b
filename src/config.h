/*
 * Configuration shared by mailproof-fcgi, mailproof-notifier and mailproofctl.
 * One declarative table (config.c) names every key with its type, default
 * and bounds.  A file of "key = value" lines is read first, then every key
 * may be overridden by the environment variable MAILPROOF_<KEY>.  Unknown
 * keys and bad values are errors that name the file, line (or variable) and
 * key, so a reload can validate a new file before anything is swapped.
 */
#ifndef MAILPROOF_CONFIG_H
#define MAILPROOF_CONFIG_H

#include <stddef.h>

#define CONFIG_KEY_BYTES 32

enum starttls_mode { STARTTLS_NO, STARTTLS_TRY, STARTTLS_REQUIRED };
enum resend_policy { RESEND_NEW_CODE, RESEND_SAME_CODE };
enum mail_mode { MAIL_SYNC, MAIL_QUEUE };

/* secret_key_previous when it is set, else NULL (token_unseal_any) */
#define CONFIG_PREVIOUS_KEY(cfg) ((cfg)->have_secret_key_previous ? (cfg)->secret_key_previous : NULL)

struct config {
	char *database_url;
	char *database_listen_url;	/* the notifier's LISTEN; "" = database_url */
	int database_prepared;
	int database_statement_timeout_ms;
	char *mount_prefix;
	unsigned char secret_key[CONFIG_KEY_BYTES];
	unsigned char secret_key_previous[CONFIG_KEY_BYTES];
	int have_secret_key_previous;
	char *public_base_url;
	int mail_delivery;		/* enum mail_mode */
	char *smtp_host;
	int smtp_port;
	int smtp_starttls;		/* enum starttls_mode */
	char *smtp_user;
	char *smtp_password;
	int smtp_timeout_ms;
	char *smtp_ca_file;
	char *mail_journal;
	int sync_mail_settle_seconds;
	char *mail_from;
	char *mail_from_name;
	char *bounce_address;	/* VERP envelope senders (verp.h); "" for none */
	char *data_dir;		/* sql/, templates/, data/: set, or found (datadir.h) */
	char *template_dir;
	int default_expires_seconds;
	int default_max_attempts;
	int default_code_length;
	int max_body_bytes;
	int fcgi_timeout_ms;
	int rate_per_email_per_hour;
	int rate_per_key_per_minute;
	int rate_per_ip_per_minute;
	int rate_per_client_ip_per_hour;
	int rate_per_client_network_per_hour;
	int addresses_per_client_ip_per_day;
	int require_client_ip;
	int failed_attempts_per_email_per_day;
	int resend_cooldown_seconds;
	int resend_policy;		/* enum resend_policy */
	int link_confirm_page;
	char *trusted_proxies;
	int reject_disposable;
	int reject_undeliverable;
	char *disposable_domains_file;
	char *common_domains_file;
	int mx_check;
	int dns_timeout_ms;
	char *dns_server;
	int mail_max_attempts;
	int mail_retry_base_ms;
	int webhook_timeout_ms;
	int webhook_max_attempts;
	int webhook_retry_base_ms;
	int webhook_allow_private;
	int retention_days;
	int sweep_interval_seconds;
	int log_level;			/* enum log_level */
};

/*
 * The least sync_mail_settle_seconds: a sync send takes at most
 * smtp_timeout_ms, and its worker tries to record the outcome for up to
 * VERIFY_RECORD_RETRY_MS (verify.c, under 5 s) more.  At most 240, so that
 * twice it (when a mail is recorded FAILED) comes before the held
 * verification.initiated goes out (10 minutes): smtp_timeout_ms is at most
 * 235 s.
 */
#define CONFIG_SYNC_SETTLE_MIN(cfg) (((cfg)->smtp_timeout_ms + 999) / 1000 + 5)

/*
 * Fills *cfg from defaults, the file at path (NULL: no file) and the
 * environment.  Returns 0, or -1 with a one-line message in err.  On failure
 * *cfg holds nothing that needs freeing.
 */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen);
void config_free(struct config *cfg);

/*
 * The config file to read: the --config argument if given, else
 * $MAILPROOF_CONFIG, else SYSCONFDIR/mailproof/mailproof.conf when it exists,
 * else NULL (environment and defaults only).
 */
const char *config_path(const char *arg);

/* The name of key i of the table, or NULL past the last. */
const char *config_key_name(size_t i);

#endif
