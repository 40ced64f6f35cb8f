package rpc

import (
	"context"
	"fmt"
	"math/big"
	"net"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
	"google.golang.org/grpc/peer"

	"redeemer/chain"
	"redeemer/monitor"
	"redeemer/store"
)

// This file holds what intake judges a ticket by without asking the node:
// the protocol values and round block hashes the leader stores, cached per
// replica and dropped on every change announced; and the per-peer budgets
// that keep a careless or hostile caller from making refusals cost work.

// IntakeStore is what intake reads and writes in the database.
// *store.Store implements it.
type IntakeStore interface {
	AdmitTickets(ctx context.Context, tickets []store.Admit) ([]store.Admitted, error)
	StoredProtocolState(ctx context.Context) (*store.ProtocolState, error)
	Q() store.Q
}

// IntakeNode is what intake asks the node, only to confirm a refusal its
// cached state would make, and for a round the leader has not stored yet.
// *chain.Node implements it.
type IntakeNode interface {
	ReadProtocol(ctx context.Context, a chain.Addresses, block *big.Int, recipient common.Address) (chain.ProtocolReading, error)
	ReadRoundHash(ctx context.Context, a chain.Addresses, round int64) (common.Hash, error)
}

// Senders is where intake learns a sender's state. *monitor.Monitor
// implements it.
type Senders interface {
	// FloatState returns the sender's state, stored (tracked) or read from
	// chain and cached briefly (not tracked).
	FloatState(ctx context.Context, sender common.Address) (store.FloatState, bool, error)
	// Fresh reads the sender from chain now, whatever is stored.
	Fresh(ctx context.Context, sender common.Address) (store.FloatState, error)
	// TrackState stores a state read from chain, making the sender tracked.
	TrackState(ctx context.Context, fs store.FloatState) error
}

var _ Senders = (*monitor.Monitor)(nil)

// senderCacheSize bounds the tracked senders intake keeps in memory.
const senderCacheSize = 10_000

// senderCache holds tracked senders' stored state for intake, dropped on
// every change announced for the sender (or for all), and reused for at
// most reuse otherwise (a lost announcement, a listener reconnecting): one
// read per sender per second by default, instead of one per ticket. gen
// counts the drops, so a read that raced with an announcement is not
// cached.
type senderCache struct {
	reuse   time.Duration
	mu      sync.Mutex
	gen     uint64
	entries *lru.Cache[[20]byte, cachedSender]
}

type cachedSender struct {
	fs store.FloatState
	at time.Time
}

func newSenderCache(reuse time.Duration) *senderCache {
	c, err := lru.New[[20]byte, cachedSender](senderCacheSize)
	if err != nil {
		panic(err) // only for a size ≤ 0
	}
	return &senderCache{reuse: reuse, entries: c}
}

// get returns a cached state younger than reuse, and the generation
// to hand to put after a read.
func (c *senderCache) get(sender [20]byte) (store.FloatState, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries.Get(sender)
	if ok && time.Since(e.at) < c.reuse {
		return e.fs, true, c.gen
	}
	return store.FloatState{}, false, c.gen
}

// put caches fs when nothing was dropped since gen.
func (c *senderCache) put(sender [20]byte, fs store.FloatState, gen uint64, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.entries.Add(sender, cachedSender{fs: fs, at: at})
	}
}

// drop forgets one sender, or all of them.
func (c *senderCache) drop(sender [20]byte, all bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if all {
		c.entries.Purge()
	} else {
		c.entries.Remove(sender)
	}
}

// protocolReuse bounds how long a replica trusts its cached protocol values
// when no change announcement arrives (a lost notification, a listener
// reconnecting): a read of one row per second at most.
const protocolReuse = time.Second

// intakeState caches the protocol values and the rounds' block hashes.
type intakeState struct {
	st IntakeStore

	mu       sync.Mutex
	protocol *store.ProtocolState
	readAt   time.Time
	hashes   map[int64]common.Hash
}

// forget drops the cache: the leader announced a protocol change.
func (s *intakeState) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.protocol = nil
}

func (s *intakeState) current(ctx context.Context) (*store.ProtocolState, error) {
	s.mu.Lock()
	if s.protocol != nil && time.Since(s.readAt) < protocolReuse {
		p := s.protocol
		s.mu.Unlock()
		return p, nil
	}
	s.mu.Unlock()
	p, err := s.st.StoredProtocolState(ctx)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("no protocol state stored yet (the leader stores it on its first head)")
	}
	// The round moves with the L1 number: the newest head the leader
	// recorded (every poll) says where it is now, ahead of the protocol
	// values the senders stage stores once per logs interval.
	if l1, ok, err := s.st.Q().LatestL1(ctx); err != nil {
		return nil, err
	} else if ok {
		// The round's start moves with it: the expiration window is counted
		// back from it.
		p = p.At(l1)
	}
	s.mu.Lock()
	s.protocol, s.readAt = p, time.Now()
	s.mu.Unlock()
	return p, nil
}

// roundHash returns round's block hash from the cache or the database; ok
// is false when neither has it.
func (s *intakeState) roundHash(ctx context.Context, round int64) (common.Hash, bool, error) {
	s.mu.Lock()
	h, ok := s.hashes[round]
	s.mu.Unlock()
	if ok {
		return h, true, nil
	}
	stored, ok, err := s.st.Q().RoundHash(ctx, round)
	if err != nil || !ok {
		return common.Hash{}, false, err
	}
	s.remember(round, stored)
	return stored, true, nil
}

// maxCachedRounds bounds the block hashes kept: only the last few rounds
// can be within a ticket's validity period.
const maxCachedRounds = 64

func (s *intakeState) remember(round int64, h common.Hash) {
	if h == (common.Hash{}) {
		return // not initialized yet: it will change
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hashes == nil || len(s.hashes) >= maxCachedRounds {
		s.hashes = map[int64]common.Hash{}
	}
	s.hashes[round] = h
}

// peerBudgets give each client address a budget of refusals (and of the
// other requests that cost the service work without storing anything):
// once it is spent, the client's requests are refused at once, before any
// check. Buckets are kept for the most recent peers only.
type peerBudgets struct {
	rate  rate.Limit
	burst int
	peers *lru.Cache[string, *rate.Limiter]
}

func newPeerBudgets(perSecond float64, burst int) *peerBudgets {
	if perSecond <= 0 {
		return nil
	}
	c, err := lru.New[string, *rate.Limiter](10000)
	if err != nil {
		panic(err) // only for a non-positive size
	}
	return &peerBudgets{rate: rate.Limit(perSecond), burst: max(burst, 1), peers: c}
}

func (b *peerBudgets) limiter(key string) *rate.Limiter {
	if l, ok := b.peers.Get(key); ok {
		return l
	}
	l := rate.NewLimiter(b.rate, b.burst)
	b.peers.Add(key, l)
	return l
}

// spent reports whether the peer has no budget left, without using any.
func (b *peerBudgets) spent(key string) bool {
	return b != nil && b.limiter(key).Tokens() < 1
}

// charge is one request's claim on its address's refusal budget. A request
// is charged once at most: confirming a refusal on fresh reads and then
// making it cost one unit, not two.
type charge struct {
	budgets *peerBudgets
	key     string
	taken   bool
}

// take charges the request's unit if it was not charged yet; false when the
// address had no unit left.
func (c *charge) take() bool {
	if c.taken {
		return true
	}
	c.taken = true
	return c.budgets.take(c.key)
}

// take uses one unit of the peer's budget; false when none was left.
func (b *peerBudgets) take(key string) bool {
	return b == nil || b.limiter(key).Allow()
}

// peerKey names the client by IP address: its ports change per
// connection, its address does not.
func peerKey(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return ""
	}
	if host, _, err := net.SplitHostPort(p.Addr.String()); err == nil {
		return host
	}
	return p.Addr.String()
}

// canPay is what the sender can pay this recipient now: its deposit plus
// this recipient's reserve allocation (as the contract computes it,
// clamped at zero).
func canPay(fs store.FloatState) *big.Int {
	v := new(big.Int).Add(fs.State.Deposit, monitor.ReserveAlloc(fs))
	return v
}

// admission applies the sender rules to a sender's state: nil when the
// sender may send tickets, else the rule it breaks.
func admission(fs store.FloatState) *RuleError {
	s, p := fs.State, fs.Protocol
	if s.Unfunded() {
		return &RuleError{Rule: "sender_unfunded", Msg: fmt.Sprintf(
			"sender %s has neither deposit nor reserve: its tickets can never pay", common.Address(fs.Sender).Hex())}
	}
	if s.WithdrawRound.Sign() != 0 {
		limit := new(big.Int).Add(p.LastInitializedRound, big.NewInt(1))
		if s.WithdrawRound.Cmp(limit) <= 0 {
			return &RuleError{Rule: "sender_unlocking", Msg: fmt.Sprintf(
				"sender %s unlocks its funds at round %s, at or before round %s (last initialized round + 1)",
				common.Address(fs.Sender).Hex(), s.WithdrawRound, limit)}
		}
	}
	return nil
}
