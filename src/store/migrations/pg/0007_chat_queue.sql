-- 0007: the chat queue (issue 4).
--
-- A visitor waiting for an agent is told its place: the chats of the
-- account that wait for an agent (origin 'web', nobody assigned, not
-- merged, new or open) up to its own (core/chat_view.c queue_position).
-- Without an index of its own that count read every unassigned open
-- ticket of the account with a row lookup each: 86% of the CPU of a
-- visitor's message with 200,000 tickets in the database.  This index
-- holds only the waiting chats, by id: the waiting chats up to a given
-- id are one backward range, of which the count reads at most
-- CHAT_QUEUE_CAP (core/chat.h).  (SQLite's twin repeats the condition's
-- columns for its planner; PostgreSQL drops the terms the condition
-- implies, and with those columns in front could not read in id order.)
-- The condition must stay word for word the query's, or the planner
-- cannot use the index.
CREATE INDEX tickets_chat_queue ON tickets (account_id, id)
	WHERE origin = 'web' AND assignee_id IS NULL AND merged_into IS NULL
	AND status_category IN ('new', 'open');
