-- A reservation event's outbox row no longer copies the reservation. Everything about a reservation but its status,
-- hold expiry, cancel reason, version and update time is fixed when it is created, and the reservations row is
-- written in the same transaction as the event; so the row keeps those five values as they were at the event and
-- refers to the reservation for the rest. The JSON copy was most of a commit's bytes: the writer serialized about
-- 600 bytes per reservation, Postgres parsed and stored them, and the WAL carried them a second time.
--
-- Readers (the relay, the audit trail) read `outbox_events`, which gives every event its whole payload, the same
-- document as before: rows written before this migration keep their JSON `payload`.
ALTER TABLE outbox
  ALTER COLUMN payload DROP NOT NULL,
  ADD COLUMN reservation_id      uuid,
  ADD COLUMN status              text,
  ADD COLUMN expires_at          timestamptz,
  ADD COLUMN cancel_reason       text,
  ADD COLUMN reservation_version integer,
  ADD COLUMN updated_at          timestamptz,
  ADD CONSTRAINT outbox_payload_or_reference
    CHECK (payload IS NOT NULL OR (reservation_id IS NOT NULL AND status IS NOT NULL AND reservation_version IS NOT NULL AND updated_at IS NOT NULL));

-- The JSON of a reservation as the engine writes it (engine/core/types.ts `Reservation`): times as
-- `YYYY-MM-DDTHH:MM:SS.mmmZ`, days as `YYYY-MM-DD`.
CREATE VIEW outbox_events AS
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
         'version', o.reservation_version,
         'updatedAt', to_char(o.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))) AS payload
  FROM outbox o LEFT JOIN reservations r ON r.id = o.reservation_id;
