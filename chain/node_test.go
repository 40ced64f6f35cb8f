package chain_test

import (
	"bytes"
	"errors"
	"math/big"
	"slices"
	"testing"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"redeemer/chain"
	"redeemer/chain/contracts"
	"redeemer/chain/devchain"
	"redeemer/chain/nodeproxy"
)

// nodeEnv is a dev chain served over HTTP JSON-RPC and a chain.Node dialled
// to it, as the service dials a remote node.
type nodeEnv struct {
	*env
	node *chain.Node
}

func newNodeEnv(t *testing.T, opts devchain.Options) *nodeEnv {
	t.Helper()
	opts.RPCAddr = "127.0.0.1:0"
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	e := newEnv(t, opts)
	node, err := chain.DialNode(e.ctx, e.c.RPCURL(), nil, chain.NodeOptions{})
	if err != nil {
		t.Fatalf("DialNode: %v", err)
	}
	t.Cleanup(node.Close)
	return &nodeEnv{env: e, node: node}
}

// proxied starts a nodeproxy in front of the dev chain and dials a node
// through it with budget (nil: unlimited) and opts.
func (e *nodeEnv) proxied(popts nodeproxy.Options, budget *chain.Budget, opts chain.NodeOptions) (*nodeproxy.Proxy, *chain.Node) {
	e.t.Helper()
	p, err := nodeproxy.NewURL(e.c.RPCURL(), popts)
	if err != nil {
		e.t.Fatalf("nodeproxy: %v", err)
	}
	url, err := p.Start("")
	if err != nil {
		e.t.Fatalf("nodeproxy: %v", err)
	}
	e.t.Cleanup(func() { _ = p.Close() })
	node, err := chain.DialNode(e.ctx, url, budget, opts)
	if err != nil {
		e.t.Fatalf("DialNode through the proxy: %v", err)
	}
	e.t.Cleanup(node.Close)
	return p, node
}

func (e *nodeEnv) brokerABICall(method string, args ...any) []byte {
	e.t.Helper()
	a, err := contracts.TicketBrokerMetaData.GetAbi()
	if err != nil {
		e.t.Fatal(err)
	}
	data, err := a.Pack(method, args...)
	if err != nil {
		e.t.Fatalf("pack %s: %v", method, err)
	}
	return data
}

// overflowCall is a TicketBroker call whose checked addition overflows:
// the EVM answers Panic(0x11).
func (e *nodeEnv) overflowCall() []byte {
	half := new(big.Int).Lsh(big.NewInt(1), 255)
	return e.brokerABICall("fundDepositAndReserve", half, half)
}

// garbageCall matches no TicketBroker function; the contract has no
// fallback, so it reverts with no data at all.
var garbageCall = []byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3}

func (e *nodeEnv) redeemMsg(st chain.SignedTicket) ethereum.CallMsg {
	e.t.Helper()
	data, err := chain.RedeemCalldata([]chain.SignedTicket{st})
	if err != nil {
		e.t.Fatal(err)
	}
	broker := e.p.Addresses().TicketBroker
	return ethereum.CallMsg{From: e.c.Redeemer().Address, To: &broker, Data: data}
}

func (e *nodeEnv) brokerMsg(data []byte) ethereum.CallMsg {
	broker := e.p.Addresses().TicketBroker
	return ethereum.CallMsg{From: e.c.Redeemer().Address, To: &broker, Data: data}
}

func wantClass(t *testing.T, what string, err error, want chain.Class) {
	t.Helper()
	if got := chain.Classify(err); got != want {
		t.Errorf("%s: Classify(%v) = %s, want %s", what, err, got, want)
	}
}

// TestClassifyRevertsFromTheNode sorts what a real node answers for calls
// the chain refuses: the node's words decide, whether or not a reason comes
// with them.
func TestClassifyRevertsFromTheNode(t *testing.T) {
	e := newNodeEnv(t, devchain.Options{})
	used := e.signedTicket(e.c.Senders()[0], eth(1))
	if _, err := e.redeem(&used.Ticket, used.Sig, used.RecipientRand); err != nil {
		t.Fatalf("redeem: %v", err)
	}
	for _, c := range []struct {
		name   string
		msg    ethereum.CallMsg
		reason string
		data   bool
	}{
		{"revert with reason", e.redeemMsg(used), "ticket is used", true},
		{"revert without data", e.brokerMsg(garbageCall), "", false},
		{"panic", e.brokerMsg(e.overflowCall()), "panic 0x11 (arithmetic underflow or overflow)", true},
	} {
		// Through eth_call and through eth_estimateGas, both over HTTP.
		_, callErr := e.node.Eth().CallContract(e.ctx, c.msg, nil)
		_, estErrs, err := e.node.EstimateGasMany(e.ctx, []ethereum.CallMsg{c.msg})
		if err != nil {
			t.Fatalf("%s: EstimateGasMany: %v", c.name, err)
		}
		for via, err := range map[string]error{"eth_call": callErr, "eth_estimateGas": estErrs[0]} {
			wantClass(t, c.name+" via "+via, err, chain.ClassRevert)
			r := chain.AsRevert(err)
			if r == nil {
				t.Errorf("%s via %s: AsRevert(%v) = nil", c.name, via, err)
				continue
			}
			if r.Reason != c.reason || (len(r.Data) > 0) != c.data {
				t.Errorf("%s via %s: revert %q with data %x, want %q (data: %t)", c.name, via, r.Reason, r.Data, c.reason, c.data)
			}
		}
	}
}

// TestClassifyNodeFailures sorts what a node (behind a proxy that refuses
// and faults as providers do) answers when it cannot serve: none of it is a
// revert.
func TestClassifyNodeFailures(t *testing.T) {
	e := newNodeEnv(t, devchain.Options{})
	for _, c := range []struct {
		name  string
		opts  nodeproxy.Options
		node  chain.NodeOptions
		calls int // calls to make; the last one's error is classified
		want  chain.Class
	}{
		{"http 429", nodeproxy.Options{MaxRPS: 0.01, Burst: 1, Refusal: nodeproxy.RefuseHTTP}, chain.NodeOptions{}, 2,
			chain.ClassRateLimited},
		{"json-rpc -32005", nodeproxy.Options{MaxRPS: 0.01, Burst: 1, Refusal: nodeproxy.RefuseRPC}, chain.NodeOptions{}, 2,
			chain.ClassRateLimited},
		{"http 502", nodeproxy.Options{Faults: nodeproxy.Faults{HTTP502: 1}}, chain.NodeOptions{}, 1, chain.ClassUnavailable},
		{"http 503", nodeproxy.Options{Faults: nodeproxy.Faults{HTTP503: 1}}, chain.NodeOptions{}, 1, chain.ClassUnavailable},
		{"dropped connection", nodeproxy.Options{Faults: nodeproxy.Faults{Drop: 1}}, chain.NodeOptions{}, 1,
			chain.ClassUnavailable},
		{"dropped after forwarding", nodeproxy.Options{Faults: nodeproxy.Faults{DropAfter: 1}}, chain.NodeOptions{}, 1,
			chain.ClassUnavailable},
		{"truncated answer", nodeproxy.Options{Faults: nodeproxy.Faults{Truncate: 1}}, chain.NodeOptions{}, 1,
			chain.ClassUnavailable},
		{"timeout", nodeproxy.Options{Faults: nodeproxy.Faults{Delay: 1, DelayMin: 5 * time.Second, DelayMax: 5 * time.Second}},
			chain.NodeOptions{CallTimeout: 200 * time.Millisecond}, 1, chain.ClassUnavailable},
		{"node internal error", nodeproxy.Options{Faults: nodeproxy.Faults{RPCError: 1}}, chain.NodeOptions{}, 1,
			chain.ClassUnavailable},
		{"invalid params", nodeproxy.Options{Faults: nodeproxy.Faults{RPCError: 1}, FaultCode: -32602,
			FaultMessage: "invalid argument 0: hex string has length 3"}, chain.NodeOptions{}, 1, chain.ClassOther},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, node := e.proxied(c.opts, nil, c.node)
			var err error
			for range c.calls {
				_, err = node.ChainID(e.ctx)
			}
			if err == nil {
				t.Fatalf("no error through the proxy (stats %+v)", p.Stats())
			}
			wantClass(t, c.name, err, c.want)
			if r := chain.AsRevert(err); r != nil {
				t.Errorf("AsRevert(%v) = %+v, want nil", err, r)
			}
		})
	}
	// The node itself answers a read of a missing block as "not from this
	// node now", never as a revert.
	_, err := e.node.NonceAt(e.ctx, e.c.Redeemer().Address, big.NewInt(1_000_000))
	wantClass(t, "nonce at a block the node lacks", err, chain.ClassUnavailable)
	// Calls the node will never serve, in geth's own words: "the method ...
	// does not exist/is not available" (-32601) and invalid params
	// (-32602). Retrying them is no use: they are not the node being
	// unavailable.
	var out any
	err = e.node.RPC().CallContext(e.ctx, &out, "eth_noSuchMethod")
	wantClass(t, "method not found", err, chain.ClassOther)
	err = e.node.RPC().CallContext(e.ctx, &out, "eth_getBlockByNumber", "0xzz", false)
	wantClass(t, "invalid params", err, chain.ClassOther)
}

func TestNodeEstimateGasManyPerElementErrors(t *testing.T) {
	e := newNodeEnv(t, devchain.Options{})
	senders := e.c.Senders()
	used := e.signedTicket(senders[0], eth(1))
	if _, err := e.redeem(&used.Ticket, used.Sig, used.RecipientRand); err != nil {
		t.Fatalf("redeem: %v", err)
	}
	good := e.signedTicket(senders[1], eth(1))
	msgs := []ethereum.CallMsg{e.redeemMsg(used), e.redeemMsg(good), e.brokerMsg(garbageCall)}
	// Two calls per request: the three estimates take two requests, and a
	// revert in the first does not spoil the second.
	p, node := e.proxied(nodeproxy.Options{}, nil, chain.NodeOptions{MaxBatch: 2})
	gas, errs, err := node.EstimateGasMany(e.ctx, msgs)
	if err != nil {
		t.Fatalf("EstimateGasMany: %v", err)
	}
	if len(gas) != 3 || len(errs) != 3 {
		t.Fatalf("%d estimates and %d errors for 3 messages", len(gas), len(errs))
	}
	if chain.RevertReason(errs[0]) != "ticket is used" || gas[0] != 0 {
		t.Errorf("used ticket: gas %d, err %v; want the revert \"ticket is used\"", gas[0], errs[0])
	}
	if errs[1] != nil || gas[1] < 21_000 {
		t.Errorf("good ticket: gas %d, err %v", gas[1], errs[1])
	}
	if r := chain.AsRevert(errs[2]); r == nil || r.Reason != "" {
		t.Errorf("garbage call: err %v, want a revert without a reason", errs[2])
	}
	if s := p.Stats(); s.Requests != 2 || s.Calls != 3 || s.Methods["eth_estimateGas"] != 3 {
		t.Errorf("proxy saw %d requests with %d calls (%v), want 2 requests of 3 estimates", s.Requests, s.Calls, s.Methods)
	}
	// The estimate is what the transaction needs.
	want, err := e.c.Client().EstimateGas(e.ctx, msgs[1])
	if err != nil {
		t.Fatal(err)
	}
	if gas[1] != want {
		t.Errorf("batched estimate %d, single estimate %d", gas[1], want)
	}
}

func TestNodeReceiptsAndTrackReads(t *testing.T) {
	e := newNodeEnv(t, devchain.Options{})
	redeemer := e.c.Redeemer().Address
	nonce0, err := e.node.NonceAt(e.ctx, redeemer, nil)
	if err != nil {
		t.Fatal(err)
	}
	var rcpts []*types.Receipt
	for _, s := range e.c.Senders() {
		st := e.signedTicket(s, eth(1))
		r, err := e.redeem(&st.Ticket, st.Sig, st.RecipientRand)
		if err != nil {
			t.Fatalf("redeem: %v", err)
		}
		rcpts = append(rcpts, r)
	}
	b1, b2 := rcpts[0].BlockNumber.Uint64(), rcpts[1].BlockNumber.Uint64()
	unknown := common.Hash{0xdd}
	hashes := []common.Hash{rcpts[0].TxHash, unknown, rcpts[1].TxHash}

	got, errs, err := e.node.Receipts(e.ctx, hashes)
	if err != nil {
		t.Fatalf("Receipts: %v", err)
	}
	for i, want := range []*types.Receipt{rcpts[0], nil, rcpts[1]} {
		if errs[i] != nil {
			t.Errorf("receipt %d: %v", i, errs[i])
		}
		if (got[i] == nil) != (want == nil) || (want != nil && (got[i].TxHash != want.TxHash ||
			got[i].BlockHash != want.BlockHash || got[i].Status != want.Status || len(got[i].Logs) != len(want.Logs))) {
			t.Errorf("receipt %d = %+v, want %+v", i, got[i], want)
		}
	}

	// The nonce is the one at the block asked for, not at the tip; all the
	// reads go out in one request whatever MaxBatch says.
	p, node := e.proxied(nodeproxy.Options{}, nil, chain.NodeOptions{MaxBatch: 1})
	for _, c := range []struct {
		block uint64
		nonce uint64
	}{{b1 - 1, nonce0}, {b1, nonce0 + 1}, {b2, nonce0 + 2}} {
		p.Reset()
		s, err := node.TrackReads(e.ctx, redeemer, c.block, hashes, true)
		if err != nil {
			t.Fatalf("TrackReads at %d: %v", c.block, err)
		}
		if s.Nonce != c.nonce {
			t.Errorf("nonce at block %d = %d, want %d", c.block, s.Nonce, c.nonce)
		}
		if len(s.Receipts) != 3 || s.Receipts[0] == nil || s.Receipts[0].TxHash != hashes[0] || s.Receipts[1] != nil ||
			s.Receipts[2] == nil || s.Receipts[2].TxHash != hashes[2] {
			t.Errorf("receipts at %d: %+v", c.block, s.Receipts)
		}
		if s.Finalized == nil || s.Finalized.Number > b2 {
			t.Errorf("finalized head %+v, want one at or below the tip %d", s.Finalized, b2)
		}
		if st := p.Stats(); st.Requests != 1 || st.Calls != 5 {
			t.Errorf("TrackReads took %d requests with %d calls, want 1 with 5", st.Requests, st.Calls)
		}
	}

	// A node behind the block asked for (here: a block it has not mined)
	// fails the whole request instead of answering from older state, which
	// could make a mined transaction look dropped.
	s, err := node.TrackReads(e.ctx, redeemer, b2+5, hashes, false)
	if err == nil {
		t.Fatalf("TrackReads at a block the node lacks: %+v, want an error", s)
	}
	wantClass(t, "TrackReads ahead of the node", err, chain.ClassUnavailable)

	// Nothing to read costs nothing.
	p.Reset()
	if s, err := node.TrackReads(e.ctx, common.Address{}, b2, nil, false); err != nil || s.Nonce != 0 || len(s.Receipts) != 0 {
		t.Errorf("empty TrackReads = %+v, %v", s, err)
	}
	if st := p.Stats(); st.Requests != 0 {
		t.Errorf("empty TrackReads sent %d requests", st.Requests)
	}
}

// TestNodeCallManyMulticallAndBatch reads the same values through JSON-RPC
// batches of eth_call and, where the dev chain has it, through Multicall3's
// aggregate3, and wants equal answers, failures included.
//
// The Multicall3-compatible contract is expected at the canonical address
// once the dev chain deploys it there. Until then the multicall half
// reports itself skipped, naming the address, and the batch half still runs
// in full; a node pointed at an address without code must fail the read
// rather than answer nothing.
func TestNodeCallManyMulticallAndBatch(t *testing.T) {
	e := newNodeEnv(t, devchain.Options{})
	a := e.p.Addresses()
	senders := e.c.Senders()
	if _, err := e.c.AdvanceRound(e.ctx); err != nil {
		t.Fatal(err)
	}
	brokerABI, err := contracts.TicketBrokerMetaData.GetAbi()
	if err != nil {
		t.Fatal(err)
	}
	roundsABI, err := contracts.RoundsManagerMetaData.GetAbi()
	if err != nil {
		t.Fatal(err)
	}
	pack := func(abiPack func(string, ...any) ([]byte, error), method string, args ...any) []byte {
		data, err := abiPack(method, args...)
		if err != nil {
			t.Fatalf("pack %s: %v", method, err)
		}
		return data
	}
	calls := []chain.Call{
		{To: a.TicketBroker, Data: pack(brokerABI.Pack, "getSenderInfo", senders[0].Address)},
		{To: a.TicketBroker, Data: pack(brokerABI.Pack, "claimedReserve", senders[1].Address, e.c.Recipient().Address)},
		{To: a.RoundsManager, Data: pack(roundsABI.Pack, "currentRound")},
		{To: a.TicketBroker, Data: garbageCall},
		{To: a.TicketBroker, Data: pack(brokerABI.Pack, "fundDepositAndReserve", big.NewInt(1), big.NewInt(0))},
		{To: a.TicketBroker, Data: e.overflowCall()},
		{To: a.RoundsManager, Data: pack(roundsABI.Pack, "blockHashForRound", big.NewInt(1))},
	}
	wantReasons := []string{"", "", "", "", "msg.value does not equal sum of deposit amount and reserve amount",
		"panic 0x11 (arithmetic underflow or overflow)", ""}
	wantFail := []bool{false, false, false, true, true, true, false}

	// The reference: each read on its own, at the same block.
	tip, err := e.node.LatestHead(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	block := new(big.Int).SetUint64(tip.Number)
	ref := make([][]byte, len(calls))
	for i, c := range calls {
		to := c.To
		ref[i], _ = e.c.Client().CallContract(e.ctx, ethereum.CallMsg{To: &to, Data: c.Data}, block)
	}
	// A later block must not change what was read at block.
	e.setPoolSize(3)

	check := func(t *testing.T, got []chain.CallResult) {
		t.Helper()
		if len(got) != len(calls) {
			t.Fatalf("%d results for %d calls", len(got), len(calls))
		}
		for i, r := range got {
			if wantFail[i] {
				var rev *chain.Revert
				if !errors.As(r.Err, &rev) || rev.Reason != wantReasons[i] {
					t.Errorf("call %d: %v, want a *chain.Revert %q", i, r.Err, wantReasons[i])
				}
				continue
			}
			if r.Err != nil || !bytes.Equal(r.Data, ref[i]) || len(r.Data) == 0 {
				t.Errorf("call %d: %x, %v; want %x", i, r.Data, r.Err, ref[i])
			}
		}
	}

	var batchResults []chain.CallResult
	t.Run("batch", func(t *testing.T) {
		p, node := e.proxied(nodeproxy.Options{}, nil, chain.NodeOptions{MaxBatch: 3})
		got, err := node.CallMany(e.ctx, block, calls)
		if err != nil {
			t.Fatalf("CallMany: %v", err)
		}
		check(t, got)
		if s := p.Stats(); s.Requests != 3 || s.Methods["eth_call"] != int64(len(calls)) {
			t.Errorf("%d requests with %v, want 3 batches of eth_call", s.Requests, s.Methods)
		}
		batchResults = got
	})

	t.Run("multicall", func(t *testing.T) {
		// An aggregator address without code answers an empty result: the
		// read must fail as a whole, not come back as empty successes.
		nowhere := common.Address{0x0c, 0xa1, 0x1}
		if _, err := chain.NewNode(e.node.RPC(), chain.NodeOptions{Multicall: nowhere}).CallMany(e.ctx, block, calls); err == nil {
			t.Error("CallMany through an aggregator without code succeeded")
		}
		ok, err := e.node.HasCode(e.ctx, chain.CanonicalMulticall)
		if err != nil {
			t.Fatalf("HasCode: %v", err)
		}
		if !ok {
			t.Skipf("no Multicall3 contract at %s on the dev chain yet: only the JSON-RPC batch path was compared",
				chain.CanonicalMulticall)
		}
		p, node := e.proxied(nodeproxy.Options{}, nil, chain.NodeOptions{Multicall: chain.CanonicalMulticall, MaxBatch: 3})
		got, err := node.CallMany(e.ctx, block, calls)
		if err != nil {
			t.Fatalf("CallMany via Multicall3: %v", err)
		}
		check(t, got)
		for i := range got {
			var rm, rb *chain.Revert
			errors.As(got[i].Err, &rm)
			errors.As(batchResults[i].Err, &rb)
			if !bytes.Equal(got[i].Data, batchResults[i].Data) || (rm == nil) != (rb == nil) ||
				(rm != nil && (rm.Reason != rb.Reason || !bytes.Equal(rm.Data, rb.Data))) {
				t.Errorf("call %d: multicall %x %v, batch %x %v", i, got[i].Data, got[i].Err, batchResults[i].Data, batchResults[i].Err)
			}
		}
		if s := p.Stats(); s.Requests != 3 || s.Methods["eth_call"] != 3 {
			t.Errorf("%d requests with %v, want one eth_call per 3 reads", s.Requests, s.Methods)
		}
	})
}

func TestNodeProtocolReads(t *testing.T) {
	e := newNodeEnv(t, devchain.Options{Senders: 2, RoundLength: 5})
	a := e.p.Addresses()
	recipient := e.c.Recipient().Address
	senders := e.c.Senders()
	// Some history: a ticket redeemed that draws on the reserve, so the
	// claimed amounts are not zero, then a later block with another pool.
	st := e.signedTicket(senders[0], new(big.Int).Add(devchain.DefaultDeposit, eth(1)))
	r, err := e.redeem(&st.Ticket, st.Sig, st.RecipientRand)
	if err != nil {
		t.Fatalf("redeem: %v", err)
	}
	before := r.BlockNumber
	e.setPoolSize(4)
	// Into a round nobody initialized, so the current and the last
	// initialized round differ.
	for {
		cur, err := e.p.CurrentRound(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		last, err := e.p.LastInitializedRound(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cur.Cmp(last) != 0 {
			break
		}
		e.c.Commit()
	}

	for _, block := range []*big.Int{nil, before} {
		opts := &bind.CallOpts{Context: e.ctx, BlockNumber: block}
		p, err := e.node.ReadProtocol(e.ctx, a, block, recipient)
		if err != nil {
			t.Fatalf("ReadProtocol at %v: %v", block, err)
		}
		pool, _ := e.p.BondingManager().GetTranscoderPoolSize(opts)
		active, _ := e.p.BondingManager().IsActiveTranscoder(opts, recipient)
		round, _ := e.p.RoundsManager().CurrentRound(opts)
		last, _ := e.p.RoundsManager().LastInitializedRound(opts)
		length, _ := e.p.RoundsManager().RoundLength(opts)
		validity, _ := e.broker.TicketValidityPeriod(opts)
		wantEq(t, "pool size", p.PoolSize, pool)
		wantEq(t, "current round", p.CurrentRound, round)
		wantEq(t, "last initialized round", p.LastInitializedRound, last)
		wantEq(t, "round length", p.RoundLength, length)
		wantEq(t, "ticket validity period", p.TicketValidityPeriod, validity)
		if p.RecipientActive != active || !active {
			t.Errorf("recipient active = %t, want %t", p.RecipientActive, active)
		}
		// The dev RoundsManager may not have currentRoundStartBlock; where
		// it has, the start lies within the current round.
		if p.RoundStartL1 != nil {
			start := new(big.Int).Mul(round, length)
			wantEq(t, "round start", p.RoundStartL1, start)
		}
	}
	if p, _ := e.node.ReadProtocol(e.ctx, a, before, recipient); p.PoolSize.Int64() != 1 {
		t.Errorf("pool size read at block %s = %s, want the 1 of then", before, p.PoolSize)
	}

	stranger := common.Address{0x5a}
	readings, err := e.node.ReadSenders(e.ctx, a, nil, recipient, []common.Address{senders[0].Address, stranger, senders[1].Address})
	if err != nil {
		t.Fatalf("ReadSenders: %v", err)
	}
	for i, addr := range []common.Address{senders[0].Address, stranger, senders[1].Address} {
		got := readings[i]
		if got.Err != nil || got.Sender != addr {
			t.Fatalf("reading %d: %+v", i, got)
		}
		info := e.senderInfo(addr)
		wantEq(t, "deposit", got.Info.Deposit, info.Deposit)
		wantEq(t, "withdraw round", got.Info.WithdrawRound, info.WithdrawRound)
		wantEq(t, "reserve", got.Info.FundsRemaining, info.FundsRemaining)
		wantEq(t, "claimed in round", got.Info.ClaimedInCurrentRound, info.ClaimedInCurrentRound)
		wantEq(t, "claimed by recipient", got.ClaimedByRecipient, e.claimed(addr, recipient))
	}
	// At the block of the redemption, in its round, the recipient had
	// claimed 1 ether of sender 0's reserve; the round since reset it.
	then, err := e.node.ReadSenders(e.ctx, a, before, recipient, []common.Address{senders[0].Address})
	if err != nil || then[0].Err != nil {
		t.Fatalf("ReadSenders at %s: %v %+v", before, err, then)
	}
	wantEq(t, "sender 0 claimed by recipient then", then[0].ClaimedByRecipient, eth(1))
	wantEq(t, "sender 0 deposit then", then[0].Info.Deposit, new(big.Int))
	wantEq(t, "sender 0 claimed by recipient now", readings[0].ClaimedByRecipient, new(big.Int))
	// A broker that cannot answer for one sender spoils only that one: here
	// a "broker" without code answers nothing for anyone, and each sender
	// carries its own error.
	bad := a
	bad.TicketBroker = common.Address{0xba, 0xd}
	readings, err = e.node.ReadSenders(e.ctx, bad, nil, recipient, []common.Address{senders[0].Address})
	if err != nil || readings[0].Err == nil {
		t.Errorf("ReadSenders from an address without code: %+v, %v; want the sender's own error", readings, err)
	}

	round, err := e.p.LastInitializedRound(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.p.BlockHashForRound(e.ctx, round)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.node.ReadRoundHash(e.ctx, a, round.Int64())
	if err != nil || got != want || got == (common.Hash{}) {
		t.Errorf("ReadRoundHash(%s) = %s, %v; want %s", round, got, err, want)
	}
	for _, r := range []int64{round.Int64() + 1, round.Int64() + 5} {
		if got, err := e.node.ReadRoundHash(e.ctx, a, r); err != nil || got != (common.Hash{}) {
			t.Errorf("ReadRoundHash of uninitialized round %d = %s, %v; want zero", r, got, err)
		}
	}

	unused := e.signedTicket(senders[1], eth(1))
	used, errs, err := e.node.ReadUsed(e.ctx, a.TicketBroker, []common.Hash{st.Hash(), unused.Hash()})
	if err != nil || errs[0] != nil || errs[1] != nil {
		t.Fatalf("ReadUsed: %v %v", err, errs)
	}
	if !used[0] || used[1] {
		t.Errorf("ReadUsed = %v, want [true false]", used)
	}
}

func TestNodeLogsThroughAndSummary(t *testing.T) {
	e := newNodeEnv(t, devchain.Options{})
	a := e.p.Addresses()
	recipient := e.c.Recipient().Address
	senders := e.c.Senders()
	start, err := e.node.LatestHead(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Funding by sender 0, a redemption from sender 1, a new round.
	fund := e.transactor(senders[0])
	fund.Value = eth(2)
	tx, err := e.broker.FundDeposit(fund)
	e.mustMine("fund deposit", tx, err)
	st := e.signedTicket(senders[1], eth(1))
	if _, err := e.redeem(&st.Ticket, st.Sig, st.RecipientRand); err != nil {
		t.Fatalf("redeem: %v", err)
	}
	round, err := e.c.AdvanceRound(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	end, err := e.node.LatestHead(e.ctx)
	if err != nil {
		t.Fatal(err)
	}

	q := ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(start.Number + 1),
		ToBlock:   new(big.Int).SetUint64(end.Number),
		Addresses: []common.Address{a.TicketBroker, a.RoundsManager, a.BondingManager},
	}
	logs, head, err := e.node.LogsThrough(e.ctx, q, end.Number)
	if err != nil {
		t.Fatalf("LogsThrough: %v", err)
	}
	if !sameHead(head, end) {
		t.Errorf("LogsThrough head %+v, want %+v", head, end)
	}
	want, err := e.c.Client().FilterLogs(e.ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != len(want) || len(logs) < 4 {
		t.Fatalf("LogsThrough gave %d logs, FilterLogs %d", len(logs), len(want))
	}
	for i := range logs {
		if logs[i].TxHash != want[i].TxHash || logs[i].Index != want[i].Index || logs[i].Topics[0] != want[i].Topics[0] {
			t.Errorf("log %d = %+v, want %+v", i, logs[i], want[i])
		}
	}
	if _, _, err := e.node.LogsThrough(e.ctx, q, end.Number+10); !errors.Is(err, chain.ErrHeadNotFound) {
		t.Errorf("LogsThrough checked against a block past the tip: %v, want ErrHeadNotFound", err)
	}

	s, err := chain.SummarizeLogs(logs, a, recipient)
	if err != nil {
		t.Fatalf("SummarizeLogs: %v", err)
	}
	if !s.Senders[senders[0].Address] || !s.Senders[senders[1].Address] || len(s.Senders) != 2 {
		t.Errorf("senders %v, want both", s.Senders)
	}
	if !s.Funded[senders[0].Address] || len(s.Funded) != 1 {
		t.Errorf("funded %v, want sender 0 only", s.Funded)
	}
	wantHash, err := e.p.BlockHashForRound(e.ctx, round)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Protocol || len(s.Rounds) != 1 || s.Rounds[round.Int64()] != wantHash {
		t.Errorf("protocol %t rounds %v, want round %s with %s", s.Protocol, s.Rounds, round, wantHash)
	}
	if len(s.Redeemed) != 1 {
		t.Fatalf("redeemed %+v, want one ticket", s.Redeemed)
	}
	red := s.Redeemed[0]
	if red.TicketHash != st.Hash() || red.Sender != senders[1].Address || red.Recipient != recipient ||
		red.Block <= start.Number || red.Block > end.Number || red.TxHash == (common.Hash{}) {
		t.Errorf("redeemed %+v, want ticket %s", red, st.Hash())
	}
	// Another recipient's summary names the same senders but no redeemed
	// tickets of its own; logs a reorg removed count for nothing.
	other, err := chain.SummarizeLogs(logs, a, common.Address{0x0e})
	if err != nil || len(other.Redeemed) != 0 || len(other.Senders) != 2 {
		t.Errorf("summary for another recipient: %+v, %v", other, err)
	}
	removed := slices.Clone(logs)
	for i := range removed {
		removed[i].Removed = true
	}
	if none, err := chain.SummarizeLogs(removed, a, recipient); err != nil || len(none.Senders) != 0 || none.Protocol ||
		len(none.Redeemed) != 0 {
		t.Errorf("summary of removed logs: %+v, %v", none, err)
	}
}

// TestPayoutsOnRedemptionReceipts pairs each WinningTicketRedeemed with the
// WinningTicketTransfer before it, on a real batch: one ticket paid from a
// deposit, one from deposit and reserve, one that paid nothing (no
// transfer), and one the broker skipped.
func TestPayoutsOnRedemptionReceipts(t *testing.T) {
	e := newNodeEnv(t, devchain.Options{Deposit: eth(1), Reserve: eth(2)})
	senders := e.c.Senders()
	e.setPoolSize(2) // the recipient's reserve allocation: (2 + 0) / 2 = 1
	tickets := []chain.SignedTicket{
		e.signedTicket(senders[0], eth(1)), // the deposit pays it all
		e.signedTicket(senders[1], eth(2)), // 1 from the deposit, 1 from the reserve
		e.signedTicket(senders[1], eth(1)), // nothing left for this recipient: pays 0
		e.signedTicket(senders[0], eth(1)), // skipped: wrong recipientRand
	}
	tickets[3].RecipientRand = new(big.Int).Add(tickets[3].RecipientRand, big.NewInt(1))
	rt := e.signRedeem(e.txSigner(), tickets)
	if err := e.node.SendTransaction(e.ctx, rt.tx); err != nil {
		t.Fatalf("send: %v", err)
	}
	e.c.Commit()
	rcpts, errs, err := e.node.Receipts(e.ctx, []common.Hash{rt.tx.Hash()})
	if err != nil || errs[0] != nil || rcpts[0] == nil {
		t.Fatalf("receipt: %v %v %v", rcpts, errs, err)
	}
	r := rcpts[0]
	if r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("receipt status %d", r.Status)
	}
	broker := e.p.Addresses().TicketBroker
	paid, err := chain.Payouts(broker, r.Logs)
	if err != nil {
		t.Fatalf("Payouts: %v", err)
	}
	want := map[common.Hash]*big.Int{tickets[0].Hash(): eth(1), tickets[1].Hash(): eth(2), tickets[2].Hash(): new(big.Int)}
	if len(paid) != len(want) {
		t.Fatalf("payouts %v, want %v", paid, want)
	}
	for h, w := range want {
		if paid[h] == nil || paid[h].Cmp(w) != 0 {
			t.Errorf("ticket %s paid %v, want %s", h, paid[h], w)
		}
	}
	// The chain agrees: what the transfers say is what left the senders.
	wantEq(t, "sender 1 deposit", e.senderInfo(senders[1].Address).Deposit, new(big.Int))
	wantEq(t, "sender 1 reserve", e.senderInfo(senders[1].Address).FundsRemaining, eth(1))
	// Logs of another contract prove nothing.
	if other, err := chain.Payouts(common.Address{0xb0}, r.Logs); err != nil || len(other) != 0 {
		t.Errorf("payouts under another address: %v, %v", other, err)
	}
}

func TestNodeFinalizedAndHeadsByNumber(t *testing.T) {
	e := newNodeEnv(t, devchain.Options{})
	e.c.Commit()
	tip, err := e.node.LatestHead(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	fin, ok, err := e.node.FinalizedHead(e.ctx)
	if err != nil || !ok {
		t.Fatalf("FinalizedHead = %+v, %t, %v; the simulated chain serves the tag", fin, ok, err)
	}
	if fin.Number > tip.Number {
		t.Errorf("finalized %d above the tip %d", fin.Number, tip.Number)
	}
	canon, err := e.node.HeadByNumber(e.ctx, fin.Number)
	if err != nil || canon.Hash != fin.Hash {
		t.Errorf("finalized %+v is not the canonical head %+v (%v)", fin, canon, err)
	}

	heads, errs, err := e.node.HeadsByNumber(e.ctx, []uint64{tip.Number, tip.Number - 1, tip.Number + 3})
	if err != nil {
		t.Fatalf("HeadsByNumber: %v", err)
	}
	if errs[0] != nil || !sameHead(heads[0], tip) || errs[1] != nil || heads[1].Hash != tip.ParentHash {
		t.Errorf("HeadsByNumber = %+v, %v", heads, errs)
	}
	if !errors.Is(errs[2], chain.ErrHeadNotFound) {
		t.Errorf("head past the tip: %v, want ErrHeadNotFound", errs[2])
	}

	// A node that does not know the tag says so with an error of its own
	// (not the node failing): no finalized head, no error. A node that
	// fails is an error.
	_, node := e.proxied(nodeproxy.Options{Faults: nodeproxy.Faults{RPCError: 1}, FaultCode: -32602,
		FaultMessage: "invalid argument 0: hex string without 0x prefix"}, nil, chain.NodeOptions{})
	if h, ok, err := node.FinalizedHead(e.ctx); ok || err != nil {
		t.Errorf("FinalizedHead where the tag is unknown = %+v, %t, %v; want none and no error", h, ok, err)
	}
	_, node = e.proxied(nodeproxy.Options{Faults: nodeproxy.Faults{HTTP503: 1}}, nil, chain.NodeOptions{})
	if _, ok, err := node.FinalizedHead(e.ctx); ok || chain.Classify(err) != chain.ClassUnavailable {
		t.Errorf("FinalizedHead from a failing node: %t, %v; want an unavailable error", ok, err)
	}
}

func TestBackoffDelay(t *testing.T) {
	b := chain.Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	for failures, want := range map[int]time.Duration{
		-1: 0, 0: 0, 1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond,
		4: 800 * time.Millisecond, 5: time.Second, 6: time.Second, 1000: time.Second,
	} {
		if got := b.Delay(failures); got != want {
			t.Errorf("Delay(%d) = %s, want %s", failures, got, want)
		}
	}
	if got := (chain.Backoff{Min: 300 * time.Millisecond, Max: 500 * time.Millisecond}).Delay(2); got != 500*time.Millisecond {
		t.Errorf("a doubling past Max gives %s, want Max", got)
	}
	if got := (chain.Backoff{Min: time.Second}).Delay(40); got <= 0 {
		t.Errorf("no Max: Delay(40) = %s, want a positive wait", got)
	}
	if got := (chain.Backoff{Max: time.Second}).Delay(3); got != 0 {
		t.Errorf("no Min: Delay(3) = %s, want 0", got)
	}
}
