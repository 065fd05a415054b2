-- 0007: the chat queue (issue 4).
--
-- A visitor waiting for an agent is told its place: the chats of the
-- account that wait for an agent (origin 'web', nobody assigned, not
-- merged, new or open) up to its own (core/chat_view.c queue_position).
-- Without an index of its own that count read every unassigned open
-- ticket of the account with a row lookup each: 86% of the CPU of a
-- visitor's message with 200,000 tickets in the database.  This index
-- holds only the waiting chats.  Its columns repeat the condition so that
-- every term of the query is an equality on it (the planner then prefers
-- it to tickets_assignee, with or without ANALYZE's statistics) and the
-- count reads the index alone; the condition must stay word for word the
-- query's, or the planner cannot use it.
CREATE INDEX tickets_chat_queue
	ON tickets (account_id, origin, assignee_id, merged_into, status_category, id)
	WHERE origin = 'web' AND assignee_id IS NULL AND merged_into IS NULL
	AND status_category IN ('new', 'open');
