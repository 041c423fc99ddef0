-- Languages (issue 21): the language a person reads agora in, chosen on
-- their profile; '' follows their browser's Accept-Language.
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';
