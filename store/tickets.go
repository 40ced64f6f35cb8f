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

// TicketStatus is a ticket's place in its life cycle, as stored in
// tickets.status. docs/design.md draws the transitions between them; the
// store methods are named after the transitions they make.
type TicketStatus string

// The ticket statuses.
const (
	StatusQueued    TicketStatus = "queued"
	StatusRedeeming TicketStatus = "redeeming"
	StatusRedeemed  TicketStatus = "redeemed"
	StatusFailed    TicketStatus = "failed"
	StatusExpired   TicketStatus = "expired"
)

// Final reports whether no transition leaves s except an operator's retry.
func (s TicketStatus) Final() bool {
	return s == StatusRedeemed || s == StatusFailed || s == StatusExpired
}

// NewTicket is a ticket that intake has fully validated. Big integers must be
// non-nil and non-negative; the schema rejects out-of-range values anyway.
type NewTicket struct {
	TicketHash             [32]byte
	Sender                 [20]byte
	Recipient              [20]byte
	FaceValue              *big.Int // wei
	WinProb                *big.Int
	SenderNonce            uint32
	RecipientRand          [32]byte // big-endian uint256
	RecipientRandHash      [32]byte
	Seed                   []byte // at most 32 bytes; nil is stored as empty
	Sig                    []byte // 65 bytes r||s||v
	CreationRound          int64
	CreationRoundBlockHash [32]byte
	ParamsExpirationBlock  int64 // L1 block number
}

// Ticket is a stored ticket: the validated fields plus its redemption state.
type Ticket struct {
	NewTicket

	ID            int64
	Status        TicketStatus
	Attempts      int
	LastError     string     // "" when the column is NULL
	NextAttemptAt *time.Time // nil when not postponed
	ReceivedAt    time.Time
	UpdatedAt     time.Time
	RedemptionID  int64 // 0 when the ticket was never claimed
	// ExpectedPayout is what the last claim expected the ticket to pay, nil
	// before any claim.
	ExpectedPayout *big.Int
}

// InsertTicket stores a validated ticket idempotently by ticket hash and
// reports whether this call wrote the row, with no exposure cap. It is
// AdmitTickets for one ticket; a nil error means the row (this one or an
// earlier copy) is committed, unless the chain shows the ticket redeemed,
// which is ErrTicketUsed.
func (s *Store) InsertTicket(ctx context.Context, t NewTicket) (inserted bool, err error) {
	ins, err := s.InsertTickets(ctx, []NewTicket{t})
	if err != nil {
		return false, err
	}
	return ins[0], nil
}

// ErrTicketUsed is InsertTickets' answer for a ticket that redeemed_tickets
// shows redeemed on chain.
var ErrTicketUsed = errors.New("store: ticket is redeemed on chain")

// InsertTickets is AdmitTickets with no caps: inserted[i] reports whether
// tickets[i] was written by this call (false: that hash was already stored,
// or appears earlier in tickets). A ticket the chain shows redeemed makes
// the call fail with ErrTicketUsed and stores nothing.
func (s *Store) InsertTickets(ctx context.Context, tickets []NewTicket) (inserted []bool, err error) {
	in := make([]Admit, len(tickets))
	for i := range tickets {
		in[i].Ticket = tickets[i]
	}
	out, err := s.AdmitTickets(ctx, in)
	if err != nil {
		return nil, err
	}
	inserted = make([]bool, len(out))
	for i, o := range out {
		if o.Used {
			return nil, fmt.Errorf("store: insert ticket %x: %w", tickets[i].TicketHash, ErrTicketUsed)
		}
		inserted[i] = o.Inserted
	}
	return inserted, nil
}

// Admit is a validated ticket and the cap on its sender's exposure.
type Admit struct {
	Ticket NewTicket
	// Cap bounds the sender's exposure (its queued plus in-limbo face
	// values) with this ticket included; nil means no cap.
	Cap *big.Int
}

// Admitted is what AdmitTickets did with one ticket.
type Admitted struct {
	// Inserted: this call wrote the row.
	Inserted bool
	// Stored: the row is committed, by this call or an earlier one. A
	// repeat of a stored ticket is stored whatever its cap says.
	Stored bool
	// Used: redeemed_tickets shows the ticket redeemed on chain; not stored.
	Used bool
	// Capped: storing it would have taken the sender's exposure to
	// Exposure, above the cap; not stored.
	Capped   bool
	Exposure *big.Int
}

// AdmitTickets stores validated tickets in one autocommit statement, all or
// none, idempotently by ticket hash. Within it, each new ticket is checked
// against its cap with its sender's exposure row locked, so concurrent
// statements (on any replica) cannot together push a sender past its cap;
// tickets of one sender within the batch count in order. Stored tickets add
// their face values to sender_limbo.queued_amount in the same statement.
// Intake groups concurrent tickets into one call so that many share one
// commit; like any idempotent insert it is safe to repeat after an
// ambiguous failure (see IsUnavailable).
func (s *Store) AdmitTickets(ctx context.Context, tickets []Admit) ([]Admitted, error) {
	if len(tickets) == 0 {
		return nil, nil
	}
	// A hash repeated within the batch is sent once: the first copy speaks
	// for the others, and INSERT must not see one key twice.
	first := make(map[[32]byte]int, len(tickets))
	var uniq []int
	for i := range tickets {
		if _, ok := first[tickets[i].Ticket.TicketHash]; !ok {
			first[tickets[i].Ticket.TicketHash] = i
			uniq = append(uniq, i)
		}
	}
	n := len(uniq)
	var (
		hashes, senders, recipients, rands, randHashes, seeds, sigs, blockHashes = make([][]byte, n),
			make([][]byte, n), make([][]byte, n), make([][]byte, n), make([][]byte, n), make([][]byte, n),
			make([][]byte, n), make([][]byte, n)
		faceValues, winProbs, caps = make([]pgtype.Numeric, n), make([]pgtype.Numeric, n), make([]pgtype.Numeric, n)
		nonces, rounds, expiries   = make([]int64, n), make([]int64, n), make([]int64, n)
		err                        error
	)
	for k, i := range uniq {
		t := &tickets[i].Ticket
		if faceValues[k], err = bigToNumeric(t.FaceValue); err != nil {
			return nil, fmt.Errorf("store: insert ticket %x: face value: %w", t.TicketHash, err)
		}
		if winProbs[k], err = bigToNumeric(t.WinProb); err != nil {
			return nil, fmt.Errorf("store: insert ticket %x: win prob: %w", t.TicketHash, err)
		}
		if c := tickets[i].Cap; c != nil {
			if caps[k], err = bigToNumeric(c); err != nil {
				return nil, fmt.Errorf("store: insert ticket %x: cap: %w", t.TicketHash, err)
			}
		}
		// A nil slice would be sent as NULL and trip NOT NULL; an absent
		// seed is legitimately empty.
		seeds[k] = t.Seed
		if seeds[k] == nil {
			seeds[k] = []byte{}
		}
		hashes[k], senders[k], recipients[k] = t.TicketHash[:], t.Sender[:], t.Recipient[:]
		rands[k], randHashes[k], sigs[k], blockHashes[k] = t.RecipientRand[:], t.RecipientRandHash[:], t.Sig, t.CreationRoundBlockHash[:]
		nonces[k], rounds[k], expiries[k] = int64(t.SenderNonce), t.CreationRound, t.ParamsExpirationBlock
	}

	// A sender's first tickets find no exposure row to lock, so concurrent
	// statements would each count from zero and together pass the cap. The
	// rows are created, and committed, before the statement that locks them.
	var cappedSenders [][]byte
	for k, i := range uniq {
		if tickets[i].Cap != nil {
			cappedSenders = append(cappedSenders, senders[k])
		}
	}
	if len(cappedSenders) > 0 {
		if _, err := s.pool.Exec(ctx, `INSERT INTO sender_limbo (sender)
			SELECT DISTINCT unnest($1::bytea[]) ORDER BY 1 ON CONFLICT (sender) DO NOTHING`, cappedSenders); err != nil {
			return nil, fmt.Errorf("store: insert %d tickets: exposure rows: %w", n, err)
		}
	}

	// One statement text for every batch size (arrays, not a VALUES list),
	// so the prepared statement is reused. The exposure rows are locked
	// before the sums are read; a statement that waited for them sees the
	// other statement's committed sums (PostgreSQL re-reads a row it had to
	// wait for). The conflict target names the unique ticket hash only: any
	// other unique violation should surface as an error.
	rows, err := s.pool.Query(ctx, `
		WITH RECURSIVE input AS (
			SELECT * FROM unnest(
				$1::bytea[], $2::bytea[], $3::bytea[], $4::numeric[], $5::numeric[], $6::bigint[],
				$7::bytea[], $8::bytea[], $9::bytea[], $10::bytea[],
				$11::bigint[], $12::bytea[], $13::bigint[], $14::numeric[])
				WITH ORDINALITY AS i(ticket_hash, sender, recipient, face_value, win_prob, sender_nonce,
					recipient_rand, recipient_rand_hash, seed, sig,
					creation_round, creation_round_block_hash, params_expiration_block, cap, ord)
		), exposure AS MATERIALIZED (
			SELECT l.sender, l.queued_amount + l.amount AS open
			FROM sender_limbo l WHERE l.sender IN (SELECT sender FROM input)
			ORDER BY l.sender FOR UPDATE
		), fresh AS (
			SELECT i.* FROM input i
			WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.ticket_hash = i.ticket_hash)
			  AND NOT EXISTS (SELECT 1 FROM redeemed_tickets r WHERE r.ticket_hash = i.ticket_hash)
		), seq AS (
			SELECT f.*, coalesce(e.open, 0) AS open, row_number() OVER (PARTITION BY f.sender ORDER BY f.ord) AS k
			FROM fresh f LEFT JOIN exposure e ON e.sender = f.sender
		), ranked AS (
			-- A sender's tickets in batch order: reach is the exposure with
			-- this ticket, taken the exposure after it (a refused ticket
			-- takes no room from the ones after it).
			SELECT q.*, q.open + q.face_value AS reach,
				CASE WHEN q.cap IS NULL OR q.open + q.face_value <= q.cap THEN q.open + q.face_value ELSE q.open END AS taken
			FROM seq q WHERE q.k = 1
			UNION ALL
			SELECT q.*, r.taken + q.face_value,
				CASE WHEN q.cap IS NULL OR r.taken + q.face_value <= q.cap THEN r.taken + q.face_value ELSE r.taken END
			FROM ranked r JOIN seq q ON q.sender = r.sender AND q.k = r.k + 1
		), ins AS (
			INSERT INTO tickets (
				ticket_hash, sender, recipient, face_value, win_prob, sender_nonce,
				recipient_rand, recipient_rand_hash, seed, sig,
				creation_round, creation_round_block_hash, params_expiration_block)
			SELECT ticket_hash, sender, recipient, face_value, win_prob, sender_nonce,
				recipient_rand, recipient_rand_hash, seed, sig,
				creation_round, creation_round_block_hash, params_expiration_block
			FROM ranked WHERE cap IS NULL OR reach <= cap ORDER BY ord
			ON CONFLICT (ticket_hash) DO NOTHING
			RETURNING ticket_hash, sender, face_value
		), sums AS (
			INSERT INTO sender_limbo AS l (sender, queued_amount)
			SELECT sender, sum(face_value) FROM ins GROUP BY sender
			ON CONFLICT (sender) DO UPDATE SET queued_amount = l.queued_amount + EXCLUDED.queued_amount,
				updated_at = now()
		), wanted AS (
			-- Throttled: a busy sender's row is touched every few minutes,
			-- not on every ticket, to keep intake off the senders rows.
			UPDATE senders s SET wanted_at = now()
			WHERE s.sender IN (SELECT sender FROM ins) AND s.wanted_at < now() - interval '5 minutes'
		)
		SELECT i.ord,
			EXISTS (SELECT 1 FROM ins WHERE ins.ticket_hash = i.ticket_hash),
			EXISTS (SELECT 1 FROM tickets t WHERE t.ticket_hash = i.ticket_hash),
			EXISTS (SELECT 1 FROM redeemed_tickets r WHERE r.ticket_hash = i.ticket_hash),
			r.cap IS NOT NULL AND r.reach > r.cap,
			r.reach
		FROM input i LEFT JOIN ranked r ON r.ord = i.ord
		ORDER BY i.ord`,
		hashes, senders, recipients, faceValues, winProbs, nonces,
		rands, randHashes, seeds, sigs, rounds, blockHashes, expiries, caps,
	)
	if err != nil {
		return nil, fmt.Errorf("store: insert %d tickets: %w", n, err)
	}
	results := make([]Admitted, n)
	var (
		ord                            int64
		inserted, before, used, capped bool
		reach                          pgtype.Numeric
	)
	_, err = pgx.ForEachRow(rows, []any{&ord, &inserted, &before, &used, &capped, &reach}, func() error {
		if ord < 1 || ord > int64(n) {
			return fmt.Errorf("row for ticket %d of %d", ord, n)
		}
		a := Admitted{Inserted: inserted, Used: used && !before, Capped: capped && !inserted}
		// Not written, not refused: a concurrent statement committed the
		// same ticket after this one began, and ON CONFLICT stepped aside.
		a.Stored = inserted || before || (!a.Used && !a.Capped)
		if reach.Valid {
			v, err := numericToBig(reach)
			if err != nil {
				return err
			}
			a.Exposure = v
		}
		results[ord-1] = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: insert %d tickets: %w", n, err)
	}
	out := make([]Admitted, len(tickets))
	for k, i := range uniq {
		out[i] = results[k]
	}
	for i := range tickets {
		if k := first[tickets[i].Ticket.TicketHash]; k != i {
			// A later copy stores nothing itself: it is as stored as the
			// first one.
			out[i] = out[k]
			out[i].Inserted = false
		}
	}
	return out, nil
}

const ticketColumns = `
	id, ticket_hash, sender, recipient, face_value, win_prob, sender_nonce,
	recipient_rand, recipient_rand_hash, seed, sig,
	creation_round, creation_round_block_hash, params_expiration_block,
	status, attempts, last_error, next_attempt_at, received_at, updated_at,
	redemption_id, expected_payout`

// TicketByHash returns the ticket with the given hash, or ErrNotFound.
func (s *Store) TicketByHash(ctx context.Context, hash [32]byte) (*Ticket, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE ticket_hash = $1`, hash[:])
	t, err := scanTicket(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("store: ticket %x: %w", hash, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: ticket %x: %w", hash, err)
	}
	return t, nil
}

// CountTickets returns the number of stored tickets in every status.
func (s *Store) CountTickets(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM tickets`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count tickets: %w", err)
	}
	return n, nil
}

func scanTicket(row pgx.Row) (*Ticket, error) {
	var (
		t                                                  Ticket
		hash, sender, recipient, rand, randHash, blockHash []byte
		faceValue, winProb                                 pgtype.Numeric
		nonce                                              int64
		lastError                                          pgtype.Text
		nextAttempt                                        pgtype.Timestamptz
		redemptionID                                       pgtype.Int8
		expected                                           pgtype.Numeric
	)
	err := row.Scan(
		&t.ID, &hash, &sender, &recipient, &faceValue, &winProb, &nonce,
		&rand, &randHash, &t.Seed, &t.Sig,
		&t.CreationRound, &blockHash, &t.ParamsExpirationBlock,
		&t.Status, &t.Attempts, &lastError, &nextAttempt, &t.ReceivedAt, &t.UpdatedAt,
		&redemptionID, &expected,
	)
	if err != nil {
		return nil, err
	}
	// The schema's length checks make a mismatch here a sign of a schema the
	// code does not know, so it is reported rather than truncated.
	for _, f := range []struct {
		name string
		dst  []byte
		src  []byte
	}{
		{"ticket_hash", t.TicketHash[:], hash},
		{"sender", t.Sender[:], sender},
		{"recipient", t.Recipient[:], recipient},
		{"recipient_rand", t.RecipientRand[:], rand},
		{"recipient_rand_hash", t.RecipientRandHash[:], randHash},
		{"creation_round_block_hash", t.CreationRoundBlockHash[:], blockHash},
	} {
		if len(f.src) != len(f.dst) {
			return nil, fmt.Errorf("column %s has %d bytes, want %d", f.name, len(f.src), len(f.dst))
		}
		copy(f.dst, f.src)
	}
	if t.FaceValue, err = numericToBig(faceValue); err != nil {
		return nil, fmt.Errorf("column face_value: %w", err)
	}
	if t.WinProb, err = numericToBig(winProb); err != nil {
		return nil, fmt.Errorf("column win_prob: %w", err)
	}
	if nonce < 0 || nonce > 1<<32-1 {
		return nil, fmt.Errorf("column sender_nonce: %d out of uint32 range", nonce)
	}
	t.SenderNonce = uint32(nonce)
	if lastError.Valid {
		t.LastError = lastError.String
	}
	if nextAttempt.Valid {
		at := nextAttempt.Time
		t.NextAttemptAt = &at
	}
	t.RedemptionID = redemptionID.Int64
	if expected.Valid {
		if t.ExpectedPayout, err = numericToBig(expected); err != nil {
			return nil, fmt.Errorf("column expected_payout: %w", err)
		}
	}
	return &t, nil
}

// bigToNumeric passes an integer to PostgreSQL without going through a float
// or a decimal string, so numeric(78,0) receives the exact value.
func bigToNumeric(v *big.Int) (pgtype.Numeric, error) {
	if v == nil {
		return pgtype.Numeric{}, errors.New("nil integer")
	}
	if v.Sign() < 0 {
		return pgtype.Numeric{}, fmt.Errorf("negative integer %s", v)
	}
	return pgtype.Numeric{Int: new(big.Int).Set(v), Exp: 0, Valid: true}, nil
}

// numericToBig converts a numeric that must hold an integer. pgx may return
// trailing zeros folded into a positive exponent, so the exponent is applied
// rather than assumed to be zero.
func numericToBig(n pgtype.Numeric) (*big.Int, error) {
	if !n.Valid {
		return nil, errors.New("NULL numeric")
	}
	if n.NaN || n.InfinityModifier != pgtype.Finite {
		return nil, errors.New("numeric is not a finite number")
	}
	if n.Int == nil {
		return new(big.Int), nil
	}
	v := new(big.Int).Set(n.Int)
	switch {
	case n.Exp > 0:
		v.Mul(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n.Exp)), nil))
	case n.Exp < 0:
		var rem big.Int
		v.QuoRem(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-n.Exp)), nil), &rem)
		if rem.Sign() != 0 {
			return nil, fmt.Errorf("numeric %se%d is not an integer", n.Int, n.Exp)
		}
	}
	return v, nil
}
