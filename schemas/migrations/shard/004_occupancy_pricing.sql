-- Occupancy pricing (API.md, "Prices follow occupancy"): a hotel's tiers, set through its writer and loaded with the
-- hotel. A JSON array of {occupancyPercent, multiplierPercent}, by occupancyPercent ascending; empty (no tiers: every
-- night sells at its rate) for every existing hotel. Prices themselves are never stored: they follow from a night's
-- rate, reserved and total inventory whenever they are shown, and a reservation keeps its total_amount.
ALTER TABLE hotels ADD COLUMN pricing_tiers jsonb NOT NULL DEFAULT '[]'::jsonb;
