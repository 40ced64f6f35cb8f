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

// Ticket statuses, as stored in tickets.status. See DESIGN.md for the
// transitions between them.
const (
	StatusQueued    = "queued"
	StatusRedeeming = "redeeming"
	StatusRedeemed  = "redeemed"
	StatusFailed    = "failed"
	StatusExpired   = "expired"
)

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
	Status        string
	Attempts      int
	LastError     string     // "" when the column is NULL
	NextAttemptAt *time.Time // nil when not postponed
	ReceivedAt    time.Time
	UpdatedAt     time.Time
	RedemptionID  int64 // 0 when the ticket was never claimed
}

// InsertTicket stores a validated ticket idempotently by ticket hash and
// reports whether this call wrote the row. It runs as a single autocommit
// statement, so a nil error means the row (this one or an earlier copy) is
// committed. After an ambiguous failure (see IsUnavailable) it is safe to call
// again with the same ticket.
func (s *Store) InsertTicket(ctx context.Context, t NewTicket) (inserted bool, err error) {
	ins, err := s.InsertTickets(ctx, []NewTicket{t})
	if err != nil {
		return false, err
	}
	return ins[0], nil
}

// InsertTickets stores validated tickets in one autocommit statement: all of
// them are committed or none is. inserted[i] reports whether tickets[i] was
// written by this call (false: that hash was already stored, or appears
// earlier in tickets). Intake groups concurrent tickets into one call so
// that many share one commit. Like InsertTicket it is safe to repeat after an
// ambiguous failure.
func (s *Store) InsertTickets(ctx context.Context, tickets []NewTicket) (inserted []bool, err error) {
	if len(tickets) == 0 {
		return nil, nil
	}
	n := len(tickets)
	var (
		hashes, senders, recipients, rands, randHashes, seeds, sigs, blockHashes = make([][]byte, n),
			make([][]byte, n), make([][]byte, n), make([][]byte, n), make([][]byte, n), make([][]byte, n),
			make([][]byte, n), make([][]byte, n)
		faceValues, winProbs     = make([]pgtype.Numeric, n), make([]pgtype.Numeric, n)
		nonces, rounds, expiries = make([]int64, n), make([]int64, n), make([]int64, n)
	)
	for i := range tickets {
		t := &tickets[i]
		if faceValues[i], err = bigToNumeric(t.FaceValue); err != nil {
			return nil, fmt.Errorf("store: insert ticket %x: face value: %w", t.TicketHash, err)
		}
		if winProbs[i], err = bigToNumeric(t.WinProb); err != nil {
			return nil, fmt.Errorf("store: insert ticket %x: win prob: %w", t.TicketHash, err)
		}
		// A nil slice would be sent as NULL and trip NOT NULL; an absent
		// seed is legitimately empty.
		seeds[i] = t.Seed
		if seeds[i] == nil {
			seeds[i] = []byte{}
		}
		hashes[i], senders[i], recipients[i] = t.TicketHash[:], t.Sender[:], t.Recipient[:]
		rands[i], randHashes[i], sigs[i], blockHashes[i] = t.RecipientRand[:], t.RecipientRandHash[:], t.Sig, t.CreationRoundBlockHash[:]
		nonces[i], rounds[i], expiries[i] = int64(t.SenderNonce), t.CreationRound, t.ParamsExpirationBlock
	}

	// One statement text for every batch size (arrays, not a VALUES list),
	// so the prepared statement is reused. The conflict target names the
	// unique ticket hash only: any other unique violation should surface as
	// an error rather than be swallowed.
	rows, err := s.pool.Query(ctx, `
		INSERT INTO tickets (
			ticket_hash, sender, recipient, face_value, win_prob, sender_nonce,
			recipient_rand, recipient_rand_hash, seed, sig,
			creation_round, creation_round_block_hash, params_expiration_block
		)
		SELECT * FROM unnest(
			$1::bytea[], $2::bytea[], $3::bytea[], $4::numeric[], $5::numeric[], $6::bigint[],
			$7::bytea[], $8::bytea[], $9::bytea[], $10::bytea[],
			$11::bigint[], $12::bytea[], $13::bigint[])
		ON CONFLICT (ticket_hash) DO NOTHING
		RETURNING ticket_hash`,
		hashes, senders, recipients, faceValues, winProbs, nonces,
		rands, randHashes, seeds, sigs, rounds, blockHashes, expiries,
	)
	if err != nil {
		return nil, fmt.Errorf("store: insert %d tickets: %w", n, err)
	}
	written := make(map[[32]byte]bool, n)
	var h [32]byte
	var raw []byte
	_, err = pgx.ForEachRow(rows, []any{&raw}, func() error {
		if len(raw) != len(h) {
			return fmt.Errorf("returned ticket_hash has %d bytes", len(raw))
		}
		copy(h[:], raw)
		written[h] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: insert %d tickets: %w", n, err)
	}
	inserted = make([]bool, n)
	for i := range tickets {
		// The first copy of a hash repeated within the batch is the one
		// that was written.
		if written[tickets[i].TicketHash] {
			inserted[i] = true
			delete(written, tickets[i].TicketHash)
		}
	}
	return inserted, nil
}

const ticketColumns = `
	id, ticket_hash, sender, recipient, face_value, win_prob, sender_nonce,
	recipient_rand, recipient_rand_hash, seed, sig,
	creation_round, creation_round_block_hash, params_expiration_block,
	status, attempts, last_error, next_attempt_at, received_at, updated_at,
	redemption_id`

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
	)
	err := row.Scan(
		&t.ID, &hash, &sender, &recipient, &faceValue, &winProb, &nonce,
		&rand, &randHash, &t.Seed, &t.Sig,
		&t.CreationRound, &blockHash, &t.ParamsExpirationBlock,
		&t.Status, &t.Attempts, &lastError, &nextAttempt, &t.ReceivedAt, &t.UpdatedAt,
		&redemptionID,
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
