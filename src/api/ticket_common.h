/*
 * ticket_common.h -- what the ticket handlers (tickets.c, ticket_ops.c,
 * messages.c) share: the caller as a ticket actor, loading a ticket the
 * caller may see, and replying with it.
 */
#ifndef KEFU_API_TICKET_COMMON_H
#define KEFU_API_TICKET_COMMON_H

#include "../core/ticket.h"
#include "api.h"

/* The caller as the actor of ticket changes. */
struct ticket_actor api_ticket_actor(struct req *r);
/* Path parameter 0 as a ticket id the caller may see; replies 404 and
 * returns -1 otherwise. */
int api_ticket_id(struct req *r, int64_t *id);
/* Reply status with the ticket (and its links). */
void api_reply_ticket(struct req *r, int status, int64_t id);
/* Assigning to someone else needs tickets.assign; to oneself, no more
 * than tickets.write.  Replies 403 and returns -1 when refused. */
int api_may_assign(struct req *r, int64_t assignee_id);
/* A PATCH-style body ({status, priority, assignee_id, ...}) into c; 400 on
 * bad fields. */
int api_read_change(const json_t *body, struct ticket_change *c, struct err *e);

#endif
