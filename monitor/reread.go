package monitor

import (
	"context"
	"math/big"
	"sync"

	"redeemer/pipeline"
	"redeemer/store"
)

// RereadStage reads tracked senders again at the tip, a batch per run, at
// background priority: after a reorg or a jump to the tip, after reads that
// failed, at each new round (a safety net: floats already count an older
// round's claims as zero), and for senders with open tickets but no state.
// Its progress is in the rows themselves: a request to re-read everything
// read before block T is done when no row has state_block < T, so a crash
// or a new leader loses nothing and repeats little.
type RereadStage struct {
	cfg  StageConfig
	node Chain
	st   *store.Store

	mu     sync.Mutex
	target uint64 // re-read rows read before this block; 0: nothing asked
}

// NewRereadStage returns the stage.
func NewRereadStage(cfg StageConfig, st *store.Store, node Chain) (*RereadStage, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	return &RereadStage{cfg: cfg, node: node, st: st}, nil
}

// Name implements pipeline.Stage.
func (s *RereadStage) Name() string { return "reread" }

// Request asks for every tracked sender read before block to be read again,
// at a tip at or above block.
func (s *RereadStage) Request(block uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.target = max(s.target, block)
}

// Pending is the current request (0: none).
func (s *RereadStage) Pending() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.target
}

// Run implements pipeline.Stage.
func (s *RereadStage) Run(ctx context.Context, r pipeline.Run) (pipeline.Result, error) {
	tip := r.Tip
	if r.First {
		// Senders whose tickets arrived before they were tracked.
		if _, err := s.read(ctx, r, func(q store.Q) ([][20]byte, error) { return q.UnreadTicketSenders(ctx, s.cfg.RereadBatch) }); err != nil {
			return pipeline.Result{}, err
		}
	}
	target := s.Pending()
	if target == 0 || tip.Number < target {
		return pipeline.Result{}, nil
	}
	n, err := s.read(ctx, r, func(q store.Q) ([][20]byte, error) { return q.SendersReadBefore(ctx, target, s.cfg.RereadBatch) })
	if err != nil {
		return pipeline.Result{}, err
	}
	if n == 0 {
		s.mu.Lock()
		if s.target == target {
			s.target = 0
		}
		s.mu.Unlock()
		s.cfg.Logger.Info("senders re-read", "component", "monitor", "before_block", target)
		return pipeline.Result{}, nil
	}
	return pipeline.Result{Again: true}, nil
}

// read re-reads the senders list gives at the tip and stores them; it
// returns how many it stored.
func (s *RereadStage) read(ctx context.Context, r pipeline.Run, list func(store.Q) ([][20]byte, error)) (int, error) {
	senders, err := list(s.st.Q())
	if err != nil || len(senders) == 0 {
		return 0, err
	}
	ps, err := s.st.StoredProtocolState(ctx)
	if err != nil {
		return 0, err
	}
	round := RoundAt(ps, r.Tip.L1Number)
	if round < 0 {
		// The senders stage stores the protocol values first.
		return 0, nil
	}
	states, _, err := readSenders(ctx, s.node, s.cfg, new(big.Int).SetUint64(r.Tip.Number), r.Tip, round, senders)
	if err != nil {
		return 0, err
	}
	err = r.Lease.Fenced(ctx, func(q store.Q) error {
		_, err := q.SaveChainState(ctx, store.ChainState{Senders: states})
		return err
	})
	if err != nil {
		return 0, err
	}
	return len(states), nil
}
