/*
 * mail_poll.h -- the IMAP poller (issue 5): brings the mail of every
 * e-mail channel with an IMAP server into tickets.
 *
 * Owns: the background thread and what one poll of one mailbox does,
 * with libcurl on one connection:
 *   1. STATUS folder (UIDVALIDITY UIDNEXT): nothing new -> done (one round
 *      trip for an idle mailbox); a new UIDVALIDITY -> read from UID 1
 *      again (what was stored before is recognised by its Message-ID).
 *   2. UID SEARCH UID <last+1>:* -> the new UIDs, oldest first, at most
 *      MAIL_POLL_BATCH per poll (the next poll follows at once).
 *   3. For each: fetch it, store it through core/mail_in (its own
 *      transaction), THEN move the mailbox's mark to its UID, then flag it
 *      \Seen on the server (a courtesy for people reading the mailbox too).
 * A crash between any two steps loses nothing (the mark moves only after
 * the commit) and stores nothing twice (a message fetched again is found
 * by its Message-ID, or by the hash of its bytes).  A message that is not
 * mail at all, or larger than MAIL_POLL_MAX_BYTES, is skipped with a
 * warning in the log (it stays in the mailbox); a failure of the server or
 * the database ends the poll with the error shown to admins
 * (core/mailbox) and a doubling delay before the next.
 *
 * Schedule and leases are core/mailbox's: each node runs this thread;
 * a mailbox is polled by one of them at a time.
 */
#ifndef KEFU_CORE_MAIL_POLL_H
#define KEFU_CORE_MAIL_POLL_H

#include <stdint.h>

#include "../util/err.h"

#define MAIL_POLL_BATCH 200
#define MAIL_POLL_MAX_BYTES (64u << 20)

struct mail_poll_config {
	const char *database;  /* URL for the poller's own connection */
	const char *blob_root; /* <data>/blobs */
	int64_t tick_ms;       /* how often due mailboxes are looked for; 0: 1000 */
};

/* Start the poller thread (once per process); the configuration is
 * copied.  The database need not be reachable yet. */
int mail_poll_start(const struct mail_poll_config *cfg, struct err *e);
/* Stop: the poll in progress ends after the transfer it is in (transfers
 * are aborted at once), its progress kept; then join. */
void mail_poll_stop(void);
/* Look for due mailboxes now (after "poll now"; any thread). */
void mail_poll_kick(void);

#endif
