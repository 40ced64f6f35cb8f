package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// leaderLockKey is the session advisory lock whose holder is the one replica
// that signs and broadcasts: "redeemer" in ASCII. It differs from goose's
// migration lock.
const leaderLockKey int64 = 0x72656465656d6572

// LeaderLock is a held leader lock. It lives on its own connection, taken
// out of the pool: the lock is the session's, and dies with it.
type LeaderLock struct {
	conn *pgx.Conn
}

// TryLeaderLock takes the leader lock if no other session holds it. It
// returns nil, nil when another replica leads.
func (s *Store) TryLeaderLock(ctx context.Context) (*LeaderLock, error) {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: leader lock: %w", err)
	}
	conn := pc.Hijack()
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, leaderLockKey).Scan(&got); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("store: leader lock: %w", err)
	}
	if !got {
		conn.Close(ctx)
		return nil, nil
	}
	return &LeaderLock{conn: conn}, nil
}

// Alive checks that the session holding the lock is still there; when it is
// not, the lock is gone too and another replica may already lead.
func (l *LeaderLock) Alive(ctx context.Context) error {
	var held bool
	err := l.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
		WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
		  AND classid = ($1::bigint >> 32)::oid AND objid = ($1::bigint & 4294967295)::oid AND objsubid = 1)`, leaderLockKey).Scan(&held)
	if err != nil {
		return fmt.Errorf("store: leader lock connection: %w", err)
	}
	if !held {
		return fmt.Errorf("store: leader lock no longer held")
	}
	return nil
}

// Release gives the lock up by closing its session.
func (l *LeaderLock) Release(ctx context.Context) {
	l.conn.Close(ctx)
}
