-- Retention (issue 22): how many days a room keeps its messages (and their
-- files). NULL follows the server's -retention; 0 keeps them for ever.
ALTER TABLE rooms ADD COLUMN retention_days INTEGER;
