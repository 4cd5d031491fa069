-- The sandbox pool (issue 23): pre-started generic runtime containers, each serving one
-- invocation. PostgreSQL decides who gets a container: pool_claims is keyed by the Swarm
-- task id, so two CLIs (or a CLI and the dispatcher) can never hand two jobs to one container.

-- A request that ran in a pool container says so, and which task and container it was.
ALTER TABLE requests DROP CONSTRAINT IF EXISTS requests_mode_check;
ALTER TABLE requests ADD CONSTRAINT requests_mode_check CHECK (mode IN ('cold', 'warm', 'pool'));
ALTER TABLE requests ADD COLUMN IF NOT EXISTS pool_task text;

-- How a function's invocations run by default: auto (the pool when one fits, else a service),
-- pool (the same, said explicitly), service (always one service per invocation).
ALTER TABLE functions ADD COLUMN IF NOT EXISTS isolation text NOT NULL DEFAULT 'auto'
  CHECK (isolation IN ('auto', 'pool', 'service'));

-- One row per claimed container until its invocation ends. A claim whose job was never sent
-- (its CLI died) is given back at expires_at by gc or the next claimer: the container is told
-- to retire (it exits unused and Swarm replaces it) and the row, with its request, is closed.
CREATE TABLE IF NOT EXISTS pool_claims (
  task_id      text PRIMARY KEY,
  service_id   text NOT NULL,
  container_id text,
  request_id   uuid,
  job_sent     boolean NOT NULL DEFAULT false,
  claimed_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS pool_claims_expires_idx ON pool_claims (expires_at);
