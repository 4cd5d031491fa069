-- Baseline: the schema of faasctl's schema versions 1 to 6, written before migrations were
-- numbered files. It stays idempotent (IF NOT EXISTS, ADD COLUMN IF NOT EXISTS) because it is
-- also how an installation made at any of those versions upgrades in place: it runs once per
-- database, which then records it in faasctl_migrations. It is numbered 0006 so that a
-- migration's number is the schema version it brings (faasctl_meta.schema_version).
-- Never edit it: faasctl refuses a recorded migration whose file changed. See README.

CREATE TABLE IF NOT EXISTS faasctl_meta (
  key        text PRIMARY KEY,
  value      text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Accounts. The password is stored only as an scrypt hash ("scrypt$N$r$p$salt$hash").
CREATE TABLE IF NOT EXISTS users (
  id            uuid PRIMARY KEY,
  name          text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Login sessions. Only the sha256 of the token is kept; the token lives in the user's 0600 config.
CREATE TABLE IF NOT EXISTS sessions (
  token_sha256 text PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user_idx ON sessions (user_id);

-- A function belongs to one user; its code lives in immutable versions.
CREATE TABLE IF NOT EXISTS functions (
  id              uuid PRIMARY KEY,
  user_id         uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name            text NOT NULL,
  current_version integer NOT NULL DEFAULT 1,
  warm_replicas   integer NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, name)
);

CREATE TABLE IF NOT EXISTS function_versions (
  function_id  uuid NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
  version      integer NOT NULL,
  code         text NOT NULL,
  sha256       text NOT NULL,
  entry        text NOT NULL DEFAULT 'main',
  format       text NOT NULL DEFAULT 'main' CHECK (format IN ('main', 'madhat')),
  memory_bytes bigint NOT NULL,
  nano_cpus    bigint NOT NULL,
  timeout_ms   integer NOT NULL,
  env          jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (function_id, version)
);

-- One faasctl installation = one database. Its id labels every Swarm object faasctl makes, so
-- several installations (or test runs) can share a Swarm without one's gc touching another's.
INSERT INTO faasctl_meta (key, value) VALUES ('installation_id', replace(gen_random_uuid()::text, '-', ''))
  ON CONFLICT (key) DO NOTHING;

-- gc asks which code configs (named by sha256) some version still refers to.
CREATE INDEX IF NOT EXISTS function_versions_sha_idx ON function_versions (sha256);

-- The request log: one row per operation that changes something or runs code.
-- Status follows OpenWhisk's activation record: success, application_error (the
-- function raised), developer_error (bad code, input, timeout or memory), system_error.
CREATE TABLE IF NOT EXISTS requests (
  id               uuid PRIMARY KEY,
  user_id          uuid REFERENCES users(id) ON DELETE CASCADE,
  type             text NOT NULL,
  status           text NOT NULL CHECK (status IN ('pending', 'running', 'success', 'application_error', 'developer_error', 'system_error')),
  params           jsonb NOT NULL DEFAULT '{}'::jsonb,
  result           jsonb,
  error            text,
  output           text,
  output_truncated boolean NOT NULL DEFAULT false,
  function_id      uuid REFERENCES functions(id) ON DELETE SET NULL,
  function_name    text,
  function_version integer,
  mode             text CHECK (mode IN ('cold', 'warm')),
  node             text,
  service_id       text,
  attempt          integer NOT NULL DEFAULT 1,
  duration_ms      double precision,
  cpu_ms           double precision,
  max_rss_kb       bigint,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz
);
CREATE INDEX IF NOT EXISTS requests_user_created_idx ON requests (user_id, created_at DESC);
CREATE INDEX IF NOT EXISTS requests_function_idx ON requests (function_id, created_at DESC);
CREATE INDEX IF NOT EXISTS requests_open_idx ON requests (status) WHERE status IN ('pending', 'running');

-- Warm functions (v3): per-replica worker processes, and the token a replica demands. The
-- token is also in a Swarm secret, which the API cannot read back, so the CLI keeps its copy here.
ALTER TABLE functions ADD COLUMN IF NOT EXISTS warm_workers integer NOT NULL DEFAULT 2;
ALTER TABLE functions ADD COLUMN IF NOT EXISTS warm_token text;

-- Bulk invocations (v3): the request row holds the summary, one row per input holds its answer.
CREATE TABLE IF NOT EXISTS request_items (
  request_id  uuid NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
  idx         integer NOT NULL,
  status      text NOT NULL CHECK (status IN ('success', 'application_error', 'developer_error', 'system_error')),
  result      jsonb,
  error       text,
  output      text,
  attempts    integer NOT NULL DEFAULT 1,
  duration_ms double precision,
  cpu_ms      double precision,
  max_rss_kb  bigint,
  version     integer,
  PRIMARY KEY (request_id, idx)
);
-- Columns added while v3 was under way: a database made by an early v3 build gets them too.
ALTER TABLE request_items ADD COLUMN IF NOT EXISTS cpu_ms double precision;
ALTER TABLE request_items ADD COLUMN IF NOT EXISTS max_rss_kb bigint;
ALTER TABLE request_items ADD COLUMN IF NOT EXISTS version integer;

-- Secrets (v4): the value lives only in a Swarm secret (swarm_name), which the API cannot
-- read back; the database holds its name, so versions can refer to it and `secret rm` can
-- refuse while one does. A version lists the names it mounts under /run/secrets.
CREATE TABLE IF NOT EXISTS secrets (
  user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name       text NOT NULL,
  swarm_name text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, name)
);
ALTER TABLE function_versions ADD COLUMN IF NOT EXISTS secrets jsonb NOT NULL DEFAULT '[]'::jsonb;

-- Dependencies (v5): the image a version runs in when it has requirements (null: the runtime
-- image), by tag or, with a registry, by digest; and its requirements as given, for `fn show`.
ALTER TABLE function_versions ADD COLUMN IF NOT EXISTS image text;
ALTER TABLE function_versions ADD COLUMN IF NOT EXISTS requirements text;
-- Scale-out (v5): where a version's tasks may run (Swarm constraints and spread preferences).
ALTER TABLE function_versions ADD COLUMN IF NOT EXISTS placement jsonb NOT NULL DEFAULT '{"constraints":[],"spread":[]}'::jsonb;

-- Reliability (v6). Every open row ends: deadline_at is when an open (pending/running) row
-- may be closed as system_error by whoever finds it (gc, request wait|list, the next invoke):
-- a job's timeout plus its start allowance, or a lease the owning process renews (bulk runs).
-- sanitized: some text of the row held bytes PostgreSQL cannot store (NUL, lone surrogates),
-- which were replaced by U+FFFD; the row says so rather than failing to be written.
ALTER TABLE requests ADD COLUMN IF NOT EXISTS deadline_at timestamptz;
ALTER TABLE requests ADD COLUMN IF NOT EXISTS sanitized boolean NOT NULL DEFAULT false;
ALTER TABLE request_items ADD COLUMN IF NOT EXISTS sanitized boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS requests_open_deadline_idx ON requests (deadline_at) WHERE status IN ('pending', 'running');
