-- SQLite's 0028: what each imported Slack object became.

CREATE TABLE slack_ids (
    kind     TEXT   NOT NULL,
    scope    TEXT   NOT NULL DEFAULT '',
    slack_id TEXT   NOT NULL,
    agora_id BIGINT NOT NULL,
    PRIMARY KEY (kind, scope, slack_id)
);
