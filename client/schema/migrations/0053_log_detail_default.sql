-- A log row written by someone other than the tool (a SQL script, an
-- older tool, the back office) carries no detail: '{}' says "nothing
-- beyond before and after", as 0021 recorded for the rows before it, and
-- undo reads such a row the same way.
ALTER TABLE api_operationlog ALTER COLUMN detail SET DEFAULT '{}'::jsonb;
