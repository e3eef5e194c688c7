-- Partner batches: what was asked, where its items were queued, and (once every job is committed) the results.
CREATE TABLE batches (
  id              uuid PRIMARY KEY,
  creator_kind    text NOT NULL,
  creator_id      text NOT NULL,
  idempotency_key text,
  fingerprint     text NOT NULL,
  total           integer NOT NULL,
  atomic          boolean NOT NULL,
  status          text NOT NULL CHECK (status IN ('processing', 'done')),
  plan            jsonb NOT NULL,
  results         jsonb,
  held            integer,
  rejected        integer,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX batches_idempotency ON batches (creator_kind, creator_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
