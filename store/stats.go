package store

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"redeemer/migrations"
)

// Stats is a snapshot of the queue for monitoring. Amounts stay exact here;
// only the metrics layer turns them into floats.
type Stats struct {
	// Queued counts tickets waiting to be redeemed; Postponed is the part of
	// them held back until a retry time (uneconomic, sender short of funds,
	// a refused attempt).
	Queued, Postponed int64
	// Redeeming counts tickets in a redemption transaction not yet final.
	Redeeming int64
	// OldestQueued is how long the oldest queued ticket has waited since
	// intake, by the database clock; zero when none is queued.
	OldestQueued time.Duration
	// PendingRedemptions are signed and not yet in a block; MinedRedemptions
	// are in a block and waiting for their confirmations.
	PendingRedemptions, MinedRedemptions int64
	// Limbo is the in-limbo amount, in wei, of every sender that has one.
	Limbo map[[20]byte]*big.Int
}

// Stats reads the queue snapshot in one statement, so every figure comes from
// the same database snapshot. Only open work is counted: final tickets only
// ever grow in number and would make each scrape scan the whole history; the
// worker's counters report them instead. Each part is served by a partial
// index on open rows (queued tickets, open redemptions and their tickets).
func (s *Store) Stats(ctx context.Context) (*Stats, error) {
	var (
		st      = Stats{Limbo: map[[20]byte]*big.Int{}}
		oldest  *float64
		senders [][]byte
		amounts []pgtype.Numeric
	)
	err := s.pool.QueryRow(ctx, `
		WITH queued AS (
			SELECT count(*) AS n,
			       count(*) FILTER (WHERE next_attempt_at > now()) AS postponed,
			       extract(epoch FROM now() - min(received_at))::float8 AS oldest
			FROM tickets WHERE status = 'queued'
		), open AS (
			SELECT id, status FROM redemptions WHERE status IN ('pending', 'mined')
		), limbo AS (
			SELECT sender, amount FROM sender_limbo WHERE amount > 0
		)
		SELECT q.n, q.postponed, q.oldest,
		       (SELECT count(*) FROM tickets t JOIN open o ON o.id = t.redemption_id WHERE t.status = 'redeeming'),
		       (SELECT count(*) FROM open WHERE status = 'pending'),
		       (SELECT count(*) FROM open WHERE status = 'mined'),
		       (SELECT coalesce(array_agg(sender ORDER BY sender), '{}') FROM limbo),
		       (SELECT coalesce(array_agg(amount ORDER BY sender), '{}') FROM limbo)
		FROM queued q`).Scan(&st.Queued, &st.Postponed, &oldest, &st.Redeeming,
		&st.PendingRedemptions, &st.MinedRedemptions, &senders, &amounts)
	if err != nil {
		return nil, fmt.Errorf("store: stats: %w", err)
	}
	if oldest != nil && *oldest > 0 {
		st.OldestQueued = time.Duration(*oldest * float64(time.Second))
	}
	if len(senders) != len(amounts) {
		return nil, fmt.Errorf("store: stats: %d senders but %d in-limbo amounts", len(senders), len(amounts))
	}
	for i, b := range senders {
		amount, err := numericToBig(amounts[i])
		if err != nil {
			return nil, fmt.Errorf("store: stats: in-limbo amount of %x: %w", b, err)
		}
		var a [20]byte
		copy(a[:], b)
		st.Limbo[a] = amount
	}
	return &st, nil
}

// MigrationVersions returns the schema version recorded in the database and
// the highest migration embedded in this binary. They differ when the
// database is behind this binary (run migrate up) or ahead of it (a newer
// release migrated it, and this one may not understand the schema).
func (s *Store) MigrationVersions(ctx context.Context) (current, latest int64, err error) {
	// The pool-backed handle borrows pool connections; closing it leaves the
	// pool open.
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return 0, 0, fmt.Errorf("store: migrations: %w", err)
	}
	// GetVersions takes no migration lock, so a replica migrating the
	// database does not block this check.
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("store: schema version: %w", err)
	}
	return current, latest, nil
}

// LeaderElected reports whether some replica holds a live leader lease:
// this one, or another.
func (s *Store) LeaderElected(ctx context.Context) (bool, error) {
	_, _, live, err := s.LeaseHolder(ctx)
	return live, err
}
