-- Money (engine/core/payments.ts). A hotel's cancellation policy; a reservation's copy of the policy it was made
-- under, its payment (the public `payment` object: charge, then refund), the writer's bookkeeping of attempts and
-- of provider calls still owed (`money`), and when the payment reconciler must look at it (`money_due_at`: the
-- reconciler's timer lives here, so it survives every restart).
ALTER TABLE hotels
  ADD COLUMN free_until_hours_before integer NOT NULL DEFAULT 0 CHECK (free_until_hours_before BETWEEN 0 AND 8760),
  ADD COLUMN penalty_percent integer NOT NULL DEFAULT 0 CHECK (penalty_percent BETWEEN 0 AND 100);

ALTER TABLE reservations
  ADD COLUMN policy_free_hours integer NOT NULL DEFAULT 0,
  ADD COLUMN policy_penalty_percent integer NOT NULL DEFAULT 0,
  ADD COLUMN payment jsonb,
  ADD COLUMN money jsonb,
  ADD COLUMN money_due_at timestamptz;
CREATE INDEX reservations_money_due ON reservations (money_due_at) WHERE money_due_at IS NOT NULL;

-- An outbox row keeps the payment as it was at the event (it changes after creation).
ALTER TABLE outbox ADD COLUMN payment jsonb;
-- (The outbox_events view shows it, with the reservation's policy: shard migration 006.)
