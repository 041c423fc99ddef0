-- Read receipts (issue 21): whether a person's reads are shown to others,
-- and others' to them (POST /settings/privacy). On unless they turn it off.
ALTER TABLE users ADD COLUMN read_receipts INTEGER NOT NULL DEFAULT 1;
