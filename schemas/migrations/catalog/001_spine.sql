-- Catalog database: principals and their credentials. Hotels and reservations live in the shard databases.

CREATE TABLE api_keys (
  id                    uuid PRIMARY KEY,
  name                  text NOT NULL,
  role                  text NOT NULL CHECK (role IN ('admin', 'staff', 'partner')),
  hotel_ids             uuid[] NOT NULL DEFAULT '{}',
  rate_limit_per_second integer,
  token_hash            bytea NOT NULL UNIQUE,
  created_at            timestamptz NOT NULL DEFAULT now(),
  revoked_at            timestamptz
);

CREATE TABLE users (
  id            uuid PRIMARY KEY,
  email         text NOT NULL,
  name          text NOT NULL,
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE sessions (
  token_hash bytea PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id),
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
