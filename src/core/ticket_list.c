/*
 * ticket_list.c -- ticket lists: views, filters, full-text search, sort and
 * cursor pages; view counts; saved views (see ticket.h).
 *
 * Pages use keyset pagination on (sort time, id): a cursor "T.ID" means
 * "after the row with that time and id in this order", so a page costs the
 * same however deep the client has scrolled and rows inserted meanwhile do
 * not shift what comes next.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../util/clock.h"
#include "ticket_internal.h"
#include "ticket_search.h"

struct sort {
	const char *name, *column;
	int desc;
};

static const struct sort sorts[] = {
	{"updated_desc", "t.updated_at", 1},
	{"updated_asc", "t.updated_at", 0},
	{"created_desc", "t.created_at", 1},
	{"created_asc", "t.created_at", 0},
};

static const struct sort *find_sort(const char *name)
{
	for (size_t i = 0; i < sizeof sorts / sizeof *sorts; i++)
		if (!name || !strcmp(sorts[i].name, name))
			return &sorts[i];
	return NULL;
}

static int add_view(struct sqlb *b, const char *view, const struct principal *p,
		    struct err *e)
{
	int64_t me = p ? p->user_id : 0;
	if (!view || !strcmp(view, "all"))
		return 0;
	if (!strcmp(view, "mine"))
		sqlb_bind(b, " AND t.assignee_id = ?", DB_INT(me));
	else if (!strcmp(view, "unassigned"))
		sqlb_add(b, " AND t.assignee_id IS NULL");
	else if (!strcmp(view, "my_teams"))
		sqlb_bind(b, " AND t.team_id IN (SELECT tm3.team_id FROM team_members tm3 "
			     "WHERE tm3.user_id = ?)", DB_INT(me));
	else {
		ERR_INVALID(e, "view must be mine, unassigned, my_teams or all");
		return -1;
	}
	return 0;
}

static void add_filters(struct sqlb *b, const struct ticket_filter *f)
{
	/* "unresolved": what the counts count (new, open, pending). */
	int unresolved = f->status && strcmp(f->status, "unresolved") == 0;
	if (f->status && !unresolved)
		sqlb_bind(b, " AND (t.status = ? OR t.status_category = ?)", DB_TEXT(f->status));
	if (f->open_only || unresolved)
		sqlb_add(b, " AND t.status_category IN ('new', 'open', 'pending')");
	if (f->priority)
		sqlb_bind(b, " AND t.priority = ?", DB_TEXT(f->priority));
	if (f->channel)
		sqlb_bind(b, " AND t.origin = ?", DB_TEXT(f->channel));
	if (f->tag)
		sqlb_bind(b, " AND t.id IN (SELECT tt.ticket_id FROM ticket_tags tt WHERE "
			     "tt.account_id = $1 AND tt.tag = ?)", DB_TEXT(f->tag));
	if (f->customer_level)
		sqlb_bind(b, " AND c.level = ?", DB_TEXT(f->customer_level));
	if (f->team_id)
		sqlb_bind(b, " AND t.team_id = ?", DB_INT(f->team_id));
	if (f->assignee_id)
		sqlb_bind(b, " AND t.assignee_id = ?", DB_INT(f->assignee_id));
	if (f->customer_id)
		sqlb_bind(b, " AND t.customer_id = ?", DB_INT(f->customer_id));
	if (f->created_from)
		sqlb_bind(b, " AND t.created_at >= ?", DB_INT(f->created_from));
	if (f->created_to)
		sqlb_bind(b, " AND t.created_at < ?", DB_INT(f->created_to));
	if (f->updated_from)
		sqlb_bind(b, " AND t.updated_at >= ?", DB_INT(f->updated_from));
	if (f->updated_to)
		sqlb_bind(b, " AND t.updated_at < ?", DB_INT(f->updated_to));
}

static int add_cursor(struct sqlb *b, const struct sort *so, const char *cursor,
		      struct err *e)
{
	if (!cursor || !cursor[0])
		return 0;
	long long v, id;
	char tail;
	if (sscanf(cursor, "%lld.%lld%c", &v, &id, &tail) != 2 || id <= 0) {
		ERR_INVALID(e, "cursor must be the \"next\" value of a previous page");
		return -1;
	}
	char frag[128];
	char op = so->desc ? '<' : '>';
	snprintf(frag, sizeof frag, " AND (%s %c ? OR (%s = ?", so->column, op, so->column);
	sqlb_bind(b, frag, DB_INT(v));
	sqlb_bind(b, so->desc ? " AND t.id < ?))" : " AND t.id > ?))", DB_INT(id));
	return 0;
}

/* Builds "WHERE ..." (without ORDER BY) shared by lists and counts. */
static int build_where(const struct scope *s, struct sqlb *b, const struct principal *p,
		       const struct ticket_filter *f, struct err *e)
{
	sqlb_add(b, " WHERE t.account_id = $1 AND t.merged_into IS NULL");
	ticket_scope_sql(b, p);
	if (add_view(b, f->view, p, e) < 0)
		return -1;
	add_filters(b, f);
	if (f->q && f->q[0] && ticket_search_sql(s, b, f->q, e) < 0)
		return -1;
	return 0;
}

int ticket_list(const struct scope *s, const struct principal *p,
		const struct ticket_filter *f, json_t *items, char **next,
		struct err *e)
{
	const struct sort *so = find_sort(f->sort);
	*next = NULL;
	if (!so) {
		ERR_INVALID(e, "sort must be updated_desc, updated_asc, created_desc or created_asc");
		return -1;
	}
	struct sqlb b;
	sqlb_init(&b, 2);
	sqlb_add(&b, TICKET_SELECT);
	int rc = build_where(s, &b, p, f, e) < 0 || add_cursor(&b, so, f->cursor, e) < 0 ? -1 : 0;
	if (rc == 0) {
		char tail[128];
		snprintf(tail, sizeof tail, " ORDER BY %s %s, t.id %s LIMIT ", so->column,
			 so->desc ? "DESC" : "ASC", so->desc ? "DESC" : "ASC");
		sqlb_add(&b, tail);
		sqlb_bind(&b, "?", DB_INT(f->limit + 1));
	}
	struct db_res *res = NULL;
	if (rc == 0)
		rc = db_sq(s, b.sql.data, b.v, b.n, &res, e);
	int n = 0;
	int64_t last_v = 0, last_id = 0;
	int sort_col = strcmp(so->column, "t.updated_at") == 0 ? 24 : 23;
	while (rc == 0 && res && db_res_next(res)) {
		if (n == f->limit) {
			char c[48];
			snprintf(c, sizeof c, "%" PRId64 ".%" PRId64, last_v, last_id);
			*next = xstrdup(c);
			break;
		}
		last_v = db_res_int(res, sort_col);
		last_id = db_res_int(res, 0);
		json_array_append_new(items, ticket_row_json(res));
		n++;
	}
	if (rc == 0)
		rc = db_res_error(res, e);
	db_res_free(res);
	sqlb_free(&b);
	return rc;
}

/* How many tickets f selects (merged ones left out, in p's scope). */
static int count(const struct scope *s, const struct principal *p,
		 const struct ticket_filter *f, int64_t *n, struct err *e)
{
	struct sqlb b;
	sqlb_init(&b, 2);
	sqlb_add(&b, "SELECT COUNT(*) FROM tickets t JOIN customers c ON c.id = t.customer_id");
	*n = 0;
	int rc = build_where(s, &b, p, f, e) < 0 ? -1 : db_sq_int(s, b.sql.data, b.v, b.n, n, e);
	sqlb_free(&b);
	return rc < 0 ? -1 : 0;
}

json_t *ticket_counts(const struct scope *s, const struct principal *p,
		      struct err *e)
{
	static const char *const views[] = {"mine", "unassigned", "my_teams", "all"};
	json_t *o = json_object();
	for (int i = 0; i < 4; i++) {
		struct ticket_filter f = {.view = views[i], .open_only = 1};
		int64_t n;
		if (count(s, p, &f, &n, e) < 0) {
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, views[i], json_integer(n));
	}
	return o;
}

/* Tickets created since `since`, by the channel type they came from. */
static json_t *by_channel(const struct scope *s, const struct principal *p, int64_t since,
			  struct err *e)
{
	struct ticket_filter f = {.view = "all", .created_from = since};
	struct sqlb b;
	sqlb_init(&b, 2);
	sqlb_add(&b, "SELECT t.origin, COUNT(*) FROM tickets t JOIN customers c ON c.id = t.customer_id");
	struct db_res *res = NULL;
	int rc = build_where(s, &b, p, &f, e);
	if (rc == 0) {
		sqlb_add(&b, " GROUP BY t.origin ORDER BY t.origin");
		rc = db_sq(s, b.sql.data, b.v, b.n, &res, e);
	}
	json_t *o = rc == 0 ? json_object() : NULL;
	while (o && res && db_res_next(res))
		json_object_set_new(o, db_res_text(res, 0), json_integer(db_res_int(res, 1)));
	if (o && db_res_error(res, e) < 0) {
		json_decref(o);
		o = NULL;
	}
	db_res_free(res);
	sqlb_free(&b);
	return o;
}

json_t *ticket_overview(const struct scope *s, const struct principal *p, int64_t since,
			struct err *e)
{
	struct { const char *key; struct ticket_filter f; } q[] = {
		{"mine_open", {.view = "mine", .status = "open"}},
		{"mine_new", {.view = "mine", .status = "new"}},
		{"mine_pending", {.view = "mine", .status = "pending"}},
		{"unassigned", {.view = "unassigned", .open_only = 1}},
		{"urgent", {.view = "all", .priority = "urgent", .open_only = 1}},
		{"open", {.view = "all", .open_only = 1}},
		{"created_today", {.view = "all", .created_from = since}},
	};
	json_t *o = json_object();
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
		int64_t n;
		if (count(s, p, &q[i].f, &n, e) < 0) {
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, q[i].key, json_integer(n));
	}
	json_t *ch = by_channel(s, p, since, e);
	if (!ch) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "created_today_by_channel", ch);
	return o;
}

int ticket_view_save(const struct scope *s, int64_t user_id, int shared,
		     const char *name, const json_t *filters, int64_t *id,
		     struct err *e)
{
	if (!name || !name[0] || strlen(name) > 80) {
		ERR_INVALID(e, "name must be 1-80 characters");
		return -1;
	}
	if (!json_is_object(filters)) {
		ERR_INVALID(e, "filters must be an object of list parameters");
		return -1;
	}
	char *fj = json_dumps(filters, JSON_COMPACT);
	int rc = db_sq_int(s, "INSERT INTO saved_views (account_id, user_id, name, filters, "
			      "created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
			   DB_ARGS(shared ? DB_NULLV : DB_INT(user_id), DB_TEXT(name),
				   DB_TEXT(fj), DB_INT(clock_now_ms())), id, e);
	free(fj);
	return rc == 1 ? 0 : -1;
}

int ticket_view_list(const struct scope *s, int64_t user_id, json_t *items,
		     struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT id, name, filters, user_id FROM saved_views WHERE account_id = $1 "
		     "AND (user_id IS NULL OR user_id = $2) ORDER BY position, id",
		  DB_ARGS(DB_INT(user_id)), &res, e) < 0)
		return -1;
	while (res && db_res_next(res))
		json_array_append_new(items, json_pack("{sI ss so sb}",
			"id", (json_int_t)db_res_int(res, 0), "name", db_res_text(res, 1),
			"filters", json_loads(db_res_text(res, 2), 0, NULL),
			"shared", db_res_isnull(res, 3)));
	db_res_free(res);
	return 0;
}

int ticket_view_delete(const struct scope *s, int64_t user_id, int64_t id,
		       int may_shared, struct err *e)
{
	int64_t n = db_sexec(s, "DELETE FROM saved_views WHERE account_id = $1 AND id = $2 "
				"AND (user_id = $3 OR ($4 = 1 AND user_id IS NULL))",
			     DB_ARGS(DB_INT(id), DB_INT(user_id), DB_INT(may_shared != 0)), e);
	if (n == 0)
		ERR_NOT_FOUND(e, "view not found");
	return n > 0 ? 0 : -1;
}
