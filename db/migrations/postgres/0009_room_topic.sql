-- A room's topic, shown under its name and set by its members.
ALTER TABLE rooms ADD COLUMN topic TEXT NOT NULL DEFAULT '';
