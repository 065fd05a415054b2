-- 0007: the chat queue (issue 4).
--
-- A visitor waiting for an agent is told its place: the chats of the
-- account that wait for an agent (origin 'web', nobody assigned, not
-- merged, new or open) up to its own (core/chat_view.c queue_position).
-- Without an index of its own that count read every unassigned open
-- ticket of the account with a row lookup each: 86% of the CPU of a
-- visitor's message with 200,000 tickets in the database.  This index
-- holds only the waiting chats.  Its columns repeat the condition: four
-- equalities, then the id range, so the planner prefers it to
-- tickets_assignee (with or without ANALYZE's statistics) and the count
-- reads the index alone.  id comes before status_category so that the
-- waiting chats up to a given id are one backward range, of which the
-- count reads at most CHAT_QUEUE_CAP (core/chat.h).  The condition must
-- stay word for word the query's, or the planner cannot use the index.
CREATE INDEX tickets_chat_queue
	ON tickets (account_id, origin, assignee_id, merged_into, id, status_category)
	WHERE origin = 'web' AND assignee_id IS NULL AND merged_into IS NULL
	AND status_category IN ('new', 'open');
