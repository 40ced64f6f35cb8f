package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"redeemer/chain"
	"redeemer/store"
)

// Lease is this replica's leadership for one term. The database's clock
// decides who leads (store.AcquireLease); the local clock only ever makes
// the leader stop earlier: Valid turns false a margin before the lease
// could have expired by any clock, so a replica that was paused (SIGSTOP,
// a long GC, a VM migration) notices on waking that its term may be over
// before it does anything outside the database.
type Lease struct {
	st   *store.Store
	term store.Term

	mu    sync.Mutex
	until time.Time // monotonic: local start of the last renewal + TTL - margin
}

// Term is the lease's fencing token: every leader write checks it.
func (l *Lease) Term() store.Term { return l.term }

// Valid reports whether the lease is certainly still held by the local
// clock.
func (l *Lease) Valid() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Now().Before(l.until)
}

func (l *Lease) extend(until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.until) {
		l.until = until
	}
}

// Check is the fence before an action no transaction can fence (a
// broadcast): the lease must be valid by the local clock and its term the
// database's current one.
func (l *Lease) Check(ctx context.Context) error {
	if !l.Valid() {
		return fmt.Errorf("%w: term %d: lease past its local deadline", store.ErrFenced, l.term)
	}
	return l.st.CheckTerm(ctx, l.term)
}

// Fenced runs fn in a transaction fenced by the lease's term.
func (l *Lease) Fenced(ctx context.Context, fn func(q store.Q) error) error {
	if !l.Valid() {
		return fmt.Errorf("%w: term %d: lease past its local deadline", store.ErrFenced, l.term)
	}
	return l.st.Fenced(ctx, l.term, fn)
}

// NewTestLease takes a lease for tests that run stages without a leader
// loop; it fails when another holder has a live one.
func NewTestLease(ctx context.Context, st *store.Store, ttl time.Duration) (*Lease, error) {
	start := time.Now()
	got, err := st.AcquireLease(ctx, "test", ttl)
	if err != nil {
		return nil, err
	}
	if got == nil {
		return nil, errors.New("pipeline: the leader lease is held")
	}
	return &Lease{st: st, term: got.Term, until: start.Add(ttl)}, nil
}

// LeaderOptions tune Lead. Zero values take the defaults in brackets.
type LeaderOptions struct {
	// Holder names this replica in leader_lease.holder.
	Holder string
	// TTL is the lease's length [10s]: a stopped leader is replaced this
	// long after its last renewal.
	TTL time.Duration
	// Renew is how often the leader renews, and a follower tries to take
	// the lease [2s].
	Renew time.Duration
	// OnChange hears leadership start (true) and end (false).
	OnChange func(leader bool)
	Logger   *slog.Logger
}

func (o *LeaderOptions) fill() {
	if o.TTL <= 0 {
		o.TTL = 10 * time.Second
	}
	if o.Renew <= 0 {
		o.Renew = 2 * time.Second
	}
	if o.Renew > o.TTL/3 {
		o.Renew = o.TTL / 3
	}
	if o.OnChange == nil {
		o.OnChange = func(bool) {}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// errLeaseLost ends a term's context when its lease could not be renewed.
var errLeaseLost = errors.New("leader lease lost")

// Lead runs lead for every term this replica wins, until ctx ends; between
// terms it tries to take the lease every Renew. lead's context ends when the
// lease is lost (renewal refused, or not confirmed before the local
// deadline); lead must then stop. On a stop (ctx ends) the lease is released
// at once, so another replica takes over without waiting for it to expire.
func Lead(ctx context.Context, st *store.Store, opts LeaderOptions, lead func(ctx context.Context, l *Lease) error) error {
	opts.fill()
	log := opts.Logger.With("component", "leader", "holder", opts.Holder)
	retry := chain.Backoff{Min: opts.Renew, Max: opts.Renew}
	for failures := 0; ; {
		start := time.Now()
		got, err := acquire(ctx, st, opts)
		switch {
		case err != nil:
			failures++
			if failures == 1 {
				log.Warn("leader lease unavailable", "err", err)
			}
		case got != nil:
			failures = 0
			l := &Lease{st: st, term: got.Term, until: start.Add(opts.TTL - margin(opts.TTL))}
			log.Info("became leader: this replica redeems tickets", "term", got.Term)
			opts.OnChange(true)
			err := runTerm(ctx, l, opts, lead)
			opts.OnChange(false)
			if ctx.Err() != nil {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.Renew)
				if err := st.ReleaseLease(rctx, l.term); err != nil {
					log.Warn("could not release the leader lease; another replica takes over when it expires", "err", err)
				}
				cancel()
				log.Info("stopped leading", "term", l.term)
				return nil
			}
			log.Warn("stopped leading", "term", l.term, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retry.Delay(1)):
		}
	}
}

// margin is how much earlier than the lease's end the local clock calls it
// over: room for the renewal's own round trip and clock drift.
func margin(ttl time.Duration) time.Duration { return ttl / 4 }

func acquire(ctx context.Context, st *store.Store, opts LeaderOptions) (*store.Lease, error) {
	actx, cancel := context.WithTimeout(ctx, opts.Renew)
	defer cancel()
	return st.AcquireLease(actx, opts.Holder, opts.TTL)
}

// runTerm runs lead under a context that ends when the lease is lost.
func runTerm(ctx context.Context, l *Lease, opts LeaderOptions, lead func(context.Context, *Lease) error) error {
	tctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(opts.Renew)
		defer t.Stop()
		for {
			select {
			case <-tctx.Done():
				return
			case <-t.C:
			}
			if !l.Valid() {
				cancel(fmt.Errorf("%w: not renewed before the local deadline", errLeaseLost))
				return
			}
			start := time.Now()
			rctx, c := context.WithTimeout(tctx, opts.Renew)
			_, err := l.st.RenewLease(rctx, l.term, opts.TTL)
			c()
			switch {
			case errors.Is(err, store.ErrFenced):
				cancel(fmt.Errorf("%w: %w", errLeaseLost, err))
				return
			case err != nil:
				// The database did not answer: keep trying until the local
				// deadline says the lease may be gone.
				opts.Logger.Warn("leader lease renewal failed; retrying", "term", l.term, "err", err)
			default:
				l.extend(start.Add(opts.TTL - margin(opts.TTL)))
			}
		}
	}()
	err := lead(tctx, l)
	cancel(nil)
	<-done
	if cause := context.Cause(tctx); cause != nil && ctx.Err() == nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}
