/*
 * config.c -- see config.h.
 *
 * Settings are described once in `settings[]`; loading walks the table for
 * each source in increasing precedence (default, INI, environment, flag), so
 * a later source simply overwrites an earlier one.  The INI file is read with
 * inih; section names are ignored ("[kefu]" is customary).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"

enum kind { K_STR, K_INT, K_SIZE, K_BOOL };

struct setting {
	const char *name; /* flag --name, INI key name, env KEFU_NAME */
	enum kind kind;
	size_t off;
	const char *def; /* NULL: computed (see defaults()) */
	const char *help;
};

#define S(f) offsetof(struct config, f)
static const struct setting settings[] = {
	{"config", K_STR, S(config_file), "", "INI file with any of these settings (key = value)"},
	{"listen", K_STR, S(listen), "127.0.0.1:8080", "address and port to serve HTTP on (HOST:PORT; port 0 picks a free one)"},
	{"data", K_STR, S(data), "data", "data directory (database, attachments, backups)"},
	{"database", K_STR, S(database), NULL, "database URL: sqlite:///path/kefu.db or postgres://user:pass@host/db (default: sqlite in the data directory)"},
	{"web-root", K_STR, S(web_root), "web/dist", "directory of the built web apps served at /"},
	{"access-log", K_STR, S(access_log), "-", "JSON-lines access log: '-' for stdout, 'off', or a file path"},
	{"log-level", K_STR, S(log_level), "info", "diagnostics on stderr: debug, info, warn, error"},
	{"secure-cookies", K_STR, S(secure_cookies), "auto", "mark cookies Secure: auto (when the request came over TLS), always, never"},
	{"workers", K_INT, S(workers), NULL, "handler threads, each with its own database connection (default: 2 x cores, at least 4)"},
	{"max-connections", K_INT, S(max_connections), "10000", "open client connections before new ones are refused"},
	{"max-body", K_SIZE, S(max_body_bytes), "1M", "largest request body accepted (bytes; K and M suffixes)"},
	{"max-upload", K_SIZE, S(max_upload_bytes), "25M", "largest attachment upload accepted: the whole multipart body (bytes; K and M suffixes)"},
	{"max-header", K_SIZE, S(max_header_bytes), "16K", "largest request head accepted (bytes)"},
	{"max-json-depth", K_INT, S(max_json_depth), "32", "deepest JSON nesting accepted in a request body"},
	{"request-timeout", K_INT, S(request_timeout_s), "30", "seconds a client has to send a whole request"},
	{"idle-timeout", K_INT, S(idle_timeout_s), "75", "seconds an idle keep-alive connection stays open"},
	{"drain-timeout", K_INT, S(drain_timeout_s), "10", "seconds in-flight requests get to finish on SIGTERM/SIGINT"},
	{"session-ttl", K_INT, S(session_ttl_s), "86400", "seconds a login session lasts without activity"},
	{"login-max-failures", K_INT, S(login_max_failures), "5", "failed logins in a row before the user is locked out"},
	{"login-lockout", K_INT, S(login_lockout_s), "900", "seconds a locked-out user must wait"},
	{"login-rate", K_INT, S(login_rate_per_min), "30", "login attempts per minute allowed from one IP address"},
	{"trust-proxy", K_BOOL, S(trust_proxy), "0", "believe X-Forwarded-For/-Proto from a front proxy (1/0)"},
	{"delivery-timeout", K_INT, S(delivery_timeout_s), "10", "seconds an outgoing webhook or channel reply may take before the attempt counts as failed"},
	{"delivery-max-attempts", K_INT, S(delivery_max_attempts), "12", "attempts at an outgoing delivery before it is marked failed"},
	{"delivery-lease", K_INT, S(delivery_lease_s), "60", "seconds a node holds a claimed delivery; a crashed node's deliveries are retried after it (must exceed delivery-timeout)"},
	{"presence-idle", K_INT, S(presence_idle_s), "600", "seconds without activity in any of an agent's consoles before they show as away"},
	{"event-retention", K_INT, S(event_retention_days), "7", "days real-time events are kept for clients that reconnect (older ones get a resync)"},
	{"widget-session-rate", K_INT, S(widget_session_rate), "60", "chat sessions a minute one IP address may start (the widget resumes one per page load)"},
	{"widget-message-rate", K_INT, S(widget_message_rate), "30", "chat messages a minute one visitor may send"},
	{"delivery-backoff", K_INT, S(delivery_backoff_s), "30", "seconds before the first retry of a failed delivery; doubles per attempt (jittered, at most 6 hours)"},
};
#undef S
#define NSETTINGS (sizeof settings / sizeof settings[0])

static const struct setting *find(const char *name, size_t len)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (strlen(settings[i].name) == len &&
		    strncmp(settings[i].name, name, len) == 0)
			return &settings[i];
	}
	return NULL;
}

static int parse_int(const char *s, enum kind kind, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || errno)
		return -1;
	if (kind == K_SIZE && (*end == 'K' || *end == 'k'))
		v *= 1024, end++;
	else if (kind == K_SIZE && (*end == 'M' || *end == 'm'))
		v *= 1024 * 1024, end++;
	if (*end || v < 0)
		return -1;
	if (kind == K_BOOL && v > 1)
		return -1;
	*out = v;
	return 0;
}

static int set_value(struct config *cfg, const struct setting *st,
		     const char *value, const char *source, struct err *e)
{
	char *base = (char *)cfg;
	if (st->kind == K_STR) {
		char **slot = (char **)(base + st->off);
		free(*slot);
		*slot = xstrdup(value);
		return 0;
	}
	if (parse_int(value, st->kind, (int64_t *)(base + st->off)) < 0) {
		err_set(e, 400, "invalid", "%s: bad value '%s' for %s", source,
			value, st->name);
		return -1;
	}
	return 0;
}

static void env_name(const struct setting *st, char *out, size_t n)
{
	size_t j = snprintf(out, n, "KEFU_");
	for (const char *p = st->name; *p && j + 1 < n; p++)
		out[j++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	out[j] = '\0';
}

struct ini_ctx {
	struct config *cfg;
	struct err *e;
	int failed;
};

static int on_ini(void *user, const char *section, const char *name,
		  const char *value)
{
	(void)section;
	struct ini_ctx *c = user;
	/* Accept both "max-body" and "max_body" in the file. */
	char key[64];
	snprintf(key, sizeof key, "%s", name);
	for (char *p = key; *p; p++)
		if (*p == '_')
			*p = '-';
	const struct setting *st = find(key, strlen(key));
	if (!st || st->off == offsetof(struct config, config_file)) {
		err_set(c->e, 400, "invalid", "%s: unknown setting '%s'",
			c->cfg->config_file, name);
		c->failed = 1;
		return 0;
	}
	if (set_value(c->cfg, st, value, c->cfg->config_file, c->e) < 0) {
		c->failed = 1;
		return 0;
	}
	return 1;
}

static void defaults(struct config *cfg)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].def)
			set_value(cfg, &settings[i], settings[i].def, "default", NULL);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	cfg->workers = cores > 2 ? 2 * cores : 4;
}

/* Flags are scanned twice: first only for --config (it decides which file
 * to read), then all of them, so a flag beats the file. */
static int scan_flags(struct config *cfg, int argc, char **argv, char **rest,
		      int *nrest, int only_config, struct err *e)
{
	if (nrest)
		*nrest = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			if (rest)
				rest[(*nrest)++] = argv[i];
			continue;
		}
		const char *name = a + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct setting *st = find(name, len);
		if (!st) {
			err_set(e, 400, "invalid", "unknown option --%.*s (see --help)",
				(int)len, name);
			return -1;
		}
		const char *value = eq ? eq + 1 : NULL;
		if (!value) {
			if (i + 1 >= argc) {
				err_set(e, 400, "invalid", "option --%s needs a value",
					st->name);
				return -1;
			}
			value = argv[++i];
		}
		int is_config = st->off == offsetof(struct config, config_file);
		if (only_config != is_config)
			continue;
		if (set_value(cfg, st, value, "command line", e) < 0)
			return -1;
	}
	return 0;
}

int config_load(struct config *cfg, int argc, char **argv, char **rest,
		int *nrest, struct err *e)
{
	memset(cfg, 0, sizeof *cfg);
	defaults(cfg);
	char env[64];
	for (size_t i = 0; i < NSETTINGS; i++) {
		env_name(&settings[i], env, sizeof env);
		const char *v = getenv(env);
		/* The INI path itself comes from env or flag only. */
		if (v && settings[i].off == offsetof(struct config, config_file) &&
		    set_value(cfg, &settings[i], v, env, e) < 0)
			return -1;
	}
	if (scan_flags(cfg, argc, argv, NULL, NULL, 1, e) < 0)
		return -1;
	if (cfg->config_file[0]) {
		struct ini_ctx c = {cfg, e, 0};
		int rc = ini_parse(cfg->config_file, on_ini, &c);
		if (c.failed)
			return -1;
		if (rc != 0) {
			err_set(e, 400, "invalid", "%s: %s", cfg->config_file,
				rc < 0 ? "cannot be read" : "syntax error");
			return -1;
		}
	}
	for (size_t i = 0; i < NSETTINGS; i++) {
		env_name(&settings[i], env, sizeof env);
		const char *v = getenv(env);
		if (v && set_value(cfg, &settings[i], v, env, e) < 0)
			return -1;
	}
	if (scan_flags(cfg, argc, argv, rest, nrest, 0, e) < 0)
		return -1;
	if (!cfg->database || !cfg->database[0]) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "sqlite://%s/kefu.db", cfg->data);
		free(cfg->database);
		cfg->database = buf_steal(&b);
	}
	if (cfg->workers < 1 || cfg->workers > 256) {
		err_set(e, 400, "invalid", "workers must be between 1 and 256");
		return -1;
	}
	return 0;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].kind == K_STR)
			free(*(char **)((char *)cfg + settings[i].off));
	memset(cfg, 0, sizeof *cfg);
}

void config_help(FILE *out)
{
	char env[64];
	fprintf(out, "Settings (flag, environment variable, default). Precedence: "
		     "flag > environment > INI file > default.\n\n");
	for (size_t i = 0; i < NSETTINGS; i++) {
		env_name(&settings[i], env, sizeof env);
		fprintf(out, "  --%-20s %-26s [%s]\n      %s\n", settings[i].name,
			env, settings[i].def ? settings[i].def : "computed",
			settings[i].help);
	}
}

int config_listen(const struct config *cfg, char *host, size_t hostlen,
		  int *port)
{
	const char *colon = strrchr(cfg->listen, ':');
	if (!colon)
		return -1;
	const char *h = cfg->listen;
	size_t hl = (size_t)(colon - h);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
		h++, hl -= 2; /* [::1]:8080 */
	if (hl == 0 || hl >= hostlen)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || p < 0 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}
