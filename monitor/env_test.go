package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/chain/nodeproxy"
	"redeemer/monitor/monitortest"
	"redeemer/pipeline"
	"redeemer/store"
	"redeemer/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var quiet = slog.New(slog.DiscardHandler)

// testNode is the node the stages and the Monitor use in tests: the dev
// chain's JSON-RPC behind a nodeproxy that counts every request, with a
// record of the block each state read was pinned to.
type testNode struct {
	*chain.Node
	mu    sync.Mutex
	reads []stateRead
}

// stateRead is one ReadSenders or ReadProtocol call.
type stateRead struct {
	protocol bool
	block    *big.Int // nil: latest
	senders  []common.Address
}

func (r stateRead) String() string {
	what := fmt.Sprintf("senders %x", r.senders)
	if r.protocol {
		what = "protocol"
	}
	if r.block == nil {
		return what + " at latest"
	}
	return what + " at " + r.block.String()
}

func (n *testNode) record(r stateRead) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.reads = append(n.reads, r)
}

// takeReads returns the reads made since the last call.
func (n *testNode) takeReads() []stateRead {
	n.mu.Lock()
	defer n.mu.Unlock()
	r := n.reads
	n.reads = nil
	return r
}

func (n *testNode) ReadSenders(ctx context.Context, a chain.Addresses, block *big.Int, recipient common.Address,
	senders []common.Address) ([]chain.SenderReading, error) {
	n.record(stateRead{block: cloneBig(block), senders: slices.Clone(senders)})
	return n.Node.ReadSenders(ctx, a, block, recipient, senders)
}

// ReadProtocol also answers RoundStartL1 where the dev RoundsManager has no
// currentRoundStartBlock: the deployed RoundsManager serves it, and the
// senders stage relies on it to see a round boundary no log announces. On
// the dev chain round r starts at block r × roundLength, which is what the
// deployed contract would answer.
func (n *testNode) ReadProtocol(ctx context.Context, a chain.Addresses, block *big.Int,
	recipient common.Address) (chain.ProtocolReading, error) {
	n.record(stateRead{protocol: true, block: cloneBig(block)})
	p, err := n.Node.ReadProtocol(ctx, a, block, recipient)
	if err == nil && p.RoundStartL1 == nil {
		p.RoundStartL1 = new(big.Int).Mul(p.CurrentRound, p.RoundLength)
	}
	return p, err
}

func cloneBig(b *big.Int) *big.Int {
	if b == nil {
		return nil
	}
	return new(big.Int).Set(b)
}

type envOptions struct {
	chain devchain.Options
	// stage tunes the stages; Recipient, Contracts and Logger are set, and
	// ProtocolEvery defaults to an hour so the clock never asks for a read.
	stage StageConfig
	// monitor tunes the Monitor; Recipient and Contracts are set.
	monitor Config
}

// env is the senders and reread stages and a Monitor on a fresh dev chain
// and database. The test runs the stages itself, at heads it reads from the
// dev chain, so every step is deterministic.
type env struct {
	t       *testing.T
	ctx     context.Context
	c       *monitortest.Chain
	st      *store.Store
	proxy   *nodeproxy.Proxy
	node    *testNode
	lease   *pipeline.Lease
	cfg     StageConfig
	signals Signals
	senders *SenderStage
	reread  *RereadStage
	m       *Monitor

	sendersRan, rereadRan bool
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	o.chain.RPCAddr = "127.0.0.1:0"
	c := monitortest.NewChain(t, o.chain)
	proxy, err := nodeproxy.NewURL(c.RPCURL(), nodeproxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	url, err := proxy.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	n, err := chain.DialNode(ctx, url, nil, chain.NodeOptions{CallTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	node := &testNode{Node: n}
	st := storetest.NewStore(t)
	lease, err := pipeline.NewTestLease(ctx, st, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	cfg := o.stage
	cfg.Recipient, cfg.Contracts, cfg.Logger = c.Recipient().Address, c.Addresses(), quiet
	if cfg.ProtocolEvery == 0 {
		cfg.ProtocolEvery = time.Hour
	}
	e := &env{t: t, ctx: ctx, c: c, st: st, proxy: proxy, node: node, lease: lease, cfg: cfg,
		signals: Signals{Round: pipeline.NewSignal(), Reread: pipeline.NewSignal(), Reorg: pipeline.NewSignal()}}
	if e.reread, err = NewRereadStage(cfg, st, node); err != nil {
		t.Fatal(err)
	}
	if e.senders, err = NewSenderStage(cfg, st, node, e.signals, e.reread); err != nil {
		t.Fatal(err)
	}
	mcfg := o.monitor
	mcfg.Recipient, mcfg.Contracts, mcfg.Logger = c.Recipient().Address, c.Addresses(), quiet
	if e.m, err = New(mcfg, st, node); err != nil {
		t.Fatal(err)
	}
	return e
}

// runSenders runs the senders stage once at tip; its first successful run
// is the term's first, as the pipeline would run it.
func (e *env) runSenders(tip chain.Head) (pipeline.Result, error) {
	res, err := e.senders.Run(e.ctx, pipeline.Run{Tip: tip, Lease: e.lease, First: !e.sendersRan})
	if err == nil {
		e.sendersRan = true
	}
	return res, err
}

func (e *env) mustRunSenders(tip chain.Head) pipeline.Result {
	e.t.Helper()
	res, err := e.runSenders(tip)
	if err != nil {
		e.t.Fatalf("senders stage at %d: %v", tip.Number, err)
	}
	return res
}

// follow runs the senders stage at the latest head until it asks for no
// further run, and returns that head.
func (e *env) follow() chain.Head {
	e.t.Helper()
	tip := e.c.Head()
	for range 10 {
		if !e.mustRunSenders(tip).Again {
			return tip
		}
	}
	e.t.Fatalf("senders stage still asks for runs after 10 at %d", tip.Number)
	return tip
}

func (e *env) runReread(tip chain.Head) pipeline.Result {
	e.t.Helper()
	res, err := e.reread.Run(e.ctx, pipeline.Run{Tip: tip, Lease: e.lease, First: !e.rereadRan})
	if err != nil {
		e.t.Fatalf("reread stage at %d: %v", tip.Number, err)
	}
	e.rereadRan = true
	return res
}

// rereadAll runs the reread stage at tip until it asks for no further run,
// and returns the number of runs.
func (e *env) rereadAll(tip chain.Head) int {
	e.t.Helper()
	for n := 1; n <= 100; n++ {
		if !e.runReread(tip).Again {
			return n
		}
	}
	e.t.Fatal("reread stage still asks for runs after 100")
	return 0
}

// recordTip stores h in chain_heads as the heads follower does.
func (e *env) recordTip(h chain.Head) {
	e.t.Helper()
	err := e.lease.Fenced(e.ctx, func(q store.Q) error {
		return q.RecordTip(e.ctx, store.Head{Number: h.Number, Hash: h.Hash, ParentHash: h.ParentHash,
			L1Number: h.L1Number, Time: time.Unix(int64(h.Time), 0).UTC()}, 1024)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) cursor() *store.Cursor {
	e.t.Helper()
	c, err := e.st.Q().StageCursor(e.ctx, sendersStage)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) checkCursor(step string, h chain.Head) {
	e.t.Helper()
	if c := e.cursor(); c == nil || c.Number != h.Number || c.Hash != h.Hash {
		e.t.Fatalf("%s: senders cursor %+v, want block %d %s", step, c, h.Number, h.Hash)
	}
}

func (e *env) track(accounts ...devchain.Account) {
	e.t.Helper()
	for _, a := range accounts {
		if err := e.m.Track(e.ctx, a.Address); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) floatState(a common.Address) store.FloatState {
	e.t.Helper()
	fs, err := e.st.FloatState(e.ctx, a)
	if err != nil {
		e.t.Fatal(err)
	}
	return fs
}

func (e *env) protocolState() *store.ProtocolState {
	e.t.Helper()
	p, err := e.st.StoredProtocolState(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if p == nil {
		e.t.Fatal("no protocol state stored")
	}
	return p
}

// checkProtocol compares the stored protocol values with the contracts at
// the latest block.
func (e *env) checkProtocol(step string) {
	e.t.Helper()
	p := e.c.Protocol()
	stored := e.protocolState()
	pool, err := p.TranscoderPoolSize(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	round, err := p.CurrentRound(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	last, err := p.LastInitializedRound(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	active, err := p.IsActiveTranscoder(e.ctx, e.c.Recipient().Address)
	if err != nil {
		e.t.Fatal(err)
	}
	if stored.PoolSize.Cmp(pool) != 0 || stored.CurrentRound.Cmp(round) != 0 ||
		stored.LastInitializedRound.Cmp(last) != 0 || stored.RecipientActive != active {
		e.t.Fatalf("%s: stored protocol pool %s round %s (last initialized %s) active %v; chain: %s %s (%s) %v", step,
			stored.PoolSize, stored.CurrentRound, stored.LastInitializedRound, stored.RecipientActive, pool, round, last, active)
	}
}

// checkAgainstChain compares a tracked sender's stored state with the
// contracts at the latest block. Claims stored for an older round than the
// chain's must be zero on chain now (claims are kept per round, and a claim
// in the new round would have named the sender in a log); the reserve
// allocation computed from the stored state must equal claimableReserve.
func (e *env) checkAgainstChain(step string, a common.Address) {
	e.t.Helper()
	p := e.c.Protocol()
	recipient := e.c.Recipient().Address
	fs := e.floatState(a)
	if fs.State == nil || fs.Protocol == nil {
		e.t.Fatalf("%s: sender %s is not tracked", step, a)
	}
	info, err := p.SenderInfo(e.ctx, a)
	if err != nil {
		e.t.Fatal(err)
	}
	claimable, err := p.ClaimableReserve(e.ctx, a, recipient)
	if err != nil {
		e.t.Fatal(err)
	}
	claimed, err := p.ClaimedReserve(e.ctx, a, recipient)
	if err != nil {
		e.t.Fatal(err)
	}
	round, err := p.CurrentRound(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	s := fs.State
	claimedInRound, claimedBy := s.ClaimedInRound, s.ClaimedByRecipient
	if s.Round.Cmp(round) < 0 {
		claimedInRound, claimedBy = new(big.Int), new(big.Int)
	} else if s.Round.Cmp(round) > 0 {
		e.t.Fatalf("%s: sender %s stored at round %s, after the chain's %s", step, a, s.Round, round)
	}
	if s.Deposit.Cmp(info.Deposit) != 0 || s.FundsRemaining.Cmp(info.FundsRemaining) != 0 ||
		claimedInRound.Cmp(info.ClaimedInCurrentRound) != 0 || s.WithdrawRound.Cmp(info.WithdrawRound) != 0 ||
		claimedBy.Cmp(claimed) != 0 {
		e.t.Fatalf("%s: stored %s = deposit %s funds %s claimed %s/%s (round %s) withdraw %s; chain: %s %s %s/%s (round %s) %s",
			step, a, s.Deposit, s.FundsRemaining, s.ClaimedInRound, s.ClaimedByRecipient, s.Round, s.WithdrawRound,
			info.Deposit, info.FundsRemaining, info.ClaimedInCurrentRound, claimed, round, info.WithdrawRound)
	}
	if got := ReserveAlloc(fs); got.Cmp(claimable) != 0 {
		e.t.Fatalf("%s: stored reserve allocation of %s is %s, claimableReserve says %s (funds %s, claimed %s/%s, pool %s)",
			step, a, got, claimable, s.FundsRemaining, s.ClaimedInRound, s.ClaimedByRecipient, fs.Protocol.PoolSize)
	}
}

// fixedHead is a head source that always answers the same head.
type fixedHead chain.Head

func (h fixedHead) LatestHead(context.Context) (chain.Head, error) { return chain.Head(h), nil }

// probe is a stage that only reports its runs.
type probe struct{ runs chan struct{} }

func (p *probe) Name() string { return "probe" }

func (p *probe) Run(context.Context, pipeline.Run) (pipeline.Result, error) {
	select {
	case p.runs <- struct{}{}:
	default:
	}
	return pipeline.Result{}, nil
}

// watch returns a channel that receives a value each time sig wakes a
// stage that lists it, delivered by the pipeline as in the service.
func (e *env) watch(sig *pipeline.Signal) <-chan struct{} {
	e.t.Helper()
	p := &probe{runs: make(chan struct{}, 64)}
	pl, err := pipeline.New(pipeline.Config{Store: e.st, Heads: fixedHead(e.c.Head()), PollInterval: time.Hour,
		Logger: quiet, Stages: []pipeline.Spec{{Stage: p, Wake: []*pipeline.Signal{sig}}}})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = pl.RunTerm(ctx, e.lease)
	}()
	e.t.Cleanup(func() { cancel(); <-done })
	// A stage's first run comes at once, fired or not.
	select {
	case <-p.runs:
	case <-time.After(10 * time.Second):
		e.t.Fatal("the probe stage never ran")
	}
	return p.runs
}

func fired(c <-chan struct{}, within time.Duration) bool {
	select {
	case <-c:
		return true
	case <-time.After(within):
		return false
	}
}

// commitUntil mines empty blocks until the latest block number is n.
func (e *env) commitUntil(n uint64) chain.Head {
	e.t.Helper()
	for e.c.Head().Number < n {
		e.c.Commit()
	}
	h := e.c.Head()
	if h.Number != n {
		e.t.Fatalf("chain at block %d, past %d", h.Number, n)
	}
	return h
}
