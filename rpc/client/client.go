// Package client is the Go client of the redeemer's TicketRedeemer service,
// for orchestrators: it queues winning tickets and answers max float
// questions from a local cache that the server keeps current.
//
// MaxFloat behaves like go-livepeer's redeemer client, so an orchestrator
// sees the same numbers through either:
//   - a cached sender's float is returned at once;
//   - otherwise the unary MaxFloat is called and a MonitorMaxFloat stream
//     opened for the sender; once the stream delivers its first value the
//     sender is cached, and every update replaces the cached value;
//   - when the stream cannot be opened, the unary value is returned and
//     nothing is cached (the next call asks again);
//   - a stream that ends or fails drops its sender from the cache;
//   - a sender not asked for during IdleTimeout (5 minutes) is dropped and
//     its stream closed.
//
// SenderInfo and ValidateSender ask the server on every call.
package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"redeemer/rpc/pb"
)

// ErrClosed is returned by calls on a closed Client.
var ErrClosed = errors.New("redeemer client: closed")

// ErrSenderWithdrawing is returned (wrapped, with the rounds) by
// ValidateSender for a sender whose unlock ends no later than the round
// after the last initialized one: it can withdraw before a ticket it signs
// now could be redeemed, so its tickets are worth nothing.
var ErrSenderWithdrawing = errors.New("redeemer client: sender is about to withdraw")

// Clock is the time source of the cache's idle timeout. Tests substitute a
// clock they advance by hand.
type Clock interface {
	Now() time.Time
	// After delivers once d has passed.
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Options tune a Client. Zero values take the defaults in brackets.
type Options struct {
	// IdleTimeout is how long a cached sender may go unasked before it is
	// dropped and its stream closed [5m].
	IdleTimeout time.Duration
	// SweepInterval is how often idle senders are looked for, so a sender
	// is dropped between IdleTimeout and IdleTimeout + SweepInterval after
	// its last use [IdleTimeout / 5].
	SweepInterval time.Duration
	// OpenTimeout bounds the wait for a new stream's first value within
	// MaxFloat; past it the unary value is returned uncached [5s].
	OpenTimeout time.Duration
	Clock       Clock
	Logger      *slog.Logger
}

// Client talks to one redeemer. It is safe for concurrent use.
type Client struct {
	rpc   pb.TicketRedeemerClient
	conn  *grpc.ClientConn // owned (closed by Close) when made by Dial
	opts  Options
	log   *slog.Logger
	ctx   context.Context // parent of every stream; cancelled by Close
	stop  context.CancelFunc
	swept chan struct{}

	mu     sync.Mutex
	cache  map[common.Address]*entry
	closed bool
}

type entry struct {
	value    *big.Int
	lastRead time.Time
	cancel   context.CancelFunc // closes the entry's stream
}

// Dial connects to the redeemer at target ("host:port"). Unless dialOpts
// bring their own transport credentials it speaks TLS without verifying
// the server's certificate, as go-livepeer's client does: a redeemer
// usually serves a self-signed certificate. Pass
// grpc.WithTransportCredentials to verify it (or to use plaintext on a
// loopback address).
func Dial(target string, opts Options, dialOpts ...grpc.DialOption) (*Client, error) {
	all := append([]grpc.DialOption{
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
			// Deliberate, as documented above: go-livepeer's behaviour.
			InsecureSkipVerify: true,
			MinVersion:         tls.VersionTLS12,
		})),
	}, dialOpts...)
	conn, err := grpc.NewClient(target, all...)
	if err != nil {
		return nil, fmt.Errorf("redeemer client: dial %s: %w", target, err)
	}
	c := New(conn, opts)
	c.conn = conn
	return c, nil
}

// New returns a client on an existing connection, which the caller keeps
// and closes after Close.
func New(conn grpc.ClientConnInterface, opts Options) *Client {
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 5 * time.Minute
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = opts.IdleTimeout / 5
	}
	if opts.OpenTimeout <= 0 {
		opts.OpenTimeout = 5 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, stop := context.WithCancel(context.Background())
	c := &Client{
		rpc: pb.NewTicketRedeemerClient(conn), opts: opts, log: opts.Logger.With("component", "redeemer.client"),
		ctx: ctx, stop: stop, swept: make(chan struct{}), cache: map[common.Address]*entry{},
	}
	go c.sweepLoop()
	return c
}

// QueueTicket hands a winning ticket to the redeemer. A nil error means the
// redeemer committed it; errors carry the server's gRPC status
// (InvalidArgument, PermissionDenied, Unavailable, ...).
func (c *Client) QueueTicket(ctx context.Context, t *pb.Ticket) error {
	if c.isClosed() {
		return ErrClosed
	}
	_, err := c.rpc.QueueTicket(ctx, t)
	return err
}

// SenderInfo is a sender's TicketBroker state as the redeemer last stored
// it. Amounts are in wei; the claims belong to CurrentRound.
type SenderInfo struct {
	Deposit *big.Int
	// WithdrawRound is 0 unless the sender is unlocking.
	WithdrawRound                *big.Int
	ReserveFundsRemaining        *big.Int
	ReserveClaimedInCurrentRound *big.Int
	// ClaimedByRecipient is the part of the reserve the redeemer's
	// recipient claimed.
	ClaimedByRecipient   *big.Int
	LastInitializedRound int64
	CurrentRound         int64
	MaxFloat             *big.Int
}

// SenderInfo asks the redeemer for sender's state. It is never cached: it
// is meant for decisions that are rare next to MaxFloat, such as accepting
// a new sender.
func (c *Client) SenderInfo(ctx context.Context, sender common.Address) (SenderInfo, error) {
	if c.isClosed() {
		return SenderInfo{}, ErrClosed
	}
	res, err := c.rpc.SenderInfo(ctx, &pb.MaxFloatReq{Sender: sender.Bytes()})
	if err != nil {
		return SenderInfo{}, err
	}
	return SenderInfo{
		Deposit:                      new(big.Int).SetBytes(res.GetDeposit()),
		WithdrawRound:                new(big.Int).SetBytes(res.GetWithdrawRound()),
		ReserveFundsRemaining:        new(big.Int).SetBytes(res.GetReserveFundsRemaining()),
		ReserveClaimedInCurrentRound: new(big.Int).SetBytes(res.GetReserveClaimedInCurrentRound()),
		ClaimedByRecipient:           new(big.Int).SetBytes(res.GetClaimedByRecipient()),
		LastInitializedRound:         res.GetLastInitializedRound(),
		CurrentRound:                 res.GetCurrentRound(),
		MaxFloat:                     new(big.Int).SetBytes(res.GetMaxFloat()),
	}, nil
}

// ValidateSender returns an error wrapping ErrSenderWithdrawing when
// sender's unlock ends at or before LastInitializedRound + 1, as
// go-livepeer's ValidateSender does; any other error means the redeemer
// could not answer.
func (c *Client) ValidateSender(ctx context.Context, sender common.Address) error {
	info, err := c.SenderInfo(ctx, sender)
	if err != nil {
		return fmt.Errorf("redeemer client: validate sender %s: %w", sender.Hex(), err)
	}
	return checkWithdrawing(sender, info)
}

// checkWithdrawing is ValidateSender's rule.
func checkWithdrawing(sender common.Address, info SenderInfo) error {
	if info.WithdrawRound == nil || info.WithdrawRound.Sign() == 0 {
		return nil
	}
	limit := new(big.Int).SetInt64(info.LastInitializedRound)
	limit.Add(limit, big.NewInt(1))
	if info.WithdrawRound.Cmp(limit) <= 0 {
		return fmt.Errorf("%w: %s withdraws from round %s, last initialized round %d",
			ErrSenderWithdrawing, sender.Hex(), info.WithdrawRound, info.LastInitializedRound)
	}
	return nil
}

// MaxFloat returns the largest face value, in wei, the redeemer vouches for
// from sender right now (see the package documentation for the caching).
// The result is the caller's to keep.
func (c *Client) MaxFloat(ctx context.Context, sender common.Address) (*big.Int, error) {
	if v, ok, err := c.cached(sender); ok || err != nil {
		return v, err
	}
	req := &pb.MaxFloatReq{Sender: sender.Bytes()}
	res, err := c.rpc.MaxFloat(ctx, req)
	if err != nil {
		return nil, err
	}
	unary := new(big.Int).SetBytes(res.GetMaxFloat())

	sctx, cancel := context.WithCancel(c.ctx)
	stream, first, err := c.open(ctx, sctx, req)
	if err != nil {
		cancel()
		c.log.DebugContext(ctx, "max float stream did not open; not caching", "sender", sender.Hex(), "err", err)
		return unary, nil
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		cancel()
		return first, nil
	}
	if e := c.cache[sender]; e != nil {
		// A concurrent call opened a stream first; keep that one.
		e.lastRead = c.opts.Clock.Now()
		v := new(big.Int).Set(e.value)
		c.mu.Unlock()
		cancel()
		return v, nil
	}
	e := &entry{value: first, lastRead: c.opts.Clock.Now(), cancel: cancel}
	c.cache[sender] = e
	c.mu.Unlock()
	go c.follow(sender, e, stream)
	return new(big.Int).Set(first), nil
}

func (c *Client) cached(sender common.Address) (*big.Int, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, false, ErrClosed
	}
	e := c.cache[sender]
	if e == nil {
		return nil, false, nil
	}
	e.lastRead = c.opts.Clock.Now()
	return new(big.Int).Set(e.value), true, nil
}

// open starts a stream on sctx and waits (within ctx and OpenTimeout) for
// its first value: gRPC reports a refused stream only on its first
// receive, so only a first value proves the stream is open.
func (c *Client) open(ctx, sctx context.Context, req *pb.MaxFloatReq) (pb.TicketRedeemer_MonitorMaxFloatClient, *big.Int, error) {
	stream, err := c.rpc.MonitorMaxFloat(sctx, req)
	if err != nil {
		return nil, nil, err
	}
	type result struct {
		m   *pb.MaxFloatUpdate
		err error
	}
	got := make(chan result, 1)
	go func() {
		m, err := stream.Recv()
		got <- result{m, err}
	}()
	timeout := time.NewTimer(c.opts.OpenTimeout)
	defer timeout.Stop()
	select {
	case r := <-got:
		if r.err != nil {
			return nil, nil, r.err
		}
		return stream, new(big.Int).SetBytes(r.m.GetMaxFloat()), nil
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	case <-timeout.C:
		return nil, nil, errors.New("no first value within the open timeout")
	}
}

// follow copies the stream's updates into the cache until the stream
// ends, then drops the entry.
func (c *Client) follow(sender common.Address, e *entry, stream pb.TicketRedeemer_MonitorMaxFloatClient) {
	for {
		m, err := stream.Recv()
		if err != nil {
			if c.drop(sender, e) {
				c.log.Debug("max float stream ended; sender dropped from the cache", "sender", sender.Hex(), "err", err)
			}
			return
		}
		v := new(big.Int).SetBytes(m.GetMaxFloat())
		c.mu.Lock()
		if c.cache[sender] == e {
			e.value = v
		}
		c.mu.Unlock()
	}
}

// drop removes e if it is still sender's entry and closes its stream.
func (c *Client) drop(sender common.Address, e *entry) bool {
	c.mu.Lock()
	current := c.cache[sender] == e
	if current {
		delete(c.cache, sender)
	}
	c.mu.Unlock()
	e.cancel()
	return current
}

func (c *Client) sweepLoop() {
	defer close(c.swept)
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.opts.Clock.After(c.opts.SweepInterval):
		}
		c.sweep()
	}
}

// sweep drops the senders not asked for during IdleTimeout.
func (c *Client) sweep() {
	now := c.opts.Clock.Now()
	c.mu.Lock()
	var idle []*entry
	for sender, e := range c.cache {
		if now.Sub(e.lastRead) >= c.opts.IdleTimeout {
			delete(c.cache, sender)
			idle = append(idle, e)
		}
	}
	c.mu.Unlock()
	for _, e := range idle {
		e.cancel()
	}
}

// Cached returns the number of senders in the cache (each with an open
// stream).
func (c *Client) Cached() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cache)
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Close closes every stream, empties the cache and, for a client made by
// Dial, closes the connection. Calls after Close fail with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.cache = map[common.Address]*entry{}
	c.mu.Unlock()
	c.stop()
	<-c.swept
	if c.conn != nil {
		if err := c.conn.Close(); err != nil {
			return fmt.Errorf("redeemer client: close connection: %w", err)
		}
	}
	return nil
}
