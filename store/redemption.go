package store

import (
	"context"
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

// RedemptionStatus is a redemption's place in its life cycle, as stored in
// redemptions.status.
type RedemptionStatus string

// The redemption statuses: pending (signed, not in a block), mined (in a
// block, not yet final), confirmed and dropped (final; a confirmed one is
// watched until its block is finalized and may be re-opened by a reorg).
const (
	RedemptionPending   RedemptionStatus = "pending"
	RedemptionMined     RedemptionStatus = "mined"
	RedemptionConfirmed RedemptionStatus = "confirmed"
	RedemptionDropped   RedemptionStatus = "dropped"
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
	Status         RedemptionStatus
	TicketCount    int
	CreatedBlock   uint64
	MinedTxHash    [32]byte
	MinedBlock     uint64
	MinedBlockHash [32]byte
	// FinalBlock is the head at which it became final (0 while open).
	FinalBlock uint64
	Term       Term
	Attempts   []Attempt
}

// Latest is the attempt to broadcast and to bump from.
func (r *Redemption) Latest() *Attempt { return &r.Attempts[len(r.Attempts)-1] }

func (q Q) insertAttempt(ctx context.Context, redemptionID int64, a AttemptTx, head uint64, term Term) (int64, error) {
	feeCap, err := bigToNumeric(a.FeeCap)
	if err != nil {
		return 0, fmt.Errorf("fee cap: %w", err)
	}
	tip, err := bigToNumeric(a.TipCap)
	if err != nil {
		return 0, fmt.Errorf("tip cap: %w", err)
	}
	var id int64
	err = q.db.QueryRow(ctx, `INSERT INTO tx_attempts (redemption_id, tx_hash, raw_tx, gas_limit,
			max_fee_per_gas, max_priority_fee_per_gas, created_block, leader_term)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		redemptionID, a.TxHash[:], a.Raw, int64(a.GasLimit), feeCap, tip, int64(head), int64(term)).Scan(&id)
	return id, err
}

// RecomputeAmounts rebuilds every sender's in-limbo and queued amounts from
// its tickets and announces the senders whose in-limbo amount changed. The
// leader runs it when its term starts, before it claims anything, so a
// broken invariant can never outlive a restart (the amounts are changed in
// the same transactions as the tickets, so it should find nothing).
func (q Q) RecomputeAmounts(ctx context.Context) (changed int, err error) {
	// Lock the table against concurrent claims and intake for the few
	// milliseconds the recount takes, so the recount is exact.
	if _, err := q.db.Exec(ctx, `LOCK TABLE sender_limbo IN EXCLUSIVE MODE`); err != nil {
		return 0, fmt.Errorf("store: recompute amounts: %w", err)
	}
	rows, err := q.db.Query(ctx, `
		WITH actual AS (
			SELECT sender,
				coalesce(sum(face_value) FILTER (WHERE status = 'redeeming'), 0) AS amount,
				coalesce(sum(face_value) FILTER (WHERE status = 'queued'), 0) AS queued
			FROM tickets WHERE status IN ('redeeming', 'queued') GROUP BY sender
		), wrong AS (
			SELECT a.sender, a.amount, a.queued, coalesce(l.amount, 0) <> a.amount AS limbo_changed
			FROM actual a LEFT JOIN sender_limbo l ON l.sender = a.sender
			WHERE l.sender IS NULL OR l.amount <> a.amount OR l.queued_amount <> a.queued
		), upserted AS (
			INSERT INTO sender_limbo AS l (sender, amount, queued_amount) SELECT sender, amount, queued FROM wrong
			ON CONFLICT (sender) DO UPDATE SET amount = EXCLUDED.amount, queued_amount = EXCLUDED.queued_amount,
				updated_at = now()
		), stale AS (
			SELECT sender, amount <> 0 AS limbo_changed FROM sender_limbo
			WHERE (amount <> 0 OR queued_amount <> 0) AND sender NOT IN (SELECT sender FROM actual)
		), zeroed AS (
			UPDATE sender_limbo l SET amount = 0, queued_amount = 0, updated_at = now()
			FROM stale WHERE l.sender = stale.sender
		)
		SELECT sender FROM wrong WHERE limbo_changed UNION SELECT sender FROM stale WHERE limbo_changed`)
	if err != nil {
		return 0, fmt.Errorf("store: recompute amounts: %w", err)
	}
	senders, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return 0, fmt.Errorf("store: recompute amounts: %w", err)
	}
	for _, b := range senders {
		if err := q.notifySender(ctx, [20]byte(b)); err != nil {
			return 0, fmt.Errorf("store: recompute amounts: %w", err)
		}
	}
	return len(senders), nil
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

// SenderAmounts are a sender's open face values.
type SenderAmounts struct {
	Queued, InLimbo *big.Int
}

// SenderAmounts reads the open amounts of senders (zero for a sender with
// none), keyed by sender.
func (q Q) SenderAmounts(ctx context.Context, senders [][20]byte) (map[[20]byte]SenderAmounts, error) {
	keys := make([][]byte, len(senders))
	for i := range senders {
		keys[i] = senders[i][:]
	}
	rows, err := q.db.Query(ctx, `SELECT sender, queued_amount, amount FROM sender_limbo WHERE sender = ANY($1)`, keys)
	if err != nil {
		return nil, fmt.Errorf("store: sender amounts: %w", err)
	}
	out := make(map[[20]byte]SenderAmounts, len(senders))
	for _, a := range senders {
		out[a] = SenderAmounts{Queued: new(big.Int), InLimbo: new(big.Int)}
	}
	var (
		sender        []byte
		queued, limbo pgtype.Numeric
	)
	_, err = pgx.ForEachRow(rows, []any{&sender, &queued, &limbo}, func() error {
		qa, err := numericToBig(queued)
		if err != nil {
			return err
		}
		la, err := numericToBig(limbo)
		if err != nil {
			return err
		}
		out[[20]byte(sender)] = SenderAmounts{Queued: qa, InLimbo: la}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: sender amounts: %w", err)
	}
	return out, nil
}

const redemptionColumns = `r.id, r.account, r.nonce, r.status, r.ticket_count, r.created_block,
	r.mined_tx_hash, r.mined_block, r.mined_block_hash, r.final_block, coalesce(r.leader_term, 0),
	a.id, a.tx_hash, a.raw_tx, a.gas_limit, a.max_fee_per_gas, a.max_priority_fee_per_gas,
	a.created_block, a.sent_at, a.send_count, a.send_error`

// OpenRedemptions returns the redemptions not yet final (pending, mined),
// with their attempts, oldest first.
func (q Q) OpenRedemptions(ctx context.Context) ([]Redemption, error) {
	return q.redemptions(ctx, `r.status IN ('pending', 'mined')`)
}

// UnfinalizedRedemptions returns the confirmed redemptions whose block is
// not finalized yet: a reorg could still take their block away.
func (q Q) UnfinalizedRedemptions(ctx context.Context) ([]Redemption, error) {
	return q.redemptions(ctx, `r.status = 'confirmed' AND r.finalized_block IS NULL AND r.mined_block IS NOT NULL`)
}

func (q Q) redemptions(ctx context.Context, where string) ([]Redemption, error) {
	rows, err := q.db.Query(ctx, `SELECT `+redemptionColumns+`
		FROM redemptions r JOIN tx_attempts a ON a.redemption_id = r.id
		WHERE `+where+`
		ORDER BY r.id, a.id`)
	if err != nil {
		return nil, fmt.Errorf("store: redemptions: %w", err)
	}
	defer rows.Close()
	var out []Redemption
	for rows.Next() {
		var (
			r                              Redemption
			a                              Attempt
			account, minedHash, minedBlock []byte
			txHash                         []byte
			nonce, created, aCreated, term int64
			minedNum, finalNum, gasLimit   pgtype.Int8
			feeCap, tip                    pgtype.Numeric
			sentAt                         pgtype.Timestamptz
			sendErr                        pgtype.Text
		)
		if err := rows.Scan(&r.ID, &account, &nonce, &r.Status, &r.TicketCount, &created,
			&minedHash, &minedNum, &minedBlock, &finalNum, &term,
			&a.ID, &txHash, &a.Raw, &gasLimit, &feeCap, &tip, &aCreated, &sentAt, &a.SendCount, &sendErr); err != nil {
			return nil, fmt.Errorf("store: redemptions: %w", err)
		}
		copy(r.Account[:], account)
		copy(r.MinedTxHash[:], minedHash)
		copy(r.MinedBlockHash[:], minedBlock)
		r.Nonce, r.CreatedBlock, r.MinedBlock = uint64(nonce), uint64(created), uint64(minedNum.Int64)
		r.FinalBlock, r.Term = uint64(finalNum.Int64), Term(term)
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
		return nil, fmt.Errorf("store: redemptions: %w", err)
	}
	return out, nil
}

// RedemptionTickets returns the tickets a redemption carries.
func (q Q) RedemptionTickets(ctx context.Context, redemptionID int64) ([]Ticket, error) {
	out, err := queryTickets(ctx, q.db, `SELECT `+ticketColumns+` FROM tickets WHERE redemption_id = $1 ORDER BY id`, redemptionID)
	if err != nil {
		return nil, fmt.Errorf("store: tickets of redemption %d: %w", redemptionID, err)
	}
	return out, nil
}

// AddAttempt stores a re-priced transaction for a pending redemption. It is
// committed before the caller broadcasts it.
func (q Q) AddAttempt(ctx context.Context, redemptionID int64, a AttemptTx, headNumber uint64, term Term) (int64, error) {
	var status RedemptionStatus
	if err := q.db.QueryRow(ctx, `SELECT status FROM redemptions WHERE id = $1 FOR UPDATE`, redemptionID).Scan(&status); err != nil {
		return 0, fmt.Errorf("store: add attempt to redemption %d: %w", redemptionID, err)
	}
	if status != RedemptionPending {
		return 0, fmt.Errorf("store: add attempt: redemption %d is %s, not pending", redemptionID, status)
	}
	id, err := q.insertAttempt(ctx, redemptionID, a, headNumber, term)
	if err != nil {
		return 0, fmt.Errorf("store: add attempt to redemption %d: %w", redemptionID, err)
	}
	return id, nil
}

// RecordSend notes a broadcast of an attempt: sendErr "" means the node
// accepted it (or already had it).
func (q Q) RecordSend(ctx context.Context, attemptID int64, sendErr string) error {
	var err error
	if sendErr == "" {
		_, err = q.db.Exec(ctx, `UPDATE tx_attempts SET send_count = send_count + 1, sent_at = now(), send_error = NULL
			WHERE id = $1`, attemptID)
	} else {
		_, err = q.db.Exec(ctx, `UPDATE tx_attempts SET send_count = send_count + 1, send_error = $2 WHERE id = $1`,
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

// MarkMined records the inclusion of a pending or mined redemption's
// transaction. Called again with another block (after a reorg) it
// overwrites the earlier inclusion.
func (q Q) MarkMined(ctx context.Context, redemptionID int64, m Mined) error {
	price := pgtype.Numeric{Int: new(big.Int), Valid: true}
	if m.EffectiveGasPrice != nil {
		var err error
		if price, err = bigToNumeric(m.EffectiveGasPrice); err != nil {
			return fmt.Errorf("store: mark redemption %d mined: %w", redemptionID, err)
		}
	}
	_, err := q.db.Exec(ctx, `UPDATE redemptions SET status = 'mined', mined_tx_hash = $2, mined_block = $3,
			mined_block_hash = $4, receipt_status = $5, gas_used = $6, effective_gas_price = $7
		WHERE id = $1 AND status IN ('pending', 'mined')`,
		redemptionID, m.TxHash[:], int64(m.Block), m.BlockHash[:], int16(m.ReceiptStatus), int64(m.GasUsed), price)
	if err != nil {
		return fmt.Errorf("store: mark redemption %d mined: %w", redemptionID, err)
	}
	return nil
}

// MoveConfirmed records that a confirmed redemption's transaction is now in
// another block (a reorg moved it): the outcome stands, the block it is
// watched at changes.
func (q Q) MoveConfirmed(ctx context.Context, redemptionID int64, m Mined) error {
	_, err := q.db.Exec(ctx, `UPDATE redemptions SET mined_tx_hash = $2, mined_block = $3, mined_block_hash = $4
		WHERE id = $1 AND status = 'confirmed'`, redemptionID, m.TxHash[:], int64(m.Block), m.BlockHash[:])
	if err != nil {
		return fmt.Errorf("store: move confirmed redemption %d: %w", redemptionID, err)
	}
	return nil
}

// Unmine sends a mined, not yet final redemption back to pending: its block
// is no longer canonical.
func (q Q) Unmine(ctx context.Context, redemptionID int64) error {
	_, err := q.db.Exec(ctx, `UPDATE redemptions SET status = 'pending', mined_tx_hash = NULL, mined_block = NULL,
			mined_block_hash = NULL, receipt_status = NULL, gas_used = NULL, effective_gas_price = NULL
		WHERE id = $1 AND status = 'mined'`, redemptionID)
	if err != nil {
		return fmt.Errorf("store: unmine redemption %d: %w", redemptionID, err)
	}
	return nil
}

// TicketOutcome is how one ticket of a final redemption ends: redeemed
// (Paid says what it paid), failed (Reason says why) or back to queued
// (retry at RetryAt).
type TicketOutcome struct {
	TicketID int64
	Status   TicketStatus
	Reason   string
	RetryAt  time.Time
	// Paid is what a redeemed ticket paid the recipient (nil: not known).
	Paid *big.Int
	// Attempt counts the outcome as a refused attempt: the chain refused
	// the ticket for a reason that belongs to it.
	Attempt bool
}

// Settlement makes a redemption final.
type Settlement struct {
	RedemptionID int64
	Status       RedemptionStatus // RedemptionConfirmed or RedemptionDropped
	FinalBlock   uint64
	Outcome      string
	Tickets      []TicketOutcome
}

// Settle makes a redemption final: each ticket takes its outcome, leaves
// limbo (and re-enters the queued amount when it goes back to the queue),
// and its sender's float change is announced, all in the caller's
// transaction. Settling an already final redemption is a no-op, so a settle
// repeated after a crash changes nothing.
func (q Q) Settle(ctx context.Context, st Settlement) error {
	if st.Status != RedemptionConfirmed && st.Status != RedemptionDropped {
		return fmt.Errorf("store: settle: %q is not a final redemption status", st.Status)
	}
	if err := q.settle(ctx, st); err != nil {
		return fmt.Errorf("store: settle redemption %d: %w", st.RedemptionID, err)
	}
	return nil
}

func (q Q) settle(ctx context.Context, st Settlement) error {
	var status RedemptionStatus
	if err := q.db.QueryRow(ctx, `SELECT status FROM redemptions WHERE id = $1 FOR UPDATE`, st.RedemptionID).Scan(&status); err != nil {
		return err
	}
	if status == RedemptionConfirmed || status == RedemptionDropped {
		return nil
	}
	type delta struct{ limbo, queued *big.Int }
	amounts := map[[20]byte]*delta{}
	for _, o := range st.Tickets {
		var (
			sender []byte
			face   pgtype.Numeric
		)
		err := q.db.QueryRow(ctx, `SELECT sender, face_value FROM tickets
			WHERE id = $1 AND redemption_id = $2 AND status = 'redeeming' FOR UPDATE`,
			o.TicketID, st.RedemptionID).Scan(&sender, &face)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("ticket %d is not redeeming in redemption %d", o.TicketID, st.RedemptionID)
		}
		if err != nil {
			return err
		}
		fv, err := numericToBig(face)
		if err != nil {
			return err
		}
		a := [20]byte(sender)
		if amounts[a] == nil {
			amounts[a] = &delta{new(big.Int), new(big.Int)}
		}
		amounts[a].limbo.Sub(amounts[a].limbo, fv)
		var lastErr, retry, paid any
		switch o.Status {
		case StatusRedeemed:
			if o.Paid != nil {
				if paid, err = bigToNumeric(o.Paid); err != nil {
					return fmt.Errorf("ticket %d paid: %w", o.TicketID, err)
				}
			}
		case StatusFailed:
			lastErr = o.Reason
		case StatusQueued:
			lastErr, retry = o.Reason, o.RetryAt
			amounts[a].queued.Add(amounts[a].queued, fv)
		default:
			return fmt.Errorf("ticket %d: bad outcome %q", o.TicketID, o.Status)
		}
		inc := 0
		if o.Attempt {
			inc = 1
		}
		if _, err := q.db.Exec(ctx, `UPDATE tickets SET status = $2, last_error = coalesce($3, last_error),
			next_attempt_at = $4, paid_amount = $5, attempts = attempts + $6 WHERE id = $1`,
			o.TicketID, o.Status, lastErr, retry, paid, inc); err != nil {
			return err
		}
		if _, err := q.db.Exec(ctx, `INSERT INTO ticket_events (ticket_id, from_status, to_status, redemption_id, reason)
			VALUES ($1, 'redeeming', $2, $3, $4)`, o.TicketID, o.Status, st.RedemptionID, o.Reason); err != nil {
			return err
		}
	}
	var left int
	if err := q.db.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE redemption_id = $1 AND status = 'redeeming'`,
		st.RedemptionID).Scan(&left); err != nil {
		return err
	}
	if left != 0 {
		return fmt.Errorf("redemption %d: %d tickets left without an outcome", st.RedemptionID, left)
	}
	for _, sender := range inSenderOrder(amounts) {
		d := amounts[sender]
		if err := q.addAmounts(ctx, sender, d.limbo, d.queued); err != nil {
			return err
		}
	}
	_, err := q.db.Exec(ctx, `UPDATE redemptions SET status = $2, final_block = $3, outcome = $4 WHERE id = $1`,
		st.RedemptionID, st.Status, int64(st.FinalBlock), st.Outcome)
	return err
}

// MarkFinalized records that a confirmed redemption's block is finalized:
// no reorg can change its outcome any more.
func (q Q) MarkFinalized(ctx context.Context, redemptionID int64, block uint64) error {
	_, err := q.db.Exec(ctx, `UPDATE redemptions SET finalized_block = $2
		WHERE id = $1 AND status = 'confirmed' AND finalized_block IS NULL`, redemptionID, int64(block))
	if err != nil {
		return fmt.Errorf("store: mark redemption %d finalized: %w", redemptionID, err)
	}
	return nil
}

// Reopen undoes the settlement of a confirmed redemption whose block is no
// longer canonical and whose tickets the chain shows unused: the redemption
// goes back to pending (its transaction may mine again, or its nonce go to
// another), its redeemed tickets back to redeeming and into limbo. Tickets
// it had failed or re-queued are left as they are. It returns the tickets
// re-opened.
func (q Q) Reopen(ctx context.Context, redemptionID int64, reason string) ([]int64, error) {
	var status RedemptionStatus
	if err := q.db.QueryRow(ctx, `SELECT status FROM redemptions WHERE id = $1 FOR UPDATE`, redemptionID).Scan(&status); err != nil {
		return nil, fmt.Errorf("store: reopen redemption %d: %w", redemptionID, err)
	}
	if status != RedemptionConfirmed {
		return nil, fmt.Errorf("store: reopen redemption %d: it is %s, not confirmed", redemptionID, status)
	}
	rows, err := q.db.Query(ctx, `UPDATE tickets SET status = 'redeeming', paid_amount = NULL
		WHERE redemption_id = $1 AND status = 'redeemed'
		RETURNING id, sender, face_value`, redemptionID)
	if err != nil {
		return nil, fmt.Errorf("store: reopen redemption %d: %w", redemptionID, err)
	}
	limbo := map[[20]byte]*big.Int{}
	var (
		ids    []int64
		id     int64
		sender []byte
		face   pgtype.Numeric
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &sender, &face}, func() error {
		fv, err := numericToBig(face)
		if err != nil {
			return err
		}
		ids = append(ids, id)
		a := [20]byte(sender)
		if limbo[a] == nil {
			limbo[a] = new(big.Int)
		}
		limbo[a].Add(limbo[a], fv)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: reopen redemption %d: %w", redemptionID, err)
	}
	if _, err := q.db.Exec(ctx, `INSERT INTO ticket_events (ticket_id, from_status, to_status, redemption_id, reason)
		SELECT unnest($1::bigint[]), 'redeemed', 'redeeming', $2, $3`, ids, redemptionID, reason); err != nil {
		return nil, fmt.Errorf("store: reopen redemption %d: %w", redemptionID, err)
	}
	for _, sender := range inSenderOrder(limbo) {
		amount := limbo[sender]
		if err := q.addAmounts(ctx, sender, amount, new(big.Int)); err != nil {
			return nil, fmt.Errorf("store: reopen redemption %d: %w", redemptionID, err)
		}
	}
	if _, err := q.db.Exec(ctx, `UPDATE redemptions SET status = 'pending', mined_tx_hash = NULL, mined_block = NULL,
			mined_block_hash = NULL, receipt_status = NULL, gas_used = NULL, effective_gas_price = NULL,
			final_block = NULL, outcome = NULL, reopened = reopened + 1
		WHERE id = $1`, redemptionID); err != nil {
		return nil, fmt.Errorf("store: reopen redemption %d: %w", redemptionID, err)
	}
	return ids, nil
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
