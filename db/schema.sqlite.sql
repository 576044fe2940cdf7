-- imgscan evidence database, SQLite form, schema version 1 (db/SCHEMA.md).
-- `imgscan load --db sqlite:FILE` creates it in a new file; PRAGMA
-- user_version (1) and application_id (0x494D4744, "IMGD") say it is one.
-- Times are text, UTC ISO 8601 with nanoseconds, exactly as in the report
-- (they sort as they compare).  Sizes and offsets are integers; the
-- report's 2^64 ("more than any disk") is stored as NULL.

CREATE TABLE runs (
  run_key            INTEGER PRIMARY KEY,
  run_id             TEXT NOT NULL UNIQUE,
  tool_name          TEXT NOT NULL,
  tool_version       TEXT NOT NULL,
  schema_version     INTEGER NOT NULL,
  host               TEXT,
  started            TEXT NOT NULL,
  ended              TEXT,
  output             TEXT,
  argv               TEXT NOT NULL,
  options            TEXT,
  tool               TEXT NOT NULL,
  summary            TEXT NOT NULL,
  report_format      TEXT NOT NULL,
  images             INTEGER NOT NULL,
  findings           INTEGER,
  misnamed           INTEGER,
  images_with_errors INTEGER,
  exit_status        INTEGER,
  partial            INTEGER NOT NULL,
  loaded_at          TEXT NOT NULL,
  loaded_from        TEXT NOT NULL
);
CREATE INDEX runs_started ON runs (started);

CREATE TABLE images (
  run_key            INTEGER NOT NULL REFERENCES runs (run_key) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  idx                INTEGER NOT NULL,
  path               TEXT NOT NULL,
  path_b64           TEXT,
  name               TEXT NOT NULL,
  extension          TEXT NOT NULL,
  file_type          TEXT NOT NULL,
  size               INTEGER NOT NULL,
  mtime              TEXT,
  status             TEXT NOT NULL,
  kind               TEXT NOT NULL,
  kind_key           TEXT,
  detail             TEXT,
  misnamed           INTEGER NOT NULL,
  suggested_name     TEXT,
  sector_size        INTEGER,
  sector_count       INTEGER,
  sector_zero        INTEGER,
  sector_list_xxh128 TEXT,
  content_bytes      INTEGER,
  read_bytes         INTEGER,
  read_complete      INTEGER,
  reused             INTEGER,
  measured_at        TEXT,
  catalog_state      TEXT,
  inside_layer       TEXT,
  inside_status      TEXT,
  inside_content     TEXT,
  tsk_status         TEXT,
  object             TEXT NOT NULL,
  PRIMARY KEY (run_key, idx)
);
CREATE INDEX images_path ON images (path);
CREATE INDEX images_name ON images (name);
CREATE INDEX images_kind ON images (kind);
CREATE INDEX images_misnamed ON images (run_key) WHERE misnamed;

CREATE TABLE digests (
  run_key            INTEGER NOT NULL,
  idx                INTEGER NOT NULL,
  algorithm          TEXT NOT NULL,
  value              TEXT NOT NULL,
  PRIMARY KEY (run_key, idx, algorithm),
  FOREIGN KEY (run_key, idx) REFERENCES images (run_key, idx) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX digests_value ON digests (algorithm, value);

CREATE TABLE findings (
  run_key            INTEGER NOT NULL,
  idx                INTEGER NOT NULL,
  seq                INTEGER NOT NULL,
  code               TEXT NOT NULL,
  severity           TEXT NOT NULL,
  message            TEXT NOT NULL,
  suggested_name     TEXT,
  PRIMARY KEY (run_key, idx, seq),
  FOREIGN KEY (run_key, idx) REFERENCES images (run_key, idx) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX findings_code ON findings (code);

CREATE TABLE partitions (
  run_key            INTEGER NOT NULL,
  idx                INTEGER NOT NULL,
  seq                INTEGER NOT NULL,
  source             TEXT NOT NULL,
  inner_disk         INTEGER NOT NULL,
  scheme             TEXT NOT NULL,
  number             INTEGER,
  start              INTEGER,
  length             INTEGER,
  type               TEXT,
  name               TEXT,
  bootable           INTEGER,
  allocated          INTEGER,
  PRIMARY KEY (run_key, idx, seq),
  FOREIGN KEY (run_key, idx) REFERENCES images (run_key, idx) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE filesystems (
  run_key            INTEGER NOT NULL,
  idx                INTEGER NOT NULL,
  seq                INTEGER NOT NULL,
  source             TEXT NOT NULL,
  inner_disk         INTEGER NOT NULL,
  type               TEXT NOT NULL,
  class              TEXT,
  byte_offset        INTEGER,
  size               INTEGER,
  block_size         INTEGER,
  block_count        INTEGER,
  label              TEXT,
  uuid               TEXT,
  detail             TEXT,
  opened_by          TEXT,
  PRIMARY KEY (run_key, idx, seq),
  FOREIGN KEY (run_key, idx) REFERENCES images (run_key, idx) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX filesystems_type ON filesystems (type);

CREATE TABLE errors (
  run_key            INTEGER NOT NULL,
  idx                INTEGER NOT NULL,
  seq                INTEGER NOT NULL,
  stage              TEXT NOT NULL,
  errno              TEXT,
  byte_offset        INTEGER,
  message            TEXT NOT NULL,
  PRIMARY KEY (run_key, idx, seq),
  FOREIGN KEY (run_key, idx) REFERENCES images (run_key, idx) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX errors_stage ON errors (stage);

CREATE TABLE skipped (
  run_key            INTEGER NOT NULL REFERENCES runs (run_key) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  seq                INTEGER NOT NULL,
  path               TEXT NOT NULL,
  path_b64           TEXT,
  reason             TEXT NOT NULL,
  file_type          TEXT,
  link_target        TEXT,
  errno              TEXT,
  error              TEXT,
  PRIMARY KEY (run_key, seq)
);

-- Every image with its run and its XXH128: the usual starting point.
CREATE VIEW scanned AS
  SELECT r.run_id, r.started, r.host, i.run_key, i.idx, i.path, i.name, i.extension, i.size, i.kind, i.detail,
         i.misnamed, i.suggested_name, i.status, d.value AS xxh128
  FROM images i
  JOIN runs r ON r.run_key = i.run_key
  LEFT JOIN digests d ON d.run_key = i.run_key AND d.idx = i.idx AND d.algorithm = 'xxh128';

-- Images of one run with the same XXH128 (the same bytes stored under
-- two names or more): one row per image, copies = the group's size.
-- Empty files are not duplicates of each other.
CREATE VIEW duplicates AS
  SELECT run_id, xxh128, size, copies, idx, path FROM (
    SELECT r.run_id, d.value AS xxh128, i.size, i.idx, i.path,
           count(*) OVER (PARTITION BY d.run_key, d.value, i.size) AS copies
    FROM digests d
    JOIN images i ON i.run_key = d.run_key AND i.idx = d.idx
    JOIN runs r ON r.run_key = d.run_key
    WHERE d.algorithm = 'xxh128' AND i.size > 0) AS g
  WHERE copies > 1;
