package chain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"redeemer/store"
)

// Poller defaults, applied by NewPoller to zero or negative options.
const (
	// Arbitrum One produces about four blocks a second, so a quarter second
	// sees nearly every head as it arrives without hammering the node.
	DefaultPollInterval = 250 * time.Millisecond
	DefaultCallTimeout  = 5 * time.Second
	// A failed head pass is usually one failed node call on a flaky node;
	// tickets fall due and expire block by block, so the retry stays
	// within seconds (a handful of calls a minute against a dead node).
	DefaultMaxBackoff = 5 * time.Second
	// Arbitrum reorgs are rare and shallow; 256 heads (about a minute of
	// Arbitrum blocks, an hour on a 15 s chain) covers any reorg the
	// sequencer or L1 can cause in practice.
	DefaultKeepHeads  = 256
	DefaultMaxCatchUp = 128
)

// HeadStore is where the poller keeps its cursor and the recent heads it
// checks parent hashes against. *store.Store implements it.
//
// The interface is written in store types so that the store needs no
// adapter: package chain imports store, and store must never import chain
// (it holds SQL only), which keeps the graph acyclic.
type HeadStore interface {
	// RecentHeads returns up to limit stored heads, highest first.
	RecentHeads(ctx context.Context, limit int) ([]store.Head, error)
	// AdvanceHeads, in one transaction, deletes the heads numbered
	// removeFrom and above (when non-nil), inserts heads and keeps only
	// the newest keep.
	AdvanceHeads(ctx context.Context, removeFrom *uint64, heads []store.Head, keep int) error
}

var _ HeadStore = (*store.Store)(nil)

// PollerOptions tune a Poller. Zero values take the defaults above.
type PollerOptions struct {
	// Interval between polls once the poller has caught up with the node.
	Interval time.Duration
	// CallTimeout bounds each node and store call, so a node that stops
	// answering costs one timeout, not a stuck service.
	CallTimeout time.Duration
	// MaxBackoff caps the wait between retries after errors; the wait
	// starts at Interval and doubles with every consecutive failure.
	MaxBackoff time.Duration
	// Keep is the number of recent heads stored for reorg detection; a
	// reorg deeper than this cannot find its fork point (see Run).
	Keep int
	// MaxCatchUp is the most heads delivered in one poll. A larger gap is
	// worked off in several polls, run back to back, so that the cursor
	// and Latest move steadily during a long catch-up.
	MaxCatchUp int
	// Logger receives errors, reorgs and progress; slog.Default() if nil.
	Logger *slog.Logger
}

// HeadEvent is one new canonical head.
type HeadEvent struct {
	Head Head
	// Removed lists the previously delivered heads that a reorg replaced,
	// highest first. Only the first head delivered after the fork point
	// carries them; it is empty otherwise. Handlers must undo whatever
	// they derived from these heads.
	Removed []Head
}

// Poller follows the chain's canonical heads and keeps its cursor in a
// HeadStore. One database should have one running poller (the leader's):
// two would both deliver every head, and their writes would conflict.
type Poller struct {
	r    HeadReader
	st   HeadStore
	opts PollerOptions
	log  *slog.Logger

	// first is the head a start with an empty store delivers, pinned
	// until it is recorded so that a failed first delivery retries the
	// same head rather than jumping to a newer latest (which would skip
	// the heads between). Only Run's goroutine touches it.
	first *Head

	mu        sync.Mutex
	latest    Head
	hasLatest bool
}

// NewPoller returns a poller reading heads from r and recording them in st.
func NewPoller(r HeadReader, st HeadStore, opts PollerOptions) *Poller {
	if opts.Interval <= 0 {
		opts.Interval = DefaultPollInterval
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MaxBackoff < opts.Interval {
		opts.MaxBackoff = opts.Interval
	}
	if opts.Keep <= 0 {
		opts.Keep = DefaultKeepHeads
	}
	if opts.MaxCatchUp <= 0 {
		opts.MaxCatchUp = DefaultMaxCatchUp
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Poller{r: r, st: st, opts: opts, log: opts.Logger.With("component", "chain.poller")}
}

// Latest returns the last head recorded in the store (the cursor as this
// poller last read or wrote it), and false before the first one is known.
func (p *Poller) Latest() (Head, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.latest, p.hasLatest
}

func (p *Poller) setLatest(h Head) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latest, p.hasLatest = h, true
}

// Run polls until ctx ends and then returns ctx's error. Run must not be
// called again while it runs.
//
// For every new canonical head, in order, it calls onHead and, only when
// onHead returns nil, records the head in the store; the highest stored head
// is the cursor. A crash between onHead and the record delivers that head
// again after a restart, so handlers must be idempotent. No head is skipped:
// a restarted poller resumes right after the stored cursor.
//
// A head whose parent hash is not the stored head below it means a reorg:
// Run walks the stored heads down, fetching the canonical head at each
// number, until one matches (the fork point), and delivers the canonical
// heads from there on; the first carries the replaced stored heads in
// Removed. A new head at the cursor's own number with a different hash is
// handled the same way. A node whose latest head is below the cursor (a
// lagging node behind a load balancer, or a rewind in progress) is waited
// for; nothing is delivered until its chain grows past or to the cursor. If
// no stored head is canonical any more (a reorg deeper than Keep) the fork
// point is unknown: Run logs an error, reports every stored head as removed
// and restarts the cursor at the canonical head at the oldest stored number.
//
// On first start, with an empty store, delivery starts at the node's latest
// head (the service has no history to catch up on); until that head is
// recorded, retries deliver it again rather than a newer latest.
//
// Node and store errors, timeouts and onHead errors are logged and retried
// after a backoff (Interval doubling up to MaxBackoff); Run never gives up
// on them. After an onHead error the same head is delivered again.
func (p *Poller) Run(ctx context.Context, onHead func(ctx context.Context, ev HeadEvent) error) error {
	if onHead == nil {
		return errors.New("chain: poller: nil head handler")
	}
	var (
		failures int
		backoff  time.Duration
		// Since Go 1.23 a stopped timer holds no stale tick, so Reset
		// below needs no draining.
		timer = time.NewTimer(time.Hour)
	)
	timer.Stop()
	defer timer.Stop()
	for {
		caughtUp, err := p.poll(ctx, onHead)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var wait time.Duration
		if err != nil {
			failures++
			backoff = min(max(2*backoff, p.opts.Interval), p.opts.MaxBackoff)
			wait = backoff
			p.log.WarnContext(ctx, "head poll failed; retrying",
				"err", err, "consecutive_failures", failures, "retry_in", wait)
		} else {
			if failures > 0 {
				p.log.InfoContext(ctx, "head polling recovered", "after_failures", failures)
			}
			failures, backoff = 0, 0
			if caughtUp {
				wait = p.opts.Interval
			}
		}
		if wait == 0 {
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// errChainMoved ends a poll without counting as a failure: the node's view
// changed between two calls (a head vanished or a branch switched), which
// the next poll, from fresh reads, sorts out.
var errChainMoved = errors.New("chain moved during the poll")

// poll delivers up to MaxCatchUp heads and reports whether it reached the
// node's latest head.
func (p *Poller) poll(ctx context.Context, onHead func(context.Context, HeadEvent) error) (caughtUp bool, err error) {
	defer func() {
		if errors.Is(err, errChainMoved) {
			p.log.DebugContext(ctx, "chain moved during the poll; retrying next poll", "err", err)
			caughtUp, err = true, nil
		}
	}()
	latest, err := p.latestHead(ctx)
	if err != nil {
		return false, err
	}
	stored, err := p.recentHeads(ctx, 1)
	if err != nil {
		return false, err
	}
	if len(stored) == 0 {
		if p.first == nil {
			p.log.InfoContext(ctx, "no stored chain cursor; starting at the node's latest head",
				"number", latest.Number, "hash", latest.Hash, "l1_number", latest.L1Number)
			p.first = &latest
		}
		if err := p.deliver(ctx, onHead, *p.first, nil); err != nil {
			return false, err
		}
		// If the first head was reorged out meanwhile, the next poll finds
		// it not canonical and reports it removed, as for any stored head.
		p.first = nil
		return false, nil
	}
	cursor := stored[0]
	p.setLatest(cursor)

	for range p.opts.MaxCatchUp {
		if cursor.Number > latest.Number {
			p.log.DebugContext(ctx, "node is behind the stored cursor; waiting",
				"node_head", latest.Number, "cursor", cursor.Number)
			return true, nil
		}
		if cursor.Number == latest.Number && cursor.Hash == latest.Hash {
			return true, nil
		}
		next := latest
		if cursor.Number+1 < latest.Number {
			if next, err = p.headByNumber(ctx, cursor.Number+1); err != nil {
				return false, err
			}
		}
		var removed []Head
		if next.Number != cursor.Number+1 || next.ParentHash != cursor.Hash {
			if next, removed, err = p.findFork(ctx); err != nil {
				return false, err
			}
		}
		if err := p.deliver(ctx, onHead, next, removed); err != nil {
			return false, err
		}
		cursor = next
	}
	return cursor.Number == latest.Number && cursor.Hash == latest.Hash, nil
}

// findFork walks the stored heads down to the highest one that is still
// canonical and returns the canonical head after it together with the
// stored heads above it (highest first), which the reorg replaced.
func (p *Poller) findFork(ctx context.Context) (next Head, removed []Head, err error) {
	stored, err := p.recentHeads(ctx, p.opts.Keep)
	if err != nil {
		return Head{}, nil, err
	}
	if len(stored) == 0 {
		// Someone emptied the table since the poll began.
		return Head{}, nil, fmt.Errorf("stored heads vanished: %w", errChainMoved)
	}
	var canonical Head
	for i, s := range stored {
		if canonical, err = p.headByNumber(ctx, s.Number); err != nil {
			return Head{}, nil, err
		}
		if canonical.Hash != s.Hash {
			continue
		}
		if next, err = p.headByNumber(ctx, s.Number+1); err != nil {
			return Head{}, nil, err
		}
		if next.ParentHash != s.Hash {
			return Head{}, nil, fmt.Errorf("block %d does not follow fork point %d %s: %w",
				next.Number, s.Number, s.Hash, errChainMoved)
		}
		if i > 0 {
			p.log.WarnContext(ctx, "chain reorganized",
				"fork_number", s.Number, "fork_hash", s.Hash, "depth", i,
				"removed_from", stored[i-1].Number, "removed_to", stored[0].Number,
				"new_hash", next.Hash)
		}
		return next, stored[:i], nil
	}
	oldest := stored[len(stored)-1]
	p.log.ErrorContext(ctx, "chain reorganized deeper than the stored heads; fork point unknown, restarting the cursor at the oldest stored number",
		"stored_heads", len(stored), "oldest_number", oldest.Number, "oldest_hash", oldest.Hash,
		"new_hash", canonical.Hash)
	return canonical, stored, nil
}

// deliver hands h to onHead and records it once onHead succeeds, replacing
// the removed heads in the same transaction.
func (p *Poller) deliver(ctx context.Context, onHead func(context.Context, HeadEvent) error, h Head, removed []Head) error {
	// Converted first: a head the store cannot hold must not reach onHead,
	// or it would be handled again and again.
	sh, err := headToStore(h)
	if err != nil {
		return err
	}
	p.log.DebugContext(ctx, "new head", "number", h.Number, "hash", h.Hash,
		"l1_number", h.L1Number, "removed", len(removed))
	if err := onHead(ctx, HeadEvent{Head: h, Removed: removed}); err != nil {
		return fmt.Errorf("handle head %d %s: %w", h.Number, h.Hash, err)
	}
	var removeFrom *uint64
	if len(removed) > 0 {
		lowest := removed[len(removed)-1].Number
		removeFrom = &lowest
	}
	err = p.withTimeout(ctx, func(ctx context.Context) error {
		return p.st.AdvanceHeads(ctx, removeFrom, []store.Head{sh}, p.opts.Keep)
	})
	if err != nil {
		return fmt.Errorf("record head %d %s: %w", h.Number, h.Hash, err)
	}
	p.setLatest(h)
	return nil
}

func (p *Poller) latestHead(ctx context.Context) (h Head, err error) {
	err = p.withTimeout(ctx, func(ctx context.Context) error {
		h, err = p.r.LatestHead(ctx)
		return err
	})
	if err != nil {
		return Head{}, fmt.Errorf("latest head: %w", err)
	}
	return h, nil
}

func (p *Poller) headByNumber(ctx context.Context, n uint64) (h Head, err error) {
	err = p.withTimeout(ctx, func(ctx context.Context) error {
		h, err = p.r.HeadByNumber(ctx, n)
		return err
	})
	if errors.Is(err, ErrHeadNotFound) {
		// The node's latest head was at or past n a moment ago; it rewound
		// or a load balancer switched to a node that lags.
		return Head{}, fmt.Errorf("head %d: %w: %w", n, errChainMoved, err)
	}
	if err != nil {
		return Head{}, fmt.Errorf("head %d: %w", n, err)
	}
	return h, nil
}

func (p *Poller) recentHeads(ctx context.Context, limit int) (heads []Head, err error) {
	var stored []store.Head
	err = p.withTimeout(ctx, func(ctx context.Context) error {
		stored, err = p.st.RecentHeads(ctx, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("stored heads: %w", err)
	}
	heads = make([]Head, len(stored))
	for i, s := range stored {
		heads[i] = headFromStore(s)
	}
	return heads, nil
}

// withTimeout runs f under CallTimeout and says so when that timeout, not
// the caller's context, ended it: "context deadline exceeded" alone does not
// tell an operator that the node stopped answering.
func (p *Poller) withTimeout(ctx context.Context, f func(ctx context.Context) error) error {
	callCtx, cancel := context.WithTimeout(ctx, p.opts.CallTimeout)
	defer cancel()
	err := f(callCtx)
	if err != nil && ctx.Err() == nil && errors.Is(callCtx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %v: %w", p.opts.CallTimeout, err)
	}
	return err
}

func headToStore(h Head) (store.Head, error) {
	if h.Time > math.MaxInt64 {
		return store.Head{}, fmt.Errorf("head %d: timestamp %d out of range", h.Number, h.Time)
	}
	return store.Head{
		Number:     h.Number,
		Hash:       h.Hash,
		ParentHash: h.ParentHash,
		L1Number:   h.L1Number,
		Time:       time.Unix(int64(h.Time), 0).UTC(),
	}, nil
}

func headFromStore(s store.Head) Head {
	return Head{
		Number:     s.Number,
		Hash:       s.Hash,
		ParentHash: s.ParentHash,
		L1Number:   s.L1Number,
		// Stored times come from headToStore, so they are never before 1970.
		Time: uint64(s.Time.Unix()),
	}
}
