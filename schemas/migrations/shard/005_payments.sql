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

CREATE OR REPLACE VIEW outbox_events AS
SELECT o.id, o.shard, o.hotel_id, o.version, o.type, o.created_at,
       COALESCE(o.payload, json_build_object(
         'id', r.id,
         'hotelId', r.hotel_id,
         'roomTypeId', r.room_type_id,
         'checkIn', to_char(r.check_in, 'YYYY-MM-DD'),
         'checkOut', to_char(r.check_out, 'YYYY-MM-DD'),
         'roomCount', r.room_count,
         'status', o.status,
         'totalAmount', r.total_amount,
         'currency', r.currency,
         'guest', json_build_object('name', r.guest_name, 'email', r.guest_email),
         'owner', json_build_object('kind', r.owner_kind, 'id', r.owner_id),
         'fingerprint', r.fingerprint,
         'createdAt', to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
         'expiresAt', to_char(o.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
         'cancelReason', o.cancel_reason,
         'payment', o.payment,
         'policy', json_build_object('freeUntilHoursBefore', r.policy_free_hours, 'penaltyPercent', r.policy_penalty_percent),
         'version', o.reservation_version,
         'updatedAt', to_char(o.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))) AS payload
  FROM outbox o LEFT JOIN reservations r ON r.id = o.reservation_id;
