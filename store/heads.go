package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// ErrHeadsNotLinked is returned by AdvanceHeads when the heads would not
// extend the stored chain: a number skipped or repeated, or a parent hash
// that is not the hash stored one number below. Writing them anyway would
// leave a cursor that no longer describes one chain, which is exactly what
// reorg detection relies on.
var ErrHeadsNotLinked = errors.New("store: heads do not extend the stored chain")

// Head is one row of chain_heads: a canonical block head as the service
// processed it.
type Head struct {
	Number     uint64
	Hash       [32]byte
	ParentHash [32]byte
	L1Number   uint64 // Arbitrum's l1BlockNumber, or Number on a plain chain
	Time       time.Time
}

const headColumns = `number, hash, parent_hash, l1_number, block_time`

// RecentHeads returns up to limit stored heads, highest number first; the
// first one is the chain cursor. An empty result means the service has never
// recorded a head.
func (s *Store) RecentHeads(ctx context.Context, limit int) ([]Head, error) {
	if limit < 1 {
		return nil, fmt.Errorf("store: recent heads: limit %d, want at least 1", limit)
	}
	rows, err := s.pool.Query(ctx,
		`SELECT `+headColumns+` FROM chain_heads ORDER BY number DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: recent heads: %w", err)
	}
	heads, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Head, error) {
		return scanHead(row)
	})
	if err != nil {
		return nil, fmt.Errorf("store: recent heads: %w", err)
	}
	return heads, nil
}

// HeadByNumber returns the stored head at number, or ErrNotFound.
func (s *Store) HeadByNumber(ctx context.Context, number uint64) (*Head, error) {
	n, err := headNumber(number)
	if err != nil {
		return nil, fmt.Errorf("store: head %d: %w", number, err)
	}
	h, err := scanHead(s.pool.QueryRow(ctx, `SELECT `+headColumns+` FROM chain_heads WHERE number = $1`, n))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("store: head %d: %w", number, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: head %d: %w", number, err)
	}
	return &h, nil
}

// AdvanceHeads moves the chain cursor in one transaction: it deletes the
// stored heads numbered removeFrom and above when removeFrom is non-nil (a
// reorg replaced them), inserts heads, and prunes all but the newest keep
// heads. heads must be in ascending order, each the child of the one before,
// and the first must be the child of the highest head left after the delete
// (any head is accepted when none is left); otherwise nothing changes and
// the error wraps ErrHeadsNotLinked.
//
// Two writers racing to record the same number fail on the primary key
// rather than interleave: the cursor has a single writer by design, and a
// second one is a bug to surface, not to paper over.
func (s *Store) AdvanceHeads(ctx context.Context, removeFrom *uint64, heads []Head, keep int) error {
	if keep < 1 {
		return fmt.Errorf("store: advance heads: keep %d, want at least 1", keep)
	}
	var (
		numbers, l1Numbers   = make([]int64, len(heads)), make([]int64, len(heads))
		hashes, parentHashes = make([][]byte, len(heads)), make([][]byte, len(heads))
		times                = make([]time.Time, len(heads))
		removeFromNumber     int64
		err                  error
	)
	if removeFrom != nil {
		if removeFromNumber, err = headNumber(*removeFrom); err != nil {
			return fmt.Errorf("store: advance heads: remove from: %w", err)
		}
	}
	for i, h := range heads {
		if numbers[i], err = headNumber(h.Number); err != nil {
			return fmt.Errorf("store: advance heads: head %d: %w", h.Number, err)
		}
		if l1Numbers[i], err = headNumber(h.L1Number); err != nil {
			return fmt.Errorf("store: advance heads: head %d: L1 number: %w", h.Number, err)
		}
		hashes[i], parentHashes[i], times[i] = h.Hash[:], h.ParentHash[:], h.Time
		if i > 0 && (h.Number != heads[i-1].Number+1 || h.ParentHash != heads[i-1].Hash) {
			return fmt.Errorf("store: advance heads: head %d %x does not follow head %d %x: %w",
				h.Number, h.Hash, heads[i-1].Number, heads[i-1].Hash, ErrHeadsNotLinked)
		}
	}

	err = s.InTx(ctx, func(q Q) error {
		tx := q.db
		if removeFrom != nil {
			if _, err := tx.Exec(ctx, `DELETE FROM chain_heads WHERE number >= $1`, removeFromNumber); err != nil {
				return fmt.Errorf("remove from %d: %w", *removeFrom, err)
			}
		}
		if len(heads) > 0 {
			// The row lock makes a concurrent writer wait for this
			// transaction and then fail on the primary key instead of
			// checking a stale top.
			top, err := scanHead(tx.QueryRow(ctx,
				`SELECT `+headColumns+` FROM chain_heads ORDER BY number DESC LIMIT 1 FOR UPDATE`))
			switch {
			case errors.Is(err, pgx.ErrNoRows):
			case err != nil:
				return fmt.Errorf("read cursor: %w", err)
			case heads[0].Number != top.Number+1 || heads[0].ParentHash != top.Hash:
				return fmt.Errorf("head %d with parent %x does not follow the cursor %d %x: %w",
					heads[0].Number, heads[0].ParentHash, top.Number, top.Hash, ErrHeadsNotLinked)
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO chain_heads (number, hash, parent_hash, l1_number, block_time)
				SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bigint[], $5::timestamptz[])`,
				numbers, hashes, parentHashes, l1Numbers, times); err != nil {
				return fmt.Errorf("insert %d heads from %d: %w", len(heads), heads[0].Number, err)
			}
		}
		// Everything at or below the (keep+1)-th highest number goes; with
		// fewer rows the subquery is NULL and nothing is deleted.
		if _, err := tx.Exec(ctx, `
			DELETE FROM chain_heads
			WHERE number <= (SELECT number FROM chain_heads ORDER BY number DESC OFFSET $1 LIMIT 1)`,
			keep); err != nil {
			return fmt.Errorf("prune to %d: %w", keep, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: advance heads: %w", err)
	}
	return nil
}

// headNumber converts a block number for a bigint column. Real chains are
// nowhere near 2^63, so a larger value is a corrupt input, not a limit.
func headNumber(n uint64) (int64, error) {
	if n > math.MaxInt64 {
		return 0, fmt.Errorf("block number %d exceeds bigint", n)
	}
	return int64(n), nil
}

func scanHead(row pgx.Row) (Head, error) {
	var (
		h                Head
		number, l1Number int64
		hash, parentHash []byte
	)
	if err := row.Scan(&number, &hash, &parentHash, &l1Number, &h.Time); err != nil {
		return Head{}, err
	}
	// The schema's checks make these impossible; a mismatch means a schema
	// the code does not know, so it is reported rather than truncated.
	if number < 0 || l1Number < 0 {
		return Head{}, fmt.Errorf("head %d: negative number (L1 number %d)", number, l1Number)
	}
	if len(hash) != 32 || len(parentHash) != 32 {
		return Head{}, fmt.Errorf("head %d: hash has %d bytes and parent hash %d, want 32", number, len(hash), len(parentHash))
	}
	h.Number, h.L1Number = uint64(number), uint64(l1Number)
	copy(h.Hash[:], hash)
	copy(h.ParentHash[:], parentHash)
	h.Time = h.Time.UTC()
	return h, nil
}

// RecordTip stores h as the newest head the leader has seen, in the
// caller's transaction. Rows at or above h's number go first (the node
// moved back to, or replaced, that height), and rows more than window
// blocks below it are pruned, so the table holds the recent tips only.
func (q Q) RecordTip(ctx context.Context, h Head, window int) error {
	n, err := headNumber(h.Number)
	if err != nil {
		return fmt.Errorf("store: record tip: %w", err)
	}
	l1, err := headNumber(h.L1Number)
	if err != nil {
		return fmt.Errorf("store: record tip %d: L1 number: %w", h.Number, err)
	}
	if _, err := q.db.Exec(ctx, `DELETE FROM chain_heads WHERE number >= $1 OR number < $1 - $2 OR hash = $3`,
		n, window, h.Hash[:]); err != nil {
		return fmt.Errorf("store: record tip %d: %w", h.Number, err)
	}
	if _, err := q.db.Exec(ctx, `INSERT INTO chain_heads (number, hash, parent_hash, l1_number, block_time)
		VALUES ($1, $2, $3, $4, $5)`, n, h.Hash[:], h.ParentHash[:], l1, h.Time); err != nil {
		return fmt.Errorf("store: record tip %d: %w", h.Number, err)
	}
	return nil
}

// LatestL1 is the L1 block number of the newest recorded head; ok is false
// while none is recorded.
func (q Q) LatestL1(ctx context.Context) (l1 uint64, ok bool, err error) {
	var n pgtype.Int8
	if err := q.db.QueryRow(ctx, `SELECT l1_number FROM chain_heads ORDER BY number DESC LIMIT 1`).Scan(&n); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, false, nil
		}
		return 0, false, fmt.Errorf("store: latest L1 number: %w", err)
	}
	return uint64(n.Int64), n.Valid, nil
}
