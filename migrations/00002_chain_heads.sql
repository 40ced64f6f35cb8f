-- +goose Up

-- The block poller's memory of the chain: the most recent canonical heads in
-- the order it delivered them. A new head must name the stored head below it
-- as its parent, otherwise the chain reorganized and the poller walks back
-- through these rows to the fork point; the highest row is the cursor a
-- restarted service resumes after. Only a bounded window is kept, so the
-- table stays a few hundred rows however long the service runs.
CREATE TABLE chain_heads (
    number      bigint      PRIMARY KEY,
    hash        bytea       NOT NULL,
    parent_hash bytea       NOT NULL,
    l1_number   bigint      NOT NULL,
    block_time  timestamptz NOT NULL,
    seen_at     timestamptz NOT NULL DEFAULT now(),

    -- One block has one hash; the same hash at two heights would mean rows
    -- from two different chains were mixed.
    CONSTRAINT chain_heads_hash_key UNIQUE (hash),
    CONSTRAINT chain_heads_number_range CHECK (number >= 0),
    CONSTRAINT chain_heads_hash_len CHECK (octet_length(hash) = 32),
    CONSTRAINT chain_heads_parent_hash_len CHECK (octet_length(parent_hash) = 32),
    CONSTRAINT chain_heads_l1_number_range CHECK (l1_number >= 0)
);

COMMENT ON TABLE chain_heads IS
    'Recent canonical block heads as this service has seen and processed them, one row per block number. The highest row is the chain cursor: every head up to it has been handed to the service''s handlers. Older rows serve reorg detection (a new head''s parent_hash must equal the hash stored one number below) and are pruned beyond a fixed window. On a reorg the replaced rows are deleted in the same transaction that stores the new canonical head.';

COMMENT ON COLUMN chain_heads.number IS
    'Block number on the chain the service watches (on Arbitrum, the L2 block number).';
COMMENT ON COLUMN chain_heads.hash IS
    'Block hash, 32 raw bytes; unique.';
COMMENT ON COLUMN chain_heads.parent_hash IS
    'Hash of the parent block, 32 raw bytes. Equals the hash of the row at number - 1 whenever that row is stored.';
COMMENT ON COLUMN chain_heads.l1_number IS
    'L1 (Ethereum mainnet) block number the block carries: Arbitrum''s l1BlockNumber header field, or the block number itself on a chain without one. Livepeer rounds and ticket expiration blocks count these.';
COMMENT ON COLUMN chain_heads.block_time IS
    'Block timestamp from the header (chain clock, one-second resolution).';
COMMENT ON COLUMN chain_heads.seen_at IS
    'Time the service recorded the head, after its handlers succeeded (database clock). seen_at - block_time shows how far the service lags the chain.';

-- +goose Down
DROP TABLE chain_heads;
