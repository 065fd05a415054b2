/*
 * ceiling.c -- the fastest answer Kefu's HTTP server can give: one route,
 * a fixed small JSON, no database, no authentication.
 *
 * It runs the very code `kefu serve` runs (src/http: the libuv loop, the
 * http_parser framing, the worker pool handing each request to a thread
 * and back), so `make bench` can report every API figure as a share of
 * this one, measured in the same run with the same wrk settings.  The gap
 * is what the application (auth, SQL, JSON building) costs.
 *
 *   ceiling [--listen HOST:PORT] [--workers N]
 *
 * Prints "kefu: listening on http://HOST:PORT" like kefu serve (port 0
 * picks a free one) and stops on SIGTERM/SIGINT.  GET /ping answers
 * {"ok":true,"service":"kefu-ceiling"}; anything else is 404.
 *
 * Build (bench/run.sh does it): link against build/libkefu_lib.a.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http.h"

static const char answer[] = "{\"ok\":true,\"service\":\"kefu-ceiling\"}";

static void ping(struct req *r)
{
	reply_raw(r, 200, "application/json", answer, sizeof answer - 1);
}

static const struct route routes[] = {
	{HTTP_GET, "/ping", ping, NULL, ROUTE_PUBLIC | ROUTE_NO_DB},
};

static void usage(void)
{
	fputs("usage: ceiling [--listen HOST:PORT] [--workers N]\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	char host[64] = "127.0.0.1";
	int port = 8081;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	/* the same default as kefu serve: 2 x cores, at least 4 */
	int workers = ncpu * 2 > 4 ? (int)ncpu * 2 : 4;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
			const char *v = argv[++i], *colon = strrchr(v, ':');
			if (!colon || (size_t)(colon - v) >= sizeof host)
				usage();
			memcpy(host, v, (size_t)(colon - v));
			host[colon - v] = 0;
			port = atoi(colon + 1);
		} else if (!strcmp(argv[i], "--workers") && i + 1 < argc) {
			workers = atoi(argv[++i]);
		} else {
			usage();
		}
	}
	struct http_config hc = {
		.host = host,
		.port = port,
		.workers = workers,
		.max_connections = 10000,
		.routes = routes,
		.nroutes = sizeof routes / sizeof *routes,
	};
	struct err e = {0};
	if (http_serve(&hc, &e) < 0) {
		fprintf(stderr, "ceiling: %s\n", e.msg);
		return 1;
	}
	return 0;
}
