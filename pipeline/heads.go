package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"redeemer/chain"
	"redeemer/pipeline/ratelog"
	"redeemer/store"
)

// tips holds the latest head and wakes whoever waits for a newer one. It
// remembers when each recent tip was first seen, for a stage's lag.
type tips struct {
	mu      sync.Mutex
	cur     chain.Head
	has     bool
	changed chan struct{}
	seen    []seenTip // oldest first, at most maxSeen
}

type seenTip struct {
	at   time.Time
	head chain.Head
}

// maxSeen is how many tips are remembered: at one a second, a quarter of
// an hour, far more than any stage's pace.
const maxSeen = 1024

func newTips() *tips { return &tips{changed: make(chan struct{})} }

// set makes h the tip and wakes the waiters.
func (t *tips) set(h chain.Head) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cur, t.has = h, true
	close(t.changed)
	t.changed = make(chan struct{})
	if len(t.seen) == maxSeen {
		t.seen = append(t.seen[:0], t.seen[1:]...)
	}
	t.seen = append(t.seen, seenTip{at: time.Now(), head: h})
}

// seenBy returns the newest tip first seen at or before at; false when
// every remembered tip came later.
func (t *tips) seenBy(at time.Time) (chain.Head, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.seen) - 1; i >= 0; i-- {
		if !t.seen[i].at.After(at) {
			return t.seen[i].head, true
		}
	}
	return chain.Head{}, false
}

// wait returns the tip and a channel closed when it changes.
func (t *tips) wait() (chain.Head, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cur, t.changed
}

// get returns the tip, and false before the first one.
func (t *tips) get() (chain.Head, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cur, t.has
}

// first waits for the first tip.
func (t *tips) first(ctx context.Context) error {
	for {
		t.mu.Lock()
		has, changed := t.has, t.changed
		t.mu.Unlock()
		if has {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// HeadSource is where the pipeline reads heads. *chain.Node implements it.
type HeadSource interface {
	LatestHead(ctx context.Context) (chain.Head, error)
}

// Subscribe pushes new heads on out until ctx ends or the subscription
// fails; the returned channel then receives the error (nil when ctx
// ended). (*chain.Node).SubscribeHeads over a websocket fits it.
type Subscribe func(ctx context.Context, out chan<- chain.Head) (<-chan error, error)

// followHeads keeps the tip: it reads the node's latest head every poll
// interval (and whenever a subscription says a new one exists), and records
// each new tip in chain_heads, keeping only the reorg window. A failed read
// is retried on the next poll, doubling the wait while the node fails; it
// never stops a stage, which go on at the last tip. One read per poll is the
// whole cost: stages catch up on the blocks in between by range.
func (p *Pipeline) followHeads(ctx context.Context, lease *Lease) error {
	log := p.log.With("stage", "heads")
	health := ratelog.NewState(log, time.Minute)
	pushed := make(chan chain.Head, 16)
	poll := p.cfg.PollInterval
	if p.cfg.Subscribe != nil {
		// Pushed heads cost no request; polling stays as the fallback that
		// notices a subscription gone quiet.
		poll = 10 * p.cfg.PollInterval
		go p.subscribe(ctx, log, pushed)
	}
	retry := chain.Backoff{Min: p.cfg.PollInterval, Max: 10 * p.cfg.PollInterval}
	var (
		failures int
		last     chain.Head
		timer    = time.NewTimer(0)
	)
	defer timer.Stop()
	for {
		var (
			h         chain.Head
			err       error
			wasPushed bool
			start     time.Time // after the wait: the next one counts from here
		)
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
			start = time.Now()
			h, err = p.readHead(ctx)
		case h = <-pushed:
			start, wasPushed = time.Now(), true
		}
		if err == nil && !sameHead(h, last) && !(last.Number > 0 && h.Number < last.Number) {
			err = p.recordTip(ctx, lease, h)
			if err == nil {
				last = h
				p.tips.set(h)
				log.Debug("new head", "number", h.Number, "l1", h.L1Number, "pushed", wasPushed)
				p.setStatus("heads", func(s *StageStatus) { s.Done, s.Failures, s.LastErr = h, 0, "" })
				if p.obs != nil {
					p.obs.Head(h)
					p.obs.StageProgress("heads", h)
				}
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, store.ErrFenced) {
			return err
		}
		if p.obs != nil {
			p.obs.StageRan("heads", time.Since(start), err)
		}
		wait := poll
		if err != nil {
			failures++
			health.Fail(ctx, err, "head reads failing; the stages go on at the last head", "failures", failures)
			wait = retry.Delay(failures)
			p.setStatus("heads", func(s *StageStatus) { s.Failures, s.LastErr = failures, err.Error() })
		} else {
			health.OK(ctx, "head reads recovered")
			failures = 0
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(max(wait-time.Since(start), 0))
	}
}

// subscribe keeps a head subscription up, resubscribing with backoff.
func (p *Pipeline) subscribe(ctx context.Context, log *slog.Logger, out chan<- chain.Head) {
	retry := chain.Backoff{Min: time.Second, Max: time.Minute}
	for failures := 0; ctx.Err() == nil; {
		done, err := p.cfg.Subscribe(ctx, out)
		if err == nil {
			failures = 0
			err = <-done
		}
		if ctx.Err() != nil {
			return
		}
		failures++
		log.Warn("head subscription failed; polling meanwhile", "err", err, "failures", failures)
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry.Delay(failures)):
		}
	}
}

// readHead reads the node's latest head. A node behind the last tip (a
// lagging replica behind a load balancer) is not followed backwards: the
// caller keeps the tip until the node catches up.
func (p *Pipeline) readHead(ctx context.Context) (chain.Head, error) {
	rctx, cancel := context.WithTimeout(chain.WithPriority(ctx, chain.PriorityCritical), p.cfg.HeadTimeout)
	defer cancel()
	return p.cfg.Heads.LatestHead(rctx)
}

// recordTip stores a new tip in chain_heads, fenced by the term.
func (p *Pipeline) recordTip(ctx context.Context, lease *Lease, h chain.Head) error {
	rctx, cancel := context.WithTimeout(ctx, p.cfg.HeadTimeout)
	defer cancel()
	return lease.Fenced(rctx, func(q store.Q) error {
		return q.RecordTip(rctx, store.Head{Number: h.Number, Hash: h.Hash, ParentHash: h.ParentHash,
			L1Number: h.L1Number, Time: time.Unix(int64(h.Time), 0).UTC()}, p.cfg.HeadWindow)
	})
}
