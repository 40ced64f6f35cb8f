package pipeline

import (
	"context"
	"log/slog"
	"time"

	"redeemer/store"
)

// RetentionOptions bound what the service keeps. Zero values take the
// defaults in brackets.
type RetentionOptions struct {
	// Keep is how long events and attempts of final tickets and
	// redemptions are kept [90 days].
	Keep time.Duration
	// SenderIdle is how long a sender with no open tickets stays tracked
	// after it was last wanted (a ticket arrived or a stream was open)
	// [7 days].
	SenderIdle time.Duration
	// Batch is the most rows one run deletes per table [500]: small
	// batches keep every lock short, so pruning never holds up a claim.
	Batch int
	// RedeemedRounds is how many rounds of redeemed tickets are kept
	// beyond the ticket validity period [2].
	RedeemedRounds int64
	Logger         *slog.Logger
}

// Retention prunes, a small batch per table per run, what the service no
// longer needs: ticket_events and tx_attempts of final tickets and
// redemptions older than Keep, tracked senders nobody wants, and redeemed
// tickets so old that a copy would be refused as expired anyway. Tickets and
// redemptions stay: they are the audit trail. chain_heads is bounded by the
// heads follower itself.
type Retention struct {
	st   *store.Store
	opts RetentionOptions
	now  func() time.Time
}

// NewRetention returns the stage.
func NewRetention(st *store.Store, opts RetentionOptions) *Retention {
	if opts.Keep <= 0 {
		opts.Keep = 90 * 24 * time.Hour
	}
	if opts.SenderIdle <= 0 {
		opts.SenderIdle = 7 * 24 * time.Hour
	}
	if opts.Batch <= 0 {
		opts.Batch = 500
	}
	if opts.RedeemedRounds <= 0 {
		opts.RedeemedRounds = 2
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Retention{st: st, opts: opts, now: time.Now}
}

// Name implements Stage.
func (s *Retention) Name() string { return "retention" }

// Run implements Stage.
func (s *Retention) Run(ctx context.Context, r Run) (Result, error) {
	ps, err := s.st.StoredProtocolState(ctx)
	if err != nil {
		return Result{}, err
	}
	var beforeRound int64
	if ps != nil && ps.TicketValidityPeriod != nil && ps.CurrentRound.IsInt64() && ps.TicketValidityPeriod.IsInt64() {
		beforeRound = ps.CurrentRound.Int64() - ps.TicketValidityPeriod.Int64() - s.opts.RedeemedRounds
	}
	now := s.now()
	var p store.Pruned
	err = r.Lease.Fenced(ctx, func(q store.Q) (err error) {
		p, err = q.Prune(ctx, store.Retention{Before: now.Add(-s.opts.Keep), SendersBefore: now.Add(-s.opts.SenderIdle),
			RedeemedBeforeRound: beforeRound, Limit: s.opts.Batch})
		return err
	})
	if err != nil {
		return Result{}, err
	}
	if p.Total() > 0 {
		s.opts.Logger.Info("pruned rows past retention", "component", "pipeline", "ticket_events", p.Events,
			"tx_attempts", p.Attempts, "senders", p.Senders, "redeemed_tickets", p.Redeemed)
	}
	// A full batch may have left more behind.
	full := p.Events == int64(s.opts.Batch) || p.Attempts == int64(s.opts.Batch) ||
		p.Senders == int64(s.opts.Batch) || p.Redeemed == int64(s.opts.Batch)
	return Result{Again: full}, nil
}
