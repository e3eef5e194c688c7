-- Shard database: the state a shard owner persists. Every write happens in a transaction that first checks the
-- writer's epoch in shard_leases (fencing), so a paused or partitioned former owner can never commit.

CREATE TABLE shard_leases (
  shard      integer PRIMARY KEY,
  epoch      bigint NOT NULL DEFAULT 0,
  owner      text,
  taken_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hotels (
  id                  uuid PRIMARY KEY,
  shard               integer NOT NULL,
  name                text NOT NULL,
  city                text NOT NULL,
  country             char(2) NOT NULL,
  timezone            text NOT NULL,
  currency            char(3) NOT NULL,
  overbooking_percent integer NOT NULL CHECK (overbooking_percent BETWEEN 0 AND 50),
  version             bigint NOT NULL DEFAULT 0,
  created_at          timestamptz NOT NULL,
  deleted_at          timestamptz
);
CREATE INDEX hotels_city ON hotels (lower(city), id) WHERE deleted_at IS NULL;

CREATE TABLE room_types (
  id              uuid PRIMARY KEY,
  hotel_id        uuid NOT NULL REFERENCES hotels (id),
  name            text NOT NULL,
  max_guests      integer NOT NULL,
  total_inventory integer NOT NULL,
  base_rate       bigint NOT NULL,
  created_at      timestamptz NOT NULL,
  deleted_at      timestamptz
);
CREATE INDEX room_types_hotel ON room_types (hotel_id, id);

CREATE TABLE rooms (
  id           uuid PRIMARY KEY,
  hotel_id     uuid NOT NULL REFERENCES hotels (id),
  room_type_id uuid NOT NULL REFERENCES room_types (id),
  number       text NOT NULL,
  floor        integer,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (hotel_id, number)
);

-- One row per room type and night over the horizon. The CHECK is the database's last line behind the actor's
-- own assertion: reserved never exceeds the sellable limit.
CREATE TABLE room_type_inventory (
  hotel_id        uuid NOT NULL,
  room_type_id    uuid NOT NULL REFERENCES room_types (id),
  date            date NOT NULL,
  total_inventory integer NOT NULL CHECK (total_inventory >= 0),
  sellable_limit  integer NOT NULL CHECK (sellable_limit >= total_inventory),
  reserved        integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  rate            bigint NOT NULL CHECK (rate > 0),
  PRIMARY KEY (room_type_id, date),
  CONSTRAINT reserved_within_sellable_limit CHECK (reserved <= sellable_limit)
);
CREATE INDEX room_type_inventory_hotel ON room_type_inventory (hotel_id, date);

CREATE TABLE reservations (
  id            uuid PRIMARY KEY,
  hotel_id      uuid NOT NULL,
  room_type_id  uuid NOT NULL,
  check_in      date NOT NULL,
  check_out     date NOT NULL,
  room_count    integer NOT NULL CHECK (room_count BETWEEN 1 AND 10),
  status        text NOT NULL CHECK (status IN ('pending', 'paid', 'rejected', 'canceled', 'refunded')),
  total_amount  bigint NOT NULL,
  currency      char(3) NOT NULL,
  guest_name    text NOT NULL,
  guest_email   text NOT NULL,
  owner_kind    text NOT NULL,
  owner_id      text NOT NULL,
  fingerprint   text NOT NULL,
  created_at    timestamptz NOT NULL,
  expires_at    timestamptz,
  cancel_reason text,
  version       integer NOT NULL,
  updated_at    timestamptz NOT NULL,
  CHECK (check_out > check_in)
);
CREATE INDEX reservations_hotel ON reservations (hotel_id, id);
CREATE INDEX reservations_owner ON reservations (owner_kind, owner_id, id);
CREATE INDEX reservations_live_holds ON reservations (expires_at) WHERE status = 'pending';

-- Jobs whose decisions are committed, with the replies they produced: a redelivered job (a stalled BullMQ job run
-- again) finds its row and answers the stored replies instead of deciding twice.
CREATE TABLE applied_jobs (
  job_id     text PRIMARY KEY,
  shard      integer NOT NULL,
  replies    json NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX applied_jobs_age ON applied_jobs (applied_at);

-- Every event a decision produced, in commit order, for the relay to notifications, webhooks and the audit trail.
CREATE TABLE outbox (
  id         bigserial PRIMARY KEY,
  shard      integer NOT NULL,
  hotel_id   uuid NOT NULL,
  version    bigint NOT NULL,
  type       text NOT NULL,
  payload    json NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
