package client

import (
	"context"
	"errors"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"redeemer/rpc/pb"
)

// fakeRedeemer is a TicketRedeemer whose floats and stream behaviour the
// test controls, and which counts what the client asks.
type fakeRedeemer struct {
	pb.UnimplementedTicketRedeemerServer

	mu      sync.Mutex
	floats  map[common.Address]*big.Int
	unary   map[common.Address]int
	open    map[common.Address]int
	streams map[common.Address][]chan *big.Int // one per open stream
	// refuse makes MonitorMaxFloat fail at once, as a server without
	// streams does.
	refuse error
	// fail ends every open stream with this error when sent on.
	fail chan error
	// info answers SenderInfo; nil answers Unimplemented.
	info *pb.SenderInfoRes
}

func newFakeRedeemer() *fakeRedeemer {
	return &fakeRedeemer{
		floats: map[common.Address]*big.Int{}, unary: map[common.Address]int{}, open: map[common.Address]int{},
		streams: map[common.Address][]chan *big.Int{}, fail: make(chan error),
	}
}

func (f *fakeRedeemer) QueueTicket(ctx context.Context, t *pb.Ticket) (*pb.QueueTicketRes, error) {
	if len(t.GetSender()) != 20 {
		return nil, status.Error(codes.InvalidArgument, "sender")
	}
	return &pb.QueueTicketRes{}, nil
}

func (f *fakeRedeemer) MaxFloat(ctx context.Context, m *pb.MaxFloatReq) (*pb.MaxFloatUpdate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := common.BytesToAddress(m.GetSender())
	f.unary[a]++
	return &pb.MaxFloatUpdate{MaxFloat: f.value(a).Bytes()}, nil
}

func (f *fakeRedeemer) value(a common.Address) *big.Int {
	if v := f.floats[a]; v != nil {
		return v
	}
	return new(big.Int)
}

func (f *fakeRedeemer) MonitorMaxFloat(m *pb.MaxFloatReq, stream pb.TicketRedeemer_MonitorMaxFloatServer) error {
	a := common.BytesToAddress(m.GetSender())
	f.mu.Lock()
	if f.refuse != nil {
		f.mu.Unlock()
		return f.refuse
	}
	updates := make(chan *big.Int, 16)
	updates <- f.value(a)
	f.open[a]++
	f.streams[a] = append(f.streams[a], updates)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.open[a]--
		for i, u := range f.streams[a] {
			if u == updates {
				f.streams[a] = append(f.streams[a][:i], f.streams[a][i+1:]...)
				break
			}
		}
		f.mu.Unlock()
	}()
	for {
		select {
		case v := <-updates:
			if err := stream.Send(&pb.MaxFloatUpdate{MaxFloat: v.Bytes()}); err != nil {
				return err
			}
		case err := <-f.fail:
			return err
		case <-stream.Context().Done():
			return nil
		}
	}
}

// set changes a float and pushes it to the sender's streams.
func (f *fakeRedeemer) set(a common.Address, v int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.floats[a] = big.NewInt(v)
	for _, u := range f.streams[a] {
		u <- big.NewInt(v)
	}
}

func (f *fakeRedeemer) counts(a common.Address) (unary, open int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.unary[a], f.open[a]
}

// startFake serves f on a loopback port and returns a connection to it.
func startFake(t testing.TB, f *fakeRedeemer) *grpc.ClientConn {
	t.Helper()
	srv := grpc.NewServer()
	pb.RegisterTicketRedeemerServer(srv, f)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// fakeClock moves only when the test advances it.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	armed   chan struct{} // poked whenever After is called
}

type waiter struct {
	at time.Time
	c  chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), armed: make(chan struct{}, 100)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), c: ch})
	c.armed <- struct{}{}
	return ch
}

// advance moves the clock and fires the timers that came due.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.c <- c.now
	}
	c.waiters = kept
}

// sweep advances the clock by d, which must cover the sweep interval, and
// waits until the client's sweeper has swept and re-armed its timer.
func (c *fakeClock) sweep(t *testing.T, d time.Duration) {
	t.Helper()
	for {
		select {
		case <-c.armed: // drop stale notes of earlier arms
			continue
		default:
		}
		break
	}
	c.advance(d)
	select {
	case <-c.armed:
	case <-time.After(5 * time.Second):
		t.Fatal("the sweeper did not run")
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func newClient(t *testing.T, f *fakeRedeemer, clock *fakeClock) *Client {
	t.Helper()
	c := New(startFake(t, f), Options{Clock: clock, IdleTimeout: 5 * time.Minute, SweepInterval: time.Minute})
	t.Cleanup(func() { c.Close() })
	// The sweeper arms its first timer right away.
	select {
	case <-clock.armed:
	case <-time.After(5 * time.Second):
		t.Fatal("the sweeper never armed its timer")
	}
	return c
}

func maxFloat(t *testing.T, c *Client, a common.Address) int64 {
	t.Helper()
	v, err := c.MaxFloat(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	return v.Int64()
}

func TestMaxFloatIsCachedAndUpdatedByTheStream(t *testing.T) {
	t.Parallel()
	f, clock := newFakeRedeemer(), newFakeClock()
	c := newClient(t, f, clock)
	a := common.Address{0xa}
	f.set(a, 100)

	if got := maxFloat(t, c, a); got != 100 {
		t.Fatalf("first MaxFloat = %d, want 100", got)
	}
	if unary, open := f.counts(a); unary != 1 || open != 1 {
		t.Fatalf("first call: %d unary calls and %d streams, want 1 and 1", unary, open)
	}
	f.set(a, 250)
	eventually(t, "the update to reach the cache", func() bool { return maxFloat(t, c, a) == 250 })
	if unary, open := f.counts(a); unary != 1 || open != 1 {
		t.Fatalf("cached calls reached the server: %d unary calls, %d streams", unary, open)
	}
	if c.Cached() != 1 {
		t.Fatalf("%d senders cached, want 1", c.Cached())
	}
}

func TestStreamErrorDropsTheEntry(t *testing.T) {
	t.Parallel()
	f, clock := newFakeRedeemer(), newFakeClock()
	c := newClient(t, f, clock)
	a := common.Address{0xa}
	f.set(a, 7)
	maxFloat(t, c, a)

	f.fail <- status.Error(codes.Unavailable, "server going away")
	eventually(t, "the entry to be dropped", func() bool { return c.Cached() == 0 })
	f.set(a, 8)
	if got := maxFloat(t, c, a); got != 8 {
		t.Fatalf("MaxFloat after the stream failed = %d, want a fresh 8", got)
	}
	if unary, _ := f.counts(a); unary != 2 {
		t.Fatalf("%d unary calls, want a second one after the drop", unary)
	}
}

func TestUnopenableStreamIsNotCached(t *testing.T) {
	t.Parallel()
	f, clock := newFakeRedeemer(), newFakeClock()
	f.refuse = status.Error(codes.Unimplemented, "no streams here")
	c := newClient(t, f, clock)
	a := common.Address{0xa}
	f.set(a, 5)
	if got := maxFloat(t, c, a); got != 5 {
		t.Fatalf("MaxFloat = %d, want the unary 5", got)
	}
	if c.Cached() != 0 {
		t.Fatal("cached a sender whose stream did not open")
	}
	f.set(a, 6)
	if got := maxFloat(t, c, a); got != 6 {
		t.Fatalf("second MaxFloat = %d, want a fresh unary 6", got)
	}
	if unary, _ := f.counts(a); unary != 2 {
		t.Fatalf("%d unary calls, want 2", unary)
	}
}

func TestIdleEntriesAreDroppedAndTheirStreamsClosed(t *testing.T) {
	t.Parallel()
	f, clock := newFakeRedeemer(), newFakeClock()
	c := newClient(t, f, clock)
	a, b := common.Address{0xa}, common.Address{0xb}
	maxFloat(t, c, a)
	maxFloat(t, c, b)

	clock.sweep(t, 4*time.Minute)
	maxFloat(t, c, a) // a is read at 4m, b not since 0m
	clock.sweep(t, 2*time.Minute)
	if c.Cached() != 1 {
		t.Fatalf("%d senders cached at 6m, want only a", c.Cached())
	}
	eventually(t, "b's stream to close", func() bool { _, open := f.counts(b); return open == 0 })
	if _, open := f.counts(a); open != 1 {
		t.Fatalf("a's stream closed while a was in use")
	}
	clock.sweep(t, 4*time.Minute) // a last read 6m ago
	if c.Cached() != 0 {
		t.Fatalf("%d senders cached at 10m, want none", c.Cached())
	}
	eventually(t, "a's stream to close", func() bool { _, open := f.counts(a); return open == 0 })
	if unary, _ := f.counts(b); unary != 1 {
		t.Fatal("b was asked again without being read")
	}
	maxFloat(t, c, b)
	if unary, open := f.counts(b); unary != 2 || open != 1 {
		t.Fatalf("after the drop: %d unary calls, %d streams for b; want 2 and 1", unary, open)
	}
}

func TestCloseEndsStreams(t *testing.T) {
	t.Parallel()
	f, clock := newFakeRedeemer(), newFakeClock()
	c := newClient(t, f, clock)
	a := common.Address{0xa}
	maxFloat(t, c, a)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the stream to close", func() bool { _, open := f.counts(a); return open == 0 })
	if _, err := c.MaxFloat(context.Background(), a); err != ErrClosed {
		t.Fatalf("MaxFloat after Close: %v, want ErrClosed", err)
	}
	if err := c.QueueTicket(context.Background(), &pb.Ticket{}); err != ErrClosed {
		t.Fatalf("QueueTicket after Close: %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestQueueTicketPassesStatusThrough(t *testing.T) {
	t.Parallel()
	c := newClient(t, newFakeRedeemer(), newFakeClock())
	if err := c.QueueTicket(context.Background(), &pb.Ticket{Sender: make([]byte, 20)}); err != nil {
		t.Fatal(err)
	}
	if err := c.QueueTicket(context.Background(), &pb.Ticket{}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("QueueTicket of a bad ticket: %v, want InvalidArgument", err)
	}
}

func TestConcurrentFirstCallsOpenOneCachedStream(t *testing.T) {
	t.Parallel()
	f, clock := newFakeRedeemer(), newFakeClock()
	c := newClient(t, f, clock)
	a := common.Address{0xa}
	f.set(a, 42)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if v, err := c.MaxFloat(context.Background(), a); err != nil || v.Int64() != 42 {
				t.Errorf("MaxFloat = %v, %v", v, err)
			}
		})
	}
	wg.Wait()
	eventually(t, "extra streams to close", func() bool { _, open := f.counts(a); return open == 1 })
	if c.Cached() != 1 {
		t.Fatalf("%d senders cached, want 1", c.Cached())
	}
}

func TestCacheRecoversAfterServerRestart(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	serve := func(f *fakeRedeemer, lis net.Listener) *grpc.Server {
		srv := grpc.NewServer()
		pb.RegisterTicketRedeemerServer(srv, f)
		go srv.Serve(lis)
		t.Cleanup(srv.Stop)
		return srv
	}
	first := newFakeRedeemer()
	srv := serve(first, lis)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := New(conn, Options{})
	t.Cleanup(func() { c.Close() })

	a := common.Address{0xa}
	first.set(a, 7)
	if got := maxFloat(t, c, a); got != 7 || c.Cached() != 1 {
		t.Fatalf("MaxFloat = %d with %d cached, want 7 cached", got, c.Cached())
	}

	// The stream ends with the server, which drops the entry: a stale
	// value must not outlive the stream that kept it current.
	srv.Stop()
	eventually(t, "the entry to be dropped", func() bool { return c.Cached() == 0 })

	lis, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	second := newFakeRedeemer()
	second.set(a, 9)
	serve(second, lis)

	// The connection reconnects with backoff; until then calls fail fast
	// with Unavailable, as they would for any orchestrator.
	var got *big.Int
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got, err = c.MaxFloat(context.Background(), a)
		if err == nil && c.Cached() == 1 {
			break
		}
		if err != nil && status.Code(err) != codes.Unavailable {
			t.Fatalf("MaxFloat after the restart: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no cached MaxFloat after the restart: %v, %v (%d cached)", got, err, c.Cached())
		}
	}
	if got.Int64() != 9 {
		t.Fatalf("MaxFloat after the restart = %s, want the new server's 9", got)
	}
	if _, open := second.counts(a); open != 1 {
		t.Fatalf("%d streams open on the new server, want 1", open)
	}
	second.set(a, 10)
	eventually(t, "the re-opened stream to update the cache", func() bool {
		v, err := c.MaxFloat(context.Background(), a)
		return err == nil && v.Int64() == 10
	})
}

func (f *fakeRedeemer) SenderInfo(ctx context.Context, m *pb.MaxFloatReq) (*pb.SenderInfoRes, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.info == nil {
		return nil, status.Error(codes.Unimplemented, "no sender info")
	}
	return f.info, nil
}

func TestValidateSender(t *testing.T) {
	t.Parallel()
	f, clock := newFakeRedeemer(), newFakeClock()
	c := newClient(t, f, clock)
	a := common.Address{0xa}
	if err := c.ValidateSender(context.Background(), a); status.Code(err) != codes.Unimplemented ||
		errors.Is(err, ErrSenderWithdrawing) {
		t.Fatalf("ValidateSender against a server without SenderInfo: %v, want Unimplemented", err)
	}
	for _, tc := range []struct {
		withdrawRound   []byte
		lastInitialized int64
		wantWithdrawing bool
	}{
		{nil, 10, false},             // not unlocking
		{[]byte{12}, 10, false},      // the unlock ends after the next round
		{[]byte{11}, 10, true},       // ends with the next round
		{[]byte{10}, 10, true},       // already over
		{[]byte{1, 0, 0}, 10, false}, // big-endian: 65536
	} {
		f.mu.Lock()
		f.info = &pb.SenderInfoRes{Deposit: []byte{1}, WithdrawRound: tc.withdrawRound,
			LastInitializedRound: tc.lastInitialized, CurrentRound: tc.lastInitialized}
		f.mu.Unlock()
		err := c.ValidateSender(context.Background(), a)
		if got := errors.Is(err, ErrSenderWithdrawing); got != tc.wantWithdrawing || (!got && err != nil) {
			t.Errorf("withdraw round %x, last initialized %d: %v, want withdrawing %v",
				tc.withdrawRound, tc.lastInitialized, err, tc.wantWithdrawing)
		}
	}
	info, err := c.SenderInfo(context.Background(), a)
	if err != nil || info.Deposit.Int64() != 1 || info.WithdrawRound.Int64() != 65536 || info.MaxFloat.Sign() != 0 {
		t.Fatalf("SenderInfo = %+v, %v", info, err)
	}
}
