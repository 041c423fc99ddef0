-- Usernames that look alike share this key: besides case and the look-alike
-- pairs of 0005 (0/o, 1/l/i, rn/m, vv/w), '-' and '_' are dropped, as
-- chat.NameSkeleton drops every character that is not a letter or digit, so
-- "al-ice" and "alice_" read as alice. Keep the two in step.
DROP INDEX users_skeleton;
CREATE INDEX users_skeleton ON users (
    replace(replace(replace(replace(replace(replace(replace(lower(username), '-', ''), '_', ''), '0', 'o'), '1', 'l'), 'i', 'l'), 'rn', 'm'), 'vv', 'w')
);
