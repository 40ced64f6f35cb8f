package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// ListenerApplicationName is the application_name of listener sessions, so
// that operators can tell them apart in pg_stat_activity.
const ListenerApplicationName = "redeemer-listener"

// ListenOptions tune a Listener. Zero values take the defaults in brackets.
type ListenOptions struct {
	// MinBackoff is the first wait before reconnecting; it doubles with
	// every failed attempt up to MaxBackoff [100ms, 10s].
	MinBackoff, MaxBackoff time.Duration
	// PingInterval is how long a quiet connection waits before it is
	// pinged: a connection dropped without a reset (a NAT or firewall
	// timeout) would otherwise wait for notifications forever [30s].
	PingInterval time.Duration
	// Logger gets reconnects; slog.Default() if nil.
	Logger *slog.Logger
}

// Listener holds one connection that LISTENs on a channel, and replaces it
// whenever it fails. It has its own connection, outside the pool: a LISTEN
// belongs to a session and must not be handed to other users of the pool.
type Listener struct {
	cfg     *pgx.ConnConfig
	channel string
	opts    ListenOptions
	log     *slog.Logger
}

// NewListener returns a listener on channel that connects like the store's
// pool does.
func (s *Store) NewListener(channel string, opts ListenOptions) *Listener {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = ListenerApplicationName
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Second
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.MinBackoff)
	if opts.PingInterval <= 0 {
		opts.PingInterval = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Listener{cfg: cfg, channel: channel, opts: opts,
		log: opts.Logger.With("component", "store.listener", "channel", channel)}
}

// Run listens until ctx ends, then returns ctx's error.
//
// onListen is called each time LISTEN has taken effect on a new connection,
// the first one included. Notifications sent while no connection listened
// are lost, so onListen must make its caller re-read everything it
// follows; reads made after onListen returns miss nothing, since every
// later commit is announced on this connection. onNotify gets each payload.
// Both are called from Run's goroutine, in order, and must not block.
func (l *Listener) Run(ctx context.Context, onListen func(), onNotify func(payload string)) error {
	backoff := time.Duration(0)
	for {
		listened, err := l.session(ctx, onListen, onNotify)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if listened {
			// The connection worked for a while: start over quickly.
			backoff = 0
		}
		backoff = min(max(2*backoff, l.opts.MinBackoff), l.opts.MaxBackoff)
		l.log.WarnContext(ctx, "listen connection lost; reconnecting", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
	}
}

// session runs one connection until it fails; listened reports whether
// LISTEN took effect on it.
func (l *Listener) session(ctx context.Context, onListen func(), onNotify func(string)) (listened bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.channel}.Sanitize()); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	l.log.DebugContext(ctx, "listening", "pid", conn.PgConn().PID())
	onListen()
	for {
		wctx, cancel := context.WithTimeout(ctx, l.opts.PingInterval)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			onNotify(n.Payload)
			continue
		case ctx.Err() != nil:
			return true, ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded):
			return true, fmt.Errorf("wait for notification: %w", err)
		}
		// A quiet interval: make sure the server is still there. A
		// notification that arrives meanwhile is queued by pgx and returned
		// by the next wait.
		pctx, cancel := context.WithTimeout(ctx, l.opts.PingInterval)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return true, fmt.Errorf("ping: %w", err)
		}
	}
}
