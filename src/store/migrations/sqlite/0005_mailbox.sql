-- 0005: IMAP mailboxes and replies to closed tickets (issue 5).
--
-- mailbox_state: how far the IMAP poller has read each e-mail channel's
-- folder.  last_uid is the highest UID whose message is committed (or
-- deliberately skipped) under uidvalidity; the server's \Seen flag is only
-- cosmetic.  locked_until leases the mailbox to one poller (several nodes
-- may run one); next_poll_at = 0 asks for a poll now.
CREATE TABLE mailbox_state (
	channel_id INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL,
	uidvalidity INTEGER NOT NULL DEFAULT 0,
	last_uid INTEGER NOT NULL DEFAULT 0,
	last_poll_at INTEGER,
	last_ok_at INTEGER,
	last_error TEXT,
	failures INTEGER NOT NULL DEFAULT 0,
	next_poll_at INTEGER NOT NULL DEFAULT 0,
	locked_until INTEGER NOT NULL DEFAULT 0,
	locked_by TEXT,                      -- host/pid of the poller holding the lease
	FOREIGN KEY (account_id, channel_id) REFERENCES channels (account_id, id) ON DELETE CASCADE
);

-- What a customer's message on a closed ticket does: 'new' opens a new
-- ticket linked to the closed one, 'reopen' reopens it.
ALTER TABLE accounts ADD COLUMN reply_to_closed TEXT NOT NULL DEFAULT 'new'
	CHECK (reply_to_closed IN ('new', 'reopen'));
