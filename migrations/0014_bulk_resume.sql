-- Resumable bulk runs (issue 26; the lead renumbers this file 0013 at merge). Every answered
-- line of a bulk run is keyed by (run, line index, sha256 of the line): a run resumed with
-- `fn invoke --bulk FILE --resume RUN` is a NEW request row linked to the one it continues
-- (resumed_from), so every row keeps its own ending (its lease, its summary); the run's answers
-- are the items of the whole chain. The extra item columns are what an answer line printed
-- that the item did not keep, so a resumed run prints recorded answers exactly as the first did.
ALTER TABLE requests ADD COLUMN IF NOT EXISTS resumed_from uuid REFERENCES requests(id) ON DELETE SET NULL;
-- A row is resumed at most once: two resumes of the same run racing cannot both run its
-- missing lines (the second is refused). Pruning's SET NULL finds the rows by this index too.
CREATE UNIQUE INDEX IF NOT EXISTS requests_resumed_from ON requests (resumed_from) WHERE resumed_from IS NOT NULL;

ALTER TABLE request_items ADD COLUMN IF NOT EXISTS input_sha256 bytea;
ALTER TABLE request_items ADD COLUMN IF NOT EXISTS node text;
-- The function's own duration (the answer's durationMs; duration_ms is the caller's round trip).
ALTER TABLE request_items ADD COLUMN IF NOT EXISTS run_ms double precision;
-- The answer's structured error ({type, message, traceback}), as printed.
ALTER TABLE request_items ADD COLUMN IF NOT EXISTS error_detail jsonb;
-- The result as the function wrote it, only when jsonb would print it differently (object keys
-- out of jsonb's order): a resumed run prints recorded answers byte for byte.
ALTER TABLE request_items ADD COLUMN IF NOT EXISTS result_text text;
-- The answer's exit code (0, 6, 8, 124...): a resumed run's own exit code counts recorded answers too.
ALTER TABLE request_items ADD COLUMN IF NOT EXISTS exit_code smallint;
