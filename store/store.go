// Package store is the service's only gateway to PostgreSQL: every SQL
// statement the service runs lives in this package.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// defaultConnectTimeout bounds a dial when the DSN sets no connect_timeout,
// so an unreachable server fails a request instead of hanging it.
const defaultConnectTimeout = 5 * time.Second

// defaultMaxConns is the pool size when the DSN sets no pool_max_conns.
// Every gRPC call holds a connection only for short round trips, so with
// pgx's own default (the CPU count, at least 4) the pool, not PostgreSQL,
// capped how many calls ran at once: most of 16 concurrent MaxFloat callers
// were found waiting for a connection, and a burst of stream opens timed
// out in the queue. A few replicas of 16 stay well inside PostgreSQL's
// default max_connections of 100.
const defaultMaxConns = 16

// idleInTransactionTimeout is PostgreSQL's idle_in_transaction_session_timeout
// for the service's sessions, in milliseconds, unless the DSN sets one.
const idleInTransactionTimeout = "5000"

// ErrNotFound is returned by lookups that match no row.
var ErrNotFound = errors.New("store: not found")

// Store wraps a pgx pool with typed, use-case specific methods.
type Store struct {
	pool *pgxpool.Pool
}

// Open creates a pool for dsn (a postgres:// URL or key=value string; pool_*
// parameters in it are honoured) and pings the server once so that a wrong
// DSN fails at start-up rather than on the first ticket.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: parse dsn: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, defaultMaxConns)
	}
	// A process stopped in the middle of a transaction (SIGSTOP, a VM
	// paused) would hold its locks for ever: the leader lease row among
	// them, which would keep every other replica from taking over. No
	// transaction of the service waits on anything outside the database, so
	// a session idle in one this long is gone, and PostgreSQL ends it.
	if _, set := cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"]; !set {
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = idleInTransactionTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: create pool: %w", err)
	}
	s := New(pool)
	pingCtx, cancel := context.WithTimeout(ctx, cfg.ConnConfig.ConnectTimeout)
	defer cancel()
	if err := s.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// New wraps an existing pool; the caller keeps ownership of its config.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// Pool exposes the pool for packages that need a dedicated connection, such
// as a LISTEN loop or an advisory-lock holder.
func (s *Store) Pool() *pgxpool.Pool {
	return s.pool
}

// Close waits for checked-out connections to be released and closes them.
func (s *Store) Close() {
	s.pool.Close()
}

// Ping checks that a connection can be acquired and the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}
