-- Slack import (issue 22): what each imported Slack object became, so that
-- importing the same export again adds nothing. kind is user, bot, channel
-- or message; scope is the channel a message's ts belongs to ('' for the
-- others). A row outlives what it names: a message deleted since (by its
-- author, or by retention) is not brought back by the next import.
CREATE TABLE slack_ids (
    kind     TEXT    NOT NULL,
    scope    TEXT    NOT NULL DEFAULT '',
    slack_id TEXT    NOT NULL,
    agora_id INTEGER NOT NULL,
    PRIMARY KEY (kind, scope, slack_id)
);
