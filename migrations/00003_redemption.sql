-- +goose Up

-- The account that pays for redemptions. Its row is locked FOR UPDATE
-- whenever a nonce is handed out, so nonces are unique and gap-free across
-- replicas and restarts.
CREATE TABLE redeemer_accounts (
    address    bytea       PRIMARY KEY,
    next_nonce bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT redeemer_accounts_address_len CHECK (octet_length(address) = 20),
    CONSTRAINT redeemer_accounts_next_nonce_range CHECK (next_nonce >= 0)
);

COMMENT ON TABLE redeemer_accounts IS
    'Accounts that sign redemption transactions, with the next nonce to hand out. Locked FOR UPDATE while a nonce is assigned.';
COMMENT ON COLUMN redeemer_accounts.address IS 'Account address, 20 raw bytes.';
COMMENT ON COLUMN redeemer_accounts.next_nonce IS
    'Nonce the next new redemption transaction gets (unless the chain''s pending nonce is higher, when that one is used).';
COMMENT ON COLUMN redeemer_accounts.updated_at IS 'Time the row last changed (database clock).';

-- One redemption per nonce: the tickets it carries and how it ended. Each
-- signed transaction for that nonce (the first and every re-priced one) is a
-- row of tx_attempts.
CREATE TABLE redemptions (
    id                  bigserial   PRIMARY KEY,
    account             bytea       NOT NULL REFERENCES redeemer_accounts (address),
    nonce               bigint      NOT NULL,
    status              text        NOT NULL DEFAULT 'pending',
    ticket_count        integer     NOT NULL,
    created_block       bigint      NOT NULL,
    mined_tx_hash       bytea,
    mined_block         bigint,
    mined_block_hash    bytea,
    receipt_status      smallint,
    gas_used            bigint,
    effective_gas_price numeric(78,0),
    final_block         bigint,
    outcome             text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT redemptions_account_nonce_key UNIQUE (account, nonce),
    CONSTRAINT redemptions_nonce_range CHECK (nonce >= 0),
    CONSTRAINT redemptions_status_valid CHECK (status IN ('pending', 'mined', 'confirmed', 'dropped')),
    CONSTRAINT redemptions_ticket_count_range CHECK (ticket_count > 0),
    CONSTRAINT redemptions_mined_fields CHECK (
        (status IN ('mined', 'confirmed')) = (mined_tx_hash IS NOT NULL AND mined_block IS NOT NULL
                                              AND mined_block_hash IS NOT NULL AND receipt_status IS NOT NULL)),
    CONSTRAINT redemptions_final_fields CHECK ((status IN ('confirmed', 'dropped')) = (final_block IS NOT NULL))
);

CREATE INDEX redemptions_open_idx ON redemptions (id) WHERE status IN ('pending', 'mined');

COMMENT ON TABLE redemptions IS
    'One redemption transaction per (account, nonce): redeemWinningTicket for one ticket or batchRedeemWinningTickets for several. Its signed versions are in tx_attempts; its tickets point at it through tickets.redemption_id.';
COMMENT ON COLUMN redemptions.id IS 'Surrogate key.';
COMMENT ON COLUMN redemptions.account IS 'Signing account (redeemer_accounts.address).';
COMMENT ON COLUMN redemptions.nonce IS 'Transaction nonce shared by every attempt of this redemption.';
COMMENT ON COLUMN redemptions.status IS
    'pending (signed, not in a block yet), mined (in a block, waiting for confirmations), confirmed (final: tickets settled by the receipt and its logs), dropped (final: the nonce was used by a transaction that is none of these attempts; unused tickets went back to the queue).';
COMMENT ON COLUMN redemptions.ticket_count IS 'Number of tickets the transaction redeems.';
COMMENT ON COLUMN redemptions.created_block IS 'Block number of the head on which the redemption was claimed.';
COMMENT ON COLUMN redemptions.mined_tx_hash IS 'Hash of the attempt that was mined, 32 raw bytes; NULL while pending.';
COMMENT ON COLUMN redemptions.mined_block IS 'Block number that includes the mined attempt; NULL while pending.';
COMMENT ON COLUMN redemptions.mined_block_hash IS 'Hash of that block, 32 raw bytes; a reorg that removes it sends the redemption back to pending.';
COMMENT ON COLUMN redemptions.receipt_status IS 'Receipt status of the mined attempt: 1 success, 0 reverted.';
COMMENT ON COLUMN redemptions.gas_used IS 'Gas used by the mined attempt.';
COMMENT ON COLUMN redemptions.effective_gas_price IS 'Price per gas actually paid, wei.';
COMMENT ON COLUMN redemptions.final_block IS 'Head block number at which the redemption became final (confirmed or dropped).';
COMMENT ON COLUMN redemptions.outcome IS 'Human-readable summary of how the redemption ended.';
COMMENT ON COLUMN redemptions.created_at IS 'Time the redemption was claimed (database clock).';
COMMENT ON COLUMN redemptions.updated_at IS 'Time the row last changed (database clock).';

CREATE TABLE tx_attempts (
    id                       bigserial     PRIMARY KEY,
    redemption_id            bigint        NOT NULL REFERENCES redemptions (id),
    tx_hash                  bytea         NOT NULL,
    raw_tx                   bytea         NOT NULL,
    gas_limit                bigint        NOT NULL,
    max_fee_per_gas          numeric(78,0) NOT NULL,
    max_priority_fee_per_gas numeric(78,0) NOT NULL,
    created_block            bigint        NOT NULL,
    created_at               timestamptz   NOT NULL DEFAULT now(),
    sent_at                  timestamptz,
    send_count               integer       NOT NULL DEFAULT 0,
    send_error               text,
    CONSTRAINT tx_attempts_tx_hash_key UNIQUE (tx_hash),
    CONSTRAINT tx_attempts_tx_hash_len CHECK (octet_length(tx_hash) = 32),
    CONSTRAINT tx_attempts_gas_limit_range CHECK (gas_limit > 0),
    CONSTRAINT tx_attempts_fees_range CHECK (max_priority_fee_per_gas >= 0 AND max_fee_per_gas >= max_priority_fee_per_gas)
);

CREATE INDEX tx_attempts_redemption_idx ON tx_attempts (redemption_id, id);

COMMENT ON TABLE tx_attempts IS
    'Every signed transaction for a redemption, committed before it is broadcast: the first one and each re-priced replacement at the same nonce. raw_tx is re-broadcast byte for byte after a crash.';
COMMENT ON COLUMN tx_attempts.id IS 'Surrogate key; the highest id of a redemption is its current attempt.';
COMMENT ON COLUMN tx_attempts.redemption_id IS 'The redemption (and so the nonce) this attempt belongs to.';
COMMENT ON COLUMN tx_attempts.tx_hash IS 'Transaction hash, 32 raw bytes.';
COMMENT ON COLUMN tx_attempts.raw_tx IS 'Signed transaction as sent with eth_sendRawTransaction (EIP-2718 typed envelope).';
COMMENT ON COLUMN tx_attempts.gas_limit IS 'Gas limit of the transaction.';
COMMENT ON COLUMN tx_attempts.max_fee_per_gas IS 'EIP-1559 fee cap, wei per gas.';
COMMENT ON COLUMN tx_attempts.max_priority_fee_per_gas IS 'EIP-1559 tip cap, wei per gas.';
COMMENT ON COLUMN tx_attempts.created_block IS 'Head block number when the attempt was signed; re-pricing counts blocks from here.';
COMMENT ON COLUMN tx_attempts.created_at IS 'Time the attempt was committed (database clock).';
COMMENT ON COLUMN tx_attempts.sent_at IS 'Time of the last broadcast the node accepted; NULL if none was accepted yet.';
COMMENT ON COLUMN tx_attempts.send_count IS 'Number of broadcasts of this attempt, accepted or not.';
COMMENT ON COLUMN tx_attempts.send_error IS 'Error of the last broadcast the node refused; NULL after an accepted one.';

ALTER TABLE tickets ADD COLUMN redemption_id bigint REFERENCES redemptions (id);
ALTER TABLE tickets ADD CONSTRAINT tickets_redeeming_has_redemption
    CHECK (status <> 'redeeming' OR redemption_id IS NOT NULL);
CREATE INDEX tickets_redemption_idx ON tickets (redemption_id) WHERE redemption_id IS NOT NULL;
COMMENT ON COLUMN tickets.redemption_id IS
    'Redemption that carries (or last carried) the ticket; set when it is claimed. NULL for a ticket never claimed.';

-- The amount each sender has in limbo: face values of its redeeming tickets.
-- Kept as a row (not only a SUM) so the float of a sender is one indexed read
-- and every change is a row change inside the claim or settle transaction.
CREATE TABLE sender_limbo (
    sender     bytea         PRIMARY KEY,
    amount     numeric(78,0) NOT NULL DEFAULT 0,
    updated_at timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT sender_limbo_sender_len CHECK (octet_length(sender) = 20),
    CONSTRAINT sender_limbo_amount_range CHECK (amount >= 0)
);
COMMENT ON TABLE sender_limbo IS
    'Per sender, the sum of face values of its tickets in status redeeming (claimed, outcome not final). It is subtracted from the sender''s max float. Changed in the same transaction as the tickets; recomputed from tickets at every start.';
COMMENT ON COLUMN sender_limbo.sender IS 'Sender address, 20 raw bytes.';
COMMENT ON COLUMN sender_limbo.amount IS 'Sum of face values of the sender''s redeeming tickets, wei.';
COMMENT ON COLUMN sender_limbo.updated_at IS 'Time the amount last changed (database clock).';

-- The audit trail of every ticket state change the worker makes.
CREATE TABLE ticket_events (
    id            bigserial   PRIMARY KEY,
    ticket_id     bigint      NOT NULL REFERENCES tickets (id),
    from_status   text        NOT NULL,
    to_status     text        NOT NULL,
    redemption_id bigint      REFERENCES redemptions (id),
    reason        text,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_events_ticket_idx ON ticket_events (ticket_id, id);
COMMENT ON TABLE ticket_events IS
    'One row per change the service makes to a ticket''s status or schedule (claimed, settled, postponed, expired, requeued), written in the same transaction as the change.';
COMMENT ON COLUMN ticket_events.id IS 'Surrogate key, in commit order per ticket.';
COMMENT ON COLUMN ticket_events.ticket_id IS 'The ticket (tickets.id).';
COMMENT ON COLUMN ticket_events.from_status IS 'Status before the change.';
COMMENT ON COLUMN ticket_events.to_status IS 'Status after the change (equal to from_status for a postponement).';
COMMENT ON COLUMN ticket_events.redemption_id IS 'Redemption involved, if any.';
COMMENT ON COLUMN ticket_events.reason IS 'Why, in words.';
COMMENT ON COLUMN ticket_events.at IS 'Time of the change (database clock).';

CREATE VIEW sender_summary AS
SELECT
    '0x' || encode(t.sender, 'hex')                                   AS sender,
    count(*) FILTER (WHERE t.status = 'queued')                       AS queued,
    coalesce(sum(t.face_value) FILTER (WHERE t.status = 'queued'), 0) AS queued_wei,
    count(*) FILTER (WHERE t.status = 'redeeming')                    AS in_limbo,
    coalesce(l.amount, 0)                                             AS in_limbo_wei,
    count(*) FILTER (WHERE t.status = 'redeemed')                     AS redeemed,
    coalesce(sum(t.face_value) FILTER (WHERE t.status = 'redeemed'), 0) AS redeemed_wei,
    count(*) FILTER (WHERE t.status = 'failed')                       AS failed,
    coalesce(sum(t.face_value) FILTER (WHERE t.status = 'failed'), 0) AS failed_wei,
    count(*) FILTER (WHERE t.status = 'expired')                      AS expired,
    coalesce(sum(t.face_value) FILTER (WHERE t.status = 'expired'), 0) AS expired_wei
FROM tickets t
LEFT JOIN sender_limbo l ON l.sender = t.sender
GROUP BY t.sender, l.amount;
COMMENT ON VIEW sender_summary IS
    'Per sender: ticket counts and face-value sums by status, and the stored in-limbo amount (which must equal the redeeming sum).';

CREATE VIEW redemption_audit AS
SELECT
    r.id,
    '0x' || encode(r.account, 'hex')                  AS account,
    r.nonce,
    r.status,
    r.ticket_count,
    (SELECT count(*) FROM tx_attempts a WHERE a.redemption_id = r.id) AS attempts,
    '0x' || encode(last.tx_hash, 'hex')               AS last_tx_hash,
    last.max_fee_per_gas                              AS last_max_fee_per_gas,
    last.max_priority_fee_per_gas                     AS last_max_priority_fee_per_gas,
    last.sent_at                                      AS last_sent_at,
    last.send_error                                   AS last_send_error,
    '0x' || encode(r.mined_tx_hash, 'hex')            AS mined_tx_hash,
    r.mined_block,
    r.receipt_status,
    r.gas_used,
    r.effective_gas_price,
    r.gas_used * r.effective_gas_price                AS fee_paid_wei,
    r.final_block,
    r.outcome,
    r.created_at,
    r.updated_at
FROM redemptions r
LEFT JOIN LATERAL (
    SELECT * FROM tx_attempts a WHERE a.redemption_id = r.id ORDER BY a.id DESC LIMIT 1
) last ON true;
COMMENT ON VIEW redemption_audit IS
    'Redemptions with their latest attempt, hashes as 0x-hex, and the fee paid.';

CREATE TRIGGER redemptions_set_updated_at
    BEFORE UPDATE ON redemptions
    FOR EACH ROW EXECUTE FUNCTION tickets_set_updated_at();

-- +goose Down
DROP VIEW redemption_audit;
DROP VIEW sender_summary;
DROP TABLE ticket_events;
DROP TABLE sender_limbo;
ALTER TABLE tickets DROP CONSTRAINT tickets_redeeming_has_redemption;
ALTER TABLE tickets DROP COLUMN redemption_id;
DROP TABLE tx_attempts;
DROP TABLE redemptions;
DROP TABLE redeemer_accounts;
