-- SQLite's 0014: the username look-alike index also drops '-' and '_'. The
-- same expression as SQLite's, word for word (the store's query uses it);
-- chat.NameSkeleton computes it for any name.
DROP INDEX users_skeleton;
CREATE INDEX users_skeleton ON users (
    replace(replace(replace(replace(replace(replace(replace(lower(username), '-', ''), '_', ''), '0', 'o'), '1', 'l'), 'i', 'l'), 'rn', 'm'), 'vv', 'w')
);
