/*
 * customer.h -- customers: one profile per person across every channel.
 *
 * Owns: the customers, customer_tags, customer_identities and
 * customer_merges tables.  An identity (kind + handle: email:li@x.cn,
 * phone:+8613800000000, wechat:<openid>, api:<external id>) names a customer
 * on one channel and is unique per account, so a message from a known handle
 * always lands on the same profile.  Merging two profiles moves identities,
 * tickets and messages and is recorded so an admin can undo it.
 *
 * Personal data: phone numbers (profile, identities) and ID-like custom
 * attributes are masked unless the caller may see them (rbac "pii.read");
 * masking happens here, when the JSON is built, so no caller can forget it.
 */
#ifndef KEFU_CORE_CUSTOMER_H
#define KEFU_CORE_CUSTOMER_H

#include <jansson.h>
#include <stdint.h>

#include "../store/db.h"

struct customer_input {
	const char *name;        /* NULL: unchanged */
	const char *email;       /* primary address; also an identity */
	const char *phone;       /* primary number; also an identity */
	const char *level;       /* normal, vip (or an account's own levels) */
	const char *external_id; /* CRM id */
	const json_t *tags;       /* array of strings; NULL: unchanged */
	const json_t *attributes; /* object; NULL: unchanged */
};

struct customer_filter {
	const char *q;     /* name, e-mail, phone or any identity handle */
	const char *tag;
	const char *level;
	int64_t before;    /* cursor: ids below this (0: newest) */
	int limit;
};

/* Identity kinds are [a-z0-9_]{1,20}; handles are normalised per kind
 * (e-mail lower-cased, phone digits with an optional leading +).  0 ok, -1
 * invalid (400). */
int customer_identity_normalize(const char *kind, const char *handle,
				char *out, size_t n, struct err *e);

int customer_create(const struct scope *s, const struct customer_input *in,
		    int64_t *id, struct err *e);
int customer_update(const struct scope *s, int64_t id,
		    const struct customer_input *in, struct err *e);
json_t *customer_get(const struct scope *s, int64_t id, int unmask,
		     struct err *e);
int customer_list(const struct scope *s, const struct customer_filter *f,
		  int unmask, json_t *items, int64_t *next, struct err *e);

/* 1 found (id set), 0 none, -1 error. */
int customer_find_identity(const struct scope *s, const char *kind,
			   const char *handle, int64_t *id, struct err *e);
int customer_identity_add(const struct scope *s, int64_t customer_id,
			  const char *kind, const char *handle, struct err *e);
int customer_identity_remove(const struct scope *s, int64_t customer_id,
			     int64_t identity_id, struct err *e);

/* Move everything of source onto target; returns the merge id.  404 when
 * either is unknown or already merged, 422 when they are the same. */
int customer_merge(const struct scope *s, int64_t source, int64_t target,
		   int64_t actor_id, int64_t *merge_id, struct err *e);
/* Give the source back what the merge moved (rows moved elsewhere since
 * stay there); *source_id (may be NULL) is set to the restored customer.
 * 404 unknown merge; 409 already undone, or the target was merged on since
 * (undo that merge first). */
int customer_merge_undo(const struct scope *s, int64_t merge_id,
			int64_t *source_id, struct err *e);

/* Tickets and recent messages of the customer across all channels, as far
 * as p's data scope reaches (p NULL: everything). */
struct principal;
json_t *customer_history(const struct scope *s, const struct principal *p,
			 int64_t id, struct err *e);

/* "+8613812345678" -> "+86138****5678": keeps enough to recognise. */
void customer_mask_phone(const char *in, char *out, size_t n);

#endif
