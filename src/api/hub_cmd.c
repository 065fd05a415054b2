/*
 * hub_cmd.c -- what a WebSocket client may send (see hub.h):
 *   {"type":"ping"}                      -> {"type":"pong"}
 *   {"type":"activity"}                  the agent is at the keyboard
 *   {"type":"typing","ticket_id":N,"typing":true,"internal":false}
 *   {"type":"viewing","ticket_id":N,"viewing":true}
 *   {"type":"read","ticket_id":N,"message_id":M}
 *   {"type":"presence","status":"online"|"away"|"offline"}
 * A customer's widget sends typing and read without ticket_id, and neither
 * viewing nor presence.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "hub.h"

static int want_id(json_t *o, const char *k, int64_t *out, char *err, size_t n)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		snprintf(err, n, "%s must be a positive integer", k);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

static int want_bool(json_t *o, const char *k, int dflt, int *out, char *err, size_t n)
{
	json_t *v = json_object_get(o, k);
	if (!v) {
		*out = dflt;
		return 0;
	}
	if (!json_is_boolean(v)) {
		snprintf(err, n, "%s must be true or false", k);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

static int parse_typed(json_t *o, const char *type, int customer, struct hub_cmd *c,
		       char *err, size_t n)
{
	if (!strcmp(type, "ping") || !strcmp(type, "activity")) {
		c->type = type[0] == 'p' ? CMD_PING : CMD_ACTIVITY;
		return 0;
	}
	if (!strcmp(type, "typing")) {
		c->type = CMD_TYPING;
		return (!customer && want_id(o, "ticket_id", &c->ticket_id, err, n) < 0) ||
		       want_bool(o, "typing", 1, &c->flag, err, n) < 0 ||
		       (!customer && want_bool(o, "internal", 0, &c->internal, err, n) < 0) ? -1 : 0;
	}
	if (!strcmp(type, "read")) {
		c->type = CMD_READ;
		return (!customer && want_id(o, "ticket_id", &c->ticket_id, err, n) < 0) ||
		       want_id(o, "message_id", &c->message_id, err, n) < 0 ? -1 : 0;
	}
	if (!customer && !strcmp(type, "viewing")) {
		c->type = CMD_VIEWING;
		return want_id(o, "ticket_id", &c->ticket_id, err, n) < 0 ||
		       want_bool(o, "viewing", 1, &c->flag, err, n) < 0 ? -1 : 0;
	}
	if (!customer && !strcmp(type, "presence")) {
		const char *st = json_string_value(json_object_get(o, "status"));
		if (!st || (strcmp(st, "online") && strcmp(st, "away") && strcmp(st, "offline"))) {
			snprintf(err, n, "status must be online, away or offline");
			return -1;
		}
		c->type = CMD_PRESENCE;
		snprintf(c->status, sizeof c->status, "%s", st);
		return 0;
	}
	snprintf(err, n, "unknown message type \"%.32s\"", type);
	return -1;
}

int hub_cmd_parse(const char *msg, size_t len, int customer, struct hub_cmd *out,
		  char *err, size_t n)
{
	memset(out, 0, sizeof *out);
	json_error_t je;
	/* Depth is bounded by the 64 KB message limit and jansson's own. */
	json_t *o = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(o)) {
		snprintf(err, n, "send a JSON object with a \"type\"");
		json_decref(o);
		return -1;
	}
	const char *type = json_string_value(json_object_get(o, "type"));
	int rc = type ? parse_typed(o, type, customer, out, err, n) : -1;
	if (!type)
		snprintf(err, n, "\"type\" must be a string");
	json_decref(o);
	return rc;
}
