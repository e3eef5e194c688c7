-- A kept answer (a payment's Idempotency-Key) is sent again exactly as it was first sent: json keeps the text, key
-- order included, where jsonb reordered the keys ({"code","details","message"} for {"code","message","details"}).
ALTER TABLE idempotency_keys ALTER COLUMN answer TYPE json USING answer::json;
