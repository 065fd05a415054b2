/*
 * config.h -- Kefu's settings.
 *
 * Owns: the table of every setting (name, environment variable, default,
 * help text) and how a value is chosen: command-line flag, then KEFU_*
 * environment variable, then the INI file (--config / KEFU_CONFIG), then the
 * default.  `kefu serve --help` prints the table, so documentation cannot
 * drift from the code.
 */
#ifndef KEFU_CONFIG_H
#define KEFU_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

struct config {
	char *config_file;
	char *listen;   /* HOST:PORT */
	char *data;     /* data directory */
	char *database; /* URL; default sqlite:///<data>/kefu.db */
	char *web_root;
	char *access_log; /* "-" stdout, "off", or a file path */
	char *log_level;
	char *secure_cookies; /* auto | always | never */
	int64_t workers;
	int64_t max_connections;
	int64_t max_body_bytes;
	int64_t max_upload_bytes;
	int64_t max_header_bytes;
	int64_t max_json_depth;
	int64_t request_timeout_s;
	int64_t idle_timeout_s;
	int64_t drain_timeout_s;
	int64_t session_ttl_s;
	int64_t login_max_failures;
	int64_t login_lockout_s;
	int64_t login_rate_per_min;
	int64_t trust_proxy;
	int64_t delivery_timeout_s;
	int64_t delivery_max_attempts;
	int64_t delivery_lease_s;
	int64_t delivery_backoff_s;
	int64_t presence_idle_s;
	int64_t event_retention_days;
	int64_t widget_session_rate;
	int64_t widget_message_rate;
};

/* Fill cfg from argv (flags "--name value" or "--name=value"), the
 * environment and the INI file.  Unknown flags and bad values are errors
 * (e filled).  Non-flag arguments are left in rest/nrest (pointers into
 * argv).  Returns 0 or -1. */
int config_load(struct config *cfg, int argc, char **argv, char **rest,
		int *nrest, struct err *e);
void config_free(struct config *cfg);
/* Every setting with its flag, variable, default and meaning. */
void config_help(FILE *out);
/* Split cfg->listen into host and port; -1 when malformed. */
int config_listen(const struct config *cfg, char *host, size_t hostlen,
		  int *port);

#endif
