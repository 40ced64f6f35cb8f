package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"redeemer/chain"
	"redeemer/pipeline"
	"redeemer/store"
)

// Chain is what the monitor reads from the node. *chain.Node implements it.
type Chain interface {
	LatestHead(ctx context.Context) (chain.Head, error)
	HeadsByNumber(ctx context.Context, nums []uint64) ([]chain.Head, []error, error)
	LogsThrough(ctx context.Context, q ethereum.FilterQuery, check uint64) ([]types.Log, chain.Head, error)
	ReadSenders(ctx context.Context, a chain.Addresses, block *big.Int, recipient common.Address,
		senders []common.Address) ([]chain.SenderReading, error)
	ReadProtocol(ctx context.Context, a chain.Addresses, block *big.Int, recipient common.Address) (chain.ProtocolReading, error)
	ReadRoundHash(ctx context.Context, a chain.Addresses, round int64) (common.Hash, error)
}

// StageConfig tunes the monitor's stages. Zero values take the defaults in
// brackets.
type StageConfig struct {
	// Recipient is the orchestrator whose reserve allocation is tracked.
	Recipient common.Address
	// Contracts are the protocol contracts whose logs are followed.
	Contracts chain.Addresses
	// MaxLogRange is the most blocks one eth_getLogs asks for [2000];
	// hosted nodes refuse larger ranges.
	MaxLogRange uint64
	// MaxCatchUp is the most blocks the senders stage replays by logs
	// [20000]; a service further behind re-reads every sender at the tip
	// instead, which needs no state older than the tip (non-archive nodes
	// keep only recent state).
	MaxCatchUp uint64
	// ProtocolEvery re-reads the protocol values this often even when no
	// log or round boundary asks for it [5m]: a change without an event
	// (an upgrade, a parameter set) is then picked up within that time.
	ProtocolEvery time.Duration
	// RereadBatch is the most senders the reread stage reads in one run
	// [200].
	RereadBatch int
	Logger      *slog.Logger
}

func (c *StageConfig) fill() error {
	if c.Recipient == (common.Address{}) {
		return errors.New("monitor: recipient is required")
	}
	if c.Contracts.TicketBroker == (common.Address{}) || c.Contracts.RoundsManager == (common.Address{}) ||
		c.Contracts.BondingManager == (common.Address{}) {
		return errors.New("monitor: TicketBroker, RoundsManager and BondingManager addresses are required")
	}
	if c.MaxLogRange == 0 {
		c.MaxLogRange = 2000
	}
	if c.MaxCatchUp == 0 {
		c.MaxCatchUp = 20000
	}
	if c.ProtocolEvery <= 0 {
		c.ProtocolEvery = 5 * time.Minute
	}
	if c.RereadBatch <= 0 {
		c.RereadBatch = 200
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Signals are what the monitor's stages tell other stages.
type Signals struct {
	// Round fires when the current round changes (expiry, re-reads).
	Round *pipeline.Signal
	// Reread fires when every sender should be read again (a reorg, or
	// reads that failed).
	Reread *pipeline.Signal
	// Reorg fires when a reorg below the senders cursor was found, so
	// redemption tracking checks its mined blocks at once.
	Reorg *pipeline.Signal
}

// SenderStage follows the TicketBroker, RoundsManager and BondingManager
// logs by block range and keeps the stored sender and protocol state equal
// to the chain at the tip: it reads again, pinned to the tip's block, the
// tracked senders the logs name and the protocol values when a log, a round
// boundary or the clock asks for it; records each round's block hash and
// the tickets of the recipient that were redeemed; and moves its cursor in
// the same transaction. Each run costs one batch request for the logs (with
// the check of the cursor's hash) plus one for the reads it needs, whatever
// the number of blocks since the last run.
type SenderStage struct {
	cfg     StageConfig
	node    Chain
	st      *store.Store
	signals Signals
	reread  *RereadStage

	mu         sync.Mutex
	cursor     *store.Cursor
	protocol   *store.ProtocolState
	protocolAt time.Time
}

const sendersStage = "senders"

// NewSenderStage returns the stage. reread (may be nil) hears of sender
// reads that must be repeated.
func NewSenderStage(cfg StageConfig, st *store.Store, node Chain, signals Signals, reread *RereadStage) (*SenderStage, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	return &SenderStage{cfg: cfg, node: node, st: st, signals: signals, reread: reread}, nil
}

// Name implements pipeline.Stage.
func (s *SenderStage) Name() string { return sendersStage }

// Run implements pipeline.Stage.
func (s *SenderStage) Run(ctx context.Context, r pipeline.Run) (pipeline.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.First {
		// A new term: what another leader wrote meanwhile is in the
		// database, not in memory.
		s.cursor, s.protocol = nil, nil
	}
	if s.cursor == nil {
		c, err := s.st.Q().StageCursor(ctx, sendersStage)
		if err != nil {
			return pipeline.Result{}, err
		}
		s.cursor = c
	}
	tip := r.Tip
	cur := s.cursor
	switch {
	case cur == nil, tip.Number > cur.Number+s.cfg.MaxCatchUp:
		// Nothing followed yet, or too far behind to replay: read everything
		// at the tip and follow from there.
		return pipeline.Result{}, s.jump(ctx, r, "no cursor or too far behind")
	case tip.Number < cur.Number, tip.Number == cur.Number && tip.Hash == cur.Hash:
		// A node behind the cursor is waited for.
		return pipeline.Result{}, nil
	case tip.Number == cur.Number:
		// Another block at the cursor's height: the cursor's block was
		// replaced. No range is left to carry the hash check below.
		if err := s.reorg(ctx, r, cur); err != nil {
			return pipeline.Result{}, err
		}
		return pipeline.Result{Again: true}, nil
	}

	// Every request carries the check of the cursor's hash: the logs are
	// then known to extend the chain the cursor is on, and the range's end
	// is checked the same way by the next run, when it is the cursor.
	var logs []types.Log
	for from := cur.Number + 1; from <= tip.Number; {
		to := min(from+s.cfg.MaxLogRange-1, tip.Number)
		part, head, err := s.node.LogsThrough(ctx, ethereum.FilterQuery{
			FromBlock: new(big.Int).SetUint64(from), ToBlock: new(big.Int).SetUint64(to),
			Addresses: []common.Address{s.cfg.Contracts.TicketBroker, s.cfg.Contracts.RoundsManager, s.cfg.Contracts.BondingManager},
		}, cur.Number)
		if err != nil {
			return pipeline.Result{}, err
		}
		if head.Hash != cur.Hash {
			if err := s.reorg(ctx, r, cur); err != nil {
				return pipeline.Result{}, err
			}
			return pipeline.Result{Again: true}, nil
		}
		for _, l := range part {
			if l.BlockNumber == tip.Number && l.BlockHash != tip.Hash {
				return pipeline.Result{}, fmt.Errorf("block %d changed since the head was read", tip.Number)
			}
		}
		logs = append(logs, part...)
		from = to + 1
	}
	sum, err := chain.SummarizeLogs(logs, s.cfg.Contracts, s.cfg.Recipient)
	if err != nil {
		return pipeline.Result{}, err
	}
	return pipeline.Result{}, s.apply(ctx, r, sum, false)
}

// apply reads what sum says changed at the tip and stores it with the
// cursor, in one fenced transaction.
func (s *SenderStage) apply(ctx context.Context, r pipeline.Run, sum chain.LogSummary, forceProtocol bool) error {
	tip := r.Tip
	block := new(big.Int).SetUint64(tip.Number)
	readProtocol := forceProtocol || s.protocol == nil || sum.Protocol || len(sum.Rounds) > 0 ||
		time.Since(s.protocolAt) >= s.cfg.ProtocolEvery
	if s.protocol != nil {
		if next, ok := s.protocol.NextRoundL1(); ok && tip.L1Number >= next {
			readProtocol = true
		}
	}
	var protocol *store.ProtocolState
	if readProtocol {
		p, err := s.node.ReadProtocol(ctx, s.cfg.Contracts, block, s.cfg.Recipient)
		if err != nil {
			return err
		}
		protocol = ProtocolState(s.cfg.Recipient, p, tip)
	}
	named := make([][20]byte, 0, len(sum.Senders))
	for a := range sum.Senders {
		named = append(named, a)
	}
	tracked, err := s.st.Q().FilterTracked(ctx, named)
	if err != nil {
		return err
	}
	ahead, err := s.readAhead(ctx, tip)
	if err != nil {
		return err
	}
	for _, a := range ahead {
		if !contains(tracked, a) {
			tracked = append(tracked, a)
		}
	}
	states, failed, err := readSenders(ctx, s.node, s.cfg, block, tip, roundOf(protocol, s.protocol), tracked)
	if err != nil {
		return err
	}
	// Funded senders nobody tracks are announced all the same: a replica
	// that refused one for having no funds drops that answer.
	var funded [][20]byte
	for a := range sum.Funded {
		if !sum.Senders[a] || !contains(tracked, a) {
			funded = append(funded, a)
		}
	}
	hashes := make(map[int64][32]byte, len(sum.Rounds))
	for r, h := range sum.Rounds {
		hashes[r] = h
	}
	redeemed := make([]store.RedeemedTicket, len(sum.Redeemed))
	for i, x := range sum.Redeemed {
		redeemed[i] = store.RedeemedTicket{TicketHash: x.TicketHash, Sender: x.Sender, Block: x.Block,
			BlockHash: x.BlockHash, TxHash: x.TxHash, Round: roundOf(protocol, s.protocol)}
	}
	var (
		res   store.SaveResult
		ended []int64
	)
	err = r.Lease.Fenced(ctx, func(q store.Q) error {
		var err error
		if res, err = q.SaveChainState(ctx, store.ChainState{Protocol: protocol, Senders: states}); err != nil {
			return err
		}
		if err := q.SaveRoundHashes(ctx, hashes); err != nil {
			return err
		}
		if ended, err = q.RecordRedeemed(ctx, redeemed); err != nil {
			return err
		}
		if err := q.NotifySenders(ctx, funded); err != nil {
			return err
		}
		return q.SetStageCursor(ctx, sendersStage, store.Cursor{Number: tip.Number, Hash: tip.Hash, L1Number: tip.L1Number},
			r.Lease.Term())
	})
	if err != nil {
		return err
	}
	s.cursor = &store.Cursor{Number: tip.Number, Hash: tip.Hash, L1Number: tip.L1Number}
	if protocol != nil {
		oldRound := roundOf(nil, s.protocol)
		s.protocol, s.protocolAt = protocol, time.Now()
		if protocol.CurrentRound.Int64() != oldRound {
			s.signals.Round.Fire()
			s.rereadAtNewRound(tip, oldRound)
		}
	}
	if len(failed) > 0 && s.reread != nil {
		s.reread.Request(tip.Number)
		s.signals.Reread.Fire()
	}
	level := slog.LevelDebug
	if len(res.SendersChanged) > 0 || res.ProtocolChanged || len(ended) > 0 {
		level = slog.LevelInfo
	}
	s.cfg.Logger.Log(ctx, level, "sender state followed", "component", "monitor", "block", tip.Number,
		"l1_block", tip.L1Number, "logs", len(sum.Senders), "senders_read", len(states),
		"senders_changed", len(res.SendersChanged), "protocol_read", protocol != nil,
		"protocol_changed", res.ProtocolChanged, "rounds", len(hashes), "redeemed_seen", len(redeemed),
		"queued_used_elsewhere", len(ended))
	return nil
}

// readAhead lists the senders whose rows were read above the cursor and at
// or below tip by another reader (a replica's Track, the reread stage):
// they come from blocks this run is the first to follow. A reorg that
// replaced such a block without reaching the cursor leaves no log naming
// the sender, so these are read again at the tip.
func (s *SenderStage) readAhead(ctx context.Context, tip chain.Head) ([][20]byte, error) {
	q := s.st.Q()
	above, err := q.SendersReadAfter(ctx, s.cursor.Number, maxRewindSenders)
	if err != nil || len(above) == 0 {
		return nil, err
	}
	beyond, err := q.SendersReadAfter(ctx, tip.Number, maxRewindSenders)
	if err != nil {
		return nil, err
	}
	var out [][20]byte
	for _, a := range above {
		if !contains(beyond, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// jump starts following at the tip without replaying logs: the protocol
// values and the senders read at a block above the tip (a branch that was
// replaced) are read now, every other tracked sender by the reread stage.
func (s *SenderStage) jump(ctx context.Context, r pipeline.Run, why string) error {
	s.cfg.Logger.Info("senders stage starts at the tip", "component", "monitor", "why", why, "block", r.Tip.Number)
	if err := s.rewind(ctx, r, r.Tip.Number, store.Cursor{Number: r.Tip.Number, Hash: r.Tip.Hash, L1Number: r.Tip.L1Number}); err != nil {
		return err
	}
	if s.reread != nil {
		s.reread.Request(r.Tip.Number + 1)
		s.signals.Reread.Fire()
	}
	return nil
}

// reorg handles a cursor that is no longer canonical: it finds the highest
// recent tip (chain_heads) still canonical, the fork, re-reads at the tip
// (overwriting) the senders read above the fork and the protocol values,
// forgets the redeemed tickets recorded from above the fork, and moves the
// cursor back to the fork so the logs from there are replayed.
func (s *SenderStage) reorg(ctx context.Context, r pipeline.Run, cur *store.Cursor) error {
	s.signals.Reorg.Fire()
	heads, err := s.st.RecentHeads(ctx, 64)
	if err != nil {
		return err
	}
	var below []store.Head
	for _, h := range heads {
		if h.Number < cur.Number {
			below = append(below, h)
		}
	}
	var fork *store.Head
	if len(below) > 0 {
		nums := make([]uint64, len(below))
		for i, h := range below {
			nums[i] = h.Number
		}
		canonical, errs, err := s.node.HeadsByNumber(ctx, nums)
		if err != nil {
			return err
		}
		for i := range below {
			if errs[i] == nil && canonical[i].Hash == below[i].Hash {
				fork = &below[i]
				break
			}
		}
	}
	if fork == nil {
		s.cfg.Logger.Error("chain reorganized below every recent head; re-reading every sender at the tip",
			"component", "monitor", "cursor", cur.Number)
		return s.jump(ctx, r, "reorg below every recent head")
	}
	s.cfg.Logger.Warn("chain reorganized below the senders cursor; replaying from the fork", "component", "monitor",
		"cursor", cur.Number, "fork", fork.Number)
	return s.rewind(ctx, r, fork.Number, store.Cursor{Number: fork.Number, Hash: fork.Hash, L1Number: fork.L1Number})
}

// rewind re-reads at the tip, overwriting, everything the stage may have
// derived from blocks above fork (sender rows read there, the protocol
// values), forgets the redeemed tickets seen there, and sets the cursor to
// to.
func (s *SenderStage) rewind(ctx context.Context, r pipeline.Run, fork uint64, to store.Cursor) error {
	tip := r.Tip
	block := new(big.Int).SetUint64(tip.Number)
	p, err := s.node.ReadProtocol(ctx, s.cfg.Contracts, block, s.cfg.Recipient)
	if err != nil {
		return err
	}
	protocol := ProtocolState(s.cfg.Recipient, p, tip)
	above, err := s.st.Q().SendersReadAfter(ctx, fork, maxRewindSenders)
	if err != nil {
		return err
	}
	states, failed, err := readSenders(ctx, s.node, s.cfg, block, tip, protocol.CurrentRound.Int64(), above)
	if err != nil {
		return err
	}
	var res store.SaveResult
	err = r.Lease.Fenced(ctx, func(q store.Q) error {
		var err error
		if res, err = q.SaveChainState(ctx, store.ChainState{Protocol: protocol, Senders: states, Force: true}); err != nil {
			return err
		}
		if _, err := q.ForgetRedeemedAbove(ctx, fork); err != nil {
			return err
		}
		return q.SetStageCursor(ctx, sendersStage, to, r.Lease.Term())
	})
	if err != nil {
		return err
	}
	oldRound := roundOf(s.protocol)
	s.cursor, s.protocol, s.protocolAt = &to, protocol, time.Now()
	if protocol.CurrentRound.Int64() != oldRound {
		s.signals.Round.Fire()
		s.rereadAtNewRound(tip, oldRound)
	}
	if (len(failed) > 0 || len(above) == maxRewindSenders) && s.reread != nil {
		s.reread.Request(tip.Number + 1)
		s.signals.Reread.Fire()
	}
	s.cfg.Logger.Info("sender state read at the tip", "component", "monitor", "from_block", fork, "block", tip.Number,
		"senders_read", len(states), "senders_changed", len(res.SendersChanged), "protocol_changed", res.ProtocolChanged)
	return nil
}

// rereadAtNewRound asks the reread stage to read again the senders read
// before tip when the round moved on from oldRound (-1: unknown, at the
// start of a term): their claims belong to the old round. Floats already
// count an older round's claims as zero; this is the safety net.
func (s *SenderStage) rereadAtNewRound(tip chain.Head, oldRound int64) {
	if oldRound < 0 || s.reread == nil {
		return
	}
	s.reread.Request(tip.Number)
	s.signals.Reread.Fire()
}

// maxRewindSenders bounds the senders a rewind reads itself; beyond it the
// reread stage reads the rest.
const maxRewindSenders = 2000

// readSenders reads senders at block; a sender whose read fails is left
// out of states and listed in failed.
func readSenders(ctx context.Context, node Chain, cfg StageConfig, block *big.Int, tip chain.Head, round int64,
	senders [][20]byte) (states []store.SenderState, failed [][20]byte, err error) {
	if len(senders) == 0 {
		return nil, nil, nil
	}
	addrs := make([]common.Address, len(senders))
	for i, a := range senders {
		addrs[i] = a
	}
	readings, err := node.ReadSenders(ctx, cfg.Contracts, block, cfg.Recipient, addrs)
	if err != nil {
		return nil, nil, err
	}
	for _, rd := range readings {
		if rd.Err != nil {
			cfg.Logger.Warn("sender state not read; retried by the reread stage", "component", "monitor",
				"sender", rd.Sender.Hex(), "err", rd.Err)
			failed = append(failed, rd.Sender)
			continue
		}
		states = append(states, senderState(rd, round, tip.Number))
	}
	return states, failed, nil
}

func senderState(rd chain.SenderReading, round int64, block uint64) store.SenderState {
	return store.SenderState{
		Sender: rd.Sender, Deposit: rd.Info.Deposit, WithdrawRound: rd.Info.WithdrawRound,
		FundsRemaining: rd.Info.FundsRemaining, ClaimedInRound: rd.Info.ClaimedInCurrentRound,
		ClaimedByRecipient: rd.ClaimedByRecipient, Round: big.NewInt(round), Block: block,
	}
}

// ProtocolState is a protocol reading at tip as stored.
func ProtocolState(recipient common.Address, p chain.ProtocolReading, tip chain.Head) *store.ProtocolState {
	return &store.ProtocolState{
		Recipient: recipient, RecipientActive: p.RecipientActive, PoolSize: p.PoolSize,
		CurrentRound: p.CurrentRound, LastInitializedRound: p.LastInitializedRound,
		TicketValidityPeriod: p.TicketValidityPeriod, RoundLength: p.RoundLength, RoundStartL1: p.RoundStartL1,
		Block: tip.Number, L1Block: tip.L1Number,
	}
}

// roundOf is the current round of the first non-nil state (-1: unknown).
func roundOf(states ...*store.ProtocolState) int64 {
	for _, p := range states {
		if p != nil && p.CurrentRound != nil && p.CurrentRound.IsInt64() {
			return p.CurrentRound.Int64()
		}
	}
	return -1
}

func contains(list [][20]byte, a [20]byte) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}
