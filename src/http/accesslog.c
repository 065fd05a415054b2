/*
 * accesslog.c -- one JSON line per response.
 *
 * Owns: the access log format (ts, id, ip, method, path, route, status,
 * bytes, dur_ms, ua) and its buffering.  Written from the loop thread
 * only; lines collect in memory and reach the FILE when 64 KiB are
 * waiting, on the server's one-second timer and at exit, so a busy server
 * makes no write per request.
 */
#include <stdio.h>
#include <string.h>

#include "../util/clock.h"
#include "internal.h"

#define ACCESSLOG_FLUSH_BYTES (64 * 1024)

void accesslog_init(struct accesslog *al, FILE *f)
{
	memset(al, 0, sizeof *al);
	al->f = f;
	al->sec = -1;
}

/* "2026-11-22T14:00:00.123Z" with the part up to the seconds cached. */
static void put_ts(struct accesslog *al, int64_t ms)
{
	int64_t sec = ms / 1000;
	if (sec != al->sec) {
		char full[32];
		clock_iso8601(ms, full, sizeof full);
		memcpy(al->prefix, full, 20); /* "YYYY-MM-DDTHH:MM:SS." */
		al->prefix[20] = '\0';
		al->sec = sec;
	}
	buf_printf(&al->b, "{\"ts\":\"%s%03dZ\",", al->prefix, (int)(ms % 1000));
}

void accesslog_write(struct accesslog *al, const struct req *r,
		     const char *route, size_t bytes, uint64_t dur_us)
{
	if (!al->f)
		return;
	struct buf *b = &al->b;
	put_ts(al, clock_now_ms());
	buf_puts(b, "\"id\":");
	buf_json_str(b, r->id);
	buf_puts(b, ",\"ip\":");
	buf_json_str(b, r->remote_ip);
	buf_puts(b, ",\"method\":");
	buf_json_str(b, r->path ? http_method_str(r->method) : "-");
	buf_puts(b, ",\"path\":");
	buf_json_str(b, r->path ? r->path : "");
	buf_puts(b, ",\"route\":");
	if (route)
		buf_json_str(b, route);
	else
		buf_puts(b, "null");
	buf_printf(b, ",\"status\":%d,\"bytes\":%zu,\"dur_ms\":%.3f,\"ua\":", r->status,
		   bytes, (double)dur_us / 1000.0);
	const char *ua = r->path ? req_header(r, "user-agent") : NULL;
	if (ua)
		buf_json_str(b, ua);
	else
		buf_puts(b, "null");
	buf_puts(b, "}\n");
	if (b->len >= ACCESSLOG_FLUSH_BYTES)
		accesslog_flush(al);
}

void accesslog_flush(struct accesslog *al)
{
	if (!al->f || !al->b.len)
		return;
	fwrite(al->b.data, 1, al->b.len, al->f);
	fflush(al->f);
	buf_reset(&al->b);
}

void accesslog_free(struct accesslog *al)
{
	accesslog_flush(al);
	buf_free(&al->b);
}
