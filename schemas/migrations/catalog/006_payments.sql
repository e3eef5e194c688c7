-- A payment's Idempotency-Key keeps the first answer (status and body), so that a retry gets it again.
ALTER TABLE idempotency_keys ADD COLUMN answer jsonb;

-- The built-in test payment provider's ledger (engine/payment-provider.ts): one row per provider call that moved
-- money or refused to, keyed by the call's idempotency key, so that tests and operators can count every charge,
-- refund and void. A void of a key that was never charged is recorded too, and refuses any later charge under it.
CREATE TABLE payment_ledger (
  key            text PRIMARY KEY,
  kind           text NOT NULL CHECK (kind IN ('charge', 'decline', 'refund', 'void')),
  reservation_id uuid,
  amount         bigint NOT NULL DEFAULT 0,
  currency       char(3),
  reference      text NOT NULL,
  -- A refund's or void's charge key.
  of_key         text,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_ledger_reservation ON payment_ledger (reservation_id);

-- Test-only faults of the test provider: its next `remaining` calls fail, or answer only after `delay_ms` (before
-- acting, `mode` 'delay'; after acting, 'stall'), whichever process makes them.
CREATE TABLE payment_provider_faults (
  id        integer PRIMARY KEY CHECK (id = 1),
  mode      text NOT NULL CHECK (mode IN ('fail', 'delay', 'stall')),
  remaining integer NOT NULL,
  delay_ms  integer NOT NULL DEFAULT 0
);
