-- 0001 foundation: accounts, roles, users, teams, sessions, API tokens, audit log.
-- Times are UTC milliseconds; ids are 64-bit integers; flags are 0/1 integers
-- so the same SQL runs on both engines.
--
-- A row that refers to another account-owned row does so by (account_id, id)
-- so the database itself refuses a reference across accounts.
-- AUTOINCREMENT: SQLite would otherwise hand a deleted row's id (the
-- highest) to the next row, and audit_log, URLs and caches that name the old
-- row would then name the new one; PostgreSQL identities never repeat.

CREATE TABLE accounts (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	slug TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

CREATE TABLE roles (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	builtin INTEGER NOT NULL DEFAULT 0,
	permissions TEXT NOT NULL,           -- JSON array of permission names
	data_scope TEXT NOT NULL CHECK (data_scope IN ('own', 'team', 'all')),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (account_id, name),
	UNIQUE (account_id, id)              -- target of same-account references
);

CREATE TABLE users (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	email TEXT NOT NULL,                 -- stored lower-cased
	name TEXT NOT NULL,
	role_id INTEGER NOT NULL,
	password_hash TEXT,                  -- argon2id string; NULL: cannot log in
	active INTEGER NOT NULL DEFAULT 1,
	failed_logins INTEGER NOT NULL DEFAULT 0,
	locked_until INTEGER NOT NULL DEFAULT 0,
	last_login_at INTEGER,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (account_id, email),
	UNIQUE (account_id, id),
	FOREIGN KEY (account_id, role_id) REFERENCES roles (account_id, id)
);
CREATE INDEX users_email ON users (email);

CREATE TABLE teams (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (account_id, name),
	UNIQUE (account_id, id)
);

CREATE TABLE team_members (
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	team_id INTEGER NOT NULL,
	user_id INTEGER NOT NULL,
	PRIMARY KEY (team_id, user_id),
	FOREIGN KEY (account_id, team_id) REFERENCES teams (account_id, id)
		ON DELETE CASCADE,
	FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id)
		ON DELETE CASCADE
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE sessions (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	user_id INTEGER NOT NULL,
	token_hash TEXT NOT NULL UNIQUE,     -- hex SHA-256 of the cookie value
	csrf_token TEXT NOT NULL,
	ip TEXT NOT NULL DEFAULT '',
	user_agent TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id)
		ON DELETE CASCADE
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	user_id INTEGER NOT NULL,
	name TEXT NOT NULL,
	token_hash TEXT NOT NULL UNIQUE,     -- hex SHA-256; the token is shown once
	prefix TEXT NOT NULL,                -- first characters, to recognise it
	created_at INTEGER NOT NULL,
	last_used_at INTEGER,
	expires_at INTEGER,
	revoked_at INTEGER,
	FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id)
		ON DELETE CASCADE
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- One hash chain per account: each row's hash covers its fields and the
-- previous row's hash.  audit_heads holds the chain's tip; updating it first
-- serialises writers on both engines.
CREATE TABLE audit_heads (
	account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	hash TEXT NOT NULL
);

CREATE TABLE audit_log (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL,         -- no FK: the log outlives rows it names
	seq INTEGER NOT NULL,
	actor_type TEXT NOT NULL,            -- user, token, system
	actor_id INTEGER,
	actor_label TEXT NOT NULL,
	action TEXT NOT NULL,                -- e.g. user.create
	target_type TEXT NOT NULL,
	target_id INTEGER,
	detail TEXT NOT NULL,                -- JSON object
	ip TEXT NOT NULL DEFAULT '',
	request_id TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL,
	UNIQUE (account_id, seq)
);
CREATE INDEX audit_log_time ON audit_log (account_id, created_at);
