-- SQLite's 0029: a room's own retention, in days.
ALTER TABLE rooms ADD COLUMN retention_days INTEGER;
