package queue

import (
	"context"
	"crypto/ecdsa"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/jackc/pgx/v5/pgtype"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/chain/nodeproxy"
	"redeemer/monitor"
	"redeemer/monitor/monitortest"
	"redeemer/pipeline"
	"redeemer/store"
	"redeemer/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// env is the redemption stages on a fresh dev chain, served over HTTP
// JSON-RPC, and a fresh database, with a leader lease of the test's own.
// Stage tests mine blocks and run the stages by hand, one block at a time;
// liveness tests start the leader's pipeline on a chain that mines on a
// timer.
type env struct {
	t   *testing.T
	ctx context.Context
	dc  *monitortest.Chain
	st  *store.Store
	// node is the one every stage talks to: through proxy when the test
	// asked for one.
	node  *chain.Node
	proxy *nodeproxy.Proxy
	lease *pipeline.Lease
	logs  *captureHandler
	log   *slog.Logger

	cfg     Config
	r       *Redeemer
	claim   *ClaimStage
	track   *TrackStage
	expire  *ExpireStage
	funding *FundingStage
	signals monitor.Signals
	senders *monitor.SenderStage
	reread  *monitor.RereadStage
	mon     *monitor.Monitor
	synced  bool

	// mining is set while the chain mines on a timer: actions then wait for
	// their receipts instead of mining a block themselves.
	mining atomic.Bool
	nonce  atomic.Uint32
}

type envOpts struct {
	cfg   Config
	chain devchain.Options
	// proxy puts a nodeproxy with these options between every stage and
	// the dev chain.
	proxy *nodeproxy.Options
	// upstream, when set, wraps the dev chain's RPC URL in a server of the
	// test's own (a node that answers some calls its own way) and returns
	// that server's URL.
	upstream func(t *testing.T, url string) string
	// wrap wraps the node the redemption stages use (not the monitor's).
	wrap func(*chain.Node) Node
	// signer signs redemptions [the dev chain's redeemer account].
	signer *ecdsa.PrivateKey
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	ctx := context.Background()
	o.chain.RPCAddr = "127.0.0.1:0"
	logs := newCapture()
	log := slog.New(logs)
	o.chain.Logger = log
	dc := monitortest.NewChain(t, o.chain)
	url := dc.RPCURL()
	if o.upstream != nil {
		url = o.upstream(t, url)
	}
	e := &env{t: t, ctx: ctx, dc: dc, logs: logs, log: log}
	if o.proxy != nil {
		p, err := nodeproxy.NewURL(url, *o.proxy)
		if err != nil {
			t.Fatal(err)
		}
		if url, err = p.Start(""); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		e.proxy = p
	}
	node, err := chain.DialNode(ctx, url, nil, chain.NodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(node.Close)
	e.node = node
	e.st = storetest.NewStore(t)
	if e.lease, err = pipeline.NewTestLease(ctx, e.st, time.Hour); err != nil {
		t.Fatal(err)
	}

	cfg := o.cfg
	cfg.Recipient = dc.Recipient().Address
	if o.signer == nil {
		o.signer = dc.Redeemer().Key
	}
	cfg.Signer = chain.NewTxSigner(o.signer, dc.ChainID())
	cfg.Contracts = dc.Addresses()
	if cfg.Confirmations == 0 {
		cfg.Confirmations = 1
	}
	cfg.Logger = log
	var qnode Node = node
	if o.wrap != nil {
		qnode = o.wrap(node)
	}
	if e.r, err = New(cfg, e.st, qnode); err != nil {
		t.Fatal(err)
	}
	e.cfg = e.r.cfg
	e.claim, e.track, e.expire, e.funding = e.r.ClaimStage(), e.r.TrackStage(), e.r.ExpireStage(), e.r.FundingStage()

	e.signals = monitor.Signals{Round: pipeline.NewSignal(), Reread: pipeline.NewSignal(), Reorg: pipeline.NewSignal()}
	mcfg := monitor.StageConfig{Recipient: cfg.Recipient, Contracts: cfg.Contracts, Logger: log}
	if e.reread, err = monitor.NewRereadStage(mcfg, e.st, node); err != nil {
		t.Fatal(err)
	}
	if e.senders, err = monitor.NewSenderStage(mcfg, e.st, node, e.signals, e.reread); err != nil {
		t.Fatal(err)
	}
	if e.mon, err = monitor.New(monitor.Config{Recipient: cfg.Recipient, Contracts: cfg.Contracts, Logger: log}, e.st, node); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logs.dump(t)
		}
	})
	return e
}

// head is the node's latest head, as the heads follower reads it.
func (e *env) head() chain.Head {
	e.t.Helper()
	h, err := e.node.LatestHead(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// runStage runs one stage once at tip with the test's lease.
func (e *env) runStage(s pipeline.Stage, tip chain.Head, first bool) (pipeline.Result, error) {
	ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
	defer cancel()
	return s.Run(ctx, pipeline.Run{Tip: tip, Lease: e.lease, First: first})
}

func (e *env) mustRun(s pipeline.Stage, tip chain.Head) pipeline.Result {
	e.t.Helper()
	res, err := e.runStage(s, tip, false)
	if err != nil {
		e.t.Fatalf("%s stage at block %d: %v", s.Name(), tip.Number, err)
	}
	return res
}

// sync stores sender and protocol state at tip as the leader does: the
// senders stage follows the logs and the protocol values, the reread stage
// reads senders whose tickets arrived before they were tracked.
func (e *env) sync(tip chain.Head) {
	e.t.Helper()
	if _, err := e.runStage(e.senders, tip, !e.synced); err != nil {
		e.t.Fatalf("senders stage at block %d: %v", tip.Number, err)
	}
	e.synced = true
	// The reread stage's first run is the one that reads senders with
	// tickets and no state; every run here is a first one so that tickets
	// the test adds later are covered too.
	if _, err := e.runStage(e.reread, tip, true); err != nil {
		e.t.Fatalf("reread stage at block %d: %v", tip.Number, err)
	}
}

// claimUntilDone runs the claim stage at tip until it asks for no more runs.
func (e *env) claimUntilDone(tip chain.Head) {
	e.t.Helper()
	for i := 0; ; i++ {
		if i == 100 {
			e.t.Fatal("the claim stage keeps asking for another run")
		}
		if !e.mustRun(e.claim, tip).Again {
			return
		}
	}
}

// step mines a block and runs, at the new tip, what the leader runs on a
// new head: sender state, tracking, claims.
func (e *env) step() chain.Head {
	e.t.Helper()
	e.dc.Commit()
	h := e.head()
	e.sync(h)
	e.mustRun(e.track, h)
	e.claimUntilDone(h)
	return h
}

// prepare stores the protocol values and the state of every dev sender,
// as the leader and intake do before tickets of theirs are claimed.
func (e *env) prepare() {
	e.t.Helper()
	e.sync(e.head())
	for _, s := range e.dc.Senders() {
		e.trackSenders(s.Address)
	}
}

// ticket makes a winning ticket from key, due at block dueAt, in the
// current round, exactly as intake would store it after validating it.
// signer signs it (nil: key itself).
func (e *env) ticket(key *ecdsa.PrivateKey, face *big.Int, dueAt uint64, signer *ecdsa.PrivateKey) store.NewTicket {
	e.t.Helper()
	// Broadcasters make tickets in the last initialized round, with its
	// block hash.
	p := e.dc.Protocol()
	round, err := p.LastInitializedRound(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	bh, err := p.BlockHashForRound(e.ctx, round)
	if err != nil {
		e.t.Fatal(err)
	}
	n := e.nonce.Add(1)
	rand := new(big.Int).SetBytes(crypto.Keccak256([]byte(e.t.Name()), big.NewInt(int64(n)).Bytes()))
	tk := chain.Ticket{
		Recipient: e.dc.Recipient().Address, Sender: crypto.PubkeyToAddress(key.PublicKey),
		FaceValue: face, WinProb: chain.MaxWinProb, SenderNonce: n,
		RecipientRandHash: chain.RandHash(rand), CreationRound: round.Int64(), CreationRoundBlockHash: bh,
		ParamsExpirationBlock: new(big.Int).SetUint64(dueAt),
	}
	hash := tk.Hash()
	if signer == nil {
		signer = key
	}
	sig, err := chain.Sign(hash, signer)
	if err != nil {
		e.t.Fatal(err)
	}
	return store.NewTicket{
		TicketHash: hash, Sender: tk.Sender, Recipient: tk.Recipient, FaceValue: face, WinProb: tk.WinProb,
		SenderNonce: tk.SenderNonce, RecipientRand: chain.Word32(rand), RecipientRandHash: tk.RecipientRandHash,
		Sig: sig, CreationRound: tk.CreationRound, CreationRoundBlockHash: bh, ParamsExpirationBlock: int64(dueAt),
	}
}

// insert stores tickets as intake does.
func (e *env) insert(tickets ...store.NewTicket) {
	e.t.Helper()
	if _, err := e.st.InsertTickets(e.ctx, tickets); err != nil {
		e.t.Fatal(err)
	}
}

// queue makes a ticket from key due at dueAt and stores it.
func (e *env) queue(key *ecdsa.PrivateKey, face *big.Int, dueAt uint64) store.NewTicket {
	e.t.Helper()
	nt := e.ticket(key, face, dueAt, nil)
	e.insert(nt)
	return nt
}

// trackSenders makes senders tracked, with their state read from chain and
// stored, as intake does for a sender it has not seen (the protocol values
// must be stored first: sync).
func (e *env) trackSenders(senders ...common.Address) {
	e.t.Helper()
	for _, s := range senders {
		if err := e.mon.Track(e.ctx, s); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) get(nt store.NewTicket) *store.Ticket {
	e.t.Helper()
	t, err := e.st.TicketByHash(e.ctx, nt.TicketHash)
	if err != nil {
		e.t.Fatal(err)
	}
	return t
}

func (e *env) limbo(sender common.Address) *big.Int {
	e.t.Helper()
	v, err := e.st.SenderLimbo(e.ctx, sender)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func (e *env) balance(a common.Address) *big.Int {
	e.t.Helper()
	b, err := e.dc.Client().BalanceAt(e.ctx, a, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// fees is the recipient's fee pool in BondingManager, where winning tickets
// pay.
func (e *env) fees(a common.Address) *big.Int {
	e.t.Helper()
	v, err := e.dc.Protocol().PendingFees(e.ctx, a)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

// redemptionOf is the redemption a ticket was last claimed into: its
// status, and the block it was mined in (0: none).
func (e *env) redemptionOf(nt store.NewTicket) (status string, minedBlock uint64, minedHash common.Hash) {
	e.t.Helper()
	var (
		b pgtype.Int8
		h []byte
	)
	err := e.st.Pool().QueryRow(e.ctx, `SELECT r.status, r.mined_block, r.mined_block_hash
		FROM tickets t JOIN redemptions r ON r.id = t.redemption_id WHERE t.ticket_hash = $1`, nt.TicketHash[:]).Scan(&status, &b, &h)
	if err != nil {
		e.t.Fatalf("redemption of ticket %x: %v", nt.TicketHash, err)
	}
	return status, uint64(b.Int64), common.BytesToHash(h)
}

// redeemedLogs counts the WinningTicketRedeemed logs of the ticket on the
// canonical chain.
func (e *env) redeemedLogs(nt store.NewTicket) int {
	e.t.Helper()
	logs, err := e.dc.Client().FilterLogs(e.ctx, ethereum.FilterQuery{FromBlock: new(big.Int),
		Addresses: []common.Address{e.cfg.Contracts.TicketBroker}})
	if err != nil {
		e.t.Fatal(err)
	}
	ptrs := make([]*types.Log, len(logs))
	for i := range logs {
		ptrs[i] = &logs[i]
	}
	n := 0
	for i := range ptrs {
		hashes, err := chain.RedeemedTicketHashes(e.cfg.Contracts.TicketBroker, ptrs[i:i+1])
		if err != nil {
			e.t.Fatal(err)
		}
		if hashes[nt.TicketHash] {
			n++
		}
	}
	return n
}

// checkAmountsInvariant: every sender's stored in-limbo and queued amounts
// equal the sums of its redeeming and queued tickets (docs/design.md,
// invariant 2).
func (e *env) checkAmountsInvariant() {
	e.t.Helper()
	var bad int
	err := e.st.Pool().QueryRow(e.ctx, `
		SELECT count(*) FROM (
			SELECT coalesce(l.sender, t.sender) AS sender,
				coalesce(l.amount, 0) AS limbo, coalesce(t.redeeming, 0) AS redeeming,
				coalesce(l.queued_amount, 0) AS queued_amount, coalesce(t.queued, 0) AS queued
			FROM sender_limbo l
			FULL JOIN (SELECT sender,
					sum(face_value) FILTER (WHERE status = 'redeeming') AS redeeming,
					sum(face_value) FILTER (WHERE status = 'queued') AS queued
				FROM tickets GROUP BY sender) t ON t.sender = l.sender) x
		WHERE limbo <> redeeming OR queued_amount <> queued`).Scan(&bad)
	if err != nil {
		e.t.Fatal(err)
	}
	if bad != 0 {
		e.t.Fatalf("%d senders have stored amounts that differ from their tickets", bad)
	}
}

// paid reads a ticket's expected payout and paid amount (nil: NULL).
func (e *env) paid(nt store.NewTicket) (expected, paid *big.Int) {
	e.t.Helper()
	var x, p *string
	if err := e.st.Pool().QueryRow(e.ctx, `SELECT expected_payout::text, paid_amount::text FROM tickets WHERE ticket_hash = $1`,
		nt.TicketHash[:]).Scan(&x, &p); err != nil {
		e.t.Fatal(err)
	}
	return bigOrNil(e.t, x), bigOrNil(e.t, p)
}

func bigOrNil(t *testing.T, s *string) *big.Int {
	t.Helper()
	if s == nil {
		return nil
	}
	v, ok := new(big.Int).SetString(*s, 10)
	if !ok {
		t.Fatalf("%q is not an integer", *s)
	}
	return v
}

// transfer sends amount of ETH from one dev account to an address and
// waits for it to be mined.
func (e *env) transfer(from *ecdsa.PrivateKey, to common.Address, amount *big.Int) {
	e.t.Helper()
	c := e.dc.Client()
	addr := crypto.PubkeyToAddress(from.PublicKey)
	nonce, err := c.PendingNonceAt(e.ctx, addr)
	if err != nil {
		e.t.Fatal(err)
	}
	tip, feeCap, err := chain.SuggestFees(e.ctx, c, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	tx, err := types.SignNewTx(from, types.LatestSignerForChainID(e.dc.ChainID()), &types.DynamicFeeTx{
		ChainID: e.dc.ChainID(), Nonce: nonce, To: &to, Value: amount, Gas: 21_000, GasTipCap: tip, GasFeeCap: feeCap,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := c.SendTransaction(e.ctx, tx); err != nil {
		e.t.Fatal(err)
	}
	e.waitMined(tx.Hash())
}

// waitMined mines (or, while the chain mines on its own, waits for) the
// block that includes tx.
func (e *env) waitMined(tx common.Hash) *types.Receipt {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if !e.mining.Load() {
			e.dc.Commit()
		}
		r, err := e.dc.Client().TransactionReceipt(e.ctx, tx)
		if err == nil {
			if r.Status != types.ReceiptStatusSuccessful {
				e.t.Fatalf("transaction %s reverted", tx)
			}
			return r
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("transaction %s not mined: %v", tx, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// newSender is a fresh broadcaster with deposit and reserve in
// TicketBroker (zero amounts are not funded).
func (e *env) newSender(label string, deposit, reserve *big.Int) devchain.Account {
	e.t.Helper()
	key, err := crypto.ToECDSA(crypto.Keccak256([]byte(e.t.Name() + "/" + label)))
	if err != nil {
		e.t.Fatal(err)
	}
	a := devchain.Account{Name: label, Key: key, Address: crypto.PubkeyToAddress(key.PublicKey)}
	e.transfer(e.dc.Owner().Key, a.Address, monitortest.Ether(10))
	if deposit.Sign() > 0 {
		e.dc.FundDeposit(a, deposit)
	}
	if reserve.Sign() > 0 {
		e.dc.FundReserve(a, reserve)
	}
	return a
}

// eventually polls cond until it holds or the timeout passes.
func (e *env) eventually(timeout time.Duration, what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// pipeOpts tune the pipeline of a liveness test.
type pipeOpts struct {
	// block is the dev chain's block interval [300ms].
	block time.Duration
	// sendersTimeout bounds one run of the senders stage [30s].
	sendersTimeout time.Duration
	// wrapClaim wraps the claim stage (to watch its runs).
	wrapClaim func(pipeline.Stage) pipeline.Stage
}

// run starts the leader's pipeline, wired as cmd/redeemer wires it but
// tuned fast, for the test's lease, and the chain mining every o.block. Both
// stop when the test ends.
func (e *env) run(o pipeOpts) *pipeline.Pipeline {
	e.t.Helper()
	if o.block <= 0 {
		o.block = 300 * time.Millisecond
	}
	if o.sendersTimeout <= 0 {
		o.sendersTimeout = 30 * time.Second
	}
	const poll = 100 * time.Millisecond
	var claim pipeline.Stage = e.claim
	if o.wrapClaim != nil {
		claim = o.wrapClaim(claim)
	}
	stages := []pipeline.Spec{
		{Stage: e.senders, OnTip: true, MinInterval: 2 * poll, Timeout: o.sendersTimeout, Priority: chain.PriorityNormal},
		{Stage: e.track, OnTip: true, MinInterval: poll, Wake: []*pipeline.Signal{e.signals.Reorg},
			Timeout: 20 * time.Second, Priority: chain.PriorityCritical},
		{Stage: claim, OnL1: true, Every: poll, Timeout: 20 * time.Second, Priority: chain.PriorityCritical},
		{Stage: e.expire, OnL1: true, Wake: []*pipeline.Signal{e.signals.Round}, Every: time.Second,
			Timeout: 20 * time.Second},
		{Stage: e.reread, OnTip: true, MinInterval: 2 * poll, Wake: []*pipeline.Signal{e.signals.Reread, e.signals.Round},
			Timeout: 30 * time.Second, Priority: chain.PriorityBackground},
		{Stage: e.funding, Every: 2 * poll, Timeout: 10 * time.Second, Priority: chain.PriorityNormal},
	}
	p, err := pipeline.New(pipeline.Config{
		Store:        e.st,
		Heads:        e.node,
		PollInterval: poll,
		Recover:      e.r.Recover,
		Stages:       stages,
		Logger:       e.log,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	var wg sync.WaitGroup
	e.mining.Store(true)
	wg.Add(2)
	go func() {
		defer wg.Done()
		e.dc.Mine(ctx, o.block)
	}()
	go func() {
		defer wg.Done()
		if err := p.RunTerm(ctx, e.lease); err != nil {
			e.t.Errorf("pipeline term ended: %v", err)
		}
	}()
	e.t.Cleanup(func() {
		cancel()
		wg.Wait()
		e.mining.Store(false)
	})
	return p
}

// waitRedeemed waits until the ticket is redeemed and checks that its
// redemption was mined within 5 blocks of its due block.
func (e *env) waitRedeemed(nt store.NewTicket, timeout time.Duration) {
	e.t.Helper()
	e.eventually(timeout, "ticket redeemed", func() bool { return e.get(nt).Status == store.StatusRedeemed })
	_, mined, _ := e.redemptionOf(nt)
	if due := uint64(nt.ParamsExpirationBlock); mined > due+5 {
		e.t.Fatalf("ticket due at block %d redeemed in block %d, more than 5 blocks late", due, mined)
	}
}

// headsMoving checks that the pipeline's tip follows the chain.
func (e *env) headsMoving(p *pipeline.Pipeline) {
	e.t.Helper()
	target := e.head().Number + 2
	e.eventually(10*time.Second, "the pipeline's tip to follow the chain", func() bool {
		tip, ok := p.Tip()
		return ok && tip.Number >= target
	})
}

// captureHandler keeps every record logged through it, with the attributes
// of With.
type captureHandler struct {
	mu      *sync.Mutex
	records *[]slog.Record
	attrs   []slog.Attr
}

func newCapture() *captureHandler {
	return &captureHandler{mu: &sync.Mutex{}, records: &[]slog.Record{}}
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) WithGroup(string) slog.Handler            { return h }

func (h *captureHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &captureHandler{mu: h.mu, records: h.records, attrs: append(append([]slog.Attr(nil), h.attrs...), attrs...)}
}

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.attrs...)
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.records = append(*h.records, r)
	return nil
}

// logged returns the records with message msg, each as its attributes.
func (h *captureHandler) logged(level slog.Level, msg string) []map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]string
	for _, r := range *h.records {
		if r.Level != level || r.Message != msg {
			continue
		}
		attrs := map[string]string{}
		r.Attrs(func(a slog.Attr) bool {
			attrs[a.Key] = a.Value.String()
			return true
		})
		out = append(out, attrs)
	}
	return out
}

// count counts the records at level whose component attribute is
// component ("" for any).
func (h *captureHandler) count(level slog.Level, component string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range *h.records {
		if r.Level != level {
			continue
		}
		match := component == ""
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "component" && a.Value.String() == component {
				match = true
			}
			return true
		})
		if match {
			n++
		}
	}
	return n
}

// dump writes every record to the test log.
func (h *captureHandler) dump(t *testing.T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range *h.records {
		var b strings.Builder
		r.Attrs(func(a slog.Attr) bool {
			b.WriteString(" " + a.Key + "=" + a.Value.String())
			return true
		})
		t.Logf("%s %s %s%s", r.Time.Format("15:04:05.000"), r.Level, r.Message, b.String())
	}
}
