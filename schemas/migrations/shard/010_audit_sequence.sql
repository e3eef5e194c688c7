-- An audit record's `sequence` (API.md, "Audit") is the hotel's own count of its writer's decisions, 1, 2, 3, …,
-- not a number made of this database's log row id: a shard move copies the log rows into another database, whose
-- ids differ, and every record's sequence (and every cursor a client held) changed with them. The writer keeps the
-- count in memory (as it keeps the event sequence) and each log row says where its decisions start: `first_seq` is
-- the sequence of the row's first decision, the next ones follow in the row's order. A writer that loads the hotel
-- counts on from its newest row (pruning always keeps each hotel's newest row).
ALTER TABLE audit_log ADD COLUMN first_seq bigint;

-- The rows written before: numbered in their order, per hotel.
UPDATE audit_log a SET first_seq = s.first_seq
  FROM (SELECT id, 1 + COALESCE(sum(cardinality(command)) OVER (PARTITION BY hotel_id ORDER BY id
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS first_seq
          FROM audit_log) s
 WHERE a.id = s.id;

ALTER TABLE audit_log ALTER COLUMN first_seq SET NOT NULL;

-- A hotel's rows in sequence order (the audit pages, the writer's load, the copy of a shard); replaces (hotel_id, id),
-- which orders the same rows the same way within one database only.
CREATE INDEX audit_log_hotel_seq ON audit_log (hotel_id, first_seq);
DROP INDEX audit_log_hotel;

DROP VIEW audit;
-- One row per decision; `id` is the record's `sequence` in the API.
CREATE VIEW audit AS
SELECT l.first_seq + u.n - 1 AS id, l.first_seq, l.hotel_id, l.at, u.actor_kind, u.actor_id, u.command, u.ok,
       u.status, u.code, u.reservation_id, u.version
  FROM audit_log l
 CROSS JOIN LATERAL unnest(l.actor_kind, l.actor_id, l.command, l.ok, l.status, l.code, l.reservation_id, l.version)
       WITH ORDINALITY AS u(actor_kind, actor_id, command, ok, status, code, reservation_id, version, n);
