-- +goose Up

-- Leadership is a lease with a term that grows by one each time a replica
-- becomes leader. Every write the leader makes checks, in its own
-- transaction, that its term is still the current one and unexpired (and
-- holds the row FOR SHARE, so a takeover waits for that write to commit), and
-- every broadcast checks it first: a leader that was paused while another
-- took over can change nothing when it wakes up.
CREATE TABLE leader_lease (
    singleton   boolean     PRIMARY KEY DEFAULT true,
    term        bigint      NOT NULL,
    holder      text        NOT NULL,
    acquired_at timestamptz NOT NULL,
    renewed_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    CONSTRAINT leader_lease_single_row CHECK (singleton),
    CONSTRAINT leader_lease_term_range CHECK (term >= 0)
);
INSERT INTO leader_lease (term, holder, acquired_at, renewed_at, expires_at)
VALUES (0, '', now(), now(), '-infinity');

COMMENT ON TABLE leader_lease IS
    'A single row: the leader term (fencing token) and its lease. The replica named in holder signs and broadcasts redemptions while expires_at (database clock) is in the future; a write made for any other term is refused.';
COMMENT ON COLUMN leader_lease.singleton IS 'Always true; keeps the table to one row.';
COMMENT ON COLUMN leader_lease.term IS 'Leader term: grows by one each time a replica takes the lease. Stamped on the rows the leader writes (redemptions.leader_term, tx_attempts.leader_term, stage_cursors.leader_term).';
COMMENT ON COLUMN leader_lease.holder IS 'Replica holding (or last holding) the lease: host, process id and a random suffix. Empty before any replica led.';
COMMENT ON COLUMN leader_lease.acquired_at IS 'Time the current term began (database clock).';
COMMENT ON COLUMN leader_lease.renewed_at IS 'Time of the last renewal (database clock).';
COMMENT ON COLUMN leader_lease.expires_at IS 'End of the lease (database clock). After it, any replica may start a new term.';

-- Progress of the leader's pipeline stages that follow the chain by block
-- ranges: the last block each has fully processed.
CREATE TABLE stage_cursors (
    stage        text        PRIMARY KEY,
    block_number bigint      NOT NULL,
    block_hash   bytea       NOT NULL,
    l1_number    bigint      NOT NULL,
    leader_term  bigint      NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stage_cursors_block_range CHECK (block_number >= 0 AND l1_number >= 0),
    CONSTRAINT stage_cursors_block_hash_len CHECK (octet_length(block_hash) = 32)
);
COMMENT ON TABLE stage_cursors IS
    'Per pipeline stage that follows chain logs by block range, the last block it has processed completely, written in the same transaction as what it derived from that range. A restarted leader resumes after it; a block_hash that is no longer canonical means a reorg, after which the stage re-reads current state instead of replaying old blocks.';
COMMENT ON COLUMN stage_cursors.stage IS 'Stage name (for example "senders").';
COMMENT ON COLUMN stage_cursors.block_number IS 'Last processed block number (on Arbitrum, the L2 number).';
COMMENT ON COLUMN stage_cursors.block_hash IS 'Hash of that block, 32 raw bytes.';
COMMENT ON COLUMN stage_cursors.l1_number IS 'L1 block number that block carries (Arbitrum l1BlockNumber; the number itself elsewhere).';
COMMENT ON COLUMN stage_cursors.leader_term IS 'Leader term that wrote the row (leader_lease.term).';
COMMENT ON COLUMN stage_cursors.updated_at IS 'Time the row was last written (database clock).';

ALTER TABLE redemptions
    ADD COLUMN leader_term     bigint,
    ADD COLUMN finalized_block bigint,
    ADD COLUMN reopened        integer NOT NULL DEFAULT 0,
    ADD CONSTRAINT redemptions_reopened_range CHECK (reopened >= 0),
    ADD CONSTRAINT redemptions_finalized_confirmed CHECK (finalized_block IS NULL OR status = 'confirmed');
COMMENT ON COLUMN redemptions.leader_term IS 'Leader term that claimed the redemption (NULL for redemptions made before terms existed).';
COMMENT ON COLUMN redemptions.finalized_block IS
    'Block number of the node''s finalized block (or, on a node without the finalized tag, the head at --confirmations depth) once it covered the mined block with the same hash: from then on the outcome cannot change. NULL while a confirmed redemption is still watched for reorgs.';
COMMENT ON COLUMN redemptions.reopened IS
    'Times a confirmed redemption was re-opened because its block stopped being canonical and its tickets were unused on chain (each time is alerted on).';

ALTER TABLE tx_attempts ADD COLUMN leader_term bigint;
COMMENT ON COLUMN tx_attempts.leader_term IS 'Leader term that signed and committed the attempt (NULL for attempts made before terms existed).';

ALTER TABLE tickets
    ADD COLUMN expected_payout numeric(78,0),
    ADD COLUMN paid_amount     numeric(78,0),
    ADD CONSTRAINT tickets_payout_range CHECK (
        (expected_payout IS NULL OR expected_payout >= 0) AND (paid_amount IS NULL OR paid_amount >= 0));
COMMENT ON COLUMN tickets.expected_payout IS
    'What the sender could pay this ticket when it was last claimed, wei: the face value, or less when its deposit plus this recipient''s reserve allocation (after tickets in flight) could not cover it. NULL until claimed.';
COMMENT ON COLUMN tickets.paid_amount IS
    'What the redemption actually paid the recipient, wei, from the WinningTicketTransfer log of the ticket''s redemption (0 when it paid nothing). NULL until redeemed.';

-- Claims pick due tickets one sender at a time and skip postponed ones
-- without reading them: never-tried tickets by sender and due block,
-- postponed ones by retry time.
DROP INDEX tickets_queued_expiration_idx;
CREATE INDEX tickets_fresh_due_idx ON tickets (params_expiration_block, id)
    WHERE status = 'queued' AND next_attempt_at IS NULL;
CREATE INDEX tickets_fresh_sender_idx ON tickets (sender, params_expiration_block, id)
    WHERE status = 'queued' AND next_attempt_at IS NULL;
CREATE INDEX tickets_retry_idx ON tickets (next_attempt_at, id)
    WHERE status = 'queued' AND next_attempt_at IS NOT NULL;
COMMENT ON INDEX tickets_fresh_due_idx IS 'Queued, never postponed tickets by due block: tells whether any ticket is due.';
COMMENT ON INDEX tickets_fresh_sender_idx IS 'Queued, never postponed tickets per sender by due block: the round-robin claim walks it one sender at a time.';
COMMENT ON INDEX tickets_retry_idx IS 'Postponed queued tickets by retry time: the claim reads only those whose time has come.';

-- Intake checks a sender's exposure (queued plus in limbo) against what it
-- can pay, so the queued sum is kept beside the in-limbo one and changed in
-- the same transaction as the tickets.
ALTER TABLE sender_limbo
    ADD COLUMN queued_amount numeric(78,0) NOT NULL DEFAULT 0,
    ADD CONSTRAINT sender_limbo_queued_amount_range CHECK (queued_amount >= 0);
INSERT INTO sender_limbo (sender, queued_amount)
SELECT sender, sum(face_value) FROM tickets WHERE status = 'queued' GROUP BY sender
ON CONFLICT (sender) DO UPDATE SET queued_amount = EXCLUDED.queued_amount;
COMMENT ON COLUMN sender_limbo.queued_amount IS
    'Sum of face values of the sender''s queued tickets, wei. With amount, the sender''s exposure that intake caps. Changed in the same transaction as the tickets; recomputed from tickets at every leader start.';

-- Winning tickets of this recipient that the chain shows redeemed, from the
-- WinningTicketRedeemed logs the leader follows: intake refuses them without
-- asking the node, and a queued copy fails at once.
CREATE TABLE redeemed_tickets (
    ticket_hash  bytea         PRIMARY KEY,
    sender       bytea         NOT NULL,
    round        bigint        NOT NULL,
    block_number bigint        NOT NULL,
    block_hash   bytea         NOT NULL,
    tx_hash      bytea         NOT NULL,
    seen_at      timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT redeemed_tickets_hash_len CHECK (octet_length(ticket_hash) = 32),
    CONSTRAINT redeemed_tickets_sender_len CHECK (octet_length(sender) = 20),
    CONSTRAINT redeemed_tickets_block_hash_len CHECK (octet_length(block_hash) = 32),
    CONSTRAINT redeemed_tickets_tx_hash_len CHECK (octet_length(tx_hash) = 32),
    CONSTRAINT redeemed_tickets_ranges CHECK (round >= 0 AND block_number >= 0)
);
CREATE INDEX redeemed_tickets_round_idx ON redeemed_tickets (round);
COMMENT ON TABLE redeemed_tickets IS
    'Ticket hashes for this service''s recipient that a WinningTicketRedeemed log shows redeemed on chain (by this service or anyone else). Rows from a block that a reorg removed are deleted; rows older than the ticket validity period are pruned, since such a ticket is refused as expired anyway.';
COMMENT ON COLUMN redeemed_tickets.ticket_hash IS 'Ticket hash rebuilt from the log, 32 raw bytes.';
COMMENT ON COLUMN redeemed_tickets.sender IS 'Sender named by the log, 20 raw bytes.';
COMMENT ON COLUMN redeemed_tickets.round IS 'Round current at the block of the log.';
COMMENT ON COLUMN redeemed_tickets.block_number IS 'Block of the log.';
COMMENT ON COLUMN redeemed_tickets.block_hash IS 'Hash of that block, 32 raw bytes.';
COMMENT ON COLUMN redeemed_tickets.tx_hash IS 'Transaction that redeemed the ticket, 32 raw bytes.';
COMMENT ON COLUMN redeemed_tickets.seen_at IS 'Time the row was written (database clock).';
COMMENT ON INDEX redeemed_tickets_round_idx IS 'Pruning by round.';

-- Block hash of each initialized round (RoundsManager NewRound), so intake
-- checks a ticket's creation round block hash without a node call.
CREATE TABLE round_hashes (
    round      bigint      PRIMARY KEY,
    block_hash bytea       NOT NULL,
    seen_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT round_hashes_round_range CHECK (round >= 0),
    CONSTRAINT round_hashes_block_hash_len CHECK (octet_length(block_hash) = 32)
);
COMMENT ON TABLE round_hashes IS
    'RoundsManager blockHashForRound(round) for initialized rounds, from NewRound logs and reads. A ticket''s creation_round_block_hash must equal it.';
COMMENT ON COLUMN round_hashes.round IS 'Round number.';
COMMENT ON COLUMN round_hashes.block_hash IS 'The round''s block hash, 32 raw bytes.';
COMMENT ON COLUMN round_hashes.seen_at IS 'Time the row was written (database clock).';

ALTER TABLE protocol_state
    ADD COLUMN ticket_validity_period numeric(78,0),
    ADD COLUMN round_length           numeric(78,0),
    ADD COLUMN round_start_l1         numeric(78,0);
COMMENT ON COLUMN protocol_state.ticket_validity_period IS 'TicketBroker ticketValidityPeriod(): rounds a ticket stays redeemable after its creation round. NULL until read.';
COMMENT ON COLUMN protocol_state.round_length IS 'RoundsManager roundLength(), in L1 blocks. NULL until read.';
COMMENT ON COLUMN protocol_state.round_start_l1 IS 'RoundsManager currentRoundStartBlock(): L1 block at which current_round began; the next round begins at round_start_l1 + round_length. NULL until read.';

-- A sender stays tracked (its state followed, floats streamed) while it has
-- open tickets or someone asked for it recently; the others are pruned.
ALTER TABLE senders ADD COLUMN wanted_at timestamptz NOT NULL DEFAULT now();
COMMENT ON COLUMN senders.wanted_at IS
    'Last time a ticket of the sender arrived or a replica had a max float stream open for it (database clock). A sender with no open tickets and wanted_at older than the retention of tracked senders is no longer tracked: its row is deleted.';
CREATE INDEX senders_wanted_at_idx ON senders (wanted_at);
COMMENT ON INDEX senders_wanted_at_idx IS 'Finds senders nobody asked for lately, for pruning.';

-- +goose Down
DROP INDEX senders_wanted_at_idx;
ALTER TABLE senders DROP COLUMN wanted_at;
ALTER TABLE protocol_state DROP COLUMN ticket_validity_period, DROP COLUMN round_length, DROP COLUMN round_start_l1;
DROP TABLE round_hashes;
DROP TABLE redeemed_tickets;
ALTER TABLE sender_limbo DROP CONSTRAINT sender_limbo_queued_amount_range, DROP COLUMN queued_amount;
DROP INDEX tickets_retry_idx;
DROP INDEX tickets_fresh_sender_idx;
DROP INDEX tickets_fresh_due_idx;
CREATE INDEX tickets_queued_expiration_idx ON tickets (params_expiration_block) WHERE status = 'queued';
ALTER TABLE tickets DROP CONSTRAINT tickets_payout_range, DROP COLUMN expected_payout, DROP COLUMN paid_amount;
ALTER TABLE tx_attempts DROP COLUMN leader_term;
ALTER TABLE redemptions DROP CONSTRAINT redemptions_finalized_confirmed, DROP CONSTRAINT redemptions_reopened_range,
    DROP COLUMN leader_term, DROP COLUMN finalized_block, DROP COLUMN reopened;
DROP TABLE stage_cursors;
DROP TABLE leader_lease;
