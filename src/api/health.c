/*
 * health.c -- /healthz (the process answers), /readyz (and its database
 * answers: what a load balancer should route on) and /metrics (Prometheus).
 */
#include "api.h"

static void healthz(struct req *r)
{
	reply_json(r, 200, json_pack("{ss ss}", "status", "ok", "version", KEFU_VERSION));
}

static void readyz(struct req *r)
{
	struct worker *w = api_worker(r);
	if (db_ping(w->db) < 0) {
		reply_error(r, 503, "unavailable", "the database is not reachable");
		return;
	}
	reply_json(r, 200, json_pack("{ss ss}", "status", "ready", "database",
				     db_engine(w->db) == DB_PG ? "postgres" : "sqlite"));
}

static void metrics(struct req *r)
{
	struct buf b = BUF_INIT;
	http_metrics_render(&b);
	reply_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
	buf_free(&b);
}

const struct route api_health_routes[] = {
	{HTTP_GET, "/healthz", healthz, NULL, ROUTE_PUBLIC | ROUTE_NO_DB},
	{HTTP_GET, "/readyz", readyz, NULL, ROUTE_PUBLIC},
	{HTTP_GET, "/metrics", metrics, NULL, ROUTE_PUBLIC | ROUTE_NO_DB},
};
const size_t api_health_nroutes = sizeof api_health_routes / sizeof api_health_routes[0];
