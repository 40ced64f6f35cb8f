package store

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// FloatChannel is the NOTIFY channel that announces a change to a sender's
// max float. The payload is the sender as 0x-hex, or "*" for every sender.
const FloatChannel = "max_float"

// Redemption statuses, as stored in redemptions.status.
const (
	RedemptionPending   = "pending"
	RedemptionMined     = "mined"
	RedemptionConfirmed = "confirmed"
	RedemptionDropped   = "dropped"
)

// AttemptTx is a signed redemption transaction about to be committed.
type AttemptTx struct {
	TxHash   [32]byte
	Raw      []byte
	GasLimit uint64
	FeeCap   *big.Int
	TipCap   *big.Int
}

// Attempt is a stored transaction attempt.
type Attempt struct {
	AttemptTx
	ID           int64
	RedemptionID int64
	CreatedBlock uint64
	SentAt       *time.Time
	SendCount    int
	SendError    string
}

// Redemption is a stored redemption with its attempts, oldest first.
type Redemption struct {
	ID             int64
	Account        [20]byte
	Nonce          uint64
	Status         string
	TicketCount    int
	CreatedBlock   uint64
	MinedTxHash    [32]byte
	MinedBlock     uint64
	MinedBlockHash [32]byte
	Attempts       []Attempt
}

// Latest is the attempt to broadcast and to bump from.
func (r *Redemption) Latest() *Attempt { return &r.Attempts[len(r.Attempts)-1] }

// Claim asks to move queued tickets into a new redemption transaction.
type Claim struct {
	Account   [20]byte
	TicketIDs []int64
	// ChainNonce is the account's pending nonce on chain, read just before:
	// the nonce used is max(stored next nonce, ChainNonce).
	ChainNonce uint64
	HeadNumber uint64
	// Sign builds and signs the transaction for the tickets actually locked
	// (a subset of TicketIDs when some were taken or changed meanwhile) at
	// the assigned nonce. It runs inside the database transaction and must
	// not call out to the network.
	Sign func(nonce uint64, tickets []Ticket) (AttemptTx, error)
}

// Claimed is a committed claim: what to broadcast.
type Claimed struct {
	RedemptionID int64
	AttemptID    int64
	Nonce        uint64
	Tickets      []Ticket
	Tx           AttemptTx
}

// withTx runs fn in a transaction and commits it, or rolls back on error.
func (s *Store) withTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// ClaimTickets locks the still-queued tickets of c, assigns the nonce, stores
// the signed transaction, marks the tickets redeeming, adds their face values
// to their senders' in-limbo amounts and announces the float changes — all in
// one transaction, so nothing outside the database can see a claim that is
// not committed. It returns nil when none of the tickets could be locked.
func (s *Store) ClaimTickets(ctx context.Context, c Claim) (*Claimed, error) {
	var out *Claimed
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		tickets, err := queryTickets(ctx, tx, `SELECT `+ticketColumns+` FROM tickets
			WHERE id = ANY($1) AND status = 'queued'
			ORDER BY id FOR UPDATE SKIP LOCKED`, c.TicketIDs)
		if err != nil {
			return err
		}
		if len(tickets) == 0 {
			return nil
		}

		if _, err := tx.Exec(ctx, `INSERT INTO redeemer_accounts (address, next_nonce) VALUES ($1, $2)
			ON CONFLICT (address) DO NOTHING`, c.Account[:], int64(c.ChainNonce)); err != nil {
			return err
		}
		var next int64
		if err := tx.QueryRow(ctx, `SELECT next_nonce FROM redeemer_accounts WHERE address = $1 FOR UPDATE`,
			c.Account[:]).Scan(&next); err != nil {
			return err
		}
		nonce := max(uint64(next), c.ChainNonce)

		signed, err := c.Sign(nonce, tickets)
		if err != nil {
			return fmt.Errorf("sign: %w", err)
		}
		var redemptionID, attemptID int64
		if err := tx.QueryRow(ctx, `INSERT INTO redemptions (account, nonce, ticket_count, created_block)
			VALUES ($1, $2, $3, $4) RETURNING id`,
			c.Account[:], int64(nonce), len(tickets), int64(c.HeadNumber)).Scan(&redemptionID); err != nil {
			return err
		}
		if attemptID, err = insertAttempt(ctx, tx, redemptionID, signed, c.HeadNumber); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE redeemer_accounts SET next_nonce = $2, updated_at = now() WHERE address = $1`,
			c.Account[:], int64(nonce+1)); err != nil {
			return err
		}

		ids := make([]int64, len(tickets))
		limbo := map[[20]byte]*big.Int{}
		for i, t := range tickets {
			ids[i] = t.ID
			if limbo[t.Sender] == nil {
				limbo[t.Sender] = new(big.Int)
			}
			limbo[t.Sender].Add(limbo[t.Sender], t.FaceValue)
		}
		if _, err := tx.Exec(ctx, `UPDATE tickets SET status = 'redeeming', redemption_id = $2,
			attempts = attempts + 1, next_attempt_at = NULL WHERE id = ANY($1)`, ids, redemptionID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO ticket_events (ticket_id, from_status, to_status, redemption_id, reason)
			SELECT unnest($1::bigint[]), 'queued', 'redeeming', $2, $3`,
			ids, redemptionID, fmt.Sprintf("claimed into redemption %d at nonce %d", redemptionID, nonce)); err != nil {
			return err
		}
		for sender, amount := range limbo {
			if err := addLimbo(ctx, tx, sender, amount); err != nil {
				return err
			}
		}
		out = &Claimed{RedemptionID: redemptionID, AttemptID: attemptID, Nonce: nonce, Tickets: tickets, Tx: signed}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim tickets: %w", err)
	}
	return out, nil
}

func insertAttempt(ctx context.Context, tx pgx.Tx, redemptionID int64, a AttemptTx, head uint64) (int64, error) {
	feeCap, err := bigToNumeric(a.FeeCap)
	if err != nil {
		return 0, fmt.Errorf("fee cap: %w", err)
	}
	tip, err := bigToNumeric(a.TipCap)
	if err != nil {
		return 0, fmt.Errorf("tip cap: %w", err)
	}
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO tx_attempts (redemption_id, tx_hash, raw_tx, gas_limit,
			max_fee_per_gas, max_priority_fee_per_gas, created_block)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		redemptionID, a.TxHash[:], a.Raw, int64(a.GasLimit), feeCap, tip, int64(head)).Scan(&id)
	return id, err
}

// addLimbo changes a sender's in-limbo amount by delta (negative to release)
// and announces the float change in the same transaction.
func addLimbo(ctx context.Context, tx pgx.Tx, sender [20]byte, delta *big.Int) error {
	d, err := bigToNumeric(new(big.Int).Abs(delta))
	if err != nil {
		return err
	}
	if delta.Sign() < 0 {
		// The CHECK (amount >= 0) turns a release of more than is in limbo
		// (a broken invariant) into an error instead of a silent clamp.
		_, err = tx.Exec(ctx, `UPDATE sender_limbo SET amount = amount - $2, updated_at = now() WHERE sender = $1`,
			sender[:], d)
	} else {
		_, err = tx.Exec(ctx, `INSERT INTO sender_limbo (sender, amount) VALUES ($1, $2)
			ON CONFLICT (sender) DO UPDATE SET amount = sender_limbo.amount + EXCLUDED.amount, updated_at = now()`,
			sender[:], d)
	}
	if err != nil {
		return fmt.Errorf("in-limbo amount of %x: %w", sender, err)
	}
	return notifySender(ctx, tx, sender)
}

func notifySender(ctx context.Context, tx pgx.Tx, sender [20]byte) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, FloatChannel, "0x"+hex.EncodeToString(sender[:]))
	return err
}

// RecomputeLimbo rebuilds every sender's in-limbo amount from its redeeming
// tickets and announces the senders whose amount changed. It runs at start,
// before any float is served, so a crash between two writes (impossible by
// construction, but cheap to rule out) never leaves a wrong float behind.
func (s *Store) RecomputeLimbo(ctx context.Context) (changed int, err error) {
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		// Lock the table against concurrent claims for the few milliseconds
		// the recount takes, so the recount is exact.
		if _, err := tx.Exec(ctx, `LOCK TABLE sender_limbo IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			WITH actual AS (
				SELECT sender, sum(face_value) AS amount FROM tickets WHERE status = 'redeeming' GROUP BY sender
			), upserted AS (
				INSERT INTO sender_limbo (sender, amount) SELECT sender, amount FROM actual
				ON CONFLICT (sender) DO UPDATE SET amount = EXCLUDED.amount, updated_at = now()
				WHERE sender_limbo.amount <> EXCLUDED.amount
				RETURNING sender
			), zeroed AS (
				UPDATE sender_limbo SET amount = 0, updated_at = now()
				WHERE amount <> 0 AND sender NOT IN (SELECT sender FROM actual)
				RETURNING sender
			)
			SELECT sender FROM upserted UNION SELECT sender FROM zeroed`)
		if err != nil {
			return err
		}
		senders, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			return err
		}
		for _, b := range senders {
			var a [20]byte
			copy(a[:], b)
			if err := notifySender(ctx, tx, a); err != nil {
				return err
			}
		}
		changed = len(senders)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: recompute in-limbo amounts: %w", err)
	}
	return changed, nil
}

// SenderLimbo returns a sender's stored in-limbo amount (zero when none).
func (s *Store) SenderLimbo(ctx context.Context, sender [20]byte) (*big.Int, error) {
	var n pgtype.Numeric
	err := s.pool.QueryRow(ctx, `SELECT amount FROM sender_limbo WHERE sender = $1`, sender[:]).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return new(big.Int), nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: in-limbo amount of %x: %w", sender, err)
	}
	return numericToBig(n)
}

// DueTickets returns queued tickets whose params expiration block is at or
// below l1Block and whose retry time (if any) has come, oldest due first.
func (s *Store) DueTickets(ctx context.Context, l1Block uint64, limit int) ([]Ticket, error) {
	out, err := queryTickets(ctx, s.pool, `SELECT `+ticketColumns+` FROM tickets
		WHERE status = 'queued' AND params_expiration_block <= $1
		  AND (next_attempt_at IS NULL OR next_attempt_at <= now())
		ORDER BY params_expiration_block, id LIMIT $2`, int64(l1Block), limit)
	if err != nil {
		return nil, fmt.Errorf("store: due tickets: %w", err)
	}
	return out, nil
}

// QueuedTicketsCreatedBefore returns queued tickets created before round (whatever
// their due block), for the expiry sweep.
func (s *Store) QueuedTicketsCreatedBefore(ctx context.Context, round int64, limit int) ([]Ticket, error) {
	out, err := queryTickets(ctx, s.pool, `SELECT `+ticketColumns+` FROM tickets
		WHERE status = 'queued' AND creation_round < $1 ORDER BY id LIMIT $2`, round, limit)
	if err != nil {
		return nil, fmt.Errorf("store: queued tickets before round %d: %w", round, err)
	}
	return out, nil
}

// PostponeTicket keeps a queued ticket queued until retryAt, recording why.
// countAttempt says whether this counts as a failed redemption attempt (it
// does when the chain refused the ticket, not when it was merely uneconomic).
func (s *Store) PostponeTicket(ctx context.Context, id int64, retryAt time.Time, reason string, countAttempt bool) error {
	inc := 0
	if countAttempt {
		inc = 1
	}
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE tickets SET next_attempt_at = $2, last_error = $3, attempts = attempts + $4
			WHERE id = $1 AND status = 'queued'`, id, retryAt, reason, inc)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO ticket_events (ticket_id, from_status, to_status, reason)
			VALUES ($1, 'queued', 'queued', $2)`, id, "postponed until "+retryAt.UTC().Format(time.RFC3339)+": "+reason)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: postpone ticket %d: %w", id, err)
	}
	return nil
}

// EndQueuedTicket ends a queued ticket as failed or expired with its reason.
// It is a no-op for a ticket that is no longer queued.
func (s *Store) EndQueuedTicket(ctx context.Context, id int64, status, reason string) error {
	if status != StatusFailed && status != StatusExpired {
		return fmt.Errorf("store: end ticket %d: %q is not a final unpaid status", id, status)
	}
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE tickets SET status = $2, last_error = $3, next_attempt_at = NULL
			WHERE id = $1 AND status = 'queued'`, id, status, reason)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO ticket_events (ticket_id, from_status, to_status, reason)
			VALUES ($1, 'queued', $2, $3)`, id, status, reason)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: end ticket %d: %w", id, err)
	}
	return nil
}

// OpenRedemptions returns the redemptions not yet final, with their attempts.
func (s *Store) OpenRedemptions(ctx context.Context) ([]Redemption, error) {
	rows, err := s.pool.Query(ctx, `SELECT r.id, r.account, r.nonce, r.status, r.ticket_count, r.created_block,
			r.mined_tx_hash, r.mined_block, r.mined_block_hash,
			a.id, a.tx_hash, a.raw_tx, a.gas_limit, a.max_fee_per_gas, a.max_priority_fee_per_gas,
			a.created_block, a.sent_at, a.send_count, a.send_error
		FROM redemptions r JOIN tx_attempts a ON a.redemption_id = r.id
		WHERE r.status IN ('pending', 'mined')
		ORDER BY r.id, a.id`)
	if err != nil {
		return nil, fmt.Errorf("store: open redemptions: %w", err)
	}
	defer rows.Close()
	var out []Redemption
	for rows.Next() {
		var (
			r                              Redemption
			a                              Attempt
			account, minedHash, minedBlock []byte
			txHash                         []byte
			nonce, created, aCreated       int64
			minedNum, gasLimit             pgtype.Int8
			feeCap, tip                    pgtype.Numeric
			sentAt                         pgtype.Timestamptz
			sendErr                        pgtype.Text
		)
		if err := rows.Scan(&r.ID, &account, &nonce, &r.Status, &r.TicketCount, &created,
			&minedHash, &minedNum, &minedBlock,
			&a.ID, &txHash, &a.Raw, &gasLimit, &feeCap, &tip, &aCreated, &sentAt, &a.SendCount, &sendErr); err != nil {
			return nil, fmt.Errorf("store: open redemptions: %w", err)
		}
		copy(r.Account[:], account)
		copy(r.MinedTxHash[:], minedHash)
		copy(r.MinedBlockHash[:], minedBlock)
		r.Nonce, r.CreatedBlock, r.MinedBlock = uint64(nonce), uint64(created), uint64(minedNum.Int64)
		copy(a.TxHash[:], txHash)
		a.RedemptionID, a.GasLimit, a.CreatedBlock = r.ID, uint64(gasLimit.Int64), uint64(aCreated)
		if a.FeeCap, err = numericToBig(feeCap); err != nil {
			return nil, err
		}
		if a.TipCap, err = numericToBig(tip); err != nil {
			return nil, err
		}
		if sentAt.Valid {
			at := sentAt.Time
			a.SentAt = &at
		}
		a.SendError = sendErr.String
		if n := len(out); n > 0 && out[n-1].ID == r.ID {
			out[n-1].Attempts = append(out[n-1].Attempts, a)
			continue
		}
		r.Attempts = []Attempt{a}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: open redemptions: %w", err)
	}
	return out, nil
}

// RedemptionTickets returns the tickets a redemption carries.
func (s *Store) RedemptionTickets(ctx context.Context, redemptionID int64) ([]Ticket, error) {
	out, err := queryTickets(ctx, s.pool, `SELECT `+ticketColumns+` FROM tickets WHERE redemption_id = $1 ORDER BY id`, redemptionID)
	if err != nil {
		return nil, fmt.Errorf("store: tickets of redemption %d: %w", redemptionID, err)
	}
	return out, nil
}

// AddAttempt stores a re-priced transaction for an open redemption. It is
// committed before the caller broadcasts it.
func (s *Store) AddAttempt(ctx context.Context, redemptionID int64, a AttemptTx, headNumber uint64) (int64, error) {
	var id int64
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM redemptions WHERE id = $1 FOR UPDATE`, redemptionID).Scan(&status); err != nil {
			return err
		}
		if status != RedemptionPending {
			return fmt.Errorf("redemption %d is %s, not pending", redemptionID, status)
		}
		var err error
		id, err = insertAttempt(ctx, tx, redemptionID, a, headNumber)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: add attempt: %w", err)
	}
	return id, nil
}

// RecordSend notes a broadcast of an attempt: sendErr "" means the node
// accepted it (or already had it).
func (s *Store) RecordSend(ctx context.Context, attemptID int64, sendErr string) error {
	var err error
	if sendErr == "" {
		_, err = s.pool.Exec(ctx, `UPDATE tx_attempts SET send_count = send_count + 1, sent_at = now(), send_error = NULL
			WHERE id = $1`, attemptID)
	} else {
		_, err = s.pool.Exec(ctx, `UPDATE tx_attempts SET send_count = send_count + 1, send_error = $2 WHERE id = $1`,
			attemptID, sendErr)
	}
	if err != nil {
		return fmt.Errorf("store: record send of attempt %d: %w", attemptID, err)
	}
	return nil
}

// Mined records where an attempt of a redemption was included.
type Mined struct {
	TxHash            [32]byte
	Block             uint64
	BlockHash         [32]byte
	ReceiptStatus     uint64
	GasUsed           uint64
	EffectiveGasPrice *big.Int
}

// MarkMined records the inclusion of a redemption's transaction. Called again
// with another block (after a reorg) it overwrites the earlier inclusion.
func (s *Store) MarkMined(ctx context.Context, redemptionID int64, m Mined) error {
	price, err := bigToNumeric(orZero(m.EffectiveGasPrice))
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `UPDATE redemptions SET status = 'mined', mined_tx_hash = $2, mined_block = $3,
			mined_block_hash = $4, receipt_status = $5, gas_used = $6, effective_gas_price = $7
		WHERE id = $1 AND status IN ('pending', 'mined')`,
		redemptionID, m.TxHash[:], int64(m.Block), m.BlockHash[:], int16(m.ReceiptStatus), int64(m.GasUsed), price)
	if err != nil {
		return fmt.Errorf("store: mark redemption %d mined: %w", redemptionID, err)
	}
	return nil
}

// UnmineFrom sends every mined, not yet final redemption included at or
// above block back to pending: a reorg removed its block.
func (s *Store) UnmineFrom(ctx context.Context, block uint64) (int64, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE redemptions SET status = 'pending', mined_tx_hash = NULL, mined_block = NULL,
			mined_block_hash = NULL, receipt_status = NULL, gas_used = NULL, effective_gas_price = NULL
		WHERE status = 'mined' AND mined_block >= $1`, int64(block))
	if err != nil {
		return 0, fmt.Errorf("store: unmine from block %d: %w", block, err)
	}
	return tag.RowsAffected(), nil
}

// TicketOutcome is how one ticket of a final redemption ends: redeemed,
// failed (Reason says why) or back to queued (retry at RetryAt).
type TicketOutcome struct {
	TicketID int64
	Status   string
	Reason   string
	RetryAt  time.Time
}

// Settlement makes a redemption final.
type Settlement struct {
	RedemptionID int64
	Status       string // RedemptionConfirmed or RedemptionDropped
	FinalBlock   uint64
	Outcome      string
	Tickets      []TicketOutcome
}

// Settle makes a redemption final: each ticket takes its outcome, leaves
// limbo, and its sender's float change is announced, all in one transaction.
// Settling an already final redemption is a no-op, so a settle repeated
// after a crash changes nothing.
func (s *Store) Settle(ctx context.Context, st Settlement) error {
	if st.Status != RedemptionConfirmed && st.Status != RedemptionDropped {
		return fmt.Errorf("store: settle: %q is not a final redemption status", st.Status)
	}
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM redemptions WHERE id = $1 FOR UPDATE`, st.RedemptionID).Scan(&status); err != nil {
			return err
		}
		if status == RedemptionConfirmed || status == RedemptionDropped {
			return nil
		}
		limbo := map[[20]byte]*big.Int{}
		for _, o := range st.Tickets {
			var (
				sender []byte
				face   pgtype.Numeric
			)
			err := tx.QueryRow(ctx, `SELECT sender, face_value FROM tickets
				WHERE id = $1 AND redemption_id = $2 AND status = 'redeeming' FOR UPDATE`,
				o.TicketID, st.RedemptionID).Scan(&sender, &face)
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("ticket %d is not redeeming in redemption %d", o.TicketID, st.RedemptionID)
			}
			if err != nil {
				return err
			}
			var lastErr, retry any
			switch o.Status {
			case StatusRedeemed:
			case StatusFailed:
				lastErr = o.Reason
			case StatusQueued:
				lastErr, retry = o.Reason, o.RetryAt
			default:
				return fmt.Errorf("ticket %d: bad outcome %q", o.TicketID, o.Status)
			}
			if _, err := tx.Exec(ctx, `UPDATE tickets SET status = $2, last_error = coalesce($3, last_error),
				next_attempt_at = $4 WHERE id = $1`, o.TicketID, o.Status, lastErr, retry); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO ticket_events (ticket_id, from_status, to_status, redemption_id, reason)
				VALUES ($1, 'redeeming', $2, $3, $4)`, o.TicketID, o.Status, st.RedemptionID, o.Reason); err != nil {
				return err
			}
			fv, err := numericToBig(face)
			if err != nil {
				return err
			}
			var a [20]byte
			copy(a[:], sender)
			if limbo[a] == nil {
				limbo[a] = new(big.Int)
			}
			limbo[a].Sub(limbo[a], fv)
		}
		var left int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE redemption_id = $1 AND status = 'redeeming'`,
			st.RedemptionID).Scan(&left); err != nil {
			return err
		}
		if left != 0 {
			return fmt.Errorf("redemption %d: %d tickets left without an outcome", st.RedemptionID, left)
		}
		for sender, delta := range limbo {
			if err := addLimbo(ctx, tx, sender, delta); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `UPDATE redemptions SET status = $2, final_block = $3, outcome = $4 WHERE id = $1`,
			st.RedemptionID, st.Status, int64(st.FinalBlock), st.Outcome)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: settle redemption %d: %w", st.RedemptionID, err)
	}
	return nil
}

func orZero(v *big.Int) *big.Int {
	if v == nil {
		return new(big.Int)
	}
	return v
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// queryTickets runs a query selecting ticketColumns.
func queryTickets(ctx context.Context, q querier, sql string, args ...any) ([]Ticket, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Ticket, error) {
		t, err := scanTicket(r)
		if err != nil {
			return Ticket{}, err
		}
		return *t, nil
	})
}
