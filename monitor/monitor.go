package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"sync"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"golang.org/x/sync/errgroup"

	"redeemer/chain"
	"redeemer/store"
)

// LogFilterer fetches logs; *ethclient.Client and the simulated backend's
// client implement it.
type LogFilterer interface {
	FilterLogs(ctx context.Context, q ethereum.FilterQuery) ([]types.Log, error)
}

// Config tunes a Monitor. Zero values take the defaults in brackets.
type Config struct {
	// Recipient is the orchestrator whose reserve allocation is tracked.
	Recipient common.Address
	// Contracts are the protocol contracts whose logs HandleHead reads.
	Contracts chain.Addresses
	// CallTimeout bounds each node call and each database call [5s].
	CallTimeout time.Duration
	// Concurrency is the number of senders read from chain at once when
	// every sender is re-read [8].
	Concurrency int
	Logger      *slog.Logger
}

// Monitor keeps the senders and protocol_state tables equal to the chain.
//
// The leader's poller hands it every head (HandleHead); any replica may call
// Refresh and MaxFloat, which read the chain only for a sender that is not
// tracked yet. Every write goes through store.SaveChainState, which
// announces the floats it changes.
type Monitor struct {
	cfg    Config
	st     *store.Store
	reader ChainReader
	logs   LogFilterer
	heads  chain.HeadReader
	addrs  chainAddresses
	log    *slog.Logger

	// mu serialises HandleHead and guards what it remembers between heads.
	mu sync.Mutex
	// needFull makes the next head re-read everything: set at start (the
	// heads before it were never seen) and after a failed head (its logs
	// may have been missed).
	needFull bool
	lastL1   uint64
	round    *big.Int
}

// New returns a monitor. reader reads contract state at a block, logs
// fetches each head's logs, heads gives the latest head for Refresh.
func New(cfg Config, st *store.Store, reader ChainReader, logs LogFilterer, heads chain.HeadReader) (*Monitor, error) {
	if cfg.Recipient == (common.Address{}) {
		return nil, errors.New("monitor: recipient is required")
	}
	if cfg.Contracts.TicketBroker == (common.Address{}) || cfg.Contracts.RoundsManager == (common.Address{}) ||
		cfg.Contracts.BondingManager == (common.Address{}) {
		return nil, errors.New("monitor: TicketBroker, RoundsManager and BondingManager addresses are required")
	}
	if st == nil || reader == nil || logs == nil || heads == nil {
		return nil, errors.New("monitor: store, chain reader, log filterer and head reader are required")
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 5 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Monitor{
		cfg: cfg, st: st, reader: reader, logs: logs, heads: heads,
		addrs: chainAddresses{
			broker: cfg.Contracts.TicketBroker, rounds: cfg.Contracts.RoundsManager, bonding: cfg.Contracts.BondingManager,
		},
		log:      cfg.Logger.With("component", "monitor"),
		needFull: true,
	}, nil
}

// call runs f under CallTimeout.
func (m *Monitor) call(ctx context.Context, f func(ctx context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, m.cfg.CallTimeout)
	defer cancel()
	return f(cctx)
}

// HandleHead brings the stored state up to ev.Head. It reads the head's
// logs of the three protocol contracts and re-reads, at the head's block:
//   - every tracked sender a TicketBroker log names;
//   - the protocol values after a RoundsManager or BondingManager log, and
//     whenever the L1 block number moved (rounds count L1 blocks, so the
//     round can only change then);
//   - everything (protocol values and every tracked sender) on a new round,
//     after a reorg, on the first head and on the head after a failure;
//   - whatever Refresh stored at this head's height: Refresh reads the
//     latest block, ahead of the poller, possibly on a branch this head
//     replaced.
//
// A reorg is handled by that full re-read, forced over the rows read on the
// removed blocks, rather than by undoing the removed blocks' logs: a node
// may no longer serve logs of blocks off the canonical chain, and the state
// at the new head is the truth either way.
//
// HandleHead is idempotent; on error the same head may be delivered again.
// A caller that skips a failed head instead loses nothing either: the next
// head re-reads everything.
func (m *Monitor) HandleHead(ctx context.Context, ev chain.HeadEvent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.handleHead(ctx, ev); err != nil {
		m.needFull = true
		return fmt.Errorf("monitor: head %d %s: %w", ev.Head.Number, ev.Head.Hash, err)
	}
	return nil
}

func (m *Monitor) handleHead(ctx context.Context, ev chain.HeadEvent) error {
	head := ev.Head
	reorg := len(ev.Removed) > 0
	full := m.needFull || reorg

	var logs []types.Log
	err := m.call(ctx, func(ctx context.Context) (err error) {
		hash := head.Hash
		logs, err = m.logs.FilterLogs(ctx, ethereum.FilterQuery{
			BlockHash: &hash,
			Addresses: []common.Address{m.addrs.broker, m.addrs.rounds, m.addrs.bonding},
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("logs: %w", err)
	}
	changes, err := classify(logs, m.addrs)
	if err != nil {
		return err
	}
	full = full || changes.newRound

	// Rows another replica's Refresh read at this height, ahead of the
	// poller, may come from a block this head replaced; the guard on
	// state_block lets an equal height overwrite them.
	var ahead [][20]byte
	var aheadProtocol bool
	err = m.call(ctx, func(ctx context.Context) (err error) {
		ahead, aheadProtocol, err = m.st.StoredAt(ctx, head.Number)
		return err
	})
	if err != nil {
		return err
	}

	var protocol *store.ProtocolState
	// announced says the protocol values changed and were announced ahead
	// of the senders.
	var announced bool
	round := m.round
	if full || changes.protocol || aheadProtocol || round == nil || head.L1Number != m.lastL1 {
		ps, err := m.readProtocol(ctx, head)
		if err != nil {
			return err
		}
		newRound := round == nil || ps.CurrentRound.Cmp(round) != 0
		if newRound {
			// Claims are kept per round on chain: every sender's claimed
			// amounts just reset, with or without a NewRound log.
			full = true
		}
		protocol, round = &ps, ps.CurrentRound
		if newRound && !reorg {
			// The new round's floats follow from the protocol values alone
			// (ReserveAlloc counts an older round's claims as 0, as the
			// chain does), so they are stored and announced now rather
			// than after every sender is re-read, which takes a node call
			// per sender. A sender whose state this very head changed
			// shows its value of the block before until the re-read below
			// stores it, as it would before this head was handled at all.
			err := m.call(ctx, func(ctx context.Context) error {
				res, err := m.st.SaveChainState(ctx, store.ChainState{Protocol: protocol})
				announced = res.ProtocolChanged
				return err
			})
			if err != nil {
				return err
			}
		}
	}

	var senders [][20]byte
	err = m.call(ctx, func(ctx context.Context) (err error) {
		if full {
			senders, err = m.st.TrackedSenders(ctx)
			return err
		}
		if len(changes.senders) > 0 {
			named := make([][20]byte, 0, len(changes.senders))
			for a := range changes.senders {
				named = append(named, a)
			}
			if senders, err = m.st.FilterTracked(ctx, named); err != nil {
				return err
			}
		}
		for _, a := range ahead {
			if !slices.Contains(senders, a) {
				senders = append(senders, a)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	states, err := m.readSenders(ctx, head.Number, round, senders)
	if err != nil {
		return err
	}

	var res store.SaveResult
	err = m.call(ctx, func(ctx context.Context) (err error) {
		res, err = m.st.SaveChainState(ctx, store.ChainState{Protocol: protocol, Senders: states, Force: reorg})
		return err
	})
	if err != nil {
		return err
	}
	m.needFull, m.round, m.lastL1 = false, round, head.L1Number

	level := slog.LevelDebug
	if full {
		level = slog.LevelInfo
	}
	m.log.Log(ctx, level, "sender state updated", "block", head.Number, "l1_block", head.L1Number,
		"round", round, "full", full, "reorg", reorg, "senders_read", len(states),
		"senders_changed", len(res.SendersChanged), "protocol_changed", res.ProtocolChanged || announced)
	return nil
}

func (m *Monitor) readProtocol(ctx context.Context, head chain.Head) (store.ProtocolState, error) {
	var ps store.ProtocolState
	err := m.call(ctx, func(ctx context.Context) (err error) {
		ps, err = m.reader.ProtocolState(ctx, head.Number, m.cfg.Recipient)
		return err
	})
	if err != nil {
		return ps, err
	}
	ps.Block, ps.L1Block = head.Number, head.L1Number
	return ps, nil
}

// readSenders reads the senders at block, a few at a time.
func (m *Monitor) readSenders(ctx context.Context, block uint64, round *big.Int, senders [][20]byte) ([]store.SenderState, error) {
	out := make([]store.SenderState, len(senders))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.cfg.Concurrency)
	for i, a := range senders {
		g.Go(func() error {
			return m.call(gctx, func(ctx context.Context) error {
				st, err := m.reader.SenderState(ctx, block, a, m.cfg.Recipient)
				if err != nil {
					return err
				}
				st.Round, st.Block = round, block
				out[i] = st
				return nil
			})
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// Refresh reads sender's state and the protocol values from chain at the
// latest head and stores them, which announces whatever changed. It starts
// tracking a sender the service has not seen before.
func (m *Monitor) Refresh(ctx context.Context, sender common.Address) error {
	var head chain.Head
	err := m.call(ctx, func(ctx context.Context) (err error) {
		head, err = m.heads.LatestHead(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("monitor: refresh %s: latest head: %w", sender, err)
	}
	ps, err := m.readProtocol(ctx, head)
	if err != nil {
		return fmt.Errorf("monitor: refresh %s: %w", sender, err)
	}
	states, err := m.readSenders(ctx, head.Number, ps.CurrentRound, [][20]byte{sender})
	if err != nil {
		return fmt.Errorf("monitor: refresh %s: %w", sender, err)
	}
	err = m.call(ctx, func(ctx context.Context) error {
		_, err := m.st.SaveChainState(ctx, store.ChainState{Protocol: &ps, Senders: states})
		return err
	})
	if err != nil {
		return fmt.Errorf("monitor: refresh %s: %w", sender, err)
	}
	return nil
}

// Track makes sure sender is tracked, reading it from chain (Refresh) only
// when the database has no usable state for it.
func (m *Monitor) Track(ctx context.Context, sender common.Address) error {
	_, err := m.MaxFloat(ctx, sender)
	return err
}

// MaxFloat returns sender's max float from the stored state (see the
// package-level MaxFloat), refreshing it from chain first when the sender
// is not tracked yet or the stored values belong to another recipient.
func (m *Monitor) MaxFloat(ctx context.Context, sender common.Address) (*big.Int, error) {
	fs, err := m.FloatState(ctx, sender)
	if err != nil {
		return nil, err
	}
	return MaxFloat(fs), nil
}

// FloatState returns sender's stored state and the protocol values, both
// non-nil, refreshing them from chain first when the sender is not tracked
// yet or the stored values belong to another recipient.
func (m *Monitor) FloatState(ctx context.Context, sender common.Address) (store.FloatState, error) {
	fs, err := m.floatState(ctx, sender)
	if err != nil {
		return fs, err
	}
	if m.usable(fs) {
		return fs, nil
	}
	if err := m.Refresh(ctx, sender); err != nil {
		return fs, err
	}
	if fs, err = m.floatState(ctx, sender); err != nil {
		return fs, err
	}
	if !m.usable(fs) {
		// Only a concurrent writer for another recipient gets here.
		return fs, fmt.Errorf("monitor: no usable state for %s after a refresh", sender)
	}
	return fs, nil
}

func (m *Monitor) floatState(ctx context.Context, sender common.Address) (fs store.FloatState, err error) {
	err = m.call(ctx, func(ctx context.Context) (err error) {
		fs, err = m.st.FloatState(ctx, sender)
		return err
	})
	if err != nil {
		return fs, fmt.Errorf("monitor: float state of %s: %w", sender, err)
	}
	return fs, nil
}

func (m *Monitor) usable(fs store.FloatState) bool {
	return fs.State != nil && fs.Protocol != nil && fs.Protocol.Recipient == m.cfg.Recipient
}
