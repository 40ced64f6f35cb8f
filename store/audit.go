package store

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// ErrNotRetryable is returned by RetryTicket for a ticket that is not failed:
// every other status is either still in the worker's hands or final for a
// reason a retry cannot change (redeemed is paid, expired can never be).
var ErrNotRetryable = errors.New("store: only failed tickets can be retried")

// The audit rows below are read from the documented views (ticket_audit,
// sender_summary, redemption_audit) so that what an operator sees from the
// command line is what the same query shows in psql. Their JSON keys are the
// views' column names for the same reason. Amounts are decimal strings: they
// are up to 78 digits, and a JSON number that size is mangled by most readers.
// NULL columns are nil pointers.

// TicketRow is one row of ticket_audit plus the ticket's redemption.
type TicketRow struct {
	ID                     int64      `db:"id" json:"id"`
	TicketHash             string     `db:"ticket_hash" json:"ticket_hash"`
	Status                 string     `db:"status" json:"status"`
	Sender                 string     `db:"sender" json:"sender"`
	Recipient              string     `db:"recipient" json:"recipient"`
	FaceValueWei           string     `db:"face_value_wei" json:"face_value_wei"`
	FaceValueEth           string     `db:"face_value_eth" json:"face_value_eth"`
	WinProb                string     `db:"win_prob" json:"win_prob"`
	SenderNonce            int64      `db:"sender_nonce" json:"sender_nonce"`
	RecipientRand          string     `db:"recipient_rand" json:"recipient_rand"`
	RecipientRandHash      string     `db:"recipient_rand_hash" json:"recipient_rand_hash"`
	Seed                   string     `db:"seed" json:"seed"`
	Sig                    string     `db:"sig" json:"sig"`
	CreationRound          int64      `db:"creation_round" json:"creation_round"`
	CreationRoundBlockHash string     `db:"creation_round_block_hash" json:"creation_round_block_hash"`
	ParamsExpirationBlock  int64      `db:"params_expiration_block" json:"params_expiration_block"`
	Attempts               int64      `db:"attempts" json:"attempts"`
	LastError              *string    `db:"last_error" json:"last_error"`
	NextAttemptAt          *time.Time `db:"next_attempt_at" json:"next_attempt_at"`
	ReceivedAt             time.Time  `db:"received_at" json:"received_at"`
	UpdatedAt              time.Time  `db:"updated_at" json:"updated_at"`
	RedemptionID           *int64     `db:"redemption_id" json:"redemption_id"`
}

// ticket_audit predates tickets.redemption_id, so the row joins tickets for
// it; filtering and ordering on that side also lets the planner use the
// tickets indexes, which it cannot through the view's hex text.
const ticketRowSelect = `
	SELECT a.id, a.ticket_hash, a.status, a.sender, a.recipient,
		a.face_value_wei::text AS face_value_wei, a.face_value_eth::text AS face_value_eth,
		a.win_prob::text AS win_prob, a.sender_nonce, a.recipient_rand, a.recipient_rand_hash,
		a.seed, a.sig, a.creation_round, a.creation_round_block_hash, a.params_expiration_block,
		a.attempts, a.last_error, a.next_attempt_at, a.received_at, a.updated_at, t.redemption_id
	FROM ticket_audit a JOIN tickets t ON t.id = a.id`

// TicketFilter narrows ListTickets; zero fields do not filter.
type TicketFilter struct {
	Status string
	Sender *[20]byte
	// Since and Until bound received_at: Since <= received_at < Until.
	Since, Until *time.Time
	// Limit caps the rows returned; 0 means no cap.
	Limit int
}

// ValidStatus reports whether s is a ticket status.
func ValidStatus(s string) bool {
	switch TicketStatus(s) {
	case StatusQueued, StatusRedeeming, StatusRedeemed, StatusFailed, StatusExpired:
		return true
	}
	return false
}

// ListTickets returns the tickets that match f, newest first. Newest means
// highest id (insertion order), which the primary key serves without a sort
// of the whole table; received_at follows the same order up to concurrent
// commits a few milliseconds apart.
func (s *Store) ListTickets(ctx context.Context, f TicketFilter) ([]TicketRow, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Status != "" {
		if !ValidStatus(f.Status) {
			return nil, fmt.Errorf("store: list tickets: unknown status %q", f.Status)
		}
		where = append(where, "t.status = "+arg(f.Status))
	}
	if f.Sender != nil {
		where = append(where, "t.sender = "+arg(f.Sender[:]))
	}
	if f.Since != nil {
		where = append(where, "t.received_at >= "+arg(*f.Since))
	}
	if f.Until != nil {
		where = append(where, "t.received_at < "+arg(*f.Until))
	}
	if f.Since != nil && f.Until != nil && !f.Until.After(*f.Since) {
		return nil, fmt.Errorf("store: list tickets: until %s is not after since %s",
			f.Until.Format(time.RFC3339), f.Since.Format(time.RFC3339))
	}
	if f.Limit < 0 {
		return nil, fmt.Errorf("store: list tickets: negative limit %d", f.Limit)
	}
	sql := ticketRowSelect
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY t.id DESC"
	if f.Limit > 0 {
		sql += " LIMIT " + arg(f.Limit)
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list tickets: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[TicketRow])
	if err != nil {
		return nil, fmt.Errorf("store: list tickets: %w", err)
	}
	return out, nil
}

// TicketEvent is one row of ticket_events.
type TicketEvent struct {
	ID           int64     `db:"id" json:"id"`
	FromStatus   string    `db:"from_status" json:"from_status"`
	ToStatus     string    `db:"to_status" json:"to_status"`
	RedemptionID *int64    `db:"redemption_id" json:"redemption_id"`
	Reason       *string   `db:"reason" json:"reason"`
	At           time.Time `db:"at" json:"at"`
}

// RedemptionRow is one row of redemption_audit.
type RedemptionRow struct {
	ID                       int64      `db:"id" json:"id"`
	Account                  string     `db:"account" json:"account"`
	Nonce                    int64      `db:"nonce" json:"nonce"`
	Status                   string     `db:"status" json:"status"`
	TicketCount              int64      `db:"ticket_count" json:"ticket_count"`
	Attempts                 int64      `db:"attempts" json:"attempts"`
	LastTxHash               *string    `db:"last_tx_hash" json:"last_tx_hash"`
	LastMaxFeePerGas         *string    `db:"last_max_fee_per_gas" json:"last_max_fee_per_gas"`
	LastMaxPriorityFeePerGas *string    `db:"last_max_priority_fee_per_gas" json:"last_max_priority_fee_per_gas"`
	LastSentAt               *time.Time `db:"last_sent_at" json:"last_sent_at"`
	LastSendError            *string    `db:"last_send_error" json:"last_send_error"`
	MinedTxHash              *string    `db:"mined_tx_hash" json:"mined_tx_hash"`
	MinedBlock               *int64     `db:"mined_block" json:"mined_block"`
	ReceiptStatus            *int64     `db:"receipt_status" json:"receipt_status"`
	GasUsed                  *int64     `db:"gas_used" json:"gas_used"`
	EffectiveGasPrice        *string    `db:"effective_gas_price" json:"effective_gas_price"`
	FeePaidWei               *string    `db:"fee_paid_wei" json:"fee_paid_wei"`
	FinalBlock               *int64     `db:"final_block" json:"final_block"`
	Outcome                  *string    `db:"outcome" json:"outcome"`
	CreatedAt                time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt                time.Time  `db:"updated_at" json:"updated_at"`
}

const redemptionRowSelect = `
	SELECT id, account, nonce, status, ticket_count, attempts, last_tx_hash,
		last_max_fee_per_gas::text AS last_max_fee_per_gas,
		last_max_priority_fee_per_gas::text AS last_max_priority_fee_per_gas,
		last_sent_at, last_send_error, mined_tx_hash, mined_block,
		receipt_status::bigint AS receipt_status, gas_used,
		effective_gas_price::text AS effective_gas_price, fee_paid_wei::text AS fee_paid_wei,
		final_block, outcome, created_at, updated_at
	FROM redemption_audit`

// TicketDetail is a ticket with its history and its (latest) redemption.
type TicketDetail struct {
	Ticket TicketRow     `json:"ticket"`
	Events []TicketEvent `json:"events"`
	// Redemption is nil for a ticket never claimed.
	Redemption *RedemptionRow `json:"redemption"`
}

// TicketDetail looks a ticket up by its hash (64 hex digits, 0x optional) or
// its id (a decimal number), and returns it with its events, oldest first,
// and the redemption that carries or last carried it. A ticket that does not
// exist is ErrNotFound; a reference that is neither form is another error.
func (s *Store) TicketDetail(ctx context.Context, hashOrID string) (*TicketDetail, error) {
	ref := strings.TrimSpace(hashOrID)
	var where string
	var key any
	if h, ok := strings.CutPrefix(strings.ToLower(ref), "0x"); ok || len(ref) == 64 {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("store: ticket %q: a ticket hash is 32 bytes as 64 hex digits", hashOrID)
		}
		where, key = "t.ticket_hash = $1", b
	} else {
		id, err := strconv.ParseInt(ref, 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("store: ticket %q: want a ticket hash (0x + 64 hex digits) or a positive id", hashOrID)
		}
		where, key = "t.id = $1", id
	}

	var d TicketDetail
	// One read-only repeatable-read transaction, so the ticket, its events
	// and its redemption are one snapshot even while the worker moves it.
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, ticketRowSelect+" WHERE "+where, key)
			if err != nil {
				return err
			}
			d.Ticket, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[TicketRow])
			if err != nil {
				return err
			}
			rows, err = tx.Query(ctx, `SELECT id, from_status, to_status, redemption_id, reason, at
				FROM ticket_events WHERE ticket_id = $1 ORDER BY id`, d.Ticket.ID)
			if err != nil {
				return err
			}
			if d.Events, err = pgx.CollectRows(rows, pgx.RowToStructByName[TicketEvent]); err != nil {
				return err
			}
			if d.Ticket.RedemptionID == nil {
				return nil
			}
			rows, err = tx.Query(ctx, redemptionRowSelect+" WHERE id = $1", *d.Ticket.RedemptionID)
			if err != nil {
				return err
			}
			r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[RedemptionRow])
			if err != nil {
				return err
			}
			d.Redemption = &r
			return nil
		})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("store: ticket %s: %w", ref, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: ticket %s: %w", ref, err)
	}
	if d.Events == nil {
		d.Events = []TicketEvent{}
	}
	return &d, nil
}

// SenderSummary is one row of sender_summary.
type SenderSummary struct {
	Sender      string `db:"sender" json:"sender"`
	Queued      int64  `db:"queued" json:"queued"`
	QueuedWei   string `db:"queued_wei" json:"queued_wei"`
	InLimbo     int64  `db:"in_limbo" json:"in_limbo"`
	InLimboWei  string `db:"in_limbo_wei" json:"in_limbo_wei"`
	Redeemed    int64  `db:"redeemed" json:"redeemed"`
	RedeemedWei string `db:"redeemed_wei" json:"redeemed_wei"`
	Failed      int64  `db:"failed" json:"failed"`
	FailedWei   string `db:"failed_wei" json:"failed_wei"`
	Expired     int64  `db:"expired" json:"expired"`
	ExpiredWei  string `db:"expired_wei" json:"expired_wei"`
}

// SenderSummaries returns sender_summary, one row per sender that has
// tickets, ordered by address.
func (s *Store) SenderSummaries(ctx context.Context) ([]SenderSummary, error) {
	rows, err := s.pool.Query(ctx, `SELECT sender, queued, queued_wei::text AS queued_wei,
			in_limbo, in_limbo_wei::text AS in_limbo_wei, redeemed, redeemed_wei::text AS redeemed_wei,
			failed, failed_wei::text AS failed_wei, expired, expired_wei::text AS expired_wei
		FROM sender_summary ORDER BY sender`)
	if err != nil {
		return nil, fmt.Errorf("store: sender summaries: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[SenderSummary])
	if err != nil {
		return nil, fmt.Errorf("store: sender summaries: %w", err)
	}
	return out, nil
}

// Redemptions returns up to limit rows of redemption_audit, newest first;
// limit 0 means all.
func (s *Store) Redemptions(ctx context.Context, limit int) ([]RedemptionRow, error) {
	if limit < 0 {
		return nil, fmt.Errorf("store: redemptions: negative limit %d", limit)
	}
	// LIMIT NULL is no limit.
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := s.pool.Query(ctx, redemptionRowSelect+" ORDER BY id DESC LIMIT $1", lim)
	if err != nil {
		return nil, fmt.Errorf("store: redemptions: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[RedemptionRow])
	if err != nil {
		return nil, fmt.Errorf("store: redemptions: %w", err)
	}
	return out, nil
}

// AttemptRow is one row of tx_attempts with hashes and raw bytes as 0x-hex.
type AttemptRow struct {
	ID                   int64      `db:"id" json:"id"`
	RedemptionID         int64      `db:"redemption_id" json:"redemption_id"`
	TxHash               string     `db:"tx_hash" json:"tx_hash"`
	RawTx                string     `db:"raw_tx" json:"raw_tx"`
	GasLimit             int64      `db:"gas_limit" json:"gas_limit"`
	MaxFeePerGas         string     `db:"max_fee_per_gas" json:"max_fee_per_gas"`
	MaxPriorityFeePerGas string     `db:"max_priority_fee_per_gas" json:"max_priority_fee_per_gas"`
	CreatedBlock         int64      `db:"created_block" json:"created_block"`
	CreatedAt            time.Time  `db:"created_at" json:"created_at"`
	SentAt               *time.Time `db:"sent_at" json:"sent_at"`
	SendCount            int64      `db:"send_count" json:"send_count"`
	SendError            *string    `db:"send_error" json:"send_error"`
}

// Attempts returns every signed transaction of a redemption, oldest first;
// the last one is the current attempt. A redemption that does not exist is
// ErrNotFound (every stored redemption has at least one attempt).
func (s *Store) Attempts(ctx context.Context, redemptionID int64) ([]AttemptRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, redemption_id,
			'0x' || encode(tx_hash, 'hex') AS tx_hash, '0x' || encode(raw_tx, 'hex') AS raw_tx,
			gas_limit, max_fee_per_gas::text AS max_fee_per_gas,
			max_priority_fee_per_gas::text AS max_priority_fee_per_gas,
			created_block, created_at, sent_at, send_count, send_error
		FROM tx_attempts WHERE redemption_id = $1 ORDER BY id`, redemptionID)
	if err != nil {
		return nil, fmt.Errorf("store: attempts of redemption %d: %w", redemptionID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[AttemptRow])
	if err != nil {
		return nil, fmt.Errorf("store: attempts of redemption %d: %w", redemptionID, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("store: redemption %d: %w", redemptionID, ErrNotFound)
	}
	return out, nil
}

// RetryTicket puts a failed ticket back in the queue at an operator's
// request: attempts start again from zero, and its last error moves into
// the ticket_events row that records the retry, with the operator's reason.
// Whether the ticket can still be redeemed is left to the worker, which
// checks every ticket on chain before claiming it and ends it otherwise.
// A ticket in any other status is refused with ErrNotRetryable.
func (s *Store) RetryTicket(ctx context.Context, id int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return fmt.Errorf("store: retry ticket %d: a reason is required", id)
	}
	err := s.InTx(ctx, func(q Q) error {
		var (
			status    TicketStatus
			lastError *string
			face      pgtype.Numeric
			sender    []byte
		)
		err := q.db.QueryRow(ctx, `SELECT status, last_error, face_value, sender FROM tickets WHERE id = $1 FOR UPDATE`, id).
			Scan(&status, &lastError, &face, &sender)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if status != StatusFailed {
			return fmt.Errorf("it is %s: %w", status, ErrNotRetryable)
		}
		event := "operator retry: " + reason
		if lastError != nil {
			event += " (last error: " + *lastError + ")"
		}
		if _, err := q.db.Exec(ctx, `UPDATE tickets SET status = 'queued', attempts = 0, next_attempt_at = NULL,
				last_error = NULL WHERE id = $1`, id); err != nil {
			return err
		}
		if _, err = q.db.Exec(ctx, `INSERT INTO ticket_events (ticket_id, from_status, to_status, reason)
			VALUES ($1, 'failed', 'queued', $2)`, id, event); err != nil {
			return err
		}
		fv, err := numericToBig(face)
		if err != nil {
			return err
		}
		return q.addAmounts(ctx, [20]byte(sender), new(big.Int), fv)
	})
	if err != nil {
		return fmt.Errorf("store: retry ticket %d: %w", id, err)
	}
	return nil
}
