package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	lru "github.com/hashicorp/golang-lru/v2"

	"redeemer/chain"
	"redeemer/store"
)

// Config tunes a Monitor. Zero values take the defaults in brackets.
type Config struct {
	// Recipient is the orchestrator whose reserve allocation is tracked.
	Recipient common.Address
	// Contracts are the protocol contracts.
	Contracts chain.Addresses
	// CallTimeout bounds each database call [5s]; node calls have the
	// node's own.
	CallTimeout time.Duration
	// StrangerTTL is how long a float read from chain for a sender nobody
	// tracks is reused [10s], and StrangerCache how many are kept [10000]:
	// asking about strangers costs the node one read per sender per TTL,
	// however often it is asked.
	StrangerTTL   time.Duration
	StrangerCache int
	Logger        *slog.Logger
}

// Monitor answers, on any replica, what a sender's float and state are:
// from the stored state for a tracked sender, and for any other from one
// chain read, kept briefly in memory and never stored (asking about an
// address does not make the service follow it). Track makes a sender
// tracked (a stream wants its changes). The leader's stages, not the
// Monitor, keep the stored state current.
type Monitor struct {
	cfg  Config
	st   *store.Store
	node Chain
	log  *slog.Logger

	strangers *lru.Cache[[20]byte, stranger]
	// reads lets concurrent askers about one stranger share one read.
	mu    sync.Mutex
	reads map[[20]byte]*strangerRead
}

type stranger struct {
	fs store.FloatState
	at time.Time
}

type strangerRead struct {
	done chan struct{}
	fs   store.FloatState
	err  error
}

// New returns a monitor reading stored state from st and strangers from
// node.
func New(cfg Config, st *store.Store, node Chain) (*Monitor, error) {
	if cfg.Recipient == (common.Address{}) {
		return nil, errors.New("monitor: recipient is required")
	}
	if st == nil || node == nil {
		return nil, errors.New("monitor: store and node are required")
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 5 * time.Second
	}
	if cfg.StrangerTTL <= 0 {
		cfg.StrangerTTL = 10 * time.Second
	}
	if cfg.StrangerCache <= 0 {
		cfg.StrangerCache = 10000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cache, err := lru.New[[20]byte, stranger](cfg.StrangerCache)
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	return &Monitor{cfg: cfg, st: st, node: node, log: cfg.Logger.With("component", "monitor"),
		strangers: cache, reads: map[[20]byte]*strangerRead{}}, nil
}

// Forget drops what is cached about sender (a notification said it
// changed).
func (m *Monitor) Forget(sender [20]byte) { m.strangers.Remove(sender) }

func (m *Monitor) stored(ctx context.Context, sender common.Address) (store.FloatState, error) {
	cctx, cancel := context.WithTimeout(ctx, m.cfg.CallTimeout)
	defer cancel()
	fs, err := m.st.FloatState(cctx, sender)
	if err != nil {
		return fs, fmt.Errorf("monitor: float state of %s: %w", sender, err)
	}
	return fs, nil
}

func (m *Monitor) usable(fs store.FloatState) bool {
	return fs.State != nil && fs.Protocol != nil && fs.Protocol.Recipient == m.cfg.Recipient
}

// FloatState returns sender's state and the protocol values, both non-nil:
// stored for a tracked sender; read from chain (and cached for StrangerTTL)
// for any other. tracked says which.
func (m *Monitor) FloatState(ctx context.Context, sender common.Address) (fs store.FloatState, tracked bool, err error) {
	fs, tracked, err = m.Stored(ctx, sender)
	if err != nil || tracked {
		return fs, tracked, err
	}
	fs, err = m.Stranger(ctx, sender, fs)
	return fs, false, err
}

// Stored returns sender's stored state; tracked is false when the service
// does not track it (fs then has the protocol values only).
func (m *Monitor) Stored(ctx context.Context, sender common.Address) (fs store.FloatState, tracked bool, err error) {
	fs, err = m.stored(ctx, sender)
	if err != nil {
		return fs, false, err
	}
	if m.usable(fs) {
		return fs, true, nil
	}
	if fs.Protocol == nil || fs.Protocol.Recipient != m.cfg.Recipient {
		return fs, false, errors.New("monitor: no protocol state stored yet; the leader stores it on its first head")
	}
	return fs, false, nil
}

// Stranger returns the state of a sender the service does not track, read
// from chain with stored's protocol values and kept briefly.
func (m *Monitor) Stranger(ctx context.Context, sender common.Address, stored store.FloatState) (store.FloatState, error) {
	if c, ok := m.strangers.Get(sender); ok && time.Since(c.at) < m.ttl(c.fs) {
		return c.fs, nil
	}
	return m.readStranger(ctx, sender, stored)
}

// ttl is how long a stranger's reading is reused. A sender with no funds
// stays so until it funds, which is announced (and drops the entry), so its
// reading is kept longer: a caller sending tickets from unfunded keys costs
// one read per key, not one per ticket.
func (m *Monitor) ttl(fs store.FloatState) time.Duration {
	if fs.State != nil && fs.State.Unfunded() {
		return 60 * m.cfg.StrangerTTL
	}
	return m.cfg.StrangerTTL
}

// Fresh reads sender's state from chain now, with the stored protocol
// values and in-limbo amount: for confirming a refusal that stored state
// would make.
func (m *Monitor) Fresh(ctx context.Context, sender common.Address) (store.FloatState, error) {
	fs, err := m.stored(ctx, sender)
	if err != nil {
		return fs, err
	}
	if fs.Protocol == nil || fs.Protocol.Recipient != m.cfg.Recipient {
		return fs, errors.New("monitor: no protocol state stored yet; the leader stores it on its first head")
	}
	fs, err = m.readStranger(ctx, sender, fs)
	return fs, err
}

// TrackState stores a state read from chain (FloatState of a sender not
// tracked), making the sender tracked.
func (m *Monitor) TrackState(ctx context.Context, fs store.FloatState) error {
	if fs.State == nil {
		return errors.New("monitor: no state to track")
	}
	cctx, cancel := context.WithTimeout(ctx, m.cfg.CallTimeout)
	defer cancel()
	if _, err := m.st.SaveChainState(cctx, store.ChainState{Senders: []store.SenderState{*fs.State}}); err != nil {
		return fmt.Errorf("monitor: track %s: %w", common.Address(fs.Sender), err)
	}
	m.strangers.Remove(fs.Sender)
	return nil
}

// readStranger reads one sender from chain; callers asking at once share
// the read.
func (m *Monitor) readStranger(ctx context.Context, sender common.Address, stored store.FloatState) (store.FloatState, error) {
	m.mu.Lock()
	r, ok := m.reads[sender]
	if !ok {
		r = &strangerRead{done: make(chan struct{})}
		m.reads[sender] = r
		m.mu.Unlock()
		// The read is shared: one caller going away must not fail it for
		// the others.
		r.fs, r.err = m.readFromChain(chain.WithPriority(context.WithoutCancel(ctx), chain.PriorityBackground), sender, stored)
		m.mu.Lock()
		delete(m.reads, sender)
		m.mu.Unlock()
		close(r.done)
		if r.err == nil {
			m.strangers.Add(sender, stranger{fs: r.fs, at: time.Now()})
		}
	} else {
		m.mu.Unlock()
	}
	select {
	case <-r.done:
		return r.fs, r.err
	case <-ctx.Done():
		return store.FloatState{}, ctx.Err()
	}
}

// readFromChain reads sender's state at the node's latest head, with the
// stored protocol values and in-limbo amount.
func (m *Monitor) readFromChain(ctx context.Context, sender common.Address, stored store.FloatState) (store.FloatState, error) {
	head, err := m.node.LatestHead(ctx)
	if err != nil {
		return stored, fmt.Errorf("monitor: read %s: %w", sender, err)
	}
	rd, err := m.node.ReadSenders(ctx, m.cfg.Contracts, new(big.Int).SetUint64(head.Number), m.cfg.Recipient,
		[]common.Address{sender})
	if err != nil {
		return stored, fmt.Errorf("monitor: read %s: %w", sender, err)
	}
	if rd[0].Err != nil {
		return stored, fmt.Errorf("monitor: read %s: %w", sender, rd[0].Err)
	}
	st := senderState(rd[0], RoundAt(stored.Protocol, head.L1Number), head.Number)
	stored.State = &st
	return stored, nil
}

// Track makes sender tracked: read from chain and stored unless a row is
// there already, and marked wanted either way. Its changes are then
// followed and announced, for a stream to follow.
func (m *Monitor) Track(ctx context.Context, sender common.Address) error {
	fs, err := m.stored(ctx, sender)
	if err != nil {
		return err
	}
	if m.usable(fs) {
		return m.st.TouchSenders(ctx, [][20]byte{sender})
	}
	if fs.Protocol == nil || fs.Protocol.Recipient != m.cfg.Recipient {
		return errors.New("monitor: no protocol state stored yet; the leader stores it on its first head")
	}
	fs, err = m.readFromChain(ctx, sender, fs)
	if err != nil {
		return err
	}
	return m.TrackState(ctx, fs)
}

// MaxFloat returns sender's max float (see the package-level MaxFloat).
func (m *Monitor) MaxFloat(ctx context.Context, sender common.Address) (*big.Int, error) {
	fs, _, err := m.FloatState(ctx, sender)
	if err != nil {
		return nil, err
	}
	return MaxFloat(fs), nil
}

// RoundAt is the round current at L1 block l1 by the stored protocol
// values: their current round, moved on by the round length when l1 is
// past the round's end. A reader that has just crossed a round boundary
// ahead of the stored values so stores its reads under the right round.
// -1 when p is nil.
func RoundAt(p *store.ProtocolState, l1 uint64) int64 {
	if p = p.At(l1); p == nil || p.CurrentRound == nil || !p.CurrentRound.IsInt64() {
		return -1
	}
	return p.CurrentRound.Int64()
}
