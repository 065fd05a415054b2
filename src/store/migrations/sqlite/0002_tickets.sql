-- 0002 tickets: customers and their identities, channels, tickets, messages,
-- attachments, the ticket timeline, links, custom fields and statuses, the
-- outbox and webhooks.  Same conventions as 0001.

CREATE TABLE customers (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name TEXT NOT NULL DEFAULT '',
	email TEXT,                          -- primary address, lower-cased
	phone TEXT,                          -- primary number, digits and +
	level TEXT NOT NULL DEFAULT 'normal',
	tags TEXT NOT NULL DEFAULT '[]',     -- JSON array; also in customer_tags
	attributes TEXT NOT NULL DEFAULT '{}',
	external_id TEXT,                    -- id in the company's CRM
	merged_into INTEGER,                 -- set while merged into another
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	last_seen_at INTEGER,
	UNIQUE (account_id, id)
);
CREATE INDEX customers_name ON customers (account_id, name);
CREATE INDEX customers_email ON customers (account_id, email);
CREATE INDEX customers_phone ON customers (account_id, phone);
CREATE UNIQUE INDEX customers_external ON customers (account_id, external_id);

CREATE TABLE customer_tags (
	account_id INTEGER NOT NULL,
	customer_id INTEGER NOT NULL,
	tag TEXT NOT NULL,
	PRIMARY KEY (customer_id, tag),
	FOREIGN KEY (account_id, customer_id) REFERENCES customers (account_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_tags_tag ON customer_tags (account_id, tag);

-- How a customer is known on each channel: email:a@b.c, phone:+86..., wechat:openid
CREATE TABLE customer_identities (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL,
	customer_id INTEGER NOT NULL,
	kind TEXT NOT NULL,
	handle TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (account_id, kind, handle),
	FOREIGN KEY (account_id, customer_id) REFERENCES customers (account_id, id)
);
CREATE INDEX customer_identities_customer ON customer_identities (customer_id);

-- A merge remembers what moved so an admin can undo it.
CREATE TABLE customer_merges (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	source_id INTEGER NOT NULL,
	target_id INTEGER NOT NULL,
	moved TEXT NOT NULL,                 -- JSON: identity and ticket ids moved
	actor_id INTEGER,
	created_at INTEGER NOT NULL,
	undone_at INTEGER
);

CREATE TABLE channels (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	type TEXT NOT NULL,                  -- api, email, chat, wechat, ...
	name TEXT NOT NULL,
	config TEXT NOT NULL DEFAULT '{}',   -- JSON, type-specific
	token_hash TEXT UNIQUE,              -- inbound Bearer token (SHA-256)
	token_prefix TEXT,
	secret TEXT,                         -- signs what we send out
	active INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (account_id, id)
);

-- Per-account counters (ticket numbers).
CREATE TABLE account_counters (
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	value INTEGER NOT NULL,
	PRIMARY KEY (account_id, name)
);

-- Statuses per account; `category` is the built-in meaning each maps to.
CREATE TABLE ticket_statuses (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	category TEXT NOT NULL CHECK (category IN ('new', 'open', 'pending', 'resolved', 'closed')),
	position INTEGER NOT NULL,
	builtin INTEGER NOT NULL DEFAULT 0,
	UNIQUE (account_id, name)
);

-- Allowed transitions; an account with no rows allows the default workflow.
CREATE TABLE ticket_transitions (
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	from_status TEXT NOT NULL,
	to_status TEXT NOT NULL,
	PRIMARY KEY (account_id, from_status, to_status)
);

CREATE TABLE ticket_fields (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	key TEXT NOT NULL,
	label TEXT NOT NULL,
	type TEXT NOT NULL CHECK (type IN ('text', 'number', 'date', 'select', 'checkbox')),
	options TEXT NOT NULL DEFAULT '[]',  -- JSON array for select
	required INTEGER NOT NULL DEFAULT 0,
	pattern TEXT,                        -- optional validation for text
	position INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	UNIQUE (account_id, key)
);

CREATE TABLE tickets (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	number INTEGER NOT NULL,
	subject TEXT NOT NULL,
	status TEXT NOT NULL,
	status_category TEXT NOT NULL,       -- new/open/pending/resolved/closed
	priority TEXT NOT NULL DEFAULT 'normal',
	category TEXT,
	team_id INTEGER,
	assignee_id INTEGER,
	customer_id INTEGER NOT NULL,
	channel_id INTEGER,
	origin TEXT NOT NULL,                -- channel type it came from
	thread_key TEXT,                     -- channel's conversation id
	tags TEXT NOT NULL DEFAULT '[]',
	fields TEXT NOT NULL DEFAULT '{}',   -- custom field values
	merged_into INTEGER,
	parent_id INTEGER,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	first_response_at INTEGER,
	resolved_at INTEGER,
	closed_at INTEGER,
	last_customer_message_at INTEGER,
	last_message_at INTEGER,
	UNIQUE (account_id, number),
	UNIQUE (account_id, id),
	FOREIGN KEY (account_id, customer_id) REFERENCES customers (account_id, id),
	FOREIGN KEY (account_id, team_id) REFERENCES teams (account_id, id) ON DELETE SET NULL,
	FOREIGN KEY (account_id, assignee_id) REFERENCES users (account_id, id),
	FOREIGN KEY (account_id, channel_id) REFERENCES channels (account_id, id)
);
CREATE INDEX tickets_status ON tickets (account_id, status_category, updated_at);
CREATE INDEX tickets_assignee ON tickets (account_id, assignee_id, status_category);
CREATE INDEX tickets_team ON tickets (account_id, team_id, status_category);
CREATE INDEX tickets_customer ON tickets (account_id, customer_id);
CREATE INDEX tickets_updated ON tickets (account_id, updated_at, id);
CREATE INDEX tickets_thread ON tickets (account_id, channel_id, thread_key);

-- Saved ticket filters: the user's own, or shared with the account.
CREATE TABLE saved_views (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	user_id INTEGER,                      -- owner; NULL: shared
	name TEXT NOT NULL,
	filters TEXT NOT NULL,               -- JSON object of list parameters
	position INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	UNIQUE (account_id, id)
);

CREATE TABLE ticket_tags (
	account_id INTEGER NOT NULL,
	ticket_id INTEGER NOT NULL,
	tag TEXT NOT NULL,
	PRIMARY KEY (ticket_id, tag),
	FOREIGN KEY (account_id, ticket_id) REFERENCES tickets (account_id, id) ON DELETE CASCADE
);
CREATE INDEX ticket_tags_tag ON ticket_tags (account_id, tag);

CREATE TABLE ticket_links (
	account_id INTEGER NOT NULL,
	ticket_id INTEGER NOT NULL,
	other_id INTEGER NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('related', 'parent', 'child', 'merged')),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (ticket_id, other_id, kind),
	FOREIGN KEY (account_id, ticket_id) REFERENCES tickets (account_id, id) ON DELETE CASCADE,
	FOREIGN KEY (account_id, other_id) REFERENCES tickets (account_id, id) ON DELETE CASCADE
);

CREATE TABLE messages (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL,
	ticket_id INTEGER NOT NULL,
	author_kind TEXT NOT NULL CHECK (author_kind IN ('customer', 'agent', 'bot', 'system')),
	author_user_id INTEGER,
	customer_id INTEGER,
	direction TEXT NOT NULL CHECK (direction IN ('in', 'out', 'internal')),
	internal INTEGER NOT NULL DEFAULT 0, -- 1: note visible to staff only
	channel_id INTEGER,
	external_id TEXT,                    -- the channel's id for dedupe
	text TEXT NOT NULL DEFAULT '',
	html TEXT,                           -- sanitized
	mentions TEXT NOT NULL DEFAULT '[]', -- user ids
	delivery_status TEXT,                -- pending, sent, failed (outbound)
	delivery_error TEXT,
	created_at INTEGER NOT NULL,
	UNIQUE (account_id, id),
	FOREIGN KEY (account_id, ticket_id) REFERENCES tickets (account_id, id)
);
CREATE INDEX messages_ticket ON messages (ticket_id, id);
CREATE UNIQUE INDEX messages_external ON messages (account_id, channel_id, external_id);

-- Content-addressed files: data/blobs/ab/cd/<sha256>; one row per use.
CREATE TABLE attachments (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	message_id INTEGER,                  -- NULL until attached (upload first)
	sha256 TEXT NOT NULL,
	size INTEGER NOT NULL,
	content_type TEXT NOT NULL,
	filename TEXT NOT NULL,
	uploaded_by INTEGER,
	created_at INTEGER NOT NULL,
	UNIQUE (account_id, id)
);
CREATE INDEX attachments_message ON attachments (message_id);

-- The timeline: every change to a ticket.
CREATE TABLE ticket_events (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL,
	ticket_id INTEGER NOT NULL,
	kind TEXT NOT NULL,                  -- created, status, assign, transfer, ...
	actor_type TEXT NOT NULL,            -- user, customer, system, token
	actor_id INTEGER,
	data TEXT NOT NULL DEFAULT '{}',
	created_at INTEGER NOT NULL,
	FOREIGN KEY (account_id, ticket_id) REFERENCES tickets (account_id, id) ON DELETE CASCADE
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);

-- Inbound deliveries already seen: (channel, external id) -> the result, so
-- a retried delivery returns the original answer and stores nothing twice.
CREATE TABLE inbound_seen (
	account_id INTEGER NOT NULL,
	channel_id INTEGER NOT NULL,
	external_id TEXT NOT NULL,
	ticket_id INTEGER NOT NULL,
	message_id INTEGER NOT NULL,
	customer_id INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (account_id, channel_id, external_id)
);

CREATE TABLE webhooks (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	url TEXT NOT NULL,
	events TEXT NOT NULL,                -- JSON array of event names
	secret TEXT NOT NULL,
	active INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (account_id, id)
);

-- Work to deliver, written in the same transaction as what caused it.
CREATE TABLE outbox (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	kind TEXT NOT NULL,                  -- channel_reply, webhook
	ref_id INTEGER,                      -- message id or webhook id
	url TEXT NOT NULL,
	payload TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT 'pending', -- pending, delivered, failed
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	locked_until INTEGER NOT NULL DEFAULT 0,
	claims INTEGER NOT NULL DEFAULT 0,         -- times leased; fences a worker whose lease ran out
	last_error TEXT,
	last_status INTEGER,
	created_at INTEGER NOT NULL,
	delivered_at INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_ref ON outbox (account_id, kind, ref_id, id);

CREATE TABLE outbox_attempts (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	outbox_id INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
	account_id INTEGER NOT NULL,
	attempt INTEGER NOT NULL,
	http_status INTEGER,
	error TEXT,
	duration_ms INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX outbox_attempts_item ON outbox_attempts (outbox_id);

-- Full-text search over a ticket's subject and messages: the terms come
-- from src/text/tokenize (already normalised, segmented and stemmed), so the
-- index only splits on spaces ('ascii'; see tokenize.h for why not
-- 'unicode61').  rowid = ticket id.
CREATE VIRTUAL TABLE ticket_fts USING fts5(terms, account_id UNINDEXED, tokenize = 'ascii');
