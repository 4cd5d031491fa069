-- Scheduled runs (issue 21): a schedule makes one queued request per slot, fired by the
-- dispatcher's leader. PostgreSQL decides who runs a slot: (schedule_id, slot_at) is the
-- primary key of schedule_slots, so a restarted, replaced or racing dispatcher can neither fire
-- a slot twice nor lose it (next_slot_at moves in the same transaction as the slot's row).

-- Owned like functions: deleting the function or the user deletes its schedules (README "Schedules").
CREATE TABLE IF NOT EXISTS schedules (
  id           uuid PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  function_id  uuid NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
  name         text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('cron', 'every', 'at')),
  -- cron: the pattern; every: the period in milliseconds; at: the instant (ISO, UTC).
  expression   text NOT NULL,
  tz           text NOT NULL DEFAULT 'UTC',
  -- The input each run gets (JSON text), as fn invoke --data.
  data         text NOT NULL DEFAULT '{}',
  start_at     timestamptz,
  end_at       timestamptz,
  -- An --every schedule's slots are anchor + k * period.
  anchor_at    timestamptz NOT NULL,
  overlap      text NOT NULL DEFAULT 'skip' CHECK (overlap IN ('skip', 'queue', 'allow')),
  catch_up     text NOT NULL DEFAULT 'none' CHECK (catch_up IN ('none', 'last', 'all')),
  paused       boolean NOT NULL DEFAULT false,
  -- The first slot not yet decided; NULL when no slot is left (past its end, or a done --at).
  next_slot_at timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, name)
);
CREATE INDEX IF NOT EXISTS schedules_due_idx ON schedules (next_slot_at) WHERE NOT paused AND next_slot_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS schedules_function_idx ON schedules (function_id);

-- Every decided slot: fired (with its request) or skipped (with why).
CREATE TABLE IF NOT EXISTS schedule_slots (
  schedule_id uuid NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
  slot_at     timestamptz NOT NULL,
  -- Deferred: the slot's row is written first (its conflict decides), its request in the same transaction.
  request_id  uuid REFERENCES requests(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
  outcome     text NOT NULL CHECK (outcome IN ('fired', 'skipped')),
  reason      text,
  -- The moment of the insert (not the transaction's start): after whatever the decision read.
  decided_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (schedule_id, slot_at)
);
-- Pruning the request log (gc) sets a pruned request's slots' request_id to NULL: this index keeps
-- each pruned batch from scanning every slot.
CREATE INDEX IF NOT EXISTS schedule_slots_request_idx ON schedule_slots (request_id) WHERE request_id IS NOT NULL;
