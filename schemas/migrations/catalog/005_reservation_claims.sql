-- Which hotel each reservationId belongs to, across every shard database of the deployment. A shard's writer
-- claims the ids of the reservations it is about to create before deciding them (a reservationId already claimed
-- for another hotel is refused with idempotency_mismatch), and readers find a reservation's database through it
-- instead of asking every database. A claim never changes once made; one whose reservation was never committed
-- (its commit failed and the request was not retried) only keeps that id from being used for another hotel.
CREATE TABLE reservation_claims (
  reservation_id uuid PRIMARY KEY,
  hotel_id       uuid NOT NULL,
  claimed_at     timestamptz NOT NULL DEFAULT now()
);
