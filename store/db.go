package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB is what a query runs on: the pool, or a transaction begun by InTx or
// Fenced. Every operation of Q takes its DB from the Q, so the same
// operation composes into a larger transaction without callbacks or copies.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Q runs the store's operations on one DB. The zero Q is unusable; get one
// from Store.Q, InTx or Fenced.
type Q struct{ db DB }

// Q runs operations on the pool, each in its own implicit transaction.
func (s *Store) Q() Q { return Q{db: s.pool} }

// InTx runs fn in one transaction and commits it when fn returns nil;
// otherwise it rolls back and returns fn's error.
func (s *Store) InTx(ctx context.Context, fn func(q Q) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(Q{db: tx}) })
}

// Term is a leader term, the fencing token of one leadership: it grows by
// one every time a replica takes the lease (see Lease).
type Term int64

// ErrFenced means a leader write or broadcast was refused because the term
// it was made for is no longer current or its lease ran out: another
// replica leads, or may lead any moment.
var ErrFenced = errors.New("store: leader term is over")

// Fenced runs fn in one transaction that first checks, holding the lease
// row FOR SHARE, that term is the current term and its lease has not
// expired; it fails with ErrFenced otherwise. Because a replica that takes
// the lease must update that row, it waits for every fenced transaction of
// the old term to finish: the old term's writes all commit before the new
// term's first, and none after.
func (s *Store) Fenced(ctx context.Context, term Term, fn func(q Q) error) error {
	return s.InTx(ctx, func(q Q) error {
		if err := q.holdTerm(ctx, term); err != nil {
			return err
		}
		return fn(q)
	})
}

func (q Q) holdTerm(ctx context.Context, term Term) error {
	var (
		current int64
		live    bool
	)
	err := q.db.QueryRow(ctx, `SELECT term, expires_at > now() FROM leader_lease FOR SHARE`).Scan(&current, &live)
	if err != nil {
		return fmt.Errorf("store: leader term: %w", err)
	}
	if Term(current) != term || !live {
		return fmt.Errorf("%w: term %d, current %d (lease live: %t)", ErrFenced, term, current, live)
	}
	return nil
}

// CheckTerm reports ErrFenced unless term is current and unexpired. The
// leader calls it right before a broadcast, which no transaction can fence.
func (s *Store) CheckTerm(ctx context.Context, term Term) error {
	return s.InTx(ctx, func(q Q) error { return q.holdTerm(ctx, term) })
}

// Lease is a held leader lease.
type Lease struct {
	Term Term
	// Expires is the lease's end by the database clock, as of the last
	// acquire or renewal.
	Expires time.Time
}

// AcquireLease starts a new term for holder when the lease is free (never
// taken, released, or expired). It returns nil, nil while another replica
// holds a live lease.
func (s *Store) AcquireLease(ctx context.Context, holder string, ttl time.Duration) (*Lease, error) {
	var l Lease
	err := s.pool.QueryRow(ctx, `UPDATE leader_lease
		SET term = term + 1, holder = $1, acquired_at = now(), renewed_at = now(),
		    expires_at = now() + make_interval(secs => $2)
		WHERE expires_at <= now()
		RETURNING term, expires_at`, holder, ttl.Seconds()).Scan(&l.Term, &l.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: acquire leader lease: %w", err)
	}
	return &l, nil
}

// RenewLease extends term's lease by ttl from now. It fails with ErrFenced
// when the term is over or its lease already expired: a lapsed lease is
// never revived, since another replica may have seen it free.
func (s *Store) RenewLease(ctx context.Context, term Term, ttl time.Duration) (time.Time, error) {
	var expires time.Time
	err := s.pool.QueryRow(ctx, `UPDATE leader_lease
		SET renewed_at = now(), expires_at = now() + make_interval(secs => $2)
		WHERE term = $1 AND expires_at > now()
		RETURNING expires_at`, int64(term), ttl.Seconds()).Scan(&expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, fmt.Errorf("%w: term %d could not be renewed", ErrFenced, term)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("store: renew leader lease: %w", err)
	}
	return expires, nil
}

// ReleaseLease ends term's lease now, so another replica can lead at once
// instead of waiting for it to expire. Releasing a term that is over does
// nothing.
func (s *Store) ReleaseLease(ctx context.Context, term Term) error {
	if _, err := s.pool.Exec(ctx, `UPDATE leader_lease SET expires_at = now() WHERE term = $1 AND expires_at > now()`,
		int64(term)); err != nil {
		return fmt.Errorf("store: release leader lease: %w", err)
	}
	return nil
}

// LeaseHolder reads the current lease: term, holder and whether it is live.
func (s *Store) LeaseHolder(ctx context.Context) (term Term, holder string, live bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT term, holder, expires_at > now() FROM leader_lease`).Scan(&term, &holder, &live)
	if err != nil {
		return 0, "", false, fmt.Errorf("store: leader lease: %w", err)
	}
	return term, holder, live, nil
}
