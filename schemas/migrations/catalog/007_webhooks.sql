-- Webhooks (API.md, "Notifications and webhooks"), their deliveries, and the guest e-mails sent.

CREATE TABLE webhooks (
  id             uuid PRIMARY KEY,
  owner_kind     text NOT NULL,
  owner_id       text NOT NULL,
  url            text NOT NULL,
  events         text[] NOT NULL,
  -- The hotels the webhook asked for (empty: every hotel its owner may see).
  hotel_ids      uuid[] NOT NULL DEFAULT '{}',
  -- The hotels of the owner's key when it was made (staff, partner): what it may see besides a partner's own reservations.
  scope_hotel_ids uuid[] NOT NULL DEFAULT '{}',
  secret         text NOT NULL,
  enabled        boolean NOT NULL DEFAULT true,
  disabled_reason text,
  -- When its attempts started failing without a success since (5 days of that disable it).
  failing_since  timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_owner ON webhooks (owner_kind, owner_id, id);

-- One row per event and webhook that matched it. The notifier delivers the due ones; the API lists them.
CREATE TABLE webhook_deliveries (
  id               bigserial PRIMARY KEY,
  webhook_id       uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_id         uuid NOT NULL,
  hotel_id         uuid NOT NULL,
  sequence         bigint NOT NULL,
  type             text NOT NULL,
  body             text NOT NULL,
  state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'succeeded', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  last_status_code integer,
  last_error       text,
  next_attempt_at  timestamptz,
  delivered_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (webhook_id, next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_list ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_age ON webhook_deliveries USING brin (created_at);

-- Guest e-mails, one per event (status change) and never two: a row is claimed ('sending') before the message goes,
-- and a message whose sending was cut short by a crash is not sent again.
CREATE TABLE guest_mails (
  event_id        uuid PRIMARY KEY,
  recipient       text NOT NULL,
  subject         text NOT NULL,
  text_body       text NOT NULL,
  html_body       text NOT NULL,
  state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent')),
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX guest_mails_due ON guest_mails (next_attempt_at) WHERE state = 'pending';
