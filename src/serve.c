/*
 * serve.c -- `kefu serve`: migrate, then run the HTTP server until
 * SIGTERM/SIGINT has drained it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "api/api.h"
#include "api/hub.h"
#include "cli.h"
#include "core/delivery.h"
#include "core/mail_poll.h"
#include "core/outbox.h"
#include "http/http.h"
#include "util/log.h"

/* The API's after-hook (which ends the request's transaction), then a
 * wake-up for the delivery worker if the request queued outbound work. */
static void (*api_after)(struct req *r);
static void after_then_kick(struct req *r)
{
	api_after(r);
	if (outbox_take_wakeup())
		delivery_kick();
}

static FILE *open_access_log(const char *spec)
{
	if (strcmp(spec, "off") == 0)
		return NULL;
	if (strcmp(spec, "-") == 0)
		return stdout;
	FILE *f = fopen(spec, "a");
	if (!f)
		log_error("access log %s cannot be opened; logging to stdout", spec);
	return f ? f : stdout;
}

/* Every WebSocket is an open file: take the hard limit, not the usual soft
 * 1024, so max-connections is what bounds connections. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("could not raise the open-file limit: %s", strerror(errno));
	}
}

int cli_serve(const struct config *cfg)
{
	char host[256];
	int port;
	if (config_listen(cfg, host, sizeof host, &port) < 0) {
		fprintf(stderr, "kefu: listen must be HOST:PORT, got '%s'\n", cfg->listen);
		return 2;
	}
	if (cli_domain_init() < 0)
		return 1;
	raise_nofile();
	/* Migrate once, up front, so workers start on the current schema. */
	struct db *db = cli_open_db(cfg);
	if (!db)
		return 1;
	db_close(db);

	struct app app = {
		.cfg = cfg,
		.policy = {
			.session_ttl_ms = cfg->session_ttl_s * 1000,
			.max_failures = cfg->login_max_failures,
			.lockout_ms = cfg->login_lockout_s * 1000,
		},
		.login_limit = ratelimit_new((int)cfg->login_rate_per_min),
		.widget_session_limit = ratelimit_new((int)cfg->widget_session_rate),
		.widget_message_limit = ratelimit_new((int)cfg->widget_message_rate),
	};
	FILE *access = open_access_log(cfg->access_log);
	struct http_config hc = {
		.host = host,
		.port = port,
		.workers = (int)cfg->workers,
		.max_connections = (int)cfg->max_connections,
		.max_header_bytes = (size_t)cfg->max_header_bytes,
		.max_body_bytes = (size_t)cfg->max_body_bytes,
		.max_upload_bytes = (size_t)cfg->max_upload_bytes,
		.max_json_depth = (int)cfg->max_json_depth,
		.request_timeout_ms = (unsigned)cfg->request_timeout_s * 1000,
		.idle_timeout_ms = (unsigned)cfg->idle_timeout_s * 1000,
		.drain_timeout_ms = (unsigned)cfg->drain_timeout_s * 1000,
		.web_root = cfg->web_root[0] ? cfg->web_root : NULL,
		.access_log = access,
		.trust_proxy = (int)cfg->trust_proxy,
		.app = api_http_app(&app),
	};
	hc.routes = api_routes(&hc.nroutes);
	api_after = hc.app.after;
	hc.app.after = after_then_kick;
	struct buf blobs = BUF_INIT;
	buf_printf(&blobs, "%s/blobs", cfg->data);
	struct delivery_config dc = {
		.database = cfg->database,
		.blob_root = blobs.data,
		.timeout_ms = cfg->delivery_timeout_s * 1000,
		.lease_ms = cfg->delivery_lease_s * 1000,
		.backoff_ms = cfg->delivery_backoff_s * 1000,
		.max_attempts = (int)cfg->delivery_max_attempts,
	};
	struct err e = {0};
	struct mail_poll_config mc = {.database = cfg->database, .blob_root = blobs.data};
	int rc = delivery_start(&dc, &e);
	if (rc == 0) {
		rc = mail_poll_start(&mc, &e);
		if (rc == 0) {
			rc = hub_start(cfg, &e);
			if (rc == 0) {
				rc = http_serve(&hc, &e);
				hub_stop();
			}
			mail_poll_stop();
		}
		delivery_stop();
	}
	if (rc < 0)
		fprintf(stderr, "kefu: %s\n", e.msg);
	else
		log_info("stopped");
	if (access && access != stdout)
		fclose(access);
	ratelimit_free(app.login_limit);
	ratelimit_free(app.widget_session_limit);
	ratelimit_free(app.widget_message_limit);
	buf_free(&blobs);
	return rc < 0 ? 1 : 0;
}
