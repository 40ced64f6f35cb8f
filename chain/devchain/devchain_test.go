package devchain_test

import (
	"context"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"redeemer/chain"
	"redeemer/chain/contracts"
	"redeemer/chain/devchain"
)

func newChain(t *testing.T, opts devchain.Options) *devchain.Chain {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := devchain.New(ctx, opts)
	if err != nil {
		t.Fatalf("devchain.New: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

func TestRPCServesSameChainAndMineProducesBlocks(t *testing.T) {
	c := newChain(t, devchain.Options{RPCAddr: "127.0.0.1:0"})
	if c.RPCURL() == "" {
		t.Fatal("RPCURL is empty with RPCAddr set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	remote, err := ethclient.DialContext(ctx, c.RPCURL())
	if err != nil {
		t.Fatalf("dial %s: %v", c.RPCURL(), err)
	}
	defer remote.Close()

	localID, err := c.Client().ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	remoteID, err := remote.ChainID(ctx)
	if err != nil {
		t.Fatalf("chain id over HTTP: %v", err)
	}
	if localID.Cmp(remoteID) != 0 || localID.Cmp(c.ChainID()) != 0 {
		t.Fatalf("chain id: local %s, remote %s, ChainID() %s", localID, remoteID, c.ChainID())
	}
	localHead, err := c.Client().BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	remoteHead, err := remote.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if localHead != remoteHead {
		t.Fatalf("block number: local %d, remote %d", localHead, remoteHead)
	}
	// The contracts must be visible over HTTP too, or `redeemer dev` would
	// hand out an endpoint the service cannot use.
	code, err := remote.CodeAt(ctx, c.Addresses().TicketBroker, nil)
	if err != nil || len(code) == 0 {
		t.Fatalf("TicketBroker code over HTTP: %d bytes, err %v", len(code), err)
	}

	mineCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Mine(mineCtx, 5*time.Millisecond)
	}()
	// Mining across a round boundary must also initialize the new round.
	want := remoteHead + c.RoundLength() + 1
	for {
		n, err := remote.BlockNumber(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n >= want {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("Mine: head %d, want >= %d", n, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	<-done

	p := c.Protocol()
	ok, err := p.CurrentRoundInitialized(ctx)
	if err != nil {
		t.Fatal(err)
	}
	round, _ := p.CurrentRound(ctx)
	if !ok {
		t.Fatalf("round %s not initialized while mining", round)
	}
	h, err := p.BlockHashForRound(ctx, round)
	if err != nil || h == (common.Hash{}) {
		t.Fatalf("blockHashForRound(%s) = %s, %v", round, h, err)
	}
}

func TestCloseFreesPort(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := devchain.New(ctx, devchain.Options{RPCAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(c.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	l, err := net.Listen("tcp", u.Host)
	if err != nil {
		t.Fatalf("port %s still taken after Close: %v", u.Host, err)
	}
	l.Close()
	if h := c.Commit(); h != (common.Hash{}) {
		t.Fatalf("Commit after Close mined %s", h)
	}

	// The same fixed address must be usable by the next chain.
	c2 := newChain(t, devchain.Options{RPCAddr: u.Host})
	if c2.RPCURL() != c.RPCURL() {
		t.Fatalf("RPCURL %s, want %s", c2.RPCURL(), c.RPCURL())
	}
}

func TestRejectsNonLoopbackRPC(t *testing.T) {
	_, err := devchain.New(context.Background(), devchain.Options{RPCAddr: "0.0.0.0:0"})
	if err == nil {
		t.Fatal("New served RPC on a non-loopback address")
	}
}

func TestDeterministicAccountsAndSetup(t *testing.T) {
	a := newChain(t, devchain.Options{})
	b := newChain(t, devchain.Options{Senders: 3, RoundLength: 5, TicketValidityPeriod: 4, UnlockPeriod: 3})
	if a.Redeemer().Address != b.Redeemer().Address || a.Recipient().Address != b.Recipient().Address ||
		a.Owner().Address != b.Owner().Address || a.Senders()[0].Address != b.Senders()[0].Address {
		t.Fatal("accounts differ between two chains")
	}
	if a.Addresses() != b.Addresses() {
		// Same deployer, same nonces: same contract addresses, which lets
		// `redeemer dev` print a stable configuration.
		t.Fatalf("addresses differ: %+v vs %+v", a.Addresses(), b.Addresses())
	}
	seen := map[common.Address]string{}
	all := append([]devchain.Account{a.Owner(), a.Redeemer(), a.Recipient()}, b.Senders()...)
	for _, acc := range all {
		if prev, ok := seen[acc.Address]; ok {
			t.Fatalf("%s and %s share address %s", prev, acc.Name, acc.Address)
		}
		seen[acc.Address] = acc.Name
	}
	if len(a.Senders()) != devchain.DefaultSenders || len(b.Senders()) != 3 {
		t.Fatalf("senders: %d and %d", len(a.Senders()), len(b.Senders()))
	}

	ctx := context.Background()
	for _, tc := range []struct {
		c                       *devchain.Chain
		roundLength, validity   int64
		unlock, minRound, funds int64
	}{
		{a, devchain.DefaultRoundLength, 2, 2, 1, 10},
		{b, 5, 4, 3, 1, 10},
	} {
		p := tc.c.Protocol()
		if n, err := p.RoundLength(ctx); err != nil || n.Int64() != tc.roundLength {
			t.Errorf("roundLength %v %v, want %d", n, err, tc.roundLength)
		}
		if n, err := p.TicketValidityPeriod(ctx); err != nil || n.Int64() != tc.validity {
			t.Errorf("ticketValidityPeriod %v %v, want %d", n, err, tc.validity)
		}
		if n, err := p.UnlockPeriod(ctx); err != nil || n.Int64() != tc.unlock {
			t.Errorf("unlockPeriod %v %v, want %d", n, err, tc.unlock)
		}
		round, err := p.CurrentRound(ctx)
		if err != nil || round.Int64() < tc.minRound {
			t.Errorf("current round %v %v", round, err)
		}
		if ok, err := p.CurrentRoundInitialized(ctx); err != nil || !ok {
			t.Errorf("current round initialized %v %v", ok, err)
		}
		if h, err := p.BlockHashForRound(ctx, round); err != nil || h == (common.Hash{}) {
			t.Errorf("blockHashForRound %s %v", h, err)
		}
		if ok, err := p.IsActiveTranscoder(ctx, tc.c.Recipient().Address); err != nil || !ok {
			t.Errorf("recipient active %v %v", ok, err)
		}
		if n, err := p.TranscoderPoolSize(ctx); err != nil || n.Int64() != 1 {
			t.Errorf("pool size %v %v", n, err)
		}
		want := new(big.Int).Mul(big.NewInt(tc.funds), devchain.Ether)
		for _, s := range tc.c.Senders() {
			info, err := p.SenderInfo(ctx, s.Address)
			if err != nil || info.Deposit.Cmp(want) != 0 || info.FundsRemaining.Cmp(want) != 0 {
				t.Errorf("%s: %+v %v", s.Name, info, err)
			}
		}
		bal, err := tc.c.Client().BalanceAt(ctx, tc.c.Redeemer().Address, nil)
		if err != nil || bal.Sign() <= 0 {
			t.Errorf("redeemer balance %v %v", bal, err)
		}
	}
}

func TestAdvanceRound(t *testing.T) {
	c := newChain(t, devchain.Options{RoundLength: 4})
	ctx := context.Background()
	p := c.Protocol()
	before, err := p.CurrentRound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A few stray blocks mid-round must not confuse the boundary arithmetic.
	c.Commit()
	for i := int64(1); i <= 3; i++ {
		got, err := c.AdvanceRound(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := before.Int64() + i; got.Int64() != want {
			t.Fatalf("AdvanceRound = %s, want %d", got, want)
		}
		head, _ := c.Client().BlockNumber(ctx)
		if head%4 != 0 {
			t.Fatalf("head %d is not the first block of its round", head)
		}
		h, err := p.BlockHashForRound(ctx, got)
		if err != nil {
			t.Fatal(err)
		}
		parent, err := c.Client().HeaderByNumber(ctx, new(big.Int).SetUint64(head-1))
		if err != nil {
			t.Fatal(err)
		}
		if h != parent.Hash() {
			t.Fatalf("blockHashForRound(%s) = %s, want hash of block %d %s", got, h, head-1, parent.Hash())
		}
	}
}

func TestTakenPortIsAnError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// simulated.NewBackend panics when the node cannot start; New must
	// report it as an error instead.
	c, err := devchain.New(context.Background(), devchain.Options{RPCAddr: l.Addr().String()})
	if err == nil {
		c.Close()
		t.Fatal("New succeeded on a taken port")
	}
}

// TestRoundKeepingSwitch: with round keeping off, Mine and AdvanceRound
// start rounds without initializing them, as when no orchestrator calls
// initializeRound; InitializeRound initializes one later.
func TestRoundKeepingSwitch(t *testing.T) {
	c := newChain(t, devchain.Options{RoundLength: 4})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := c.Protocol()
	initialized := func() (*big.Int, bool) {
		t.Helper()
		round, err := p.CurrentRound(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ok, err := p.CurrentRoundInitialized(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return round, ok
	}

	c.SetRoundKeeping(false)
	before, _ := initialized()
	round, err := c.AdvanceRound(ctx)
	if err != nil {
		t.Fatalf("AdvanceRound without round keeping: %v", err)
	}
	if got, ok := initialized(); ok || got.Cmp(round) != 0 || round.Int64() != before.Int64()+1 {
		t.Fatalf("after AdvanceRound from round %s: round %s (returned %s), initialized %v", before, got, round, ok)
	}

	// Mine past the next boundary: still nothing initialized.
	mineCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Mine(mineCtx, 2*time.Millisecond)
	}()
	for {
		if got, _ := initialized(); got.Cmp(round) > 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("Mine did not reach the next round")
		}
		time.Sleep(2 * time.Millisecond)
	}
	stop()
	<-done
	round, ok := initialized()
	if ok {
		t.Fatalf("Mine initialized round %s with round keeping off", round)
	}

	// Initialize in the first block of a round, so the next block, where a
	// second attempt would land, is in the same round.
	head, err := c.Client().BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for ; (head+1)%4 != 0; head++ {
		c.Commit()
	}
	got, err := c.InitializeRound(ctx)
	if err != nil {
		t.Fatalf("InitializeRound: %v", err)
	}
	if now, ok := initialized(); !ok || got.Cmp(now) != 0 {
		t.Fatalf("InitializeRound returned %s; now round %s, initialized %v", got, now, ok)
	}
	if h, err := p.BlockHashForRound(ctx, got); err != nil || h == (common.Hash{}) {
		t.Fatalf("blockHashForRound(%s) = %s, %v", got, h, err)
	}
	if _, err := c.InitializeRound(ctx); err == nil {
		t.Fatal("InitializeRound of an initialized round succeeded")
	}

	c.SetRoundKeeping(true)
	round, err = c.AdvanceRound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := initialized(); !ok {
		t.Fatalf("round %s not initialized with round keeping back on", round)
	}
}

// TestL1Ratio: with L1Ratio k the contracts see block number / k as the L1
// block number, rounds count L1 blocks, and the round keeping (AdvanceRound,
// Mine and RoundKeeper) starts each round in the first block whose L1
// number reaches round × roundLength.
func TestL1Ratio(t *testing.T) {
	const length, k = 4, 3
	c := newChain(t, devchain.Options{RoundLength: length, L1Ratio: k})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if c.L1Ratio() != k || c.L1Number(7) != 2 || c.L1Number(6) != 2 || c.L1Number(5) != 1 {
		t.Fatalf("L1Ratio %d, L1Number(5, 6, 7) = %d %d %d", c.L1Ratio(), c.L1Number(5), c.L1Number(6), c.L1Number(7))
	}
	rm := c.Protocol().RoundsManager()
	call := &bind.CallOpts{Context: ctx}
	check := func(what string) uint64 {
		t.Helper()
		head, err := c.Client().BlockNumber(ctx)
		if err != nil {
			t.Fatal(err)
		}
		num, err := rm.BlockNum(call)
		if err != nil || num.Uint64() != head/k {
			t.Fatalf("%s: blockNum %v (%v) at block %d, want %d", what, num, err, head, head/k)
		}
		round, err := rm.CurrentRound(call)
		if err != nil || round.Uint64() != head/k/length {
			t.Fatalf("%s: current round %v (%v) at block %d, want %d", what, round, err, head, head/k/length)
		}
		start, err := rm.CurrentRoundStartBlock(call)
		if err != nil || start.Uint64() != round.Uint64()*length {
			t.Fatalf("%s: currentRoundStartBlock %v (%v) in round %s, want %d", what, start, err, round, round.Uint64()*length)
		}
		if n, err := rm.RoundLength(call); err != nil || n.Uint64() != length {
			t.Fatalf("%s: roundLength %v (%v)", what, n, err)
		}
		if ok, err := rm.CurrentRoundInitialized(call); err != nil || !ok {
			t.Fatalf("%s: round %s at block %d not initialized (%v)", what, round, head, err)
		}
		return head
	}
	check("after New")
	for range 2 {
		if _, err := c.AdvanceRound(ctx); err != nil {
			t.Fatal(err)
		}
		if head := check("after AdvanceRound"); head%(length*k) != 0 {
			t.Fatalf("AdvanceRound stopped at block %d, not the first block of a round (%d L1 blocks of %d)", head, length, k)
		}
	}

	// Mine across a boundary.
	head, err := c.Client().BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mineCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Mine(mineCtx, 2*time.Millisecond)
	}()
	for n := head; n < head+length*k+1; {
		if n, err = c.Client().BlockNumber(ctx); err != nil || ctx.Err() != nil {
			t.Fatalf("Mine: head %d, %v", n, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	stop()
	<-done
	check("after Mine")

	// RoundKeeper, as on a node: it must have initializeRound waiting in
	// the pool when the block that starts the round is mined.
	c.SetRoundKeeping(false)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	keeper, err := devchain.NewRoundKeeper(ctx, c.Client(), c.Addresses().RoundsManager, quiet)
	if err != nil {
		t.Fatal(err)
	}
	keepCtx, stopKeeper := context.WithCancel(ctx)
	kept := make(chan error, 1)
	go func() { kept <- keeper.Run(keepCtx, 2*time.Millisecond) }()
	defer func() {
		stopKeeper()
		if err := <-kept; err != nil {
			t.Errorf("RoundKeeper.Run: %v", err)
		}
	}()
	keeperAddr := devchain.DevAccount("round-keeper").Address
	head, err = c.Client().BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for next := (head/(length*k) + 1) * length * k; head+1 < next; head++ {
		c.Commit()
	}
	for {
		pending, err := c.Client().PendingNonceAt(ctx, keeperAddr)
		if err != nil {
			t.Fatal(err)
		}
		mined, err := c.Client().NonceAt(ctx, keeperAddr, nil)
		if err != nil {
			t.Fatal(err)
		}
		if pending > mined {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("RoundKeeper sent nothing before block %d", head+1)
		}
		time.Sleep(2 * time.Millisecond)
	}
	c.Commit()
	if got := check("after RoundKeeper"); got%(length*k) != 0 {
		t.Fatalf("RoundKeeper check at block %d, want the first block of a round", got)
	}
}

// TestMulticall: the embedded chain holds Multicall3 at its canonical
// address from genesis; aggregate3 returns each call's outcome, a revert's
// data included, and reverts as a whole when a call that may not fail does.
func TestMulticall(t *testing.T) {
	c := newChain(t, devchain.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if c.Multicall() != devchain.MulticallAddress() {
		t.Fatalf("Multicall %s, want the canonical %s", c.Multicall(), devchain.MulticallAddress())
	}
	code, err := c.Client().CodeAt(ctx, c.Multicall(), big.NewInt(0))
	if err != nil || len(code) == 0 {
		t.Fatalf("Multicall3 code at genesis: %d bytes, %v", len(code), err)
	}

	mc, err := contracts.Multicall3MetaData.GetAbi()
	if err != nil {
		t.Fatal(err)
	}
	tb, err := contracts.TicketBrokerMetaData.GetAbi()
	if err != nil {
		t.Fatal(err)
	}
	sender := c.Senders()[0].Address
	infoCall, err := tb.Pack("getSenderInfo", sender)
	if err != nil {
		t.Fatal(err)
	}
	// Multicall3 has no deposit or reserve to withdraw.
	withdrawCall, err := tb.Pack("withdraw")
	if err != nil {
		t.Fatal(err)
	}
	broker := c.Addresses().TicketBroker
	aggregate := func(allowFailure bool) ([]contracts.Multicall3Result, error) {
		data, err := mc.Pack("aggregate3", []contracts.Multicall3Call3{
			{Target: broker, AllowFailure: false, CallData: infoCall},
			{Target: broker, AllowFailure: allowFailure, CallData: withdrawCall},
		})
		if err != nil {
			t.Fatal(err)
		}
		to := c.Multicall()
		out, err := c.Client().CallContract(ctx, ethereum.CallMsg{To: &to, Data: data}, nil)
		if err != nil {
			return nil, err
		}
		vals, err := mc.Unpack("aggregate3", out)
		if err != nil {
			t.Fatal(err)
		}
		return *abi.ConvertType(vals[0], new([]contracts.Multicall3Result)).(*[]contracts.Multicall3Result), nil
	}

	res, err := aggregate(true)
	if err != nil {
		t.Fatalf("aggregate3: %v", err)
	}
	if len(res) != 2 || !res[0].Success || res[1].Success {
		t.Fatalf("aggregate3 results %+v, want one success then one failure", res)
	}
	info, err := tb.Unpack("getSenderInfo", res[0].ReturnData)
	if err != nil {
		t.Fatal(err)
	}
	deposit := abi.ConvertType(info[0], new(struct{ Deposit, WithdrawRound *big.Int })).(*struct{ Deposit, WithdrawRound *big.Int })
	if deposit.Deposit.Cmp(devchain.DefaultDeposit) != 0 {
		t.Fatalf("getSenderInfo through aggregate3: deposit %s, want %s", deposit.Deposit, devchain.DefaultDeposit)
	}
	if reason, err := abi.UnpackRevert(res[1].ReturnData); err != nil || reason != "sender deposit and reserve are zero" {
		t.Fatalf("failed call's return data %x: reason %q, %v", res[1].ReturnData, reason, err)
	}

	_, err = aggregate(false)
	if got := chain.RevertReason(err); got != "Multicall3: call failed" {
		t.Fatalf("aggregate3 with a failing call that may not fail: %v (reason %q)", err, got)
	}
}

// TestDeployOnNodeDeploysMulticall: Deploy on a chain without a Multicall3
// (any node but the embedded chain) deploys one, and refuses to record one
// that is not there.
func TestDeployOnNodeDeploysMulticall(t *testing.T) {
	c := newChain(t, devchain.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := devchain.Deploy(ctx, c.Client(), devchain.DeployOptions{L1Ratio: 2}, func() { c.Commit() })
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	if d.Multicall == (common.Address{}) || d.Multicall == devchain.MulticallAddress() {
		t.Fatalf("Deploy recorded Multicall3 at %s, want a new deployment", d.Multicall)
	}
	if code, err := c.Client().CodeAt(ctx, d.Multicall, nil); err != nil || len(code) == 0 {
		t.Fatalf("deployed Multicall3: %d bytes of code, %v", len(code), err)
	}
	rm, err := contracts.NewRoundsManager(d.Addresses.RoundsManager, c.Client())
	if err != nil {
		t.Fatal(err)
	}
	if k, err := rm.L2BlocksPerL1(&bind.CallOpts{Context: ctx}); err != nil || k.Uint64() != 2 || d.L1Ratio != 2 {
		t.Fatalf("l2BlocksPerL1 %v (%v), Deployment.L1Ratio %d; want 2", k, err, d.L1Ratio)
	}

	_, err = devchain.Deploy(ctx, c.Client(), devchain.DeployOptions{Multicall: c.Redeemer().Address}, func() { c.Commit() })
	if err == nil || !strings.Contains(err.Error(), "no Multicall3") {
		t.Fatalf("Deploy with a Multicall3 address without code: %v", err)
	}
}
