-- 0003 real-time: the event log the WebSocket hub fans out and replays,
-- the website/app chat channel (public key, visitor sessions), ratings,
-- read marks, agent presence and who is viewing a ticket.

-- Per-account event ids: taken at commit, under this row's lock, so ids
-- are handed out in commit order and a reader never sees N+1 before N.
CREATE TABLE event_counters (
	account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
	last_seq INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE events (
	gid INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	seq INTEGER,                         -- the per-account id; NULL until commit
	type TEXT NOT NULL,
	audience INTEGER NOT NULL,           -- 1 staff, 2 the customer
	ticket_id INTEGER,
	team_id INTEGER,
	assignee_id INTEGER,
	prev_team_id INTEGER,                -- before a transfer: the old team still hears it
	prev_assignee_id INTEGER,
	customer_id INTEGER,
	data TEXT NOT NULL,                  -- JSON
	created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX events_seq ON events (account_id, seq);
CREATE INDEX events_created ON events (created_at);

-- The chat widget finds its channel by a public key (not a secret).
ALTER TABLE channels ADD COLUMN public_key TEXT;
CREATE UNIQUE INDEX channels_public_key ON channels (public_key);

-- A visitor's chat session: the widget keeps the token, we keep its hash.
CREATE TABLE widget_sessions (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	channel_id INTEGER NOT NULL,
	customer_id INTEGER NOT NULL,
	token_hash TEXT NOT NULL UNIQUE,
	identity_kind TEXT NOT NULL,         -- how ingest finds the customer:
	identity_handle TEXT NOT NULL,       -- web:<visitor> or app_user:<company id>
	identified INTEGER NOT NULL DEFAULT 0, -- 1: signed by the company's backend
	lang TEXT,
	page_url TEXT,
	created_at INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	UNIQUE (account_id, id),
	FOREIGN KEY (account_id, channel_id) REFERENCES channels (account_id, id) ON DELETE CASCADE,
	FOREIGN KEY (account_id, customer_id) REFERENCES customers (account_id, id) ON DELETE CASCADE
);
CREATE INDEX widget_sessions_customer ON widget_sessions (account_id, customer_id);

-- Satisfaction rating (T7) and read marks (last message read by each side).
ALTER TABLE tickets ADD COLUMN csat_score INTEGER;
ALTER TABLE tickets ADD COLUMN csat_comment TEXT;
ALTER TABLE tickets ADD COLUMN csat_at INTEGER;
ALTER TABLE tickets ADD COLUMN customer_read_id INTEGER;
ALTER TABLE tickets ADD COLUMN agent_read_id INTEGER;

-- What an agent chose (online/away); whether they are connected is in
-- presence_nodes, one row per server process that holds connections.
CREATE TABLE presence (
	account_id INTEGER NOT NULL,
	user_id INTEGER NOT NULL,
	chosen TEXT NOT NULL DEFAULT 'online' CHECK (chosen IN ('online', 'away', 'offline')),
	status TEXT NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'away', 'offline')),
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (account_id, user_id),
	FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE
);

CREATE TABLE presence_nodes (
	node TEXT NOT NULL,
	account_id INTEGER NOT NULL,
	user_id INTEGER NOT NULL,
	connections INTEGER NOT NULL,
	idle INTEGER NOT NULL DEFAULT 0,     -- 1: every connection idle on that node
	heartbeat_at INTEGER NOT NULL,
	PRIMARY KEY (node, account_id, user_id)
);
CREATE INDEX presence_nodes_user ON presence_nodes (account_id, user_id);

CREATE TABLE ticket_viewers (
	account_id INTEGER NOT NULL,
	ticket_id INTEGER NOT NULL,
	user_id INTEGER NOT NULL,
	node TEXT NOT NULL,
	since INTEGER NOT NULL,
	heartbeat_at INTEGER NOT NULL,
	PRIMARY KEY (account_id, ticket_id, user_id, node)
);
CREATE INDEX ticket_viewers_node ON ticket_viewers (node);
