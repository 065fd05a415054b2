/* customer.c -- see customer.h. */
#include "customer.h"

#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "../util/buf.h"
#include "../util/clock.h"
#include "../store/sqlb.h"
#include "rowjson.h"
#include "tags.h"
#include "ticket.h"
#include "user.h"

void customer_mask_phone(const char *in, char *out, size_t n)
{
	size_t len = strlen(in);
	/* At least 4 characters always stay hidden; values of up to 7 are
	 * hidden entirely. */
	if (len < 8) {
		snprintf(out, n, "****");
		return;
	}
	/* Keep the first 3 (the +CC prefix and 3 more, at most 6) and the last
	 * 4, giving up head first when that would hide fewer than 4. */
	size_t tail = 4, head = in[0] == '+' && len > 12 ? len - 8 : 3;
	if (head > 6)
		head = 6;
	if (head + tail + 4 > len)
		head = len - tail - 4;
	/* Cut on UTF-8 character boundaries (ID-like attributes may hold any
	 * text), so the result stays valid UTF-8. */
	while (head > 0 && ((unsigned char)in[head] & 0xC0) == 0x80)
		head--;
	while (tail > 0 && ((unsigned char)in[len - tail] & 0xC0) == 0x80)
		tail--;
	snprintf(out, n, "%.*s****%s", (int)head, in, in + len - tail);
}

static int phone_normalize(const char *in, char *out, size_t n)
{
	size_t j = 0;
	for (const char *p = in; *p; p++) {
		if (*p == '+' && j == 0)
			out[j++] = '+';
		else if (isdigit((unsigned char)*p) && j + 1 < n)
			out[j++] = *p;
		else if (!strchr(" -().", *p))
			return -1;
	}
	out[j] = '\0';
	size_t digits = j - (out[0] == '+');
	return digits >= 5 && digits <= 20 ? 0 : -1;
}

int customer_identity_normalize(const char *kind, const char *handle,
				char *out, size_t n, struct err *e)
{
	size_t kl = kind ? strlen(kind) : 0;
	if (kl == 0 || kl > 20 || strspn(kind, "abcdefghijklmnopqrstuvwxyz0123456789_") != kl) {
		ERR_INVALID(e, "identity kind must be 1-20 of a-z, 0-9, _");
		return -1;
	}
	if (!handle || !handle[0] || strlen(handle) >= n || strlen(handle) > 255) {
		ERR_INVALID(e, "identity handle must be 1-255 characters");
		return -1;
	}
	snprintf(out, n, "%s", handle);
	if (strcmp(kind, "email") == 0 && user_email_normalize(out) < 0) {
		ERR_INVALID(e, "not a valid e-mail address: %.80s", handle);
		return -1;
	}
	if (strcmp(kind, "phone") == 0 && phone_normalize(handle, out, n) < 0) {
		ERR_INVALID(e, "not a valid phone number: %.40s", handle);
		return -1;
	}
	return 0;
}

/* Attribute keys that hold identity-document or phone numbers, compared
 * case-insensitively (ASCII) as substrings: "ID_Number", "passport_no" and
 * "backup_phone" are all sensitive.  A false positive only masks a harmless
 * value for readers without pii.read; a false negative would leak one. */
static int sensitive_key(const char *k)
{
	static const char *const words[] = {
		"id_number", "idnumber", "id_card", "idcard", "identity_number",
		"national_id", "passport", "ssn", "tax_id", "license_number",
		"driver_license", "phone", "mobile", "身份证", "证件", "护照",
		"手机", "电话", NULL};
	char *low = xstrdup(k);
	for (char *p = low; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	int hit = 0;
	for (const char *const *w = words; *w && !hit; w++)
		hit = strstr(low, *w) != NULL;
	free(low);
	return hit;
}

/* The masked form of a sensitive attribute value: strings and numbers as
 * phone numbers are masked, anything else (objects, arrays) entirely. */
static json_t *mask_value(const json_t *v)
{
	char raw[64], m[64];
	if (json_is_null(v))
		return json_null();
	if (json_is_string(v)) {
		customer_mask_phone(json_string_value(v), m, sizeof m);
	} else if (json_is_integer(v)) {
		snprintf(raw, sizeof raw, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		customer_mask_phone(raw, m, sizeof m);
	} else {
		snprintf(m, sizeof m, "****");
	}
	json_t *s = json_string(m);
	return s ? s : json_string("****");
}

/* Masks the sensitive values of an attributes object in place, at any
 * depth (an object under a harmless key may hold an "id_number"). */
static void mask_attributes(json_t *attrs)
{
	const char *k;
	json_t *v;
	size_t i;
	if (json_is_array(attrs)) {
		json_array_foreach(attrs, i, v)
			mask_attributes(v);
		return;
	}
	json_object_foreach(attrs, k, v) {
		if (sensitive_key(k))
			json_object_set_new(attrs, k, mask_value(v));
		else if (json_is_object(v) || json_is_array(v))
			mask_attributes(v);
	}
}

/* Validated, normalised copies of the fields that need it. */
struct norm {
	char email[256], phone[32];
	char *tags;  /* JSON text, NULL when unchanged */
	char *attrs; /* JSON text, NULL when unchanged */
};

/* The tags without repeats, in their first order, as JSON text (the JSON
 * column must agree with customer_tags, which holds each tag once). */
static char *tags_text(const json_t *tags)
{
	json_t *u = json_array();
	size_t i, j;
	const json_t *t, *seen;
	json_array_foreach(tags, i, t) {
		int dup = 0;
		json_array_foreach(u, j, seen)
			dup |= json_equal(seen, t);
		if (!dup)
			json_array_append(u, (json_t *)t);
	}
	char *text = json_dumps(u, JSON_COMPACT);
	json_decref(u);
	return text;
}

static int normalize(const struct customer_input *in, struct norm *nm,
		     struct err *e)
{
	memset(nm, 0, sizeof *nm);
	if (in->name && strlen(in->name) > 200) {
		ERR_INVALID(e, "name must be at most 200 characters");
		return -1;
	}
	if (in->email && in->email[0] &&
	    customer_identity_normalize("email", in->email, nm->email, sizeof nm->email, e) < 0)
		return -1;
	if (in->phone && in->phone[0] &&
	    customer_identity_normalize("phone", in->phone, nm->phone, sizeof nm->phone, e) < 0)
		return -1;
	if (in->level && (!in->level[0] || strlen(in->level) > 20)) {
		ERR_INVALID(e, "level must be 1-20 characters (e.g. normal, vip)");
		return -1;
	}
	if (in->tags && tags_check(in->tags, e) < 0)
		return -1;
	if (in->attributes && !json_is_object(in->attributes)) {
		ERR_INVALID(e, "attributes must be an object");
		return -1;
	}
	if (in->tags)
		nm->tags = tags_text(in->tags);
	if (in->attributes)
		nm->attrs = json_dumps(in->attributes, JSON_COMPACT);
	return 0;
}

static void norm_free(struct norm *nm)
{
	free(nm->tags);
	free(nm->attrs);
}

static int set_tags(const struct scope *s, int64_t id, const json_t *tags,
		    struct err *e)
{
	if (db_sexec(s, "DELETE FROM customer_tags WHERE account_id = $1 AND customer_id = $2",
		     DB_ARGS(DB_INT(id)), e) < 0)
		return -1;
	size_t i;
	const json_t *t;
	json_array_foreach(tags, i, t) {
		if (db_sexec(s, "INSERT INTO customer_tags (account_id, customer_id, tag) "
				"VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
			     DB_ARGS(DB_INT(id), DB_TEXT(json_string_value(t))), e) < 0)
			return -1;
	}
	return 0;
}

/* The profile's primary e-mail and phone are identities too, so a message
 * from either finds this customer.  An identity owned by someone else is a
 * conflict the caller must resolve by merging. */
static int claim_identity(const struct scope *s, int64_t id, const char *kind,
			  const char *handle, struct err *e)
{
	int64_t owner;
	int found = customer_find_identity(s, kind, handle, &owner, e);
	if (found < 0)
		return -1;
	if (found && owner != id) {
		err_set(e, 409, "conflict", "%s %s belongs to customer %" PRId64
			"; merge the two customers instead", kind, handle, owner);
		return -1;
	}
	if (found)
		return 0;
	return db_sexec(s, "INSERT INTO customer_identities (account_id, customer_id, "
			   "kind, handle, created_at) VALUES ($1, $2, $3, $4, $5)",
			DB_ARGS(DB_INT(id), DB_TEXT(kind), DB_TEXT(handle),
				DB_INT(clock_now_ms())), e) < 0 ? -1 : 0;
}

static int write_side_tables(const struct scope *s, int64_t id,
			     const struct customer_input *in,
			     const struct norm *nm, struct err *e)
{
	if (nm->email[0] && claim_identity(s, id, "email", nm->email, e) < 0)
		return -1;
	if (nm->phone[0] && claim_identity(s, id, "phone", nm->phone, e) < 0)
		return -1;
	if (in->tags && set_tags(s, id, in->tags, e) < 0)
		return -1;
	return 0;
}

int customer_create(const struct scope *s, const struct customer_input *in,
		    int64_t *id, struct err *e)
{
	struct norm nm;
	if (normalize(in, &nm, e) < 0)
		return -1;
	int64_t now = clock_now_ms();
	int rc = db_sq_int(s,
		"INSERT INTO customers (account_id, name, email, phone, level, tags, "
		"attributes, external_id, created_at, updated_at) VALUES ($1, $2, $3, "
		"$4, $5, $6, $7, $8, $9, $9) RETURNING id",
		DB_ARGS(DB_TEXT(in->name ? in->name : ""),
			DB_TEXT(nm.email[0] ? nm.email : NULL),
			DB_TEXT(nm.phone[0] ? nm.phone : NULL),
			DB_TEXT(in->level ? in->level : "normal"),
			DB_TEXT(nm.tags ? nm.tags : "[]"),
			DB_TEXT(nm.attrs ? nm.attrs : "{}"), DB_TEXT(in->external_id),
			DB_INT(now)), id, e) < 0 ? -1 : 0;
	if (rc < 0 && e->status == 409)
		err_set(e, 409, "conflict", "a customer with that external_id exists");
	if (rc == 0)
		rc = write_side_tables(s, *id, in, &nm, e);
	norm_free(&nm);
	return rc;
}

/* What a reader without pii.read was shown and sends back unchanged (an
 * edit form posting every field) must not overwrite the real value: a
 * phone, or a top-level attribute, equal to the masked form of what is
 * stored keeps the stored value.  *out is in so adjusted; *attrs holds the
 * adjusted attributes it points to (caller decrefs; NULL when none). */
static int keep_masked(const struct scope *s, int64_t id,
		       const struct customer_input *in, struct customer_input *out,
		       json_t **attrs, struct err *e)
{
	*out = *in;
	*attrs = NULL;
	if (!in->phone && !json_is_object(in->attributes))
		return 0;
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT phone, attributes FROM customers WHERE account_id = $1 "
		     "AND id = $2", DB_ARGS(DB_INT(id)), &res, e) < 0)
		return -1;
	if (!res || !db_res_next(res)) {
		db_res_free(res);
		return 0; /* the update answers 404 */
	}
	const char *phone = db_res_text(res, 0);
	char m[64];
	if (in->phone && phone) {
		customer_mask_phone(phone, m, sizeof m);
		if (strcmp(m, in->phone) == 0)
			out->phone = NULL;
	}
	json_t *stored = json_is_object(in->attributes) ?
		json_loads(db_res_text(res, 1), 0, NULL) : NULL;
	db_res_free(res);
	if (!json_is_object(stored)) {
		json_decref(stored);
		return 0;
	}
	json_t *shown = json_deep_copy(stored);
	mask_attributes(shown);
	*attrs = json_deep_copy(in->attributes);
	const char *k;
	json_t *v;
	json_object_foreach(*attrs, k, v) {
		json_t *was = json_object_get(stored, k), *saw = json_object_get(shown, k);
		if (was && saw && !json_equal(was, saw) && json_equal(v, saw))
			json_object_set(*attrs, k, was);
	}
	out->attributes = *attrs;
	json_decref(shown);
	json_decref(stored);
	return 0;
}

int customer_update(const struct scope *s, int64_t id,
		    const struct customer_input *given, struct err *e)
{
	struct customer_input kept, *in = &kept;
	json_t *attrs;
	if (keep_masked(s, id, given, &kept, &attrs, e) < 0)
		return -1;
	struct norm nm;
	if (normalize(in, &nm, e) < 0) {
		json_decref(attrs);
		return -1;
	}
	int64_t n = db_sexec(s,
		"UPDATE customers SET name = COALESCE($3, name), "
		"email = COALESCE($4, email), phone = COALESCE($5, phone), "
		"level = COALESCE($6, level), tags = COALESCE($7, tags), "
		"attributes = COALESCE($8, attributes), "
		"external_id = COALESCE($9, external_id), updated_at = $10 "
		"WHERE account_id = $1 AND id = $2 AND merged_into IS NULL",
		DB_ARGS(DB_INT(id), DB_TEXT(in->name),
			DB_TEXT(nm.email[0] ? nm.email : NULL),
			DB_TEXT(nm.phone[0] ? nm.phone : NULL), DB_TEXT(in->level),
			DB_TEXT(nm.tags), DB_TEXT(nm.attrs), DB_TEXT(in->external_id),
			DB_INT(clock_now_ms())), e);
	int rc = n < 0 ? -1 : 0;
	if (n < 0 && e->status == 409)
		err_set(e, 409, "conflict", "a customer with that external_id exists");
	if (n == 0) {
		ERR_NOT_FOUND(e, "customer not found");
		rc = -1;
	}
	if (rc == 0)
		rc = write_side_tables(s, id, in, &nm, e);
	norm_free(&nm);
	json_decref(attrs);
	return rc;
}


#define CUSTOMER_COLS                                                       \
	"SELECT id, name, email, phone, level, tags, attributes, external_id, " \
	"merged_into, created_at, updated_at, last_seen_at FROM customers "

static json_t *row_json(struct db_res *res, int unmask)
{
	const char *phone = db_res_text(res, 3);
	char masked[64];
	if (phone && !unmask) {
		customer_mask_phone(phone, masked, sizeof masked);
		phone = masked;
	}
	json_t *tags = json_loads(db_res_text(res, 5), 0, NULL);
	json_t *attrs = json_loads(db_res_text(res, 6), 0, NULL);
	if (attrs && !unmask)
		mask_attributes(attrs);
	json_t *o = json_pack("{sI ss so so ss so* so* so}",
		"id", (json_int_t)db_res_int(res, 0), "name", db_res_text(res, 1),
		"email", rj_str(db_res_text(res, 2)), "phone", rj_str(phone),
		"level", db_res_text(res, 4), "tags", tags, "attributes", attrs,
		"external_id", rj_str(db_res_text(res, 7)));
	json_object_set_new(o, "merged_into", db_res_isnull(res, 8) ? json_null()
			    : json_integer(db_res_int(res, 8)));
	json_object_set_new(o, "created_at", rj_time(res, 9));
	json_object_set_new(o, "updated_at", rj_time(res, 10));
	json_object_set_new(o, "last_seen_at", rj_time(res, 11));
	return o;
}

static int add_identities(const struct scope *s, json_t *c, int64_t id,
			  int unmask, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT id, kind, handle FROM customer_identities WHERE "
		     "account_id = $1 AND customer_id = $2 ORDER BY id",
		  DB_ARGS(DB_INT(id)), &res, e) < 0)
		return -1;
	json_t *list = json_array();
	while (res && db_res_next(res)) {
		const char *kind = db_res_text(res, 1), *handle = db_res_text(res, 2);
		char masked[64];
		if (!unmask && strcmp(kind, "phone") == 0) {
			customer_mask_phone(handle, masked, sizeof masked);
			handle = masked;
		}
		json_array_append_new(list, json_pack("{sI ss ss}", "id",
			(json_int_t)db_res_int(res, 0), "kind", kind, "handle", handle));
	}
	int rc = db_res_error(res, e);
	db_res_free(res);
	json_object_set_new(c, "identities", list);
	return rc;
}

json_t *customer_get(const struct scope *s, int64_t id, int unmask,
		     struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, CUSTOMER_COLS "WHERE account_id = $1 AND id = $2",
		  DB_ARGS(DB_INT(id)), &res, e) < 0)
		return NULL;
	json_t *o = res && db_res_next(res) ? row_json(res, unmask) : NULL;
	db_res_free(res);
	if (!o) {
		ERR_NOT_FOUND(e, "customer not found");
		return NULL;
	}
	if (add_identities(s, o, id, unmask, e) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int customer_list(const struct scope *s, const struct customer_filter *f,
		  int unmask, json_t *items, int64_t *next, struct err *e)
{
	char *like = NULL;
	if (f->q && f->q[0]) {
		struct buf b = BUF_INIT;
		buf_putc(&b, '%');
		for (const char *p = f->q; *p; p++) {
			if (*p == '%' || *p == '_' || *p == '\\')
				buf_putc(&b, '\\');
			buf_putc(&b, (char)tolower((unsigned char)*p));
		}
		buf_putc(&b, '%');
		like = buf_steal(&b);
	}
	struct db_res *res = NULL;
	int rc = db_sq(s, CUSTOMER_COLS
		"WHERE account_id = $1 AND merged_into IS NULL AND ($2 = 0 OR id < $2) "
		"AND (CAST($3 AS TEXT) IS NULL OR lower(name) LIKE $3 ESCAPE '\\' "
		"  OR email LIKE $3 ESCAPE '\\' OR phone LIKE $3 ESCAPE '\\' "
		"  OR id IN (SELECT customer_id FROM customer_identities i WHERE "
		"    i.account_id = $1 AND lower(i.handle) LIKE $3 ESCAPE '\\')) "
		"AND (CAST($4 AS TEXT) IS NULL OR id IN (SELECT customer_id FROM "
		"  customer_tags g WHERE g.account_id = $1 AND g.tag = $4)) "
		"AND (CAST($5 AS TEXT) IS NULL OR level = $5) "
		"ORDER BY id DESC LIMIT $6",
		DB_ARGS(DB_INT(f->before), DB_TEXT(like), DB_TEXT(f->tag),
			DB_TEXT(f->level), DB_INT(f->limit + 1)), &res, e);
	free(like);
	if (rc < 0)
		return -1;
	*next = 0;
	int n = 0;
	int64_t last = 0;
	while (res && db_res_next(res)) {
		if (n == f->limit) {
			*next = last;
			break;
		}
		last = db_res_int(res, 0);
		json_array_append_new(items, row_json(res, unmask));
		n++;
	}
	rc = db_res_error(res, e);
	db_res_free(res);
	return rc;
}

int customer_find_identity(const struct scope *s, const char *kind,
			   const char *handle, int64_t *id, struct err *e)
{
	return db_sq_int(s, "SELECT customer_id FROM customer_identities WHERE "
			    "account_id = $1 AND kind = $2 AND handle = $3",
			 DB_ARGS(DB_TEXT(kind), DB_TEXT(handle)), id, e);
}

static int customer_exists(const struct scope *s, int64_t id, struct err *e)
{
	int64_t one;
	int found = db_sq_int(s, "SELECT 1 FROM customers WHERE account_id = $1 AND "
				 "id = $2 AND merged_into IS NULL",
			      DB_ARGS(DB_INT(id)), &one, e);
	if (found == 0)
		ERR_NOT_FOUND(e, "customer not found");
	return found == 1 ? 0 : -1;
}

int customer_identity_add(const struct scope *s, int64_t customer_id,
			  const char *kind, const char *handle, struct err *e)
{
	char norm[256];
	if (customer_identity_normalize(kind, handle, norm, sizeof norm, e) < 0 ||
	    customer_exists(s, customer_id, e) < 0)
		return -1;
	return claim_identity(s, customer_id, kind, norm, e);
}

int customer_identity_remove(const struct scope *s, int64_t customer_id,
			     int64_t identity_id, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT kind, handle FROM customer_identities WHERE account_id = $1 "
		     "AND customer_id = $2 AND id = $3",
		  DB_ARGS(DB_INT(customer_id), DB_INT(identity_id)), &res, e) < 0)
		return -1;
	char kind[32] = "", handle[256] = "";
	if (res && db_res_next(res)) {
		snprintf(kind, sizeof kind, "%s", db_res_text(res, 0));
		snprintf(handle, sizeof handle, "%s", db_res_text(res, 1));
	}
	db_res_free(res);
	if (!kind[0]) {
		ERR_NOT_FOUND(e, "identity not found");
		return -1;
	}
	if (db_sexec(s, "DELETE FROM customer_identities WHERE account_id = $1 AND id = $2",
		     DB_ARGS(DB_INT(identity_id)), e) < 0)
		return -1;
	/* The primary e-mail or phone is an identity too: once the customer is
	 * no longer known by it, the profile must not show it either (another
	 * customer may claim it now). */
	const char *sql = strcmp(kind, "email") == 0 ?
		"UPDATE customers SET email = NULL, updated_at = $4 WHERE "
		"account_id = $1 AND id = $2 AND email = $3" :
		strcmp(kind, "phone") == 0 ?
		"UPDATE customers SET phone = NULL, updated_at = $4 WHERE "
		"account_id = $1 AND id = $2 AND phone = $3" : NULL;
	if (sql && db_sexec(s, sql, DB_ARGS(DB_INT(customer_id), DB_TEXT(handle),
					    DB_INT(clock_now_ms())), e) < 0)
		return -1;
	return 0;
}

/* Ids of the rows (identities or tickets) owned by a customer, as a JSON
 * array; NULL on error. */
static json_t *owned_ids(const struct scope *s, const char *sql, int64_t id,
			 struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, sql, DB_ARGS(DB_INT(id)), &res, e) < 0)
		return NULL;
	json_t *a = json_array();
	while (res && db_res_next(res))
		json_array_append_new(a, json_integer(db_res_int(res, 0)));
	if (db_res_error(res, e) < 0) {
		json_decref(a);
		a = NULL;
	}
	db_res_free(res);
	return a;
}

/* Moves the listed rows from customer `from` to customer `to`.  A row no
 * longer on `from` stays where it is: undoing a merge must not take back a
 * ticket that was given to someone else since. */
static int move_rows(const struct scope *s, const char *sql, const json_t *ids,
		     int64_t from, int64_t to, struct err *e)
{
	size_t i;
	const json_t *v;
	json_array_foreach(ids, i, v) {
		if (db_sexec(s, sql, DB_ARGS(DB_INT(to), DB_INT(json_integer_value(v)),
					     DB_INT(from)), e) < 0)
			return -1;
	}
	return 0;
}

static const char SQL_IDENT_IDS[] =
	"SELECT id FROM customer_identities WHERE account_id = $1 AND customer_id = $2";
static const char SQL_TICKET_IDS[] =
	"SELECT id FROM tickets WHERE account_id = $1 AND customer_id = $2";
static const char SQL_MOVE_IDENT[] =
	"UPDATE customer_identities SET customer_id = $2 WHERE account_id = $1 "
	"AND id = $3 AND customer_id = $4";
static const char SQL_MOVE_TICKET[] =
	"UPDATE tickets SET customer_id = $2 WHERE account_id = $1 AND id = $3 "
	"AND customer_id = $4";
/* The customer's own messages on a moved ticket follow it; messages of
 * anyone else on that ticket keep their author. */
static const char SQL_MOVE_MESSAGES[] =
	"UPDATE messages SET customer_id = $2 WHERE account_id = $1 AND ticket_id = $3 "
	"AND customer_id = $4";

static int move_all(const struct scope *s, const json_t *moved, int64_t from,
		    int64_t to, struct err *e)
{
	const json_t *tickets = json_object_get(moved, "tickets");
	return move_rows(s, SQL_MOVE_IDENT, json_object_get(moved, "identities"),
			 from, to, e) < 0 ||
	       move_rows(s, SQL_MOVE_MESSAGES, tickets, from, to, e) < 0 ||
	       move_rows(s, SQL_MOVE_TICKET, tickets, from, to, e) < 0 ? -1 : 0;
}

/* Takes a live (not merged) customer for this transaction: the row lock
 * makes a concurrent merge of the same customer wait, then find it merged.
 * 404 when it does not exist or is merged. */
static int lock_live(const struct scope *s, int64_t id, int64_t now, struct err *e)
{
	int64_t n = db_sexec(s, "UPDATE customers SET updated_at = $3 WHERE account_id = $1 "
				"AND id = $2 AND merged_into IS NULL",
			     DB_ARGS(DB_INT(id), DB_INT(now)), e);
	if (n == 0)
		ERR_NOT_FOUND(e, "customer %" PRId64 " not found", id);
	return n > 0 ? 0 : -1;
}

int customer_merge(const struct scope *s, int64_t source, int64_t target,
		   int64_t actor_id, int64_t *merge_id, struct err *e)
{
	if (source == target) {
		ERR_UNPROCESSABLE(e, "a customer cannot be merged into itself");
		return -1;
	}
	int64_t now = clock_now_ms();
	/* Lower id first, so two merges of the same pair cannot deadlock. */
	int64_t lo = source < target ? source : target;
	int64_t hi = source < target ? target : source;
	if (lock_live(s, lo, now, e) < 0 || lock_live(s, hi, now, e) < 0)
		return -1;
	json_t *idents = owned_ids(s, SQL_IDENT_IDS, source, e);
	json_t *tickets = idents ? owned_ids(s, SQL_TICKET_IDS, source, e) : NULL;
	json_t *moved = tickets ? json_pack("{sOsO}", "identities", idents,
					    "tickets", tickets) : NULL;
	int rc = moved ? move_all(s, moved, source, target, e) : -1;
	if (rc == 0)
		rc = db_sexec(s, "UPDATE customers SET merged_into = $3, updated_at = $4 "
				 "WHERE account_id = $1 AND id = $2",
			      DB_ARGS(DB_INT(source), DB_INT(target), DB_INT(now)), e) < 0 ? -1 : 0;
	if (rc == 0) {
		char *mj = json_dumps(moved, JSON_COMPACT);
		rc = db_sq_int(s, "INSERT INTO customer_merges (account_id, source_id, "
				  "target_id, moved, actor_id, created_at) VALUES ($1, $2, $3, "
				  "$4, $5, $6) RETURNING id",
			       DB_ARGS(DB_INT(source), DB_INT(target), DB_TEXT(mj),
				       actor_id ? DB_INT(actor_id) : DB_NULLV, DB_INT(now)),
			       merge_id, e) < 0 ? -1 : 0;
		free(mj);
	}
	json_decref(moved);
	json_decref(idents);
	json_decref(tickets);
	return rc;
}

int customer_merge_undo(const struct scope *s, int64_t merge_id,
			int64_t *source_id, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT source_id, target_id, moved, undone_at FROM customer_merges "
		     "WHERE account_id = $1 AND id = $2",
		  DB_ARGS(DB_INT(merge_id)), &res, e) < 0)
		return -1;
	int found = res && db_res_next(res);
	int64_t source = found ? db_res_int(res, 0) : 0;
	int64_t target = found ? db_res_int(res, 1) : 0;
	int undone = found && !db_res_isnull(res, 3);
	json_t *moved = found ? json_loads(db_res_text(res, 2), 0, NULL) : NULL;
	db_res_free(res);
	int64_t now = clock_now_ms();
	int rc = -1;
	if (!found || !moved) {
		ERR_NOT_FOUND(e, "merge not found");
		goto out;
	}
	/* Marking it undone first, on the condition that it was not, makes a
	 * concurrent second undo wait for this one and then fail. */
	int64_t n = undone ? 0 : db_sexec(s, "UPDATE customer_merges SET undone_at = $3 "
						"WHERE account_id = $1 AND id = $2 AND undone_at IS NULL",
					  DB_ARGS(DB_INT(merge_id), DB_INT(now)), e);
	if (n < 0)
		goto out;
	if (n == 0) {
		ERR_CONFLICT(e, "this merge was already undone");
		goto out;
	}
	/* The target must still be live (were it merged on, its rows -- ours
	 * among them -- now sit on another customer), and the source still
	 * merged into it. */
	if (lock_live(s, target, now, e) < 0) {
		if (e->status == 404)
			ERR_CONFLICT(e, "customer %" PRId64 " was merged into another since; "
				     "undo that merge first", target);
		goto out;
	}
	n = db_sexec(s, "UPDATE customers SET merged_into = NULL, updated_at = $4 WHERE "
			"account_id = $1 AND id = $2 AND merged_into = $3",
		     DB_ARGS(DB_INT(source), DB_INT(target), DB_INT(now)), e);
	if (n < 0)
		goto out;
	if (n == 0) {
		ERR_CONFLICT(e, "customer %" PRId64 " is no longer merged into %" PRId64,
			     source, target);
		goto out;
	}
	rc = move_all(s, moved, target, source, e);
	if (rc == 0 && source_id)
		*source_id = source;
out:
	json_decref(moved);
	return rc;
}

/* One of the history's two queries, limited to tickets p may see. */
static int history_query(const struct scope *s, const struct principal *p,
			 const char *head, const char *tail, int64_t id,
			 struct db_res **res, struct err *e)
{
	struct sqlb b;
	sqlb_init(&b, 2);
	sqlb_add(&b, head);
	sqlb_bind(&b, " AND t.customer_id = ?", DB_INT(id));
	ticket_scope_sql(&b, p);
	sqlb_add(&b, tail);
	int rc = db_sq(s, b.sql.data, b.v, b.n, res, e);
	sqlb_free(&b);
	return rc;
}

json_t *customer_history(const struct scope *s, const struct principal *p,
			 int64_t id, struct err *e)
{
	/* A merged customer has a (possibly empty) history too; an unknown one,
	 * or one of another account, has none. */
	int64_t one;
	int found = db_sq_int(s, "SELECT 1 FROM customers WHERE account_id = $1 AND id = $2",
			      DB_ARGS(DB_INT(id)), &one, e);
	if (found == 0)
		ERR_NOT_FOUND(e, "customer not found");
	if (found != 1)
		return NULL;
	struct db_res *res = NULL;
	if (history_query(s, p, "SELECT t.id, t.number, t.subject, t.status, t.priority, "
			  "t.origin, t.created_at, t.updated_at FROM tickets t WHERE "
			  "t.account_id = $1 AND t.merged_into IS NULL",
			  " ORDER BY t.updated_at DESC, t.id DESC LIMIT 200", id, &res, e) < 0)
		return NULL;
	json_t *tickets = json_array();
	while (res && db_res_next(res)) {
		json_t *t = json_pack("{sI sI ss ss ss ss}", "id", (json_int_t)db_res_int(res, 0),
			"number", (json_int_t)db_res_int(res, 1), "subject", db_res_text(res, 2),
			"status", db_res_text(res, 3), "priority", db_res_text(res, 4),
			"channel", db_res_text(res, 5));
		json_object_set_new(t, "created_at", rj_time(res, 6));
		json_object_set_new(t, "updated_at", rj_time(res, 7));
		json_array_append_new(tickets, t);
	}
	db_res_free(res);
	if (history_query(s, p, "SELECT m.id, m.ticket_id, m.author_kind, m.direction, m.text, "
			  "m.created_at, t.origin FROM messages m JOIN tickets t ON "
			  "t.id = m.ticket_id WHERE m.account_id = $1 AND m.internal = 0",
			  " ORDER BY m.id DESC LIMIT 50", id, &res, e) < 0) {
		json_decref(tickets);
		return NULL;
	}
	json_t *messages = json_array();
	while (res && db_res_next(res)) {
		json_t *m = json_pack("{sI sI ss ss ss ss}", "id", (json_int_t)db_res_int(res, 0),
			"ticket_id", (json_int_t)db_res_int(res, 1), "author_kind",
			db_res_text(res, 2), "direction", db_res_text(res, 3),
			"text", db_res_text(res, 4), "channel", db_res_text(res, 6));
		json_object_set_new(m, "created_at", rj_time(res, 5));
		json_array_append_new(messages, m);
	}
	db_res_free(res);
	return json_pack("{so so}", "tickets", tickets, "messages", messages);
}
