-- Languages (issue 21): a notice the server writes ("ann joined #general")
-- keeps what it says as a catalog key and its values (JSON:
-- chat.NoticeText), so each reader reads it in their language. body keeps
-- its English, as before; older notices have none and show their body.
ALTER TABLE messages ADD COLUMN notice TEXT;
