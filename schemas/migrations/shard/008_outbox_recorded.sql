-- Notification jobs carry references, not payloads (issue 15): the relay queues each hotel's range of sequences and
-- the notifier reads those rows from this database when it records them. `recorded` is up to where the notifier has
-- recorded a hotel's events (deliveries and mails written); the relay prunes only rows at or below it, so a job still
-- waiting in the queue never finds its rows gone, however long the notifier was away.
ALTER TABLE outbox_cursors ADD COLUMN recorded bigint NOT NULL DEFAULT 0;
-- Jobs queued before this migration carry their events themselves: nothing relayed so far needs its rows.
UPDATE outbox_cursors SET recorded = sequence;
