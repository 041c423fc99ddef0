-- Organisations (issue 22): operators' commands, one-time password links,
-- incoming webhooks, accounts linked to an OpenID Connect provider.

-- Every node looks for accounts deactivated from outside it (`agora users
-- deactivate` runs as a process of its own) to close their sockets.
CREATE INDEX users_deactivated ON users (deactivated_at) WHERE deactivated_at IS NOT NULL;

-- A link that sets an account's password once. Only the token's hash is kept,
-- as for sessions: the link is shown once.
CREATE TABLE password_links (
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX password_links_user ON password_links (user_id);

-- A Slack-compatible incoming webhook: whoever holds the secret posts to the
-- room as the hook's bot account. Only the secret's hash is kept. A revoked
-- hook stays listed.
CREATE TABLE incoming_hooks (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id      INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    bot_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_hash  BLOB    NOT NULL UNIQUE,
    created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

-- An account signed in through an OpenID Connect provider is found by the
-- provider's (issuer, sub), never by a name that may change.
CREATE TABLE oidc_identities (
    issuer     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_identities_user ON oidc_identities (user_id);
