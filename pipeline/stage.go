// Package pipeline runs the leader's per-head work: it follows the chain's
// head, holds the leader term, and runs each stage (sender state, full
// re-reads, redemption tracking, expiry, claims, housekeeping) on its own
// loop with its own trigger, deadline, backoff and failure count, so a stage
// that fails retries its own work and never holds back another stage or the
// head. docs/design.md describes the stages and their rules.
package pipeline

import (
	"context"
	"errors"
	"sync"
	"time"

	"redeemer/chain"
	"redeemer/pipeline/ratelog"
	"redeemer/store"
)

// Run is what one run of a stage gets.
type Run struct {
	// Tip is the latest head the pipeline has seen.
	Tip chain.Head
	// Lease is the leader term the run works for: writes go through
	// Lease.Fenced, broadcasts check Lease.Check first.
	Lease *Lease
	// First is true for the stage's first run in this term.
	First bool
}

// Result lets a run ask for its next one.
type Result struct {
	// Again asks for another run right away: the run stopped at its work
	// budget with work left.
	Again bool
	// WakeAt asks for a run at this time even if no trigger fires (zero:
	// none), for work that falls due by the clock.
	WakeAt time.Time
}

// Stage is one concern of the leader's work.
type Stage interface {
	// Name names the stage in logs, metrics and stage_cursors.
	Name() string
	// Run does one unit of the stage's work at r.Tip. It must be
	// idempotent: a run that fails is repeated, and a crash may repeat a
	// run that succeeded.
	Run(ctx context.Context, r Run) (Result, error)
}

// Spec is a stage with when and how it runs. Zero values take the defaults
// in brackets.
type Spec struct {
	Stage Stage
	// OnTip runs the stage when the tip changes; OnL1 when the tip's L1
	// block number changes (rounds and due blocks count L1 blocks).
	OnTip, OnL1 bool
	// Every runs the stage this long after its last run when nothing else
	// did (0: never).
	Every time.Duration
	// MinInterval spaces runs at least this far apart, so a stage that
	// triggers on every head costs one run per interval however fast the
	// chain is.
	MinInterval time.Duration
	// Timeout bounds one run [20s].
	Timeout time.Duration
	// Backoff spaces retries after failures [1s doubling to 30s].
	Backoff chain.Backoff
	// Wake are signals that also run the stage.
	Wake []*Signal
	// Priority is the place of the stage's node calls in the request
	// budget [PriorityNormal].
	Priority chain.Priority
}

func (s *Spec) fill() {
	if s.Timeout <= 0 {
		s.Timeout = 20 * time.Second
	}
	if s.Backoff.Min <= 0 {
		s.Backoff = chain.Backoff{Min: time.Second, Max: 30 * time.Second}
	}
}

// Signal wakes the stages that list it. Fire never blocks; fires that come
// while a stage is busy coalesce into one run.
type Signal struct {
	mu   sync.Mutex
	subs []chan struct{}
}

// NewSignal returns a signal nobody listens to yet.
func NewSignal() *Signal { return &Signal{} }

// Fire wakes every listener.
func (s *Signal) Fire() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.subs {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

func (s *Signal) listen() <-chan struct{} {
	c := make(chan struct{}, 1)
	s.mu.Lock()
	s.subs = append(s.subs, c)
	s.mu.Unlock()
	return c
}

func (s *Signal) unlisten(c <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, sub := range s.subs {
		if sub == c {
			s.subs = append(s.subs[:i], s.subs[i+1:]...)
			return
		}
	}
}

// merge fans the signals into one channel until ctx ends.
func merge(ctx context.Context, signals []*Signal) <-chan struct{} {
	out := make(chan struct{}, 1)
	for _, s := range signals {
		c := s.listen()
		go func() {
			defer s.unlisten(c)
			for {
				select {
				case <-ctx.Done():
					return
				case <-c:
					select {
					case out <- struct{}{}:
					default:
					}
				}
			}
		}()
	}
	return out
}

// Observer receives what the pipeline does; metrics implement it. Nil
// methods are never called on a nil Observer.
type Observer interface {
	// StageRan reports one run of a stage: how long it took and how it
	// ended.
	StageRan(stage string, d time.Duration, err error)
	// StageProgress reports the tip of a stage's last successful run.
	StageProgress(stage string, tip chain.Head)
	// Head reports a new tip.
	Head(tip chain.Head)
}

// StageStatus is a stage's state as ops reports it.
type StageStatus struct {
	// Done is the tip of its last successful run (zero before one).
	Done chain.Head
	// Failures counts consecutive failed runs; LastErr is the last one's.
	Failures int
	LastErr  string
}

// runStage runs one stage until ctx ends or a write of it is fenced (the
// term is over), which it returns.
func (p *Pipeline) runStage(ctx context.Context, lease *Lease, spec Spec) error {
	spec.fill()
	name := spec.Stage.Name()
	// A failing stage is logged when it starts failing, once a minute while
	// it keeps failing (with the count), and when it recovers.
	health := ratelog.NewState(p.log.With("stage", name), time.Minute)
	wake := merge(ctx, spec.Wake)
	var (
		lastTip  chain.Head
		lastRun  time.Time
		lastEnd  time.Time
		wakeAt   time.Time
		failures int
		again    = true // the first run happens at once
		first    = true
		timer    = time.NewTimer(time.Hour)
	)
	defer timer.Stop()
	// Every stage works at a head: none runs before the first one.
	if err := p.tips.first(ctx); err != nil {
		return nil
	}
	for {
		tip, changed := p.tips.wait()
		if !again {
			var next time.Time
			switch {
			case failures > 0:
				// The wait follows the failure: a run that hung until its
				// timeout is not retried at once.
				next = lastEnd.Add(spec.Backoff.Delay(failures))
			default:
				if spec.Every > 0 {
					next = lastRun.Add(spec.Every)
				}
				if !wakeAt.IsZero() && (next.IsZero() || wakeAt.Before(next)) {
					next = wakeAt
				}
			}
			timer.Reset(time.Hour)
			if !next.IsZero() {
				timer.Reset(max(time.Until(next), 0))
			}
			// A failing stage waits out its backoff; new heads do not hurry
			// a retry.
			fires := func(tip chain.Head) bool {
				return failures == 0 && ((spec.OnTip && !sameHead(tip, lastTip)) ||
					(spec.OnL1 && tip.L1Number != lastTip.L1Number))
			}
			// A head that came while the last run was going fires at once.
			triggered := fires(tip)
			for !triggered {
				select {
				case <-ctx.Done():
					return nil
				case <-timer.C:
					triggered = true
				case <-changed:
					tip, changed = p.tips.wait()
					triggered = fires(tip)
				case <-wake:
					triggered = failures == 0
				}
			}
		}
		if spec.MinInterval > 0 {
			if wait := time.Until(lastRun.Add(spec.MinInterval)); wait > 0 {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(wait):
				}
			}
		}
		tip, _ = p.tips.wait()
		lastRun = time.Now()
		rctx, cancel := context.WithTimeout(chain.WithPriority(ctx, spec.Priority), spec.Timeout)
		res, err := spec.Stage.Run(rctx, Run{Tip: tip, Lease: lease, First: first})
		cancel()
		lastEnd = time.Now()
		d := lastEnd.Sub(lastRun)
		if p.obs != nil {
			p.obs.StageRan(name, d, err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, store.ErrFenced) {
			return err
		}
		if err != nil {
			failures++
			health.Fail(ctx, err, "stage failing; it retries its own work, the others go on",
				"failures", failures, "retry_in", spec.Backoff.Delay(failures).String())
			p.setStatus(name, func(s *StageStatus) { s.Failures, s.LastErr = failures, err.Error() })
			again = false
			continue
		}
		health.OK(ctx, "stage recovered")
		failures, first, lastTip, again, wakeAt = 0, false, tip, res.Again, res.WakeAt
		p.setStatus(name, func(s *StageStatus) { s.Done, s.Failures, s.LastErr = tip, 0, "" })
		if p.obs != nil {
			p.obs.StageProgress(name, tip)
		}
	}
}

func sameHead(a, b chain.Head) bool { return a.Number == b.Number && a.Hash == b.Hash }
