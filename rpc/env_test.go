package rpc

import (
	"context"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/chain/nodeproxy"
	"redeemer/monitor"
	"redeemer/monitor/monitortest"
	"redeemer/pipeline"
	"redeemer/rpc/pb"
	"redeemer/store"
)

// This file holds the environment the intake and float tests share: the
// dev chain served over JSON-RPC as a node, optionally behind a proxy that
// counts every call, and a leader that stores chain state the way the
// service's leader does.

// testChain is the dev chain as a node the service reaches over HTTP.
type testChain struct {
	*monitortest.Chain
	// node talks to the dev chain directly; what the leader and the tests
	// read through it is not counted by any proxy.
	node *chain.Node
}

func newTestChain(t testing.TB, opts devchain.Options) *testChain {
	t.Helper()
	opts.RPCAddr = "127.0.0.1:0"
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	c := monitortest.NewChain(t, opts)
	return &testChain{Chain: c, node: dialNode(t, c.RPCURL())}
}

func dialNode(t testing.TB, url string) *chain.Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := chain.DialNode(ctx, url, nil, chain.NodeOptions{CallTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return n
}

// proxied returns a node reached through a proxy that counts every
// JSON-RPC call sent to the dev chain.
func (c *testChain) proxied(t testing.TB) (*nodeproxy.Proxy, *chain.Node) {
	t.Helper()
	p, err := nodeproxy.NewURL(c.RPCURL(), nodeproxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	url, err := p.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, dialNode(t, url)
}

// round returns the chain's current round and its block hash.
func (c *testChain) round(t testing.TB) (int64, common.Hash) {
	t.Helper()
	ctx := context.Background()
	r, err := c.Protocol().CurrentRound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.Protocol().BlockHashForRound(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	return r.Int64(), h
}

// window returns the expiration blocks a ticket created in round may
// carry: [start, end).
func (c *testChain) window(t testing.TB, round int64) (start, end int64) {
	t.Helper()
	p, err := c.node.ReadProtocol(context.Background(), c.Addresses(), nil, c.Recipient().Address)
	if err != nil {
		t.Fatal(err)
	}
	length := p.RoundLength.Int64()
	var first int64
	if p.RoundStartL1 != nil {
		first = p.RoundStartL1.Int64() - (p.CurrentRound.Int64()-round)*length
	} else {
		first = devRoundStart(round, p.RoundLength).Int64()
	}
	return first, first + p.TicketValidityPeriod.Int64()*length
}

var nonceSeq atomic.Uint32

// ticket signs a winning ticket from account from (or from the account
// mutate names as the sender) to the recipient, created in the current
// round, with an expiration block in the middle of its window; mutate
// changes its fields before signing.
func (c *testChain) ticket(t testing.TB, from devchain.Account, faceValue *big.Int, mutate func(*chain.Ticket)) (*pb.Ticket, common.Hash) {
	t.Helper()
	round, bh := c.round(t)
	start, end := c.window(t, round)
	tk := chain.Ticket{
		Recipient:              c.Recipient().Address,
		FaceValue:              faceValue,
		WinProb:                chain.MaxWinProb,
		SenderNonce:            uint32(time.Now().UnixNano()) + nonceSeq.Add(1),
		CreationRound:          round,
		CreationRoundBlockHash: bh,
		ParamsExpirationBlock:  big.NewInt(start + (end-start)/2),
	}
	if mutate != nil {
		mutate(&tk)
	}
	key := from.Key
	if tk.Sender != (common.Address{}) {
		for _, a := range append(c.Senders(), c.Owner()) {
			if a.Address == tk.Sender {
				key = a.Key
			}
		}
	}
	m, hash, err := SignTicket(tk, key, new(big.Int).SetUint64(uint64(time.Now().UnixNano())+uint64(nonceSeq.Add(1))))
	if err != nil {
		t.Fatal(err)
	}
	return m, hash
}

// devRoundStart is the L1 block at which round begins on the dev chain,
// whose RoundsManager defines currentRound as blockNum / roundLength.
func devRoundStart(round int64, length *big.Int) *big.Int {
	return new(big.Int).Mul(big.NewInt(round), length)
}

// leader keeps the stored chain state as the service's leader does: it
// runs the real senders stage, one run at a time, at the node's latest
// head.
type leader struct {
	t     testing.TB
	c     *testChain
	st    *store.Store
	stage *monitor.SenderStage
	lease *pipeline.Lease
	runs  int
	// roundStart: the chain serves currentRoundStartBlock. The dev
	// RoundsManager does not (the deployed one does), so the leader stores
	// no round start on the dev chain and intake could not bound expiration
	// blocks; the test then stores the dev chain's round start itself,
	// after every run, from the round and length the leader read.
	roundStart bool
}

func newLeader(t testing.TB, c *testChain, st *store.Store) *leader {
	t.Helper()
	ctx := context.Background()
	stage, err := monitor.NewSenderStage(monitor.StageConfig{Recipient: c.Recipient().Address, Contracts: c.Addresses(),
		Logger: quietLogger()}, st, c.node, monitor.Signals{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	lease, err := pipeline.NewTestLease(ctx, st, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.node.ReadProtocol(ctx, c.Addresses(), nil, c.Recipient().Address)
	if err != nil {
		t.Fatal(err)
	}
	return &leader{t: t, c: c, st: st, stage: stage, lease: lease, roundStart: p.RoundStartL1 != nil}
}

// start stores the state a leader that has followed the chain for a while
// has: the protocol values, and the current round's block hash, which the
// leader learns from the round's NewRound log (so a round is advanced).
func (l *leader) start() {
	l.t.Helper()
	l.sync()
	if _, err := l.c.AdvanceRound(context.Background()); err != nil {
		l.t.Fatal(err)
	}
	l.sync()
}

// sync runs the senders stage at the latest head until it has caught up.
func (l *leader) sync() {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for again := true; again; {
		tip, err := l.c.node.LatestHead(ctx)
		if err != nil {
			l.t.Fatal(err)
		}
		res, err := l.stage.Run(ctx, pipeline.Run{Tip: tip, Lease: l.lease, First: l.runs == 0})
		if err != nil {
			l.t.Fatalf("senders stage: %v", err)
		}
		l.runs++
		again = res.Again
	}
	if l.roundStart {
		return
	}
	p, err := l.st.StoredProtocolState(ctx)
	if err != nil || p == nil {
		l.t.Fatalf("protocol state after a run of the senders stage: %+v, %v", p, err)
	}
	p.RoundStartL1 = devRoundStart(p.CurrentRound.Int64(), p.RoundLength)
	if next, _ := p.NextRoundL1(); p.L1Block < p.RoundStartL1.Uint64() || p.L1Block >= next {
		l.t.Fatalf("round %s starting at L1 block %s does not hold block %d", p.CurrentRound, p.RoundStartL1, p.L1Block)
	}
	if _, err := l.st.SaveChainState(ctx, store.ChainState{Protocol: p}); err != nil {
		l.t.Fatal(err)
	}
}

// dialFrom connects to a plaintext gRPC server at addr from the loopback
// address local (every 127.0.0.0/8 address is this host's), so that tests
// can be several clients by address.
func dialFrom(t testing.TB, addr, local string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	opts = append([]grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) { return d.DialContext(ctx, "tcp", a) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}, opts...)
	conn, err := grpc.NewClient("passthrough:///"+addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// clientFrom is dialFrom's TicketRedeemer client.
func clientFrom(t testing.TB, addr, local string, opts ...grpc.DialOption) pb.TicketRedeemerClient {
	t.Helper()
	return pb.NewTicketRedeemerClient(dialFrom(t, addr, local, opts...))
}
