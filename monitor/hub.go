package monitor

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"redeemer/chain"
	"redeemer/store"
)

// ErrHubStopped is returned by Subscribe once the hub's Run has returned.
var ErrHubStopped = errors.New("monitor: float hub stopped")

// HubOptions tune a Hub. Zero values take the defaults in brackets.
type HubOptions struct {
	// Listen tunes the LISTEN connection (reconnect backoff, pings).
	Listen store.ListenOptions
	// ReadTimeout bounds one read of the floats to recompute [5s].
	ReadTimeout time.Duration
	// RetryBackoff is the wait after a failed read before the floats are
	// read again; it doubles up to 30 times its value [100ms].
	RetryBackoff time.Duration
	// BatchSize is the most senders recomputed in one read [1000].
	BatchSize int
	// OnChange hears every change announced: one sender's, or (all true)
	// possibly every sender's. Caches of sender state drop entries on it.
	// It must not block.
	OnChange func(sender [20]byte, all bool)
	// TouchEvery is how often the senders with open subscriptions are
	// marked wanted, so the leader keeps following them [10m].
	TouchEvery time.Duration
	Logger     *slog.Logger
}

// Hub delivers float changes to subscribers. It follows the FloatChannel
// notifications of every writer on the database (any replica), so each
// process needs one hub and one LISTEN connection, whatever the number of
// streams.
//
// A notification only marks its sender (or, for "*", every subscribed
// sender) dirty; one goroutine then reads the dirty senders' floats from
// the database in one statement and offers each subscriber the new value.
// Reads happen after the notification arrived, and PostgreSQL delivers a
// notification only after its transaction committed, so a subscriber never
// sees a value before it is committed. A burst of notifications for one
// sender costs one read, and each subscriber holds only the latest value
// (a buffer of one), so a slow stream never holds up the listener, the
// reads or other streams.
type Hub struct {
	st       *store.Store
	listener *store.Listener
	opts     HubOptions
	log      *slog.Logger

	// Counted for metrics: notifications received, values offered.
	notifications, updates atomic.Uint64

	mu      sync.Mutex
	subs    map[[20]byte]map[*Subscription]struct{}
	dirty   map[[20]byte]struct{}
	stopped bool
	wake    chan struct{}
}

// NewHub returns a hub reading from st. Run starts it.
func NewHub(st *store.Store, opts HubOptions) *Hub {
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = 5 * time.Second
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = 100 * time.Millisecond
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	if opts.OnChange == nil {
		opts.OnChange = func([20]byte, bool) {}
	}
	if opts.TouchEvery <= 0 {
		opts.TouchEvery = 10 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Listen.Logger == nil {
		opts.Listen.Logger = opts.Logger
	}
	return &Hub{
		st:       st,
		listener: st.NewListener(store.FloatChannel, opts.Listen),
		opts:     opts,
		log:      opts.Logger.With("component", "monitor.hub"),
		subs:     map[[20]byte]map[*Subscription]struct{}{},
		dirty:    map[[20]byte]struct{}{},
		wake:     make(chan struct{}, 1),
	}
}

// Subscription receives one sender's max float: the current value first,
// then every change. Values are exact and may be negative (see MaxFloat).
type Subscription struct {
	hub    *Hub
	sender [20]byte
	c      chan *big.Int
	done   chan struct{}
	once   sync.Once
	// last is the value last offered; only the hub's Run goroutine uses it.
	last *big.Int
}

// C delivers the float. It holds at most one value, the latest.
func (s *Subscription) C() <-chan *big.Int { return s.c }

// Done is closed when the subscription ends: Close was called or the hub
// stopped.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Close ends the subscription and frees it. Safe to call more than once.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.closeLocked()
}

func (s *Subscription) closeLocked() {
	s.once.Do(func() {
		close(s.done)
		if set := s.hub.subs[s.sender]; set != nil {
			delete(set, s)
			if len(set) == 0 {
				delete(s.hub.subs, s.sender)
				delete(s.hub.dirty, s.sender)
			}
		}
	})
}

// offer replaces whatever value is waiting with v, unless v is the value
// offered last: a subscriber is told about changes, not about re-reads.
func (s *Subscription) offer(v *big.Int) {
	if s.last != nil && s.last.Cmp(v) == 0 {
		return
	}
	s.last = v
	// Each subscriber gets its own copy, free to keep or change.
	out := new(big.Int).Set(v)
	select {
	case s.c <- out:
		return
	default:
	}
	// The subscriber has not taken the previous value: the newer one wins.
	// Only Run sends, so after the drain there is room.
	select {
	case <-s.c:
	default:
	}
	select {
	case s.c <- out:
	default:
	}
}

// Subscribe starts delivering sender's float. The first value comes once
// it is read (the sender must be tracked; see Monitor.Track).
func (h *Hub) Subscribe(sender common.Address) (*Subscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return nil, ErrHubStopped
	}
	s := &Subscription{hub: h, sender: sender, c: make(chan *big.Int, 1), done: make(chan struct{})}
	set := h.subs[sender]
	if set == nil {
		set = map[*Subscription]struct{}{}
		h.subs[sender] = set
	}
	set[s] = struct{}{}
	// Re-reading the sender sends the current value to the new subscriber
	// (its last is nil) and nothing to the others (theirs is equal).
	h.dirty[sender] = struct{}{}
	h.poke()
	return s, nil
}

// Notifications is the number of float notifications received.
func (h *Hub) Notifications() uint64 { return h.notifications.Load() }

// Updates is the number of float values offered to subscribers.
func (h *Hub) Updates() uint64 { return h.updates.Load() }

// Subscribers returns the number of open subscriptions.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, set := range h.subs {
		n += len(set)
	}
	return n
}

func (h *Hub) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// onListen runs on every new LISTEN connection: whatever was announced
// while none listened is unknown, so every subscribed sender is re-read.
func (h *Hub) onListen() {
	h.opts.OnChange([20]byte{}, true)
	h.markAll()
}

func (h *Hub) markAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for a := range h.subs {
		h.dirty[a] = struct{}{}
	}
	h.poke()
}

func (h *Hub) onNotify(payload string) {
	// Counted once OnChange has run: a caller that sees the count move
	// knows the change has reached the caches too.
	defer h.notifications.Add(1)
	if payload == store.FloatAllSenders {
		h.opts.OnChange([20]byte{}, true)
		h.markAll()
		return
	}
	sender, ok := parseSender(payload)
	if !ok {
		h.log.Warn("ignoring a malformed float notification", "payload", payload)
		return
	}
	h.opts.OnChange(sender, false)
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[sender]; ok {
		h.dirty[sender] = struct{}{}
		h.poke()
	}
}

func parseSender(payload string) ([20]byte, bool) {
	var a [20]byte
	hexPart, ok := strings.CutPrefix(payload, "0x")
	if !ok || len(hexPart) != 2*len(a) {
		return a, false
	}
	if _, err := hex.Decode(a[:], []byte(hexPart)); err != nil {
		return a, false
	}
	return a, true
}

// Run listens for float notifications and delivers floats until ctx ends.
// Then it ends every subscription (their Done closes) and returns ctx's
// error; Subscribe fails from then on.
func (h *Hub) Run(ctx context.Context) error {
	lctx, cancel := context.WithCancel(ctx)
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		_ = h.listener.Run(lctx, h.onListen, h.onNotify)
	}()
	defer func() {
		cancel()
		<-listening
		h.mu.Lock()
		defer h.mu.Unlock()
		h.stopped = true
		for _, set := range h.subs {
			for s := range set {
				s.closeLocked()
			}
		}
	}()

	var (
		failures int
		retry    <-chan time.Time
		backoff  = chain.Backoff{Min: h.opts.RetryBackoff, Max: 32 * h.opts.RetryBackoff}
		touch    = time.NewTicker(h.opts.TouchEvery)
	)
	defer touch.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-h.wake:
		case <-retry:
			retry = nil
		case <-touch.C:
			h.touch(ctx)
			continue
		}
		batch, more := h.takeDirty()
		if more {
			h.poke()
		}
		if len(batch) == 0 {
			continue
		}
		if err := h.deliver(ctx, batch); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			h.markDirty(batch)
			failures++
			wait := backoff.Delay(failures)
			h.log.Warn("reading floats failed; retrying", "err", err, "senders", len(batch), "retry_in", wait)
			retry = time.After(wait)
			continue
		}
		failures = 0
	}
}

// touch marks the subscribed senders wanted. A failure is only logged: the
// next tick tries again, long before pruning could drop a sender.
func (h *Hub) touch(ctx context.Context) {
	h.mu.Lock()
	senders := make([][20]byte, 0, len(h.subs))
	for a := range h.subs {
		senders = append(senders, a)
	}
	h.mu.Unlock()
	tctx, cancel := context.WithTimeout(ctx, h.opts.ReadTimeout)
	defer cancel()
	if err := h.st.TouchSenders(tctx, senders); err != nil {
		h.log.Warn("could not mark streamed senders wanted", "senders", len(senders), "err", err)
	}
}

// takeDirty removes up to BatchSize dirty senders and reports whether more
// are left.
func (h *Hub) takeDirty() (batch [][20]byte, more bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for a := range h.dirty {
		if len(batch) == h.opts.BatchSize {
			return batch, true
		}
		delete(h.dirty, a)
		if _, ok := h.subs[a]; ok {
			batch = append(batch, a)
		}
	}
	return batch, false
}

func (h *Hub) markDirty(batch [][20]byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range batch {
		if _, ok := h.subs[a]; ok {
			h.dirty[a] = struct{}{}
		}
	}
}

// deliver reads the batch's floats and offers them to their subscribers.
func (h *Hub) deliver(ctx context.Context, batch [][20]byte) error {
	rctx, cancel := context.WithTimeout(ctx, h.opts.ReadTimeout)
	states, err := h.st.FloatStates(rctx, batch)
	cancel()
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, fs := range states {
		if fs.State == nil || fs.Protocol == nil {
			// Not tracked yet: its first stored state will be announced.
			continue
		}
		v := MaxFloat(fs)
		for s := range h.subs[fs.Sender] {
			s.offer(v)
			h.updates.Add(1)
		}
	}
	return nil
}
