-- New messages are indexed for search once per committed batch by the store
-- (one statement, one FTS5 flush) instead of by a trigger row by row, which
-- flushed the index once per message. Edits and deletes keep their triggers.
DROP TRIGGER messages_fts_insert;
