-- Invoke tokens and webhooks (issue 25). A token is owned by a user and scoped to some of their
-- functions and to a verb; the database keeps only its SHA-256 and a short public prefix to find
-- it by, so a copy of this table lets nobody call the API.
CREATE TABLE IF NOT EXISTS api_tokens (
  id          uuid PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name        text NOT NULL,
  -- The token's public part (after "fct_"): looked up by it, then the digest compared in constant time.
  prefix      text NOT NULL UNIQUE,
  sha256      text NOT NULL,
  scope       text NOT NULL CHECK (scope IN ('invoke', 'read')),
  -- Function names (the names outlive a delete and re-deploy: a new function of the name is covered).
  functions   text[] NOT NULL,
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz,
  last_used_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, name)
);

-- The request log names the token a request came with (a plain id, like user_id since 0010: the
-- history outlives a revoked or deleted token), or the webhook it came through.
ALTER TABLE requests ADD COLUMN IF NOT EXISTS token_id uuid;
ALTER TABLE requests ADD COLUMN IF NOT EXISTS token_name text;
ALTER TABLE requests ADD COLUMN IF NOT EXISTS via text CHECK (via IN ('api', 'webhook'));

-- A function's webhook secret, sealed with the dispatcher's public key (RSA-OAEP): only the
-- dispatcher, which holds the private key as a Swarm secret, can open it to check a signature.
ALTER TABLE functions ADD COLUMN IF NOT EXISTS webhook_secret bytea;
