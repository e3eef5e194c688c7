-- Staff users: people who sign in with /v1/sessions and then act as staff of the hotels they were given (created by
-- an admin with POST /v1/users, role "staff"). Everyone who signs up alone is a guest.
ALTER TABLE users
  ADD COLUMN role text NOT NULL DEFAULT 'guest' CHECK (role IN ('guest', 'staff')),
  ADD COLUMN hotel_ids uuid[] NOT NULL DEFAULT '{}';
