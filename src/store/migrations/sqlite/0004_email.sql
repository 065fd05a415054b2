-- 0004: the e-mail channel (issue 5).
--
-- messages.flags: what the channel noticed about an inbound message, as a
-- JSON array of "auto_reply" (Auto-Submitted, X-Autoreply, vacation
-- subjects), "bulk" (Precedence bulk/junk/list, List-Id) and "dsn" (a
-- delivery status notification).  Such messages are stored like any other
-- (nothing is lost) but rules that answer automatically skip them, so two
-- robots never answer each other.
ALTER TABLE messages ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';

-- A sender's recent messages on a channel (flood limit: too many in a
-- few minutes go onto their open ticket instead of opening new ones).
CREATE INDEX messages_customer ON messages (account_id, customer_id, created_at);
