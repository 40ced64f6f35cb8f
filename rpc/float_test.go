package rpc

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/chain/nodeproxy"
	"redeemer/monitor"
	"redeemer/monitor/monitortest"
	"redeemer/pipeline"
	"redeemer/rpc/client"
	"redeemer/rpc/pb"
	"redeemer/store"
	"redeemer/store/storetest"
)

// floatReplica is one service process: its own pool, monitor, hub, float
// service, intake and gRPC server, sharing the database and chain with the
// others.
type floatReplica struct {
	st      *store.Store
	mon     *monitor.Monitor
	hub     *monitor.Hub
	floats  *FloatService
	svc     *Server
	client  pb.TicketRedeemerClient
	addr    string
	tls     bool
	stopHub context.CancelFunc
}

type floatEnv struct {
	t        *testing.T
	ctx      context.Context
	c        *testChain
	replicas []*floatReplica
	// lead stores chain state when the test does the leader's work itself
	// (floatEnvOpts.manual); otherwise a pipeline follows the chain.
	lead *leader
	// proxy counts the node calls of the replicas (floatEnvOpts.proxied).
	proxy *nodeproxy.Proxy
}

type floatEnvOpts struct {
	chain    devchain.Options
	replicas int
	floats   FloatOptions
	hub      monitor.HubOptions
	// intake sets the exposure cap, the refusal budget and the timeouts
	// of every replica's intake (zero values: the defaults).
	intake Config
	// manual leaves the leader's work to the test (floatEnv.lead: one run
	// of the senders stage at a time) instead of a pipeline following the
	// chain.
	manual bool
	// proxied puts a counting proxy between the replicas and the node.
	proxied bool
	// tls serves over TLS, as go-livepeer's client dials; otherwise
	// plaintext on loopback.
	tls bool
	// senders, when set, wraps what intake asks about senders (to count
	// the asking).
	senders func(Senders) Senders
}

// newFloatEnv starts the replicas on one database. The first one's store
// is the leader's: a pipeline with the senders and reread stages follows
// the chain (or, with manual, the test runs the senders stage).
func newFloatEnv(t *testing.T, o floatEnvOpts) *floatEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	e := &floatEnv{t: t, ctx: ctx, c: newTestChain(t, o.chain)}
	node := e.c.node
	if o.proxied {
		e.proxy, node = e.c.proxied(t)
	}
	dsn := storetest.New(t)
	for range max(o.replicas, 1) {
		e.replicas = append(e.replicas, e.newReplica(dsn, node, o))
	}
	if o.manual {
		e.lead = newLeader(t, e.c, e.replicas[0].st)
		e.lead.start()
	} else {
		e.follow(e.replicas[0])
	}
	return e
}

// follow runs the leader's chain-following stages on r's database until
// the test ends, and waits until the senders stage has stored its first
// reading, so that every later block is followed.
func (e *floatEnv) follow(r *floatReplica) {
	e.t.Helper()
	cfg := monitor.StageConfig{Recipient: e.c.Recipient().Address, Contracts: e.c.Addresses(), Logger: quietLogger()}
	signals := monitor.Signals{Round: pipeline.NewSignal(), Reread: pipeline.NewSignal(), Reorg: pipeline.NewSignal()}
	reread, err := monitor.NewRereadStage(cfg, r.st, e.c.node)
	if err != nil {
		e.t.Fatal(err)
	}
	senders, err := monitor.NewSenderStage(cfg, r.st, e.c.node, signals, reread)
	if err != nil {
		e.t.Fatal(err)
	}
	retry := chain.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond}
	p, err := pipeline.New(pipeline.Config{Store: r.st, Heads: e.c.node, PollInterval: 20 * time.Millisecond,
		Stages: []pipeline.Spec{
			{Stage: senders, OnTip: true, Timeout: 10 * time.Second, Backoff: retry},
			{Stage: reread, OnTip: true, Wake: []*pipeline.Signal{signals.Reread, signals.Round},
				Timeout: 10 * time.Second, Backoff: retry},
		}, Logger: quietLogger()})
	if err != nil {
		e.t.Fatal(err)
	}
	lease, err := pipeline.NewTestLease(e.ctx, r.st, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, stop := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- p.RunTerm(ctx, lease) }()
	e.t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			e.t.Errorf("pipeline: %v", err)
		}
	})
	waitUntil(e.t, 10*time.Second, "the senders stage to store its first reading", func() bool {
		c, err := r.st.Q().StageCursor(e.ctx, "senders")
		return err == nil && c != nil
	})
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newReplica builds one service process on dsn, reaching the chain through
// node, wired as the service wires it: the hub's change announcements drop
// what the monitor and intake cached.
func (e *floatEnv) newReplica(dsn string, node *chain.Node, o floatEnvOpts) *floatReplica {
	t := e.t
	t.Helper()
	st, err := store.Open(e.ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	recipient := e.c.Recipient().Address
	mon, err := monitor.New(monitor.Config{Recipient: recipient, Contracts: e.c.Addresses(), Logger: quietLogger()},
		st, node)
	if err != nil {
		t.Fatal(err)
	}
	var intake atomic.Pointer[Server]
	hopts := o.hub
	hopts.Logger = quietLogger()
	hopts.OnChange = func(sender [20]byte, all bool) {
		if !all {
			mon.Forget(sender)
		}
		if s := intake.Load(); s != nil {
			s.Changed(sender, all)
		}
	}
	hub := monitor.NewHub(st, hopts)
	hubCtx, stopHub := context.WithCancel(e.ctx)
	hubDone := make(chan struct{})
	go func() {
		defer close(hubDone)
		hub.Run(hubCtx)
	}()
	fopts := o.floats
	fopts.Logger = quietLogger()
	floats, err := NewFloatService(mon, hub, fopts)
	if err != nil {
		t.Fatal(err)
	}
	cfg := o.intake
	cfg.Recipient, cfg.Contracts, cfg.Store, cfg.Node, cfg.Senders, cfg.Floats, cfg.Logger =
		recipient, e.c.Addresses(), st, node, mon, floats, quietLogger()
	if o.senders != nil {
		cfg.Senders = o.senders(mon)
	}
	svc, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	intake.Store(svc)
	tc := TLSConfig{Plaintext: true}
	if o.tls {
		tc = TLSConfig{DataDir: t.TempDir()}
	}
	addr := serveOnLoopback(t, svc, tc)
	// Registered after the server's stop, so it runs first: the hub ends
	// before the server does.
	t.Cleanup(func() { stopHub(); <-hubDone })
	r := &floatReplica{st: st, mon: mon, hub: hub, floats: floats, svc: svc, addr: addr, tls: o.tls, stopHub: stopHub}
	r.client = e.dial(r)
	return r
}

// dial opens a new client connection to r.
func (e *floatEnv) dial(r *floatReplica) pb.TicketRedeemerClient {
	e.t.Helper()
	return e.clientFrom(r, "127.0.0.1")
}

// clientFrom opens a new client connection to r from the loopback address
// local: the server tells clients apart by address.
func (e *floatEnv) clientFrom(r *floatReplica, local string) pb.TicketRedeemerClient {
	e.t.Helper()
	return clientFrom(e.t, r.addr, local, r.dialCreds())
}

// dialCreds are the credentials r's server wants: TLS without verifying
// the server, as go-livepeer's client dials, or none.
func (r *floatReplica) dialCreds() grpc.DialOption {
	if r.tls {
		return grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true}))
	}
	return grpc.WithTransportCredentials(insecure.NewCredentials())
}

// floatStream is an open MonitorMaxFloat call whose updates a goroutine
// collects.
type floatStream struct {
	t      *testing.T
	values chan *big.Int
	end    chan error
	cancel context.CancelFunc
	last   *big.Int
}

func (e *floatEnv) stream(client pb.TicketRedeemerClient, sender common.Address) *floatStream {
	e.t.Helper()
	ctx, cancel := context.WithCancel(e.ctx)
	e.t.Cleanup(cancel)
	st, err := client.MonitorMaxFloat(ctx, &pb.MaxFloatReq{Sender: sender.Bytes()})
	if err != nil {
		e.t.Fatal(err)
	}
	s := &floatStream{t: e.t, values: make(chan *big.Int, 1000), end: make(chan error, 1), cancel: cancel}
	go func() {
		for {
			m, err := st.Recv()
			if err != nil {
				s.end <- err
				return
			}
			s.values <- new(big.Int).SetBytes(m.GetMaxFloat())
		}
	}()
	return s
}

// expect waits up to within for the stream to carry want; values on the
// way are skipped.
func (s *floatStream) expect(what string, want *big.Int, within time.Duration) {
	s.t.Helper()
	deadline := time.After(within)
	for {
		if s.last != nil && s.last.Cmp(want) == 0 {
			return
		}
		select {
		case v := <-s.values:
			s.last = v
		case err := <-s.end:
			s.t.Fatalf("%s: stream ended with %v while waiting for %s", what, err, want)
		case <-deadline:
			s.t.Fatalf("%s: stream shows %v after %v, want %s", what, s.last, within, want)
		}
	}
}

// wantFloat computes the float from the chain's own answers and the
// in-limbo amount, as it must reach the wire.
func (e *floatEnv) wantFloat(sender common.Address, inLimbo *big.Int) *big.Int {
	e.t.Helper()
	p := e.c.Protocol()
	alloc, err := p.ClaimableReserve(e.ctx, sender, e.c.Recipient().Address)
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := p.SenderInfo(e.ctx, sender)
	if err != nil {
		e.t.Fatal(err)
	}
	v := new(big.Int).Set(alloc)
	if inLimbo.Sign() > 0 && new(big.Int).Quo(info.Deposit, inLimbo).Cmp(big.NewInt(3)) < 0 {
		v.Sub(v, inLimbo)
	}
	return new(big.Int).SetBytes(WireFloat(v))
}

const within = time.Second

func TestStreamFollowsEveryFloatChange(t *testing.T) {
	t.Parallel()
	e := newFloatEnv(t, floatEnvOpts{chain: devchain.Options{RoundLength: 8, UnlockPeriod: 1}})
	r := e.replicas[0]
	s0, s1 := e.c.Senders()[0], e.c.Senders()[1]
	recipient := e.c.Recipient().Address
	zero := new(big.Int)

	a := e.stream(r.client, s0.Address)
	b := e.stream(r.client, s1.Address)
	a.expect("first value", e.wantFloat(s0.Address, zero), within)
	b.expect("first value", e.wantFloat(s1.Address, zero), within)

	e.c.FundReserve(s0, monitortest.Ether(4))
	a.expect("reserve funded", e.wantFloat(s0.Address, zero), within)

	// A ticket worth more than a third of the deposit (10 ETH) enters
	// limbo: the float drops by its face value.
	face := monitortest.Ether(4)
	claimed := monitortest.Claim(t, e.ctx, r.st, monitortest.InsertTicket(t, e.ctx, r.st, s0.Address, recipient, face))
	a.expect("ticket claimed", e.wantFloat(s0.Address, face), within)
	monitortest.Settle(t, e.ctx, r.st, claimed)
	a.expect("ticket settled", e.wantFloat(s0.Address, zero), within)

	// In limbo again; then the deposit grows to three times the face value
	// and the limbo no longer counts.
	monitortest.Claim(t, e.ctx, r.st, monitortest.InsertTicket(t, e.ctx, r.st, s0.Address, recipient, face))
	a.expect("second ticket claimed", e.wantFloat(s0.Address, face), within)
	e.c.FundDeposit(s0, monitortest.Ether(2))
	a.expect("deposit funded", e.wantFloat(s0.Address, face), within)
	if a.last.Cmp(e.wantFloat(s0.Address, zero)) != 0 {
		t.Fatalf("with deposit 12 ETH and 4 ETH in limbo the float is %s, want the whole allocation", a.last)
	}

	// A new round with another pool size changes every sender's float.
	before0, before1 := a.last, b.last
	e.c.SetPoolSize(3)
	if _, err := e.c.AdvanceRound(e.ctx); err != nil {
		t.Fatal(err)
	}
	a.expect("new round, pool of 3", e.wantFloat(s0.Address, face), within)
	b.expect("new round, pool of 3", e.wantFloat(s1.Address, zero), within)
	if a.last.Cmp(before0) == 0 || b.last.Cmp(before1) == 0 {
		t.Fatalf("floats did not change with the pool size: %s → %s, %s → %s", before0, a.last, before1, b.last)
	}

	// Sender 1 unlocks and withdraws everything: its float goes to zero.
	if err := e.c.Unlock(s1); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.AdvanceRound(e.ctx); err != nil {
		t.Fatal(err)
	}
	b.expect("unlocked", e.wantFloat(s1.Address, zero), within)
	if err := e.c.Withdraw(s1); err != nil {
		t.Fatal(err)
	}
	b.expect("withdrawn", zero, within)
}

func TestStreamUndoesReorgedReserveFunding(t *testing.T) {
	t.Parallel()
	e := newFloatEnv(t, floatEnvOpts{})
	s0 := e.c.Senders()[0]
	zero := new(big.Int)
	a := e.stream(e.replicas[0].client, s0.Address)
	before := e.wantFloat(s0.Address, zero)
	a.expect("first value", before, within)

	forkPoint := e.c.Head()
	e.c.FundReserve(s0, monitortest.Ether(6))
	funded := e.wantFloat(s0.Address, zero)
	a.expect("reserve funded", funded, within)

	// A longer branch without the funding replaces its block.
	if err := e.c.Backend().Fork(forkPoint.Hash); err != nil {
		t.Fatal(err)
	}
	e.c.Backend().Rollback() // keep the funding out of the new branch
	for range 3 {
		e.c.Commit()
	}
	if got := e.wantFloat(s0.Address, zero); got.Cmp(before) != 0 {
		t.Fatalf("the new branch still has the funding: float %s, want %s", got, before)
	}
	a.expect("funding reorged away", before, within)
}

func TestChangeThroughOneReplicaReachesAnother(t *testing.T) {
	t.Parallel()
	e := newFloatEnv(t, floatEnvOpts{replicas: 2})
	leader, follower := e.replicas[0], e.replicas[1]
	s0 := e.c.Senders()[0]
	zero := new(big.Int)

	// The follower tracks the sender itself (it reads the chain once).
	a := e.stream(follower.client, s0.Address)
	a.expect("first value on the follower", e.wantFloat(s0.Address, zero), within)

	// The leader's monitor stores the funding; the follower's hub hears it.
	e.c.FundReserve(s0, monitortest.Ether(3))
	a.expect("reserve funded, seen by the leader", e.wantFloat(s0.Address, zero), within)

	// A claim committed through the leader's pool.
	face := monitortest.Ether(8)
	monitortest.Claim(t, e.ctx, leader.st, monitortest.InsertTicket(t, e.ctx, leader.st, s0.Address, e.c.Recipient().Address, face))
	a.expect("claim through the leader", e.wantFloat(s0.Address, face), within)

	// And the unary call on the follower agrees.
	res, err := follower.client.MaxFloat(e.ctx, &pb.MaxFloatReq{Sender: s0.Address.Bytes()})
	if err != nil {
		t.Fatal(err)
	}
	if got := new(big.Int).SetBytes(res.GetMaxFloat()); got.Cmp(a.last) != 0 {
		t.Fatalf("unary MaxFloat on the follower = %s, stream = %s", got, a.last)
	}

	// The Go client's cache follows the follower's stream.
	c, err := client.Dial(follower.addr, client.Options{}, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := c.MaxFloat(e.ctx, s0.Address); err != nil || got.Cmp(a.last) != 0 {
		t.Fatalf("client MaxFloat = %v, %v; want %s", got, err, a.last)
	}
	e.c.FundReserve(s0, monitortest.Ether(3))
	want := e.wantFloat(s0.Address, face)
	waitFor(t, "the client's cache to follow", func() bool {
		got, err := c.MaxFloat(e.ctx, s0.Address)
		return err == nil && got.Cmp(want) == 0
	})
	if c.Cached() != 1 {
		t.Fatalf("client caches %d senders, want 1", c.Cached())
	}
}

func TestStreamRecoversChangesMissedWhileListenerWasDown(t *testing.T) {
	t.Parallel()
	// The listener waits 700ms before reconnecting, so the change below
	// certainly commits while nobody listens.
	e := newFloatEnv(t, floatEnvOpts{hub: monitor.HubOptions{Listen: store.ListenOptions{MinBackoff: 700 * time.Millisecond}}})
	r := e.replicas[0]
	s0 := e.c.Senders()[0]
	a := e.stream(r.client, s0.Address)
	a.expect("first value", e.wantFloat(s0.Address, new(big.Int)), within)

	monitortest.TerminateListeners(t, e.ctx, r.st)
	face := monitortest.Ether(5)
	monitortest.Claim(t, e.ctx, r.st, monitortest.InsertTicket(t, e.ctx, r.st, s0.Address, e.c.Recipient().Address, face))
	a.expect("claim during the outage", e.wantFloat(s0.Address, face), 700*time.Millisecond+within)
}

func TestStreamLimitsAndCleanup(t *testing.T) {
	t.Parallel()
	e := newFloatEnv(t, floatEnvOpts{floats: FloatOptions{MaxStreams: 3, MaxStreamsPerConn: 2}})
	r := e.replicas[0]
	s0, s1 := e.c.Senders()[0].Address, e.c.Senders()[1].Address
	want0 := e.wantFloat(s0, new(big.Int))

	conn1, conn2 := r.client, e.dial(r)
	a := e.stream(conn1, s0)
	b := e.stream(conn1, s1)
	a.expect("first stream", want0, within)
	b.expect("second stream", e.wantFloat(s1, new(big.Int)), within)

	expectEnd := func(s *floatStream, code codes.Code) {
		t.Helper()
		select {
		case err := <-s.end:
			if errors.Is(err, io.EOF) {
				err = nil // the server ended the stream with OK
			}
			if status.Code(err) != code {
				t.Fatalf("stream ended with %v, want %s", err, code)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("stream did not end with %s", code)
		}
	}
	expectEnd(e.stream(conn1, s0), codes.ResourceExhausted) // third on one connection
	c := e.stream(conn2, s0)
	c.expect("another connection", want0, within)
	expectEnd(e.stream(conn2, s1), codes.ResourceExhausted) // fourth in the process

	// A client that leaves frees its stream and its subscription.
	a.cancel()
	waitFor(t, "the stream to be freed", func() bool { return r.floats.Streams() == 2 && r.hub.Subscribers() == 2 })
	d := e.stream(conn1, s0)
	d.expect("stream after one left", want0, within)

	// Bad requests.
	bad := e.stream(conn2, common.Address{})
	expectEnd(bad, codes.InvalidArgument)
	if _, err := r.client.MaxFloat(e.ctx, &pb.MaxFloatReq{Sender: make([]byte, 19)}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("MaxFloat with a 19-byte sender: %v, want InvalidArgument", err)
	}

	// Server stop: the hub stops and every stream ends cleanly.
	r.stopHub()
	for _, s := range []*floatStream{b, c, d} {
		expectEnd(s, codes.OK)
	}
	waitFor(t, "every stream to be freed", func() bool { return r.floats.Streams() == 0 && r.hub.Subscribers() == 0 })
	expectEnd(e.stream(conn1, s0), codes.Unavailable)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestUnaryMaxFloatOfUnknownSender: a sender nobody tracks is answered
// from a chain read, and asking does not make the service follow it; a
// stream does.
func TestUnaryMaxFloatOfUnknownSender(t *testing.T) {
	t.Parallel()
	e := newFloatEnv(t, floatEnvOpts{chain: devchain.Options{Senders: 3}})
	r := e.replicas[0]
	s2 := e.c.Senders()[2].Address
	tracked := func() bool {
		t.Helper()
		fs, err := r.st.FloatState(e.ctx, s2)
		if err != nil {
			t.Fatal(err)
		}
		return fs.State != nil
	}
	if tracked() {
		t.Fatal("sender tracked before anyone asked")
	}
	want := e.wantFloat(s2, new(big.Int))
	for range 2 {
		res, err := r.client.MaxFloat(e.ctx, &pb.MaxFloatReq{Sender: s2.Bytes()})
		if err != nil {
			t.Fatal(err)
		}
		if got := new(big.Int).SetBytes(res.GetMaxFloat()); got.Cmp(want) != 0 || want.Sign() == 0 {
			t.Fatalf("MaxFloat = %s, want %s", got, want)
		}
	}
	if tracked() {
		t.Fatal("a unary MaxFloat made the service track the sender")
	}
	e.stream(r.client, s2).expect("stream of the unknown sender", want, within)
	if !tracked() {
		t.Fatal("MonitorMaxFloat did not make the service track the sender")
	}
}

func TestMaxFloatUnimplementedWithoutFloats(t *testing.T) {
	t.Parallel()
	svc, err := NewServer(Config{Recipient: common.Address{1}, Store: nilStore{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.MaxFloat(context.Background(), &pb.MaxFloatReq{Sender: make([]byte, 20)}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("MaxFloat without floats: %v, want Unimplemented", err)
	}
	if err := svc.MonitorMaxFloat(&pb.MaxFloatReq{}, nil); status.Code(err) != codes.Unimplemented {
		t.Fatalf("MonitorMaxFloat without floats: %v, want Unimplemented", err)
	}
	if _, err := svc.SenderInfo(context.Background(), &pb.MaxFloatReq{Sender: make([]byte, 20)}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("SenderInfo without floats: %v, want Unimplemented", err)
	}
}

// nilStore stands in for a store no call reaches.
type nilStore struct{ IntakeStore }

func TestWireFloat(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   *big.Int
		want []byte
	}{
		{nil, []byte{}},
		{big.NewInt(0), []byte{}},
		{big.NewInt(-5), []byte{}},
		{big.NewInt(1), []byte{1}},
		{big.NewInt(0x0100), []byte{1, 0}},
	} {
		if got := WireFloat(c.in); string(got) != string(c.want) {
			t.Errorf("WireFloat(%v) = %x, want %x", c.in, got, c.want)
		}
	}
}

// chainSenderInfo is what SenderInfo must report, read from the contracts.
func (e *floatEnv) chainSenderInfo(sender common.Address) client.SenderInfo {
	e.t.Helper()
	p := e.c.Protocol()
	info, err := p.SenderInfo(e.ctx, sender)
	if err != nil {
		e.t.Fatal(err)
	}
	claimedBy, err := p.ClaimedReserve(e.ctx, sender, e.c.Recipient().Address)
	if err != nil {
		e.t.Fatal(err)
	}
	cur, err := p.CurrentRound(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	lir, err := p.LastInitializedRound(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return client.SenderInfo{
		Deposit: info.Deposit, WithdrawRound: info.WithdrawRound, ReserveFundsRemaining: info.FundsRemaining,
		ReserveClaimedInCurrentRound: info.ClaimedInCurrentRound, ClaimedByRecipient: claimedBy,
		LastInitializedRound: lir.Int64(), CurrentRound: cur.Int64(), MaxFloat: e.wantFloat(sender, new(big.Int)),
	}
}

func sameSenderInfo(a, b client.SenderInfo) bool {
	for _, p := range [][2]*big.Int{
		{a.Deposit, b.Deposit}, {a.WithdrawRound, b.WithdrawRound}, {a.ReserveFundsRemaining, b.ReserveFundsRemaining},
		{a.ReserveClaimedInCurrentRound, b.ReserveClaimedInCurrentRound}, {a.ClaimedByRecipient, b.ClaimedByRecipient},
		{a.MaxFloat, b.MaxFloat},
	} {
		if p[0].Cmp(p[1]) != 0 {
			return false
		}
	}
	return a.LastInitializedRound == b.LastInitializedRound && a.CurrentRound == b.CurrentRound
}

func (e *floatEnv) goClient(r *floatReplica) *client.Client {
	e.t.Helper()
	c, err := client.Dial(r.addr, client.Options{}, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// expectSenderInfo waits for the service to report what the chain holds:
// the monitor stores a change a poll after it is mined.
func (e *floatEnv) expectSenderInfo(c *client.Client, sender common.Address, what string) client.SenderInfo {
	e.t.Helper()
	want := e.chainSenderInfo(sender)
	var got client.SenderInfo
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if got, err = c.SenderInfo(e.ctx, sender); err == nil && sameSenderInfo(got, want) {
			return got
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: SenderInfo = %+v, %v; want %+v", what, got, err, want)
		}
	}
}

func TestSenderInfoMatchesChain(t *testing.T) {
	t.Parallel()
	e := newFloatEnv(t, floatEnvOpts{chain: devchain.Options{Senders: 3}})
	r := e.replicas[0]
	c := e.goClient(r)
	s0, s2 := e.c.Senders()[0], e.c.Senders()[2].Address

	// An orchestrator that takes the sender's tickets follows its float:
	// the service then follows the sender's changes.
	e.stream(r.client, s0.Address).expect("first value", e.wantFloat(s0.Address, new(big.Int)), within)
	e.expectSenderInfo(c, s0.Address, "funded sender")

	// A ticket larger than the deposit draws the deposit, then the
	// reserve: every claim field becomes non-zero.
	e.c.InitializeRound()
	if err := e.c.Redeem(s0, e.c.Recipient().Address, monitortest.Ether(12)); err != nil {
		t.Fatal(err)
	}
	got := e.expectSenderInfo(c, s0.Address, "after a redemption from the reserve")
	if got.Deposit.Sign() != 0 || got.ClaimedByRecipient.Sign() == 0 || got.ReserveClaimedInCurrentRound.Sign() == 0 {
		t.Fatalf("the redemption did not reach the reserve: %+v", got)
	}

	// A sender nobody asked about is read from chain, and not followed
	// for being asked about.
	if fs, err := r.st.FloatState(e.ctx, s2); err != nil || fs.State != nil {
		t.Fatalf("sender tracked before anyone asked: %+v, %v", fs.State, err)
	}
	e.expectSenderInfo(c, s2, "unknown sender")
	if fs, err := r.st.FloatState(e.ctx, s2); err != nil || fs.State != nil {
		t.Fatalf("SenderInfo made the service track the sender: %+v, %v", fs.State, err)
	}

	if _, err := r.client.SenderInfo(e.ctx, &pb.MaxFloatReq{Sender: make([]byte, 19)}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("SenderInfo with a 19-byte sender: %v, want InvalidArgument", err)
	}
}

func TestValidateSenderRefusesUnlockingSender(t *testing.T) {
	t.Parallel()
	// With an unlock period of 1 an unlock started in an initialized round
	// ends with the next one: the sender is about to withdraw at once.
	e := newFloatEnv(t, floatEnvOpts{chain: devchain.Options{UnlockPeriod: 1}})
	c := e.goClient(e.replicas[0])
	s0, s1 := e.c.Senders()[0], e.c.Senders()[1]
	e.c.InitializeRound()
	for _, s := range []devchain.Account{s0, s1} {
		// Followed, as an orchestrator taking its tickets follows it.
		e.stream(e.replicas[0].client, s.Address).expect("first value", e.wantFloat(s.Address, new(big.Int)), within)
		if err := c.ValidateSender(e.ctx, s.Address); err != nil {
			t.Fatalf("ValidateSender(%s) before any unlock: %v", s.Address, err)
		}
	}

	if err := e.c.Unlock(s1); err != nil {
		t.Fatal(err)
	}
	info := e.expectSenderInfo(c, s1.Address, "after the unlock")
	if info.WithdrawRound.Sign() == 0 || info.WithdrawRound.Int64() > info.LastInitializedRound+1 {
		t.Fatalf("the chain does not put the unlock within a round: %+v", info)
	}
	if err := c.ValidateSender(e.ctx, s1.Address); !errors.Is(err, client.ErrSenderWithdrawing) {
		t.Fatalf("ValidateSender of the unlocking sender: %v, want ErrSenderWithdrawing", err)
	}
	if err := c.ValidateSender(e.ctx, s0.Address); err != nil {
		t.Fatalf("ValidateSender of the other sender: %v", err)
	}

	// Cancelling the unlock makes the sender acceptable again.
	if err := e.c.CancelUnlock(s1); err != nil {
		t.Fatal(err)
	}
	e.expectSenderInfo(c, s1.Address, "after cancelling the unlock")
	if err := c.ValidateSender(e.ctx, s1.Address); err != nil {
		t.Fatalf("ValidateSender after the unlock was cancelled: %v", err)
	}
}
