-- One counter that moves whenever a row of users changes (a display name,
-- a deactivation, anything) and whenever anyone joins or leaves a room: a
-- room page shows authors' names and tags and the room's members, so a
-- page cache keyed on the room's seq and this counter never serves a name
-- or a member list that has changed, on any node.
CREATE TABLE people_changes (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    n  BIGINT NOT NULL
);
INSERT INTO people_changes (id, n) VALUES (1, 0);
CREATE FUNCTION count_people_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE people_changes SET n = n + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
-- Named as SQLite's are, one per event.
CREATE TRIGGER users_updated AFTER UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION count_people_change();
CREATE TRIGGER users_deleted AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION count_people_change();
CREATE TRIGGER memberships_added AFTER INSERT ON memberships
    FOR EACH ROW EXECUTE FUNCTION count_people_change();
CREATE TRIGGER memberships_removed AFTER DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION count_people_change();
