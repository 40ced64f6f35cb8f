package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// This file holds the transitions of queued tickets: which are due, how
// one waits (postponed) or ends (failed, expired) without being paid, and
// how a set of them is claimed into a redemption. The leader composes them
// inside Fenced transactions.

// DueParams select due tickets for one claim pass.
type DueParams struct {
	// L1 is the latest L1 block number: a ticket is due once its
	// params_expiration_block is at or below it.
	L1 uint64
	// Limit is the most tickets returned.
	Limit int
	// After is the rotation cursor: the walk over senders starts after this
	// sender and wraps around. Pass the Next of the previous pass.
	After [20]byte
	// MaxSenders bounds how many senders one query visits, so a pass costs
	// the same however many senders have tickets queued [256].
	MaxSenders int
}

// DueSelection is one pass's due tickets and the rotation cursor for the
// next pass.
type DueSelection struct {
	Tickets []Ticket
	Next    [20]byte
}

// DueTickets picks up to p.Limit due tickets whose retry time (if any) has
// come, round-robin across senders: every sender's first due ticket comes
// before any sender's second. No caller chooses its place: senders are
// visited in address order from a cursor that moves on each pass, and
// within a sender tickets go by due block then arrival. Never-postponed
// tickets are found through tickets_fresh_sender_idx one sender at a time
// (a loose index scan); postponed ones through tickets_retry_idx, reading
// only those whose time has come. The work is bounded by Limit and
// MaxSenders, not by how many tickets wait.
func (q Q) DueTickets(ctx context.Context, p DueParams) (DueSelection, error) {
	if p.Limit <= 0 {
		return DueSelection{}, nil
	}
	if p.MaxSenders <= 0 {
		p.MaxSenders = 256
	}
	l1, err := headNumber(p.L1)
	if err != nil {
		return DueSelection{}, fmt.Errorf("store: due tickets: %w", err)
	}
	fresh, w, err := q.freshDue(ctx, l1, p.After[:], p.Limit, p.MaxSenders)
	if err != nil {
		return DueSelection{}, err
	}
	if len(fresh) < p.Limit && w.ended && p.After != ([20]byte{}) {
		// Wrap around to the senders at or before the cursor.
		more, mw, err := q.freshDue(ctx, l1, []byte{}, p.Limit-len(fresh), p.MaxSenders)
		if err != nil {
			return DueSelection{}, err
		}
		if len(more) < p.Limit-len(fresh) {
			w = mw
		} else {
			w = walkEnd{}
		}
		seen := make(map[int64]bool, len(fresh))
		for _, t := range fresh {
			seen[t.ID] = true
		}
		for _, t := range more {
			if !seen[t.ID] {
				fresh = append(fresh, t)
			}
		}
	}
	retry, err := queryTickets(ctx, q.db, `SELECT `+ticketColumns+` FROM tickets
		WHERE status = 'queued' AND next_attempt_at IS NOT NULL AND next_attempt_at <= now()
		  AND params_expiration_block <= $1
		ORDER BY next_attempt_at, id LIMIT $2`, l1, 4*p.Limit)
	if err != nil {
		return DueSelection{}, fmt.Errorf("store: due tickets: retries: %w", err)
	}
	picked, last, allWalked := roundRobin(fresh, retry, p.Limit)
	sel := DueSelection{Tickets: picked, Next: p.After}
	switch {
	case allWalked && w.last != nil:
		// The walk left room, so every sender it visited gave all its due
		// tickets (or had none due): the next pass goes on after the last
		// one it visited. Without this a walk cut short by MaxSenders, or
		// over senders with nothing due, would start from the same place
		// on every pass and never reach the senders after them.
		sel.Next = [20]byte(w.last)
	case last != nil:
		// The cursor moves past the last sender served, so the next pass
		// starts with the senders this one reached last or not at all.
		sel.Next = *last
	}
	return sel, nil
}

// walkSenders walks, in address order after $1, at most $2 senders that
// have never-postponed queued tickets: a loose index scan of
// tickets_fresh_sender_idx, one probe per sender. The probes order by the
// whole index key, which only that index yields without a sort: ordered by
// sender alone, the planner may take tickets_sender_status_idx instead
// (it did on a freshly loaded table), whose probe reads every postponed
// ticket of the senders it passes.
const walkSenders = `
		walk(sender, n) AS (
			(SELECT sender, 1 FROM tickets
			 WHERE status = 'queued' AND next_attempt_at IS NULL AND sender > $1
			 ORDER BY sender, params_expiration_block, id LIMIT 1)
			UNION ALL
			SELECT (SELECT t.sender FROM tickets t
			        WHERE t.status = 'queued' AND t.next_attempt_at IS NULL AND t.sender > w.sender
			        ORDER BY t.sender, t.params_expiration_block, t.id LIMIT 1), w.n + 1
			FROM walk w WHERE w.sender IS NOT NULL AND w.n < $2
		)`

// walkEnd is where a walk over senders ended, when it left room for more
// tickets: last is the last sender it visited (nil when none), ended says
// it reached the last sender with fresh tickets rather than its bound.
type walkEnd struct {
	last  []byte
	ended bool
}

// freshDue walks senders with never-postponed queued tickets, in address
// order after after, at most maxSenders of them, taking up to limit due
// tickets of each, and returns them ordered by their rank within their
// sender, then by the walk: a round-robin. When it found fewer than limit
// tickets it also says where the walk ended.
func (q Q) freshDue(ctx context.Context, l1 int64, after []byte, limit, maxSenders int) ([]Ticket, walkEnd, error) {
	out, err := queryTickets(ctx, q.db, `
		WITH RECURSIVE`+walkSenders+`
		SELECT `+ticketColumns+` FROM (
			SELECT t.*, w.n AS walk_n, row_number() OVER (PARTITION BY w.n ORDER BY t.params_expiration_block, t.id) AS rank
			FROM walk w
			CROSS JOIN LATERAL (
				SELECT * FROM tickets t
				WHERE t.sender = w.sender AND t.status = 'queued' AND t.next_attempt_at IS NULL
				  AND t.params_expiration_block <= $3
				ORDER BY t.params_expiration_block, t.id LIMIT $4
			) t
			WHERE w.sender IS NOT NULL
		) due
		ORDER BY rank, walk_n LIMIT $4`, after, maxSenders, l1, limit)
	if err != nil {
		return nil, walkEnd{}, fmt.Errorf("store: due tickets: %w", err)
	}
	if len(out) == limit {
		return out, walkEnd{}, nil
	}
	var (
		w       walkEnd
		visited int
	)
	if err := q.db.QueryRow(ctx, `WITH RECURSIVE`+walkSenders+`
		SELECT (SELECT sender FROM walk WHERE sender IS NOT NULL ORDER BY n DESC LIMIT 1),
			(SELECT count(*) FROM walk WHERE sender IS NOT NULL)`, after, maxSenders).Scan(&w.last, &visited); err != nil {
		return nil, walkEnd{}, fmt.Errorf("store: due tickets: end of walk: %w", err)
	}
	w.ended = visited < maxSenders
	return out, w, nil
}

// roundRobin orders the walks' tickets, then the retries, so each sender's
// first comes before any sender's second, keeping the given order within a
// sender and between senders, and keeps the first limit. last is the last
// sender of the walks whose first ticket made it in: the farthest the
// rotation got (nil when none did); allWalked says every ticket of the
// walks made it in.
func roundRobin(walked, retry []Ticket, limit int) (out []Ticket, last *[20]byte, allWalked bool) {
	var senders [][20]byte
	per := map[[20]byte][]Ticket{}
	seen := map[int64]bool{}
	inWalk := map[[20]byte]bool{}
	for i, t := range append(walked[:len(walked):len(walked)], retry...) {
		if seen[t.ID] {
			continue
		}
		seen[t.ID] = true
		if _, ok := per[t.Sender]; !ok {
			senders = append(senders, t.Sender)
		}
		if i < len(walked) {
			inWalk[t.Sender] = true
		}
		per[t.Sender] = append(per[t.Sender], t)
	}
	for rank := 0; len(out) < limit; rank++ {
		took := false
		for _, s := range senders {
			if rank < len(per[s]) && len(out) < limit {
				out = append(out, per[s][rank])
				if rank == 0 && inWalk[s] {
					last = &s
				}
				took = true
			}
		}
		if !took {
			break
		}
	}
	picked := make(map[int64]bool, len(out))
	for _, t := range out {
		picked[t.ID] = true
	}
	allWalked = true
	for _, t := range walked {
		allWalked = allWalked && picked[t.ID]
	}
	return out, last, allWalked
}

// NextDue says when the next claim pass could find work: the lowest due
// block of a never-postponed queued ticket (ok false when there is none)
// and the earliest retry time of a postponed one (zero when none). Both are
// one index probe.
func (q Q) NextDue(ctx context.Context) (block uint64, ok bool, retryAt time.Time, err error) {
	var (
		b  pgtype.Int8
		at pgtype.Timestamptz
	)
	err = q.db.QueryRow(ctx, `SELECT
		(SELECT params_expiration_block FROM tickets WHERE status = 'queued' AND next_attempt_at IS NULL
		 ORDER BY params_expiration_block LIMIT 1),
		(SELECT next_attempt_at FROM tickets WHERE status = 'queued' AND next_attempt_at IS NOT NULL
		 ORDER BY next_attempt_at LIMIT 1)`).Scan(&b, &at)
	if err != nil {
		return 0, false, time.Time{}, fmt.Errorf("store: next due ticket: %w", err)
	}
	if at.Valid {
		retryAt = at.Time
	}
	return uint64(b.Int64), b.Valid, retryAt, nil
}

// Postponement keeps a queued ticket waiting until RetryAt.
type Postponement struct {
	TicketID int64
	RetryAt  time.Time
	Reason   string
	// Attempt counts this as a refused attempt: only when the chain refused
	// the ticket for a reason that belongs to the ticket.
	Attempt bool
}

// PostponeTickets records each postponement on its ticket (retry time,
// reason, attempt count) with a ticket_events row. A ticket no longer
// queued is left alone.
func (q Q) PostponeTickets(ctx context.Context, ps []Postponement) error {
	if len(ps) == 0 {
		return nil
	}
	ids, at, reasons, inc := make([]int64, len(ps)), make([]time.Time, len(ps)), make([]string, len(ps)), make([]int32, len(ps))
	for i, p := range ps {
		ids[i], at[i], reasons[i] = p.TicketID, p.RetryAt, p.Reason
		if p.Attempt {
			inc[i] = 1
		}
	}
	_, err := q.db.Exec(ctx, `
		WITH p AS (
			SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::int[]) AS p(id, at, reason, inc)
		), upd AS (
			UPDATE tickets t SET next_attempt_at = p.at, last_error = p.reason, attempts = t.attempts + p.inc
			FROM p WHERE t.id = p.id AND t.status = 'queued'
			RETURNING t.id
		)
		INSERT INTO ticket_events (ticket_id, from_status, to_status, reason)
		SELECT p.id, 'queued', 'queued',
			'postponed until ' || to_char(p.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ': ' || p.reason
		FROM p JOIN upd ON upd.id = p.id`, ids, at, reasons, inc)
	if err != nil {
		return fmt.Errorf("store: postpone %d tickets: %w", len(ps), err)
	}
	return nil
}

// Ending ends a queued ticket unpaid.
type Ending struct {
	TicketID int64
	Status   TicketStatus // StatusFailed or StatusExpired
	Reason   string
	// Attempt counts the refusal that ended it as an attempt, so the
	// attempts column agrees with the reason's count.
	Attempt bool
}

// EndQueuedTickets ends queued tickets as failed or expired with their
// reasons, takes their face values out of their senders' queued amounts and
// records ticket_events, in one statement. A ticket no longer queued is left
// alone. It returns the tickets it ended.
func (q Q) EndQueuedTickets(ctx context.Context, es []Ending) ([]int64, error) {
	if len(es) == 0 {
		return nil, nil
	}
	ids, statuses, reasons, inc := make([]int64, len(es)), make([]string, len(es)), make([]string, len(es)), make([]int32, len(es))
	for i, e := range es {
		if e.Status != StatusFailed && e.Status != StatusExpired {
			return nil, fmt.Errorf("store: end ticket %d: %q is not a final unpaid status", e.TicketID, e.Status)
		}
		ids[i], statuses[i], reasons[i] = e.TicketID, string(e.Status), e.Reason
		if e.Attempt {
			inc[i] = 1
		}
	}
	if err := q.lockSendersOfTickets(ctx, ids); err != nil {
		return nil, fmt.Errorf("store: end %d queued tickets: %w", len(es), err)
	}
	rows, err := q.db.Query(ctx, `
		WITH e AS (
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[]) AS e(id, status, reason, inc)
		), upd AS (
			UPDATE tickets t SET status = e.status, last_error = e.reason, next_attempt_at = NULL,
				attempts = t.attempts + e.inc
			FROM e WHERE t.id = e.id AND t.status = 'queued'
			RETURNING t.id, t.sender, t.face_value
		), ev AS (
			INSERT INTO ticket_events (ticket_id, from_status, to_status, reason)
			SELECT e.id, 'queued', e.status, e.reason FROM e JOIN upd ON upd.id = e.id
		), sums AS (
			UPDATE sender_limbo l SET queued_amount = l.queued_amount - s.amount, updated_at = now()
			FROM (SELECT sender, sum(face_value) AS amount FROM upd GROUP BY sender) s
			WHERE l.sender = s.sender
		)
		SELECT id FROM upd`, ids, statuses, reasons, inc)
	if err != nil {
		return nil, fmt.Errorf("store: end %d queued tickets: %w", len(es), err)
	}
	ended, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("store: end %d queued tickets: %w", len(es), err)
	}
	return ended, nil
}

// ExpireQueued ends up to limit queued tickets created before round (their
// validity period is over at the current round) as expired, and returns
// them.
func (q Q) ExpireQueued(ctx context.Context, before int64, limit int, reason func(t Ticket) string) ([]Ticket, error) {
	stale, err := queryTickets(ctx, q.db, `SELECT `+ticketColumns+` FROM tickets
		WHERE status = 'queued' AND creation_round < $1 ORDER BY creation_round, id LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("store: queued tickets before round %d: %w", before, err)
	}
	es := make([]Ending, len(stale))
	for i, t := range stale {
		es[i] = Ending{TicketID: t.ID, Status: StatusExpired, Reason: reason(t)}
	}
	ended, err := q.EndQueuedTickets(ctx, es)
	if err != nil {
		return nil, err
	}
	done := make(map[int64]bool, len(ended))
	for _, id := range ended {
		done[id] = true
	}
	out := stale[:0]
	for _, t := range stale {
		if done[t.ID] {
			out = append(out, t)
		}
	}
	return out, nil
}

// LockQueuedTickets locks those of ids still queued, skipping rows another
// transaction holds, in id order.
func (q Q) LockQueuedTickets(ctx context.Context, ids []int64) ([]Ticket, error) {
	out, err := queryTickets(ctx, q.db, `SELECT `+ticketColumns+` FROM tickets
		WHERE id = ANY($1) AND status = 'queued' ORDER BY id FOR UPDATE SKIP LOCKED`, ids)
	if err != nil {
		return nil, fmt.Errorf("store: lock queued tickets: %w", err)
	}
	return out, nil
}

// TakeNonce hands out the account's next nonce: max(stored next nonce,
// chainNonce), with the account row locked FOR UPDATE until the transaction
// ends, and stores the one after it. Nonces are so unique and gap-free
// across replicas and restarts (DESIGN invariant 4).
func (q Q) TakeNonce(ctx context.Context, account [20]byte, chainNonce uint64) (uint64, error) {
	if _, err := q.db.Exec(ctx, `INSERT INTO redeemer_accounts (address, next_nonce) VALUES ($1, $2)
		ON CONFLICT (address) DO NOTHING`, account[:], int64(chainNonce)); err != nil {
		return 0, fmt.Errorf("store: nonce of %x: %w", account, err)
	}
	var next int64
	if err := q.db.QueryRow(ctx, `SELECT next_nonce FROM redeemer_accounts WHERE address = $1 FOR UPDATE`,
		account[:]).Scan(&next); err != nil {
		return 0, fmt.Errorf("store: nonce of %x: %w", account, err)
	}
	nonce := max(uint64(next), chainNonce)
	if _, err := q.db.Exec(ctx, `UPDATE redeemer_accounts SET next_nonce = $2, updated_at = now() WHERE address = $1`,
		account[:], int64(nonce+1)); err != nil {
		return 0, fmt.Errorf("store: nonce of %x: %w", account, err)
	}
	return nonce, nil
}

// NewRedemption is a redemption transaction about to be committed.
type NewRedemption struct {
	Account [20]byte
	Nonce   uint64
	// HeadNumber is the block the claim was made at.
	HeadNumber uint64
	Term       Term
	Tx         AttemptTx
	// Tickets are the locked tickets it carries, with what each is expected
	// to pay.
	Tickets []ClaimedTicket
}

// ClaimedTicket is a ticket going into a redemption.
type ClaimedTicket struct {
	ID             int64
	Sender         [20]byte
	FaceValue      *big.Int
	ExpectedPayout *big.Int
}

// Claimed is a committed claim: what to broadcast.
type Claimed struct {
	RedemptionID int64
	AttemptID    int64
}

// InsertRedemption stores the redemption and its first signed attempt,
// moves its tickets from queued to redeeming, their face values from their
// senders' queued amounts into limbo, records ticket_events and announces
// the float changes. Call it in the Fenced transaction that locked the
// tickets and took the nonce, so nothing outside the database can see the
// claim before it commits.
func (q Q) InsertRedemption(ctx context.Context, r NewRedemption) (Claimed, error) {
	if len(r.Tickets) == 0 {
		return Claimed{}, errors.New("store: insert redemption: no tickets")
	}
	var c Claimed
	if err := q.db.QueryRow(ctx, `INSERT INTO redemptions (account, nonce, ticket_count, created_block, leader_term)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		r.Account[:], int64(r.Nonce), len(r.Tickets), int64(r.HeadNumber), int64(r.Term)).Scan(&c.RedemptionID); err != nil {
		return Claimed{}, fmt.Errorf("store: insert redemption: %w", err)
	}
	var err error
	if c.AttemptID, err = q.insertAttempt(ctx, c.RedemptionID, r.Tx, r.HeadNumber, r.Term); err != nil {
		return Claimed{}, fmt.Errorf("store: insert redemption: %w", err)
	}
	ids := make([]int64, len(r.Tickets))
	expected := make([]pgtype.Numeric, len(r.Tickets))
	limbo := map[[20]byte]*big.Int{}
	for i, t := range r.Tickets {
		ids[i] = t.ID
		if expected[i], err = bigToNumeric(t.ExpectedPayout); err != nil {
			return Claimed{}, fmt.Errorf("store: insert redemption: ticket %d expected payout: %w", t.ID, err)
		}
		if limbo[t.Sender] == nil {
			limbo[t.Sender] = new(big.Int)
		}
		limbo[t.Sender].Add(limbo[t.Sender], t.FaceValue)
	}
	tag, err := q.db.Exec(ctx, `UPDATE tickets t SET status = 'redeeming', redemption_id = $2, next_attempt_at = NULL,
			expected_payout = c.expected
		FROM unnest($1::bigint[], $3::numeric[]) AS c(id, expected)
		WHERE t.id = c.id AND t.status = 'queued'`, ids, c.RedemptionID, expected)
	if err != nil {
		return Claimed{}, fmt.Errorf("store: insert redemption: tickets: %w", err)
	}
	if tag.RowsAffected() != int64(len(ids)) {
		return Claimed{}, fmt.Errorf("store: insert redemption: %d of %d tickets were queued; lock them first",
			tag.RowsAffected(), len(ids))
	}
	if _, err := q.db.Exec(ctx, `INSERT INTO ticket_events (ticket_id, from_status, to_status, redemption_id, reason)
		SELECT unnest($1::bigint[]), 'queued', 'redeeming', $2, $3`,
		ids, c.RedemptionID, fmt.Sprintf("claimed into redemption %d at nonce %d", c.RedemptionID, r.Nonce)); err != nil {
		return Claimed{}, fmt.Errorf("store: insert redemption: events: %w", err)
	}
	for _, sender := range inSenderOrder(limbo) {
		amount := limbo[sender]
		if err := q.moveQueuedToLimbo(ctx, sender, amount); err != nil {
			return Claimed{}, fmt.Errorf("store: insert redemption: %w", err)
		}
	}
	return c, nil
}

// Lock order. Every transaction that changes several senders' amounts
// locks their sender_limbo rows in byte order of the sender (intake's insert
// does the same in SQL), so two of them never wait on each other in a
// circle: the claim, the settlement and the endings run concurrently with
// intake on any replica.

// inSenderOrder returns m's senders in byte order.
func inSenderOrder[T any](m map[[20]byte]T) [][20]byte {
	out := slices.Collect(maps.Keys(m))
	slices.SortFunc(out, func(a, b [20]byte) int { return bytes.Compare(a[:], b[:]) })
	return out
}

// lockSendersOfTickets locks, in sender order, the sender_limbo rows of the
// senders of the tickets ids, before a statement that changes several of
// them at once in an order of its own.
func (q Q) lockSendersOfTickets(ctx context.Context, ids []int64) error {
	_, err := q.db.Exec(ctx, `SELECT 1 FROM sender_limbo
		WHERE sender IN (SELECT sender FROM tickets WHERE id = ANY($1))
		ORDER BY sender FOR UPDATE`, ids)
	return err
}

// moveQueuedToLimbo moves amount of a sender's queued amount into limbo and
// announces its float change.
func (q Q) moveQueuedToLimbo(ctx context.Context, sender [20]byte, amount *big.Int) error {
	a, err := bigToNumeric(amount)
	if err != nil {
		return err
	}
	// The CHECKs turn a queued amount that would go negative (a broken
	// invariant) into an error instead of a silent clamp.
	if _, err := q.db.Exec(ctx, `INSERT INTO sender_limbo (sender, amount) VALUES ($1, $2)
		ON CONFLICT (sender) DO UPDATE SET amount = sender_limbo.amount + EXCLUDED.amount,
			queued_amount = sender_limbo.queued_amount - EXCLUDED.amount, updated_at = now()`,
		sender[:], a); err != nil {
		return fmt.Errorf("in-limbo amount of %x: %w", sender, err)
	}
	return q.notifySender(ctx, sender)
}

// addAmounts changes a sender's in-limbo and queued amounts by the deltas
// (negative to release) and announces its float when the in-limbo amount
// changed.
func (q Q) addAmounts(ctx context.Context, sender [20]byte, limbo, queued *big.Int) error {
	l, err := signedNumeric(limbo)
	if err != nil {
		return err
	}
	qd, err := signedNumeric(queued)
	if err != nil {
		return err
	}
	// A row always exists for a sender with tickets in limbo or queued; the
	// upsert covers rows that predate the queued column's backfill.
	if _, err := q.db.Exec(ctx, `INSERT INTO sender_limbo AS s (sender, amount, queued_amount)
		VALUES ($1, greatest($2::numeric, 0), greatest($3::numeric, 0))
		ON CONFLICT (sender) DO UPDATE SET amount = s.amount + $2::numeric,
			queued_amount = s.queued_amount + $3::numeric, updated_at = now()`,
		sender[:], l, qd); err != nil {
		return fmt.Errorf("amounts of %x: %w", sender, err)
	}
	if limbo.Sign() == 0 {
		return nil
	}
	return q.notifySender(ctx, sender)
}

// signedNumeric passes a possibly negative integer to PostgreSQL exactly.
func signedNumeric(v *big.Int) (pgtype.Numeric, error) {
	if v == nil {
		return pgtype.Numeric{}, errors.New("nil integer")
	}
	return pgtype.Numeric{Int: new(big.Int).Set(v), Exp: 0, Valid: true}, nil
}

func (q Q) notifySender(ctx context.Context, sender [20]byte) error {
	_, err := q.db.Exec(ctx, `SELECT pg_notify($1, $2)`, FloatChannel, "0x"+hex.EncodeToString(sender[:]))
	return err
}
