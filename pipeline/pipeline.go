package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"redeemer/chain"
	"redeemer/store"
)

// Config wires a Pipeline. Zero values take the defaults in brackets.
type Config struct {
	Store *store.Store
	// Heads is where heads are read; Subscribe (optional) pushes them.
	Heads     HeadSource
	Subscribe Subscribe
	// PollInterval is how often the head is read [1s].
	PollInterval time.Duration
	// HeadTimeout bounds one head read and its record [5s].
	HeadTimeout time.Duration
	// HeadWindow is how many blocks of recent tips chain_heads keeps [1024].
	HeadWindow int
	// Leader tunes the lease.
	Leader LeaderOptions
	// Recover runs at the start of every term, before any stage; it is
	// retried with backoff until it succeeds or the term ends.
	Recover func(ctx context.Context, l *Lease) error
	// Stages run while this replica leads.
	Stages   []Spec
	Observer Observer
	Logger   *slog.Logger
}

// Pipeline is the leader's per-head work.
type Pipeline struct {
	cfg  Config
	log  *slog.Logger
	obs  Observer
	tips *tips

	// pace is each stage's MinInterval: the least time between its runs.
	pace map[string]time.Duration

	mu     sync.Mutex
	status map[string]StageStatus
}

// New checks cfg and returns a pipeline.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Store == nil || cfg.Heads == nil {
		return nil, errors.New("pipeline: store and head source are required")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.HeadTimeout <= 0 {
		cfg.HeadTimeout = 5 * time.Second
	}
	if cfg.HeadWindow <= 0 {
		cfg.HeadWindow = 1024
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Leader.Logger = cfg.Logger
	pace := map[string]time.Duration{"heads": 0}
	for _, s := range cfg.Stages {
		if s.Stage == nil {
			return nil, fmt.Errorf("pipeline: stage missing")
		}
		if _, dup := pace[s.Stage.Name()]; dup {
			return nil, fmt.Errorf("pipeline: stage %q named twice", s.Stage.Name())
		}
		pace[s.Stage.Name()] = s.MinInterval
	}
	return &Pipeline{cfg: cfg, log: cfg.Logger.With("component", "pipeline"), obs: cfg.Observer,
		tips: newTips(), pace: pace, status: map[string]StageStatus{}}, nil
}

// Owed is the head a stage should have done by now: the newest tip first
// seen at least its pace (MinInterval) ago. A stage paced to run every
// few seconds is that far behind the tip by design; only what it is behind
// the head it owes is lag. False when no tip is that old yet, or the stage
// is unknown.
func (p *Pipeline) Owed(stage string, now time.Time) (chain.Head, bool) {
	pace, ok := p.pace[stage]
	if !ok {
		return chain.Head{}, false
	}
	return p.tips.seenBy(now.Add(-pace))
}

// Tip is the latest head the pipeline has seen, and false before the first.
func (p *Pipeline) Tip() (chain.Head, bool) { return p.tips.get() }

// Status reports every stage's state (the heads follower as "heads").
func (p *Pipeline) Status() map[string]StageStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.status)
}

func (p *Pipeline) setStatus(stage string, f func(*StageStatus)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.status[stage]
	f(&s)
	p.status[stage] = s
}

// Run takes part in leader election until ctx ends, running the pipeline
// for every term this replica leads.
func (p *Pipeline) Run(ctx context.Context) error {
	return Lead(ctx, p.cfg.Store, p.cfg.Leader, p.RunTerm)
}

// RunTerm runs the pipeline for one term until ctx ends or a stage finds
// the term over. Tests call it with a lease of their own.
func (p *Pipeline) RunTerm(ctx context.Context, l *Lease) error {
	p.mu.Lock()
	p.status = map[string]StageStatus{}
	p.mu.Unlock()
	if err := p.recover(ctx, l); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return p.followHeads(gctx, l) })
	for _, s := range p.cfg.Stages {
		g.Go(func() error { return p.runStage(gctx, l, s) })
	}
	err := g.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (p *Pipeline) recover(ctx context.Context, l *Lease) error {
	if p.cfg.Recover == nil {
		return nil
	}
	retry := chain.Backoff{Min: time.Second, Max: 30 * time.Second}
	for failures := 1; ; failures++ {
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := p.cfg.Recover(rctx, l)
		cancel()
		if err == nil || ctx.Err() != nil || errors.Is(err, store.ErrFenced) {
			return err
		}
		p.log.Warn("recovery at the start of the term failed; retrying", "term", l.Term(), "err", err,
			"failures", failures)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retry.Delay(failures)):
		}
	}
}
