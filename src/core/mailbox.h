/*
 * mailbox.h -- the IMAP poller's record of each mailbox (migration 0005,
 * table mailbox_state): how far it has read, how the last poll went, when
 * the next is due, and who is polling it now.
 *
 * Owns: the progress mark (uidvalidity + last_uid: the highest UID whose
 * message is committed, or was skipped on purpose -- the poller's truth,
 * not the server's \Seen flag), the status admins see (state, error,
 * failures, times), the schedule (next_poll_at; 0 = now, which is what
 * "poll now" sets; after a failure the delay doubles from poll_seconds up
 * to MAILBOX_BACKOFF_MAX_MS), and the lease that lets one poller at a time
 * work a mailbox when several nodes run.  A lease names its holder
 * ("host/pid"); a node finding a lease of a dead process on its own host
 * (a crash, kill -9) takes it at once instead of waiting for it to expire.
 */
#ifndef KEFU_CORE_MAILBOX_H
#define KEFU_CORE_MAILBOX_H

#include <jansson.h>
#include <stdint.h>

#include "../store/db.h"

#define MAILBOX_LEASE_MS (90 * 1000)
#define MAILBOX_BACKOFF_MAX_MS (3600 * 1000)
#define MAILBOX_DEFAULT_POLL_S 60

/* A mailbox to poll, as mailbox_due lists it. */
struct mailbox {
	int64_t channel_id, account_id;
	json_t *config;      /* the channel's config (owned) */
	uint64_t uidvalidity, last_uid;
	int64_t failures;
};

/* Active e-mail channels with an IMAP server whose poll is due and whose
 * lease this process took (until now + MAILBOX_LEASE_MS), at most max.
 * *boxes is malloc'd; free with mailbox_free_all. */
int mailbox_due(struct db *db, int64_t now, int max, struct mailbox **boxes, int *n,
		struct err *e);
void mailbox_free_all(struct mailbox *boxes, int n);

/* Progress: uid (and a new uidvalidity) taken; renews the lease.  0 or -1.
 * 0 rows (the lease was lost) is not an error: the mark only moves up. */
int mailbox_progress(struct db *db, const struct mailbox *b, uint64_t uidvalidity,
		     uint64_t last_uid, struct err *e);
/* The poll's end: ok (error NULL) or failed with error; schedules the next
 * (at once when more is set: the poll stopped at its batch size) and
 * releases the lease. */
int mailbox_done(struct db *db, const struct mailbox *b, const char *error, int more,
		 struct err *e);

/* ---- the API's side ---- */

/* {"state": "never"|"ok"|"error", "last_poll_at", "last_ok_at", "error",
 * "failures", "next_poll_at", "uidvalidity", "last_uid"}; a mailbox never
 * polled has state "never" and nulls.  NULL with e on error. */
json_t *mailbox_status(const struct scope *s, int64_t channel_id, struct err *e);
/* Ask for a poll now (next_poll_at = 0).  404 no such channel, 409 not an
 * e-mail channel with an IMAP server. */
int mailbox_poll_now(const struct scope *s, int64_t channel_id, struct err *e);

#endif
