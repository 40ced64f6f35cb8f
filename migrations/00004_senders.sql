-- +goose Up

-- Chain state behind each sender's max float, as the service last read it.
-- Every uint256 the contracts return is kept as numeric(78,0), so nothing is
-- rounded or truncated on its way to the float.
CREATE TABLE senders (
    sender                   bytea         PRIMARY KEY,
    deposit                  numeric(78,0) NOT NULL,
    withdraw_round           numeric(78,0) NOT NULL,
    reserve_funds_remaining  numeric(78,0) NOT NULL,
    reserve_claimed_in_round numeric(78,0) NOT NULL,
    claimed_by_recipient     numeric(78,0) NOT NULL,
    state_round              numeric(78,0) NOT NULL,
    state_block              bigint        NOT NULL,
    updated_at               timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT senders_sender_len CHECK (octet_length(sender) = 20),
    CONSTRAINT senders_uint256_range CHECK (
        deposit >= 0 AND withdraw_round >= 0 AND reserve_funds_remaining >= 0
        AND reserve_claimed_in_round >= 0 AND claimed_by_recipient >= 0 AND state_round >= 0
        AND deposit < 115792089237316195423570985008687907853269984665640564039457584007913129639936
        AND withdraw_round < 115792089237316195423570985008687907853269984665640564039457584007913129639936
        AND reserve_funds_remaining < 115792089237316195423570985008687907853269984665640564039457584007913129639936
        AND reserve_claimed_in_round < 115792089237316195423570985008687907853269984665640564039457584007913129639936
        AND claimed_by_recipient < 115792089237316195423570985008687907853269984665640564039457584007913129639936
        AND state_round < 115792089237316195423570985008687907853269984665640564039457584007913129639936),
    CONSTRAINT senders_state_block_range CHECK (state_block >= 0)
);

-- The monitor re-reads, at each head, the rows a replica read ahead of it
-- at that head's height (see monitor.Monitor.HandleHead).
CREATE INDEX senders_state_block_idx ON senders (state_block);
COMMENT ON INDEX senders_state_block_idx IS
    'Finds the senders whose state was read at a given block.';

COMMENT ON TABLE senders IS
    'Per sender (broadcaster), its TicketBroker funds as read from chain at state_block: the inputs of its max float besides the in-limbo amount (sender_limbo) and the protocol state (protocol_state). A row exists for every sender the service tracks; it is rewritten whenever a TicketBroker event names the sender, at every new round and after every reorg. Every change is announced with pg_notify(''max_float'', ''0x<sender hex>'') in the writing transaction.';
COMMENT ON COLUMN senders.sender IS 'Sender address, 20 raw bytes.';
COMMENT ON COLUMN senders.deposit IS 'TicketBroker getSenderInfo(sender).info.deposit, wei.';
COMMENT ON COLUMN senders.withdraw_round IS 'getSenderInfo(sender).info.withdrawRound: the round from which the sender may withdraw; 0 when no unlock is in progress.';
COMMENT ON COLUMN senders.reserve_funds_remaining IS 'getSenderInfo(sender).reserve.fundsRemaining: the reserve left, wei.';
COMMENT ON COLUMN senders.reserve_claimed_in_round IS 'getSenderInfo(sender).reserve.claimedInCurrentRound: reserve claimed by all recipients in state_round, wei.';
COMMENT ON COLUMN senders.claimed_by_recipient IS 'TicketBroker claimedReserve(sender, protocol_state.recipient): reserve this service''s recipient claimed in state_round, wei.';
COMMENT ON COLUMN senders.state_round IS 'Round (RoundsManager currentRound) at state_block. The two claimed amounts belong to this round; in any later round the contract counts them as 0.';
COMMENT ON COLUMN senders.state_block IS 'Block number the values were read at. A write carrying an older block is ignored, except the rewrite after a reorg.';
COMMENT ON COLUMN senders.updated_at IS 'Time the row was last written (database clock).';

-- One row: the protocol values that enter every sender's float.
CREATE TABLE protocol_state (
    singleton              boolean       PRIMARY KEY DEFAULT true,
    recipient              bytea         NOT NULL,
    recipient_active       boolean       NOT NULL,
    pool_size              numeric(78,0) NOT NULL,
    current_round          numeric(78,0) NOT NULL,
    last_initialized_round numeric(78,0) NOT NULL,
    state_block            bigint        NOT NULL,
    state_l1_block         bigint        NOT NULL,
    updated_at             timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT protocol_state_single_row CHECK (singleton),
    CONSTRAINT protocol_state_recipient_len CHECK (octet_length(recipient) = 20),
    CONSTRAINT protocol_state_uint256_range CHECK (
        pool_size >= 0 AND current_round >= 0 AND last_initialized_round >= 0
        AND pool_size < 115792089237316195423570985008687907853269984665640564039457584007913129639936
        AND current_round < 115792089237316195423570985008687907853269984665640564039457584007913129639936
        AND last_initialized_round < 115792089237316195423570985008687907853269984665640564039457584007913129639936),
    CONSTRAINT protocol_state_blocks_range CHECK (state_block >= 0 AND state_l1_block >= 0)
);

COMMENT ON TABLE protocol_state IS
    'A single row: the protocol values every sender''s max float depends on, read from chain at state_block. A change is announced with pg_notify(''max_float'', ''*''), which makes every float be recomputed.';
COMMENT ON COLUMN protocol_state.singleton IS 'Always true; keeps the table to one row.';
COMMENT ON COLUMN protocol_state.recipient IS 'The orchestrator address (20 raw bytes) whose reserve allocation senders.claimed_by_recipient and the floats describe.';
COMMENT ON COLUMN protocol_state.recipient_active IS 'BondingManager isActiveTranscoder(recipient). TicketBroker allocates no reserve to an inactive recipient.';
COMMENT ON COLUMN protocol_state.pool_size IS 'BondingManager getTranscoderPoolSize(): every sender''s reserve is split in this many equal allocations.';
COMMENT ON COLUMN protocol_state.current_round IS 'RoundsManager currentRound() at state_block.';
COMMENT ON COLUMN protocol_state.last_initialized_round IS 'RoundsManager lastInitializedRound() at state_block.';
COMMENT ON COLUMN protocol_state.state_block IS 'Block number the values were read at. A write carrying an older block is ignored, except the rewrite after a reorg.';
COMMENT ON COLUMN protocol_state.state_l1_block IS 'L1 (Ethereum) block number of state_block (Arbitrum l1BlockNumber; the block number itself elsewhere). Rounds count L1 blocks.';
COMMENT ON COLUMN protocol_state.updated_at IS 'Time the row was last written (database clock).';

-- +goose Down
DROP TABLE protocol_state;
DROP TABLE senders;
