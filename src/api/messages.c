/*
 * messages.c -- /api/v1/tickets/{id}/messages and /timeline: replies,
 * internal notes with @mentions, attachments; reading the conversation.
 */
#include <string.h>

#include "../core/reply.h"
#include "../core/ticket_event.h"
#include "../text/sanitize.h"
#include "input.h"
#include "ticket_common.h"

static void messages_list(struct req *r)
{
	int64_t id;
	if (api_ticket_id(r, &id) < 0)
		return;
	json_t *items = json_array();
	struct err e = {0};
	if (message_list(api_scope(r), id, 1, items, &e) < 0) {
		json_decref(items);
		api_fail(r, &e);
		return;
	}
	api_reply_list(r, items, 0);
}

static void timeline(struct req *r)
{
	int64_t id;
	if (api_ticket_id(r, &id) < 0)
		return;
	json_t *items = json_array();
	struct err e = {0};
	if (ticket_timeline(api_scope(r), id, 1, items, &e) < 0) {
		json_decref(items);
		api_fail(r, &e);
		return;
	}
	api_reply_list(r, items, 0);
}

/* html from a client is sanitized; text defaults to html's text. */
static void prepare_body(const char *text, const char *html, struct buf *t,
			 struct buf *h)
{
	if (html && html[0]) {
		sanitize_html(html, strlen(html), NULL, h, NULL);
		if (!text || !text[0])
			html_to_text(html, strlen(html), t);
	}
	if (text)
		buf_puts(t, text);
}

static void messages_create(struct req *r)
{
	int64_t id, mid;
	if (api_ticket_id(r, &id) < 0)
		return;
	json_t *body = req_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"text", "html", "internal", "mentions",
					   "attachments", NULL};
	const char *text, *html;
	const json_t *mentions, *attachments;
	int internal;
	struct err e = {0};
	struct buf t = BUF_INIT, h = BUF_INIT;
	if (in_keys(body, keys, &e) < 0 || in_str(body, "text", 0, &text, &e) < 0 ||
	    in_str(body, "html", 0, &html, &e) < 0 || in_bool(body, "internal", &internal, &e) < 0 ||
	    in_array(body, "mentions", 0, &mentions, &e) < 0 ||
	    in_array(body, "attachments", 0, &attachments, &e) < 0) {
		api_fail(r, &e);
	} else if (api_begin(r) == 0) {
		prepare_body(text, html, &t, &h);
		struct message_new m = {.ticket_id = id, .internal = internal == 1,
					.text = t.data ? t.data : "", .html = h.data,
					.mentions = mentions, .attachments = attachments};
		struct ticket_actor a = api_ticket_actor(r);
		if (reply_post(api_scope(r), &a, &m, &mid, &e) < 0) {
			api_fail(r, &e);
		} else {
			json_t *d = json_pack("{sI sb}", "ticket_id", (json_int_t)id, "internal",
					      m.internal);
			int rc = api_audit(r, m.internal ? "message.note" : "message.reply",
					   "message", mid, d);
			json_decref(d);
			json_t *msg = rc == 0 ? message_get(api_scope(r), mid, &e) : NULL;
			if (msg)
				reply_json(r, 201, msg);
			else if (rc == 0)
				api_fail(r, &e);
		}
	}
	buf_free(&t);
	buf_free(&h);
	json_decref(body);
}

const struct route api_message_routes[] = {
	{HTTP_GET, "/api/v1/tickets/{id}/messages", messages_list, "tickets.read", 0},
	{HTTP_POST, "/api/v1/tickets/{id}/messages", messages_create, "tickets.write", 0},
	{HTTP_GET, "/api/v1/tickets/{id}/timeline", timeline, "tickets.read", 0},
};
const size_t api_message_nroutes = sizeof api_message_routes / sizeof api_message_routes[0];
