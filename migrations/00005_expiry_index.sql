-- +goose Up

-- The worker's expiry sweep runs every block and asks for queued tickets
-- created before a round; without this index that is a scan of every queued
-- ticket per block.
CREATE INDEX tickets_queued_creation_round_idx
    ON tickets (creation_round)
    WHERE status = 'queued';

COMMENT ON INDEX tickets_queued_creation_round_idx IS
    'Queued tickets by creation round, for the per-block expiry sweep.';

-- +goose Down
DROP INDEX tickets_queued_creation_round_idx;
