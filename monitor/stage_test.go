package monitor

import (
	"context"
	"errors"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/chain/nodeproxy"
	"redeemer/monitor/monitortest"
	"redeemer/pipeline"
	"redeemer/store"
)

// The property: whatever happens on chain, once the senders stage has run
// at a head, every tracked sender's stored state equals getSenderInfo and
// its reserve allocation equals claimableReserve(sender, recipient). The
// stage runs after a random number of steps, so it follows ranges of
// blocks of any length.
func TestStoredStateFollowsTheChain(t *testing.T) {
	t.Parallel()
	for _, seed := range seeds {
		t.Run("seed"+strconv.FormatUint(seed, 10), func(t *testing.T) {
			t.Parallel()
			runRandomHistory(t, seed, 30)
		})
	}
}

var seeds = []uint64{1, 3}

func runRandomHistory(t *testing.T, seed uint64, steps int) {
	e := newEnv(t, envOptions{chain: devchain.Options{Senders: 3, RoundLength: 6, UnlockPeriod: 1, Deposit: monitortest.Ether(2)}})
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	senders := e.c.Senders()
	recipient := e.c.Recipient().Address
	other := devchain.DevAccount("other-orchestrator").Address
	e.c.SetActive(other, true) // pool size 2
	e.follow()

	// Sender 0 is tracked because a client asked for it, sender 1 because
	// it sent a ticket (the reread stage reads it on its first run); sender
	// 2 is a stranger and must stay untracked.
	e.track(senders[0])
	monitortest.InsertTicket(t, e.ctx, e.st, senders[1].Address, recipient, monitortest.Milli(1))
	e.runReread(e.c.Head())
	tracked := senders[:2]
	for _, a := range tracked {
		e.checkAgainstChain("start", a.Address)
	}

	amount := func(maxMilli int64) *big.Int { return monitortest.Milli(1 + rng.Int64N(maxMilli)) }
	var sawClaim, sawAlloc, sawRange bool
	var pending []string
	for i := range steps {
		s := senders[rng.IntN(len(senders))]
		var step string
		switch k := rng.IntN(10); k {
		case 0:
			step = "fund deposit"
			e.c.FundDeposit(s, amount(3000))
		case 1:
			step = "fund reserve"
			e.c.FundReserve(s, amount(3000))
		case 2, 3:
			step = "redeem for recipient"
			e.c.InitializeRound()
			_ = e.c.Redeem(s, recipient, amount(15000))
		case 4:
			step = "redeem for another recipient"
			e.c.InitializeRound()
			_ = e.c.Redeem(s, other, amount(15000))
		case 5:
			step = "new round"
			if _, err := e.c.AdvanceRound(e.ctx); err != nil {
				t.Fatal(err)
			}
		case 6:
			step = "pool size"
			e.c.SetPoolSize(rng.Int64N(5))
		case 7:
			step = "recipient (de)activated"
			// Mostly active: an inactive recipient cannot redeem.
			fs := e.floatState(senders[0].Address)
			e.c.SetActive(recipient, !fs.Protocol.RecipientActive || rng.IntN(3) != 0)
		case 8:
			step = "unlock or cancel"
			if e.c.Unlock(s) != nil {
				_ = e.c.CancelUnlock(s)
			}
		case 9:
			step = "withdraw"
			_ = e.c.Withdraw(s)
		}
		pending = append(pending, strconv.Itoa(i)+" "+step+" by "+s.Name)
		if i < steps-1 && rng.IntN(3) == 0 {
			continue // the next run follows these blocks too
		}
		sawRange = sawRange || len(pending) > 1
		tip := e.follow()
		e.rereadAll(tip)
		e.checkProtocol(strings.Join(pending, ", "))
		label := strings.Join(pending, ", ") + " (run at " + strconv.FormatUint(tip.Number, 10) + ")"
		for _, a := range tracked {
			e.checkAgainstChain(label, a.Address)
			fs := e.floatState(a.Address)
			sawClaim = sawClaim || fs.State.ClaimedByRecipient.Sign() > 0
			sawAlloc = sawAlloc || ReserveAlloc(fs).Sign() > 0
		}
		pending = pending[:0]
	}
	if !sawClaim || !sawAlloc || !sawRange {
		t.Errorf("the history never had a reserve claim (%v), a positive allocation (%v) or a run over several steps (%v): "+
			"the property was not exercised", sawClaim, sawAlloc, sawRange)
	}
	if fs := e.floatState(senders[2].Address); fs.State != nil {
		t.Fatalf("an untracked sender got a row: %+v", fs.State)
	}
}

// A run that fails leaves the cursor where it was, so the next run reads
// the same logs again and nothing is lost; reads that fail one by one are
// handed to the reread stage.
func TestFailedRunIsMadeUpByTheNext(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.c.Senders()[0]
	e.follow()
	e.track(s)
	start := e.follow()
	before := e.floatState(s.Address).State

	fault := func(method string, f nodeproxy.Faults) {
		t.Helper()
		opts := nodeproxy.Options{}
		if method != "" {
			opts.MethodFaults = map[string]nodeproxy.Faults{method: f}
		}
		if err := e.proxy.SetOptions(opts); err != nil {
			t.Fatal(err)
		}
	}
	e.c.FundDeposit(s, monitortest.Ether(1))
	for _, method := range []string{"eth_getLogs", "eth_call"} {
		fault(method, nodeproxy.Faults{HTTP503: 1})
		if _, err := e.runSenders(e.c.Head()); err == nil {
			t.Fatalf("the senders stage succeeded while every %s request failed", method)
		}
		e.checkCursor("after the run failing on "+method, start)
		if got := e.floatState(s.Address).State; got.Deposit.Cmp(before.Deposit) != 0 || got.Block != before.Block {
			t.Fatalf("a failed run stored %+v", got)
		}
	}
	fault("", nodeproxy.Faults{})
	e.c.Commit() // an empty block: the deposit is in a block the next run reads as part of its range
	tip := e.follow()
	e.checkCursor("after the failures", tip)
	e.checkAgainstChain("after the failures", s.Address)

	// The read of the sender itself fails, not the request: the run moves
	// on and the reread stage reads the sender again.
	e.c.FundReserve(s, monitortest.Ether(1))
	fault("eth_call", nodeproxy.Faults{RPCError: 1})
	tip = e.c.Head()
	e.mustRunSenders(tip)
	e.checkCursor("after a failed sender read", tip)
	if got := e.floatState(s.Address).State; got.Block == tip.Number {
		t.Fatalf("a failed read was stored: %+v", got)
	}
	if got := e.reread.Pending(); got != tip.Number {
		t.Fatalf("reread requested before block %d after a failed read, want %d", got, tip.Number)
	}
	fault("", nodeproxy.Faults{})
	e.rereadAll(tip)
	e.checkAgainstChain("after the reread", s.Address)
	if e.reread.Pending() != 0 {
		t.Fatalf("reread still pending (%d) after it read everything", e.reread.Pending())
	}
}

// Cost: a run costs one request for the logs whatever the number of
// blocks, plus one read batch for the tracked senders the logs name;
// senders nobody tracks are not read, but a funded one is announced.
func TestSendersStageCost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{chain: devchain.Options{Senders: 4, RoundLength: 60}})
	senders := e.c.Senders()
	e.follow()
	e.track(senders[:3]...)
	start := e.follow()
	if next, ok := e.protocolState().NextRoundL1(); !ok || next < start.L1Number+30 {
		t.Fatalf("the next round starts at L1 block %d (known %v), too close to %d for this test", next, ok, start.L1Number)
	}

	// N blocks without a protocol log: one request of two calls.
	for range 12 {
		e.c.Commit()
	}
	e.proxy.Reset()
	e.node.takeReads()
	tip := e.c.Head()
	e.mustRunSenders(tip)
	st := e.proxy.Stats()
	if st.Requests != 1 || st.Calls != 2 || st.Methods["eth_getLogs"] != 1 || st.Methods["eth_getBlockByNumber"] != 1 {
		t.Fatalf("a run over %d empty blocks made %d requests of %d calls (%v), want 1 request of eth_getLogs and the cursor's header",
			tip.Number-start.Number, st.Requests, st.Calls, st.Methods)
	}
	if reads := e.node.takeReads(); len(reads) != 0 {
		t.Fatalf("a run over empty blocks read state: %+v", reads)
	}
	e.checkCursor("after empty blocks", tip)

	// Logs split in ranges of MaxLogRange blocks cost a request each.
	for range 10 {
		e.c.Commit()
	}
	cfg := e.cfg
	cfg.MaxLogRange = 4
	ranged, err := NewSenderStage(cfg, e.st, e.node, e.signals, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.proxy.Reset()
	tip = e.c.Head()
	if _, err := ranged.Run(e.ctx, pipeline.Run{Tip: tip, Lease: e.lease, First: true}); err != nil {
		t.Fatal(err)
	}
	if got := e.proxy.Stats().Methods["eth_getLogs"]; got != 3 {
		t.Fatalf("10 blocks in ranges of 4 took %d eth_getLogs, want 3", got)
	}
	e.checkCursor("after ranges", tip)
	e.node.takeReads()

	// Logs naming three tracked senders and a stranger: one read batch of
	// the three; the stranger's funding is announced, not read or stored.
	conn, err := e.st.Pool().Acquire(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(e.ctx, "LISTEN "+store.FloatChannel); err != nil {
		t.Fatal(err)
	}
	stranger := senders[3]
	e.c.FundDeposit(senders[0], monitortest.Ether(1))
	e.c.FundReserve(senders[1], monitortest.Ether(2))
	if err := e.c.Unlock(senders[2]); err != nil {
		t.Fatal(err)
	}
	e.c.FundDeposit(stranger, monitortest.Ether(3))
	e.proxy.Reset()
	tip = e.c.Head()
	e.mustRunSenders(tip)
	st = e.proxy.Stats()
	if st.Requests != 2 || st.Methods["eth_getLogs"] != 1 || st.Methods["eth_call"] != 6 {
		t.Fatalf("a run naming 3 tracked senders made %d requests (%v), want the logs and one batch of 6 reads",
			st.Requests, st.Methods)
	}
	reads := e.node.takeReads()
	want := []common.Address{senders[0].Address, senders[1].Address, senders[2].Address}
	if len(reads) != 1 || reads[0].protocol || reads[0].block == nil || reads[0].block.Uint64() != tip.Number ||
		!sameAddresses(reads[0].senders, want) {
		t.Fatalf("state reads %+v, want one read of %x at block %d", reads, want, tip.Number)
	}
	for _, a := range senders[:3] {
		e.checkAgainstChain("after the logs", a.Address)
	}
	if fs := e.floatState(stranger.Address); fs.State != nil {
		t.Fatalf("the stranger named by a log got a row: %+v", fs.State)
	}
	payload := store.FloatPayload(stranger.Address)
	for deadline := time.Now().Add(10 * time.Second); ; {
		wctx, cancel := context.WithDeadline(e.ctx, deadline)
		n, err := conn.Conn().WaitForNotification(wctx)
		cancel()
		if err != nil {
			t.Fatalf("the stranger's funding was not announced (%s): %v", payload, err)
		}
		if n.Channel == store.FloatChannel && n.Payload == payload {
			break
		}
	}
}

func sameAddresses(got, want []common.Address) bool {
	a, b := slices.Clone(got), slices.Clone(want)
	cmp := func(x, y common.Address) int { return x.Cmp(y) }
	slices.SortFunc(a, cmp)
	slices.SortFunc(b, cmp)
	return slices.Equal(a, b)
}

// Beyond MaxCatchUp blocks behind, the senders stage replays no logs: it
// reads the protocol values at the tip, moves its cursor there and asks
// for a reread, which reads every tracked sender at the tip in batches of
// RereadBatch. Nothing is read at a block older than the tip.
func TestCatchUpJumpsToTheTip(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{chain: devchain.Options{Senders: 5}, stage: StageConfig{MaxCatchUp: 5, RereadBatch: 2}})
	senders := e.c.Senders()
	e.follow()
	e.track(senders...)
	start := e.follow()

	// The service stands still while the senders change and blocks go by.
	for i, s := range senders {
		e.c.FundDeposit(s, monitortest.Milli(int64(100*(i+1))))
	}
	e.commitUntil(start.Number + 8)
	e.proxy.Reset()
	e.node.takeReads()
	tip := e.c.Head()
	if res := e.mustRunSenders(tip); res.Again {
		t.Fatal("the jump asked for another run")
	}
	if n := e.proxy.Stats().Methods["eth_getLogs"]; n != 0 {
		t.Fatalf("a run %d blocks behind (MaxCatchUp 5) read logs %d times", tip.Number-start.Number, n)
	}
	reads := e.node.takeReads()
	if len(reads) != 1 || !reads[0].protocol || reads[0].block == nil || reads[0].block.Uint64() != tip.Number {
		t.Fatalf("the jump read %+v, want the protocol values at the tip %d", reads, tip.Number)
	}
	e.checkCursor("after the jump", tip)
	e.checkProtocol("after the jump")
	if got := e.reread.Pending(); got != tip.Number+1 {
		t.Fatalf("reread requested before block %d, want %d", got, tip.Number+1)
	}
	if fs := e.floatState(senders[0].Address); fs.State.Block != start.Number {
		t.Fatalf("the jump read sender 0 itself (row at %d)", fs.State.Block)
	}

	// The reread waits for a tip at or above the block it was asked for.
	if res := e.runReread(tip); res.Again || len(e.node.takeReads()) != 0 {
		t.Fatal("the reread read at the jump's tip, which it was not asked for")
	}
	e.c.Commit()
	tip = e.c.Head()
	var read []common.Address
	for run := 1; ; run++ {
		res := e.runReread(tip)
		for _, r := range e.node.takeReads() {
			if r.protocol || r.block == nil || r.block.Uint64() != tip.Number || len(r.senders) > 2 {
				t.Fatalf("reread run %d made read %+v, want at most 2 senders at the tip %d", run, r, tip.Number)
			}
			read = append(read, r.senders...)
		}
		if !res.Again {
			break
		}
		if run > 10 {
			t.Fatal("reread never finished")
		}
	}
	all := make([]common.Address, len(senders))
	for i, s := range senders {
		all[i] = s.Address
	}
	if !sameAddresses(read, all) {
		t.Fatalf("reread read %x, want each tracked sender once: %x", read, all)
	}
	if e.reread.Pending() != 0 {
		t.Fatalf("reread still pending (%d)", e.reread.Pending())
	}
	for _, s := range senders {
		if fs := e.floatState(s.Address); fs.State.Block != tip.Number {
			t.Fatalf("sender %s read at block %d, want the tip %d", s.Name, fs.State.Block, tip.Number)
		}
		e.checkAgainstChain("after the catch-up", s.Address)
	}
}

// A reorg below the cursor: the senders stage finds the newest recent head
// still canonical, forgets the redeemed tickets recorded above it, re-reads
// at the tip (overwriting, even rows read at a higher block) what was read
// above it, and replays the logs from there, so the stored state is the new
// branch's.
func TestReorgBelowTheCursorRewritesStateFromTheNewBranch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{chain: devchain.Options{Senders: 3}})
	senders := e.c.Senders()
	s, s2, late := senders[0], senders[1], senders[2]
	recipient := e.c.Recipient().Address
	e.follow()
	e.track(s, s2)
	fork := e.follow()
	e.recordTip(fork)
	before := e.floatState(s.Address).State
	before2 := e.floatState(s2.Address).State
	reorgs := e.watch(e.signals.Reorg)

	// The old branch: s funds its reserve and a ticket of s is redeemed for
	// the recipient; the stage follows it.
	e.c.FundReserve(s, monitortest.Ether(5))
	e.c.InitializeRound()
	ticket, err := e.c.RedeemTicket(s, recipient, monitortest.Milli(10))
	if err != nil {
		t.Fatal(err)
	}
	old := e.follow()
	e.recordTip(old)
	if got := e.floatState(s.Address).State.FundsRemaining; got.Cmp(new(big.Int).Add(before.FundsRemaining, monitortest.Ether(5))) != 0 {
		t.Fatalf("reserve after funding %s, want %s + 5 ETH", got, before.FundsRemaining)
	}
	if !redeemedStored(t, e, ticket) {
		t.Fatal("the redeemed ticket was not recorded")
	}
	// Further on the old branch, a replica starts tracking late after its
	// funding, ahead of the stage's cursor.
	e.c.FundReserve(late, monitortest.Ether(4))
	e.c.Commit()
	e.c.Commit()
	e.track(late)
	lateOld := e.floatState(late.Address).State
	if lateOld.Block <= old.Number {
		t.Fatalf("late read at %d, not ahead of the cursor %d", lateOld.Block, old.Number)
	}

	// The new branch from the fork point: none of that happened; s2 funds
	// its deposit instead. It passes the cursor but not the late read.
	if err := e.c.Backend().Fork(fork.Hash); err != nil {
		t.Fatal(err)
	}
	e.c.Backend().Rollback() // drop the transactions re-queued from the removed blocks
	e.c.FundDeposit(s2, monitortest.Ether(3))
	tip := e.commitUntil(old.Number + 1)
	if tip.Number >= lateOld.Block {
		t.Fatalf("the new branch (%d) reached the late read (%d)", tip.Number, lateOld.Block)
	}
	info, err := e.c.Protocol().SenderInfo(e.ctx, s.Address)
	if err != nil {
		t.Fatal(err)
	}
	if info.FundsRemaining.Cmp(before.FundsRemaining) != 0 {
		t.Fatalf("the new branch still holds the funding (reserve %s)", info.FundsRemaining)
	}

	if res := e.mustRunSenders(tip); !res.Again {
		t.Fatal("the run that found the reorg did not ask to replay at once")
	}
	if !fired(reorgs, 5*time.Second) {
		t.Fatal("no Reorg signal")
	}
	e.checkCursor("after the rewind", fork)
	if redeemedStored(t, e, ticket) {
		t.Fatal("the ticket redeemed on the removed branch is still recorded")
	}
	if got := e.floatState(s.Address).State; got.FundsRemaining.Cmp(before.FundsRemaining) != 0 || got.Block != tip.Number {
		t.Fatalf("after the rewind s has reserve %s read at %d, want %s at %d", got.FundsRemaining, got.Block,
			before.FundsRemaining, tip.Number)
	}
	if got := e.floatState(late.Address).State; got.Block != tip.Number || got.FundsRemaining.Cmp(lateOld.FundsRemaining) == 0 {
		t.Fatalf("the row read ahead on the removed branch was not overwritten: reserve %s at %d", got.FundsRemaining, got.Block)
	}
	if got := e.floatState(s2.Address).State; got.Block != before2.Block {
		t.Fatalf("s2, read below the fork, was read by the rewind (at %d)", got.Block)
	}

	// The replay picks up the new branch's logs.
	if res := e.mustRunSenders(tip); res.Again {
		t.Fatal("the replay asked for another run")
	}
	e.checkCursor("after the replay", tip)
	for _, a := range senders {
		e.checkAgainstChain("after the reorg", a.Address)
	}
	if got := e.floatState(s2.Address).State.Deposit; got.Cmp(new(big.Int).Add(before2.Deposit, monitortest.Ether(3))) != 0 {
		t.Fatalf("s2's deposit %s after the replay, want %s + 3 ETH", got, before2.Deposit)
	}
}

// A reorg that replaces the cursor's own block with another at the same
// height: the next tip has the cursor's number, so no block range is left
// to carry the cursor's hash check. The stage must still see the reorg and
// undo what it read on the replaced block.
func TestReorgAtTheCursorsHeight(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.c.Senders()[0]
	e.follow()
	e.track(s)
	fork := e.follow()
	e.recordTip(fork)
	before := e.floatState(s.Address).State

	e.c.FundReserve(s, monitortest.Ether(6))
	funded := e.follow()
	e.recordTip(funded)
	if got := e.floatState(s.Address).State.FundsRemaining; got.Cmp(before.FundsRemaining) == 0 {
		t.Fatal("the funding was not followed")
	}

	// One block replaces the funding block: same height, other hash.
	if err := e.c.Backend().Fork(fork.Hash); err != nil {
		t.Fatal(err)
	}
	e.c.Backend().Rollback()
	e.c.Commit()
	tip := e.c.Head()
	if tip.Number != funded.Number || tip.Hash == funded.Hash {
		t.Fatalf("test setup: tip %d %s, want another block at %d", tip.Number, tip.Hash, funded.Number)
	}
	for i := 0; i < 5 && e.mustRunSenders(tip).Again; i++ {
	}
	e.checkCursor("after the replaced block", tip)
	if got := e.floatState(s.Address).State.FundsRemaining; got.Cmp(before.FundsRemaining) != 0 {
		t.Fatalf("stored reserve %s from the replaced block, want %s", got, before.FundsRemaining)
	}
	e.checkAgainstChain("after the replaced block", s.Address)
}

func redeemedStored(t *testing.T, e *env, hash common.Hash) bool {
	t.Helper()
	var n int
	if err := e.st.Pool().QueryRow(e.ctx, `SELECT count(*) FROM redeemed_tickets WHERE ticket_hash = $1`, hash[:]).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// A replica's Track reads the latest block, ahead of the senders stage's
// cursor. When a reorg replaces that block but not the cursor, no log of
// the new branch names the sender; the stage must still read it again once
// it follows the blocks above its cursor.
func TestRowReadAheadOnAReplacedBlockIsReread(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.c.Senders()[0]
	forkPoint := e.follow()
	before, err := e.c.Protocol().SenderInfo(e.ctx, s.Address)
	if err != nil {
		t.Fatal(err)
	}

	e.c.FundReserve(s, monitortest.Ether(7))
	e.track(s)
	if got := e.floatState(s.Address).State; got.FundsRemaining.Cmp(before.FundsRemaining) == 0 || got.Block != forkPoint.Number+1 {
		t.Fatalf("the replica's read ahead was not stored: %+v", got)
	}

	if err := e.c.Backend().Fork(forkPoint.Hash); err != nil {
		t.Fatal(err)
	}
	e.c.Backend().Rollback()
	e.c.Commit()
	e.c.Commit()
	// The stage's cursor is the fork point, still canonical: no reorg to
	// find.
	e.follow()
	if got := e.floatState(s.Address).State.FundsRemaining; got.Cmp(before.FundsRemaining) != 0 {
		t.Fatalf("stored reserve %s from the replaced block, want %s", got, before.FundsRemaining)
	}
	e.checkAgainstChain("after the replaced read-ahead", s.Address)
}

// A round boundary that no log announces (the round is not initialized)
// still makes the senders stage read the protocol values, once the tip's
// L1 number reaches the next round's first block; the Round signal fires.
// Inside a round, a run without logs reads nothing.
func TestRoundBoundaryReadsProtocolWithoutLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{chain: devchain.Options{RoundLength: 10}})
	start := e.follow()
	p := e.protocolState()
	next, ok := p.NextRoundL1()
	if !ok || next <= start.L1Number+1 {
		t.Fatalf("next round at %d (known %v), want it after %d", next, ok, start.L1Number+1)
	}
	rounds := e.watch(e.signals.Round)

	inside := e.commitUntil(next - 1)
	e.node.takeReads()
	e.mustRunSenders(inside)
	if reads := e.node.takeReads(); len(reads) != 0 {
		t.Fatalf("a run inside the round read %+v", reads)
	}
	if fired(rounds, 300*time.Millisecond) {
		t.Fatal("Round fired inside a round")
	}
	if got := RoundAt(e.protocolState(), inside.L1Number); got != p.CurrentRound.Int64() {
		t.Fatalf("RoundAt the round's last block = %d, want %s", got, p.CurrentRound)
	}

	boundary := e.commitUntil(next)
	if got, want := RoundAt(e.protocolState(), boundary.L1Number), p.CurrentRound.Int64()+1; got != want {
		t.Fatalf("RoundAt the next round's first block = %d, want %d", got, want)
	}
	e.mustRunSenders(boundary)
	reads := e.node.takeReads()
	if len(reads) != 1 || !reads[0].protocol || reads[0].block.Uint64() != boundary.Number {
		t.Fatalf("the run at the round boundary read %+v, want the protocol values at %d", reads, boundary.Number)
	}
	if !fired(rounds, 5*time.Second) {
		t.Fatal("no Round signal at the new round")
	}
	e.checkProtocol("at the round boundary")
	got := e.protocolState()
	if got.CurrentRound.Int64() != p.CurrentRound.Int64()+1 || got.RoundInitialized() {
		t.Fatalf("stored round %s (last initialized %s), want %d not initialized", got.CurrentRound,
			got.LastInitializedRound, p.CurrentRound.Int64()+1)
	}
}

// WinningTicketRedeemed logs for the recipient are recorded, and a queued
// copy of such a ticket fails as redeemed elsewhere; redemptions for other
// recipients are not recorded.
func TestRedeemedTicketsOfTheRecipientAreRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.c.Senders()[0]
	recipient := e.c.Recipient().Address
	other := devchain.DevAccount("other-orchestrator").Address
	e.c.SetActive(other, true)
	e.follow()

	e.c.InitializeRound()
	mine, err := e.c.RedeemTicket(s, recipient, monitortest.Milli(3))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := e.c.RedeemTicket(s, other, monitortest.Milli(3))
	if err != nil {
		t.Fatal(err)
	}
	later, err := e.c.RedeemTicket(s, recipient, monitortest.Milli(3))
	if err != nil {
		t.Fatal(err)
	}
	queued := monitortest.InsertTicketHash(t, e.ctx, e.st, mine, s.Address, recipient, monitortest.Milli(3))
	untouched := monitortest.InsertTicket(t, e.ctx, e.st, s.Address, recipient, monitortest.Milli(3))
	tip := e.follow()

	if !redeemedStored(t, e, mine) {
		t.Fatal("the recipient's redeemed ticket was not recorded")
	}
	if redeemedStored(t, e, theirs) {
		t.Fatal("another recipient's redeemed ticket was recorded")
	}
	var block int64
	var sender []byte
	if err := e.st.Pool().QueryRow(e.ctx, `SELECT block_number, sender FROM redeemed_tickets WHERE ticket_hash = $1`,
		mine[:]).Scan(&block, &sender); err != nil {
		t.Fatal(err)
	}
	if uint64(block) > tip.Number || block == 0 || common.BytesToAddress(sender) != s.Address {
		t.Fatalf("recorded at block %d for sender %x, want at most %d for %s", block, sender, tip.Number, s.Address)
	}
	got, err := e.st.TicketByHash(e.ctx, mine)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusFailed || got.ID != queued.ID || got.LastError == "" {
		t.Fatalf("the queued copy is %s (%q), want failed as redeemed elsewhere", got.Status, got.LastError)
	}
	if u, err := e.st.TicketByHash(e.ctx, untouched.TicketHash); err != nil || u.Status != store.StatusQueued {
		t.Fatalf("an unrelated ticket became %v (%v)", u, err)
	}
	// Intake now refuses a ticket the chain shows redeemed.
	if _, err := e.st.InsertTicket(e.ctx, store.NewTicket{TicketHash: later, Sender: s.Address, Recipient: recipient,
		FaceValue: big.NewInt(1), WinProb: chain.MaxWinProb, Sig: make([]byte, chain.SigLength), CreationRound: 1,
		ParamsExpirationBlock: 1}); !errors.Is(err, store.ErrTicketUsed) {
		t.Fatalf("storing a ticket the chain shows redeemed: %v, want ErrTicketUsed", err)
	}
}
