package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// LastRedemptionGas returns the gas used by the most recent successful
// confirmed redemption, for estimating what the next ones will cost; ok is
// false when none has confirmed yet. Reverted redemptions are skipped: they
// stop early and would make the estimate look cheaper than a real one.
//
// The scan walks the primary key from the newest row, so it stops after a
// handful of rows however long the history grows; any signing account
// counts, since the gas a redemption uses does not depend on who signs it.
func (s *Store) LastRedemptionGas(ctx context.Context) (gas uint64, ok bool, err error) {
	var n int64
	err = s.pool.QueryRow(ctx, `SELECT gas_used FROM redemptions
		WHERE status = 'confirmed' AND receipt_status = 1 AND gas_used > 0
		ORDER BY id DESC LIMIT 1`).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: last redemption gas: %w", err)
	}
	return uint64(n), true, nil
}
