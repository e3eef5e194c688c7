-- Idempotency-Key of requests that are not keyed by a reservationId (payments): the first body's fingerprint
-- per principal and key; a different body with the same key is refused.
CREATE TABLE idempotency_keys (
  scope        text NOT NULL,
  owner_kind   text NOT NULL,
  owner_id     text NOT NULL,
  key          text NOT NULL,
  fingerprint  text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, owner_kind, owner_id, key)
);
