-- +goose Up

-- Every constraint that the intake validates in Go is repeated here, so a
-- bug in the service or a hand-written INSERT cannot leave a row that the
-- redemption worker would later fail to encode into a transaction.
CREATE TABLE tickets (
    id                        bigserial    PRIMARY KEY,
    ticket_hash               bytea        NOT NULL,
    sender                    bytea        NOT NULL,
    recipient                 bytea        NOT NULL,
    face_value                numeric(78,0) NOT NULL,
    win_prob                  numeric(78,0) NOT NULL,
    sender_nonce              bigint       NOT NULL,
    recipient_rand            bytea        NOT NULL,
    recipient_rand_hash       bytea        NOT NULL,
    seed                      bytea        NOT NULL DEFAULT ''::bytea,
    sig                       bytea        NOT NULL,
    creation_round            bigint       NOT NULL,
    creation_round_block_hash bytea        NOT NULL,
    params_expiration_block   bigint       NOT NULL,
    status                    text         NOT NULL DEFAULT 'queued',
    attempts                  integer      NOT NULL DEFAULT 0,
    last_error                text,
    next_attempt_at           timestamptz,
    received_at               timestamptz  NOT NULL DEFAULT now(),
    updated_at                timestamptz  NOT NULL DEFAULT now(),

    CONSTRAINT tickets_ticket_hash_key UNIQUE (ticket_hash),
    CONSTRAINT tickets_ticket_hash_len CHECK (octet_length(ticket_hash) = 32),
    CONSTRAINT tickets_sender_len CHECK (octet_length(sender) = 20),
    CONSTRAINT tickets_recipient_len CHECK (octet_length(recipient) = 20),
    -- A uint256 on chain: 2^256 is the first value the contract cannot take.
    CONSTRAINT tickets_face_value_range CHECK (
        face_value > 0
        AND face_value < 115792089237316195423570985008687907853269984665640564039457584007913129639936),
    -- Zero can never win, so such a ticket is never worth storing.
    CONSTRAINT tickets_win_prob_range CHECK (
        win_prob > 0
        AND win_prob < 115792089237316195423570985008687907853269984665640564039457584007913129639936),
    -- The wire carries a uint32; bigint is the narrowest SQL type that holds it.
    CONSTRAINT tickets_sender_nonce_range CHECK (sender_nonce BETWEEN 0 AND 4294967295),
    CONSTRAINT tickets_recipient_rand_len CHECK (octet_length(recipient_rand) = 32),
    CONSTRAINT tickets_recipient_rand_hash_len CHECK (octet_length(recipient_rand_hash) = 32),
    CONSTRAINT tickets_seed_len CHECK (octet_length(seed) <= 32),
    CONSTRAINT tickets_sig_len CHECK (octet_length(sig) = 65),
    CONSTRAINT tickets_creation_round_range CHECK (creation_round >= 0),
    CONSTRAINT tickets_creation_round_block_hash_len CHECK (octet_length(creation_round_block_hash) = 32),
    CONSTRAINT tickets_params_expiration_block_range CHECK (params_expiration_block >= 0),
    CONSTRAINT tickets_status_valid CHECK (
        status IN ('queued', 'redeeming', 'redeemed', 'failed', 'expired')),
    CONSTRAINT tickets_attempts_range CHECK (attempts >= 0),
    -- A ticket that ends without being paid must say why: operators audit
    -- every lost payout from this column alone.
    CONSTRAINT tickets_unpaid_has_reason CHECK (
        status NOT IN ('failed', 'expired') OR (last_error IS NOT NULL AND last_error <> ''))
);

-- The worker asks, once per block, for queued tickets whose recipientRand has
-- been retired; the partial index keeps that scan proportional to the queue,
-- not to the whole history.
CREATE INDEX tickets_queued_expiration_idx
    ON tickets (params_expiration_block)
    WHERE status = 'queued';

-- Per-sender sums (the in-limbo amount behind max float) filter on both.
CREATE INDEX tickets_sender_status_idx ON tickets (sender, status);

-- updated_at is maintained by the database so that the audit trail stays
-- right even for rows an operator changes by hand.
-- +goose StatementBegin
CREATE FUNCTION tickets_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER tickets_set_updated_at
    BEFORE UPDATE ON tickets
    FOR EACH ROW EXECUTE FUNCTION tickets_set_updated_at();

COMMENT ON FUNCTION tickets_set_updated_at() IS
    'Trigger function: stamps tickets.updated_at with the transaction time on every UPDATE.';

COMMENT ON TABLE tickets IS
    'Winning probabilistic-micropayment tickets accepted from orchestrators through QueueTicket, with everything needed to call TicketBroker.redeemWinningTicket and to audit the outcome. A row exists only for a ticket that passed validation; the service never deletes rows. Byte columns hold raw bytes (see the ticket_audit view for 0x-hex); amounts are exact integers in wei.';

COMMENT ON COLUMN tickets.id IS
    'Surrogate key, in insertion order. Carries no protocol meaning.';
COMMENT ON COLUMN tickets.ticket_hash IS
    'keccak256 of the packed ticket (recipient, sender, faceValue, winProb, senderNonce, recipientRandHash, auxData), 32 raw bytes. Identical to TicketBroker.getTicketHash and to the key of usedTickets(bytes32); unique, which makes QueueTicket idempotent.';
COMMENT ON COLUMN tickets.sender IS
    'Broadcaster address that signed the ticket and whose deposit and reserve pay it, 20 raw bytes.';
COMMENT ON COLUMN tickets.recipient IS
    'Orchestrator address that the contract pays on redemption, 20 raw bytes.';
COMMENT ON COLUMN tickets.face_value IS
    'Amount the ticket pays if redeemed, in wei (1 ETH = 10^18 wei); exact integer, 0 < face_value < 2^256.';
COMMENT ON COLUMN tickets.win_prob IS
    'Winning threshold as a uint256: the ticket wins when keccak256(sig || recipient_rand) < win_prob, so the odds are win_prob / 2^256. Exact integer, 0 < win_prob < 2^256.';
COMMENT ON COLUMN tickets.sender_nonce IS
    'Sender''s per-ticket nonce (uint32 on the wire, uint256 in the hash), 0..4294967295.';
COMMENT ON COLUMN tickets.recipient_rand IS
    'Recipient''s secret random number revealed to redeem, as a 32-byte big-endian word (the uint256 passed to redeemWinningTicket).';
COMMENT ON COLUMN tickets.recipient_rand_hash IS
    'keccak256 of recipient_rand as a 32-byte word, 32 raw bytes; part of the signed ticket.';
COMMENT ON COLUMN tickets.seed IS
    'Recipient''s seed from which recipient_rand was derived, opaque, 0 to 32 raw bytes (empty when the orchestrator sent none). Kept for audit only; not sent on chain.';
COMMENT ON COLUMN tickets.sig IS
    'Sender''s secp256k1 signature r || s || v (65 raw bytes, v = 27 or 28) over the Ethereum signed-message hash of ticket_hash.';
COMMENT ON COLUMN tickets.creation_round IS
    'Livepeer round (RoundsManager) in which the ticket was created; first half of auxData. The ticket is redeemable only while creation_round + ticketValidityPeriod > current round.';
COMMENT ON COLUMN tickets.creation_round_block_hash IS
    'L1 block hash that RoundsManager.blockHashForRound(creation_round) returns, 32 raw bytes; second half of auxData.';
COMMENT ON COLUMN tickets.params_expiration_block IS
    'L1 (Ethereum mainnet) block number from which the recipient no longer issues tickets with this recipient_rand_hash; the ticket is redeemed only once the latest L1 block is at or past it.';
COMMENT ON COLUMN tickets.status IS
    'Life cycle: queued (waiting to be due or economic), redeeming (a redemption transaction is in flight), redeemed (paid; final), failed (not paid, reason in last_error; final), expired (validity period passed before redemption, reason in last_error; final).';
COMMENT ON COLUMN tickets.attempts IS
    'Number of redemption attempts the worker has started for this ticket; drives the retry backoff.';
COMMENT ON COLUMN tickets.last_error IS
    'Human-readable reason of the most recent failed or postponed attempt; required for failed and expired tickets. NULL when nothing went wrong.';
COMMENT ON COLUMN tickets.next_attempt_at IS
    'Earliest time the worker retries a postponed queued ticket (backoff); NULL means as soon as it is due.';
COMMENT ON COLUMN tickets.received_at IS
    'Time the ticket was committed by QueueTicket (database clock).';
COMMENT ON COLUMN tickets.updated_at IS
    'Time of the last change to the row (database clock, maintained by trigger).';

-- Hex text is what block explorers and go-livepeer logs show, so the view
-- lets an operator paste values straight from psql.
CREATE VIEW ticket_audit AS
SELECT
    id,
    '0x' || encode(ticket_hash, 'hex')               AS ticket_hash,
    status,
    '0x' || encode(sender, 'hex')                    AS sender,
    '0x' || encode(recipient, 'hex')                 AS recipient,
    face_value                                       AS face_value_wei,
    face_value * 0.000000000000000001                AS face_value_eth,
    win_prob,
    sender_nonce,
    '0x' || encode(recipient_rand, 'hex')            AS recipient_rand,
    '0x' || encode(recipient_rand_hash, 'hex')       AS recipient_rand_hash,
    '0x' || encode(seed, 'hex')                      AS seed,
    '0x' || encode(sig, 'hex')                       AS sig,
    creation_round,
    '0x' || encode(creation_round_block_hash, 'hex') AS creation_round_block_hash,
    params_expiration_block,
    attempts,
    last_error,
    next_attempt_at,
    received_at,
    updated_at
FROM tickets;

COMMENT ON VIEW ticket_audit IS
    'tickets for reading in psql: byte columns as 0x-prefixed lowercase hex, face value in wei and in ETH (exact numeric, no rounding).';

-- +goose Down
DROP VIEW ticket_audit;
DROP TABLE tickets;
DROP FUNCTION tickets_set_updated_at();
