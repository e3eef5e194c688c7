-- A partner batch's plan (its reservation ids and jobs: about 100 KB for 1,000 items) and its results are written
-- once each and read by every poll. pglz compressing the plan on insert was about 1% of the whole machine during the
-- batch ingest benchmark (perf: pglz_compress under heap_insert); lz4 compresses several times faster (a server
-- built without lz4 keeps pglz).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
    ALTER TABLE batches ALTER COLUMN plan SET COMPRESSION lz4;
    ALTER TABLE batches ALTER COLUMN results SET COMPRESSION lz4;
  END IF;
END
$$;
