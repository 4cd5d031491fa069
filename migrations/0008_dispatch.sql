-- The dispatcher (issue 20): PostgreSQL is the queue, the retry timer, the dead-letter store,
-- the idempotency index and (through advisory locks, which need no table) the semaphore.

-- A function's policy for work the dispatcher runs. NULL means the platform default
-- (core/dispatch/policy.ts), so a default can change without rewriting every function.
ALTER TABLE functions ADD COLUMN IF NOT EXISTS retries integer CHECK (retries BETWEEN 0 AND 10);
ALTER TABLE functions ADD COLUMN IF NOT EXISTS retry_on_error boolean NOT NULL DEFAULT false;
ALTER TABLE functions ADD COLUMN IF NOT EXISTS max_event_age_ms bigint CHECK (max_event_age_ms > 0);
ALTER TABLE functions ADD COLUMN IF NOT EXISTS max_concurrency integer CHECK (max_concurrency > 0);

-- A queued request is the dispatcher's: `pending` until next_attempt_at, then claimed (running,
-- its deadline a lease of one run), then ended or back to pending for its next attempt.
ALTER TABLE requests ADD COLUMN IF NOT EXISTS queued boolean NOT NULL DEFAULT false;
ALTER TABLE requests ADD COLUMN IF NOT EXISTS next_attempt_at timestamptz;
ALTER TABLE requests ADD COLUMN IF NOT EXISTS idempotency_key text;
ALTER TABLE requests ADD COLUMN IF NOT EXISTS input_sha256 text;
-- A dead letter: an async request that failed after its retries or outlived its maximum age.
ALTER TABLE requests ADD COLUMN IF NOT EXISTS dead_at timestamptz;
-- A redrive is a new request with the dead letter's input; both ends point at each other.
ALTER TABLE requests ADD COLUMN IF NOT EXISTS redrive_of uuid;
ALTER TABLE requests ADD COLUMN IF NOT EXISTS redriven_as uuid;

-- The queue's order among rows due at once: the order they were queued in (a bulk run's lines
-- are queued in one statement, where now() is one value for all of them).
CREATE SEQUENCE IF NOT EXISTS requests_queue_seq;
ALTER TABLE requests ADD COLUMN IF NOT EXISTS queue_seq bigint;
CREATE INDEX IF NOT EXISTS requests_queue_idx ON requests (next_attempt_at, queue_seq) WHERE queued AND status = 'pending';
CREATE INDEX IF NOT EXISTS requests_dead_idx ON requests (user_id, dead_at DESC) WHERE dead_at IS NOT NULL AND redriven_as IS NULL;
-- One request per key and user within the window; an older holder gives its key up (queue-repo.ts).
CREATE UNIQUE INDEX IF NOT EXISTS requests_idempotency_idx ON requests (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Every attempt of a request that was tried more than once, with its own outcome.
CREATE TABLE IF NOT EXISTS request_attempts (
  request_id  uuid NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
  attempt     integer NOT NULL,
  status      text NOT NULL,
  error       text,
  node        text,
  started_at  timestamptz,
  finished_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (request_id, attempt)
);

-- A queued request's input, until it ends: the dispatcher runs it later, maybe more than once,
-- and a dead letter's redrive needs it. Cleared when the request succeeds.
ALTER TABLE requests ADD COLUMN IF NOT EXISTS input text;
