-- The durable job queue (chat.Job): background work that survives a
-- restart and runs once on a cluster, claimed under a lease (locked_by,
-- locked_until) and retried with backoff. queue groups jobs that run one at
-- a time; unique_key, when set, makes a job asked for twice one job.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    queue        TEXT    NOT NULL DEFAULT '',
    payload      BLOB    NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'queued',
    run_at       BIGINT  NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    last_error   TEXT    NOT NULL DEFAULT '',
    locked_by    TEXT    NOT NULL DEFAULT '',
    locked_until BIGINT,
    created_at   BIGINT  NOT NULL,
    finished_at  BIGINT,
    unique_key   TEXT
);
CREATE INDEX jobs_due ON jobs (state, run_at);
CREATE INDEX jobs_queue ON jobs (queue, state) WHERE queue <> '';
CREATE UNIQUE INDEX jobs_key ON jobs (unique_key) WHERE unique_key IS NOT NULL;

-- Email: a user's verified address (NULL until one is verified; one
-- account per address), the single-use tokens mailed to check an address
-- (kept as hashes; a reset by email is a password link, 0018's), and the
-- missed-activity email's settings: off or mentions, its delay in minutes,
-- and the last message already emailed so none is emailed twice.
ALTER TABLE users ADD COLUMN email TEXT;
CREATE UNIQUE INDEX users_email ON users (lower(email)) WHERE email IS NOT NULL;

CREATE TABLE email_verifications (
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    used_at    BIGINT
);
CREATE INDEX email_verifications_user ON email_verifications (user_id);

CREATE TABLE notify_settings (
    user_id         INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email           TEXT    NOT NULL DEFAULT 'mentions',
    email_delay     INTEGER NOT NULL DEFAULT 10,
    emailed_through BIGINT  NOT NULL DEFAULT 0
);

-- Keys the nodes share, made once: the one that signs unsubscribe links.
CREATE TABLE server_keys (
    name  TEXT  PRIMARY KEY,
    value BLOB NOT NULL
);
