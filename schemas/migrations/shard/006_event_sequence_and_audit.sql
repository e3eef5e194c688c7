-- Notifications (API.md, "Notifications and webhooks") and the audit trail (API.md, "Audit").
--
-- Every event of a hotel carries the hotel's gapless `sequence`. The hotel's writer is its only writer, so it keeps
-- the counter in memory and assigns it at decision time; the commit writes the counter's final value to
-- `hotels.event_sequence` in the same transaction as the events (the hotels row is updated by every commit that
-- touches the hotel anyway, and the column is not indexed, so the update stays heap-only). The relay reads that
-- value as the hotel's committed high-water mark: every event up to it is committed, whatever order transactions
-- committed in, so nothing is skipped (unlike a BIGSERIAL cursor).
ALTER TABLE hotels ADD COLUMN event_sequence bigint NOT NULL DEFAULT 0;

-- Rows written before this migration have no sequence and are never relayed.
ALTER TABLE outbox ADD COLUMN sequence bigint;
CREATE UNIQUE INDEX outbox_hotel_sequence ON outbox (hotel_id, sequence);
-- Pruning by time reads the oldest rows only: a BRIN index is a few pages, and costs the writer next to nothing.
CREATE INDEX outbox_created_brin ON outbox USING brin (created_at);

-- Up to where the relay has handed each hotel's events to the notifications queue.
CREATE TABLE outbox_cursors (
  hotel_id   uuid PRIMARY KEY,
  sequence   bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The whole document of every event (with the payment and policy of shard migration 005), `sequence` added (at the
-- end: a view keeps its columns' order).
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
         'updatedAt', to_char(o.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))) AS payload,
       o.sequence
  FROM outbox o LEFT JOIN reservations r ON r.id = o.reservation_id;

-- The audit trail: every decision of a hotel's writer, accepted or refused, written by the same statement that
-- commits it. Compact: one row per hotel per commit, holding that commit's decisions as parallel arrays (in decision
-- order), so a commit of a thousand decisions of one hotel adds one heap row and one index entry, not a thousand.
-- `at` is the commit's time (the column default). Pruned by time (the BRIN index finds the oldest rows).
CREATE TABLE audit_log (
  id             bigserial PRIMARY KEY,
  hotel_id       uuid NOT NULL,
  at             timestamptz NOT NULL DEFAULT now(),
  actor_kind     text[] NOT NULL,
  actor_id       text[] NOT NULL,
  command        text[] NOT NULL,
  ok             boolean[] NOT NULL,
  status         text[] NOT NULL,
  code           text[] NOT NULL,
  reservation_id uuid[] NOT NULL,
  version        bigint[] NOT NULL
);
CREATE INDEX audit_log_hotel ON audit_log (hotel_id, id);
CREATE INDEX audit_log_at_brin ON audit_log USING brin (at);

-- One row per decision. `id` (the record's `sequence` in the API) grows in decision order within a hotel: the log
-- row's id (one writer per hotel, commits one after another) and the decision's place in it.
CREATE VIEW audit AS
SELECT l.id * 1000000 + u.n AS id, l.id AS log_id, l.hotel_id, l.at, u.actor_kind, u.actor_id, u.command, u.ok, u.status,
       u.code, u.reservation_id, u.version
  FROM audit_log l
 CROSS JOIN LATERAL unnest(l.actor_kind, l.actor_id, l.command, l.ok, l.status, l.code, l.reservation_id, l.version)
       WITH ORDINALITY AS u(actor_kind, actor_id, command, ok, status, code, reservation_id, version, n);
