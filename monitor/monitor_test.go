package monitor

import (
	"context"
	"errors"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/monitor/monitortest"
	"redeemer/store"
	"redeemer/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// env is a monitor on a fresh dev chain and database. The test hands it
// every block in order, as the poller would, so each step is deterministic.
type env struct {
	t         *testing.T
	ctx       context.Context
	c         *monitortest.Chain
	st        *store.Store
	m         *Monitor
	delivered *chain.Head
}

func newEnv(t *testing.T, opts devchain.Options) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	c := monitortest.NewChain(t, opts)
	st := storetest.NewStore(t)
	m, err := New(Config{Recipient: c.Recipient().Address, Contracts: c.Addresses(), CallTimeout: 5 * time.Second},
		st, NewProtocolReader(c.Protocol()), c.Client(), chain.NewHeaderHeadReader(c.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: ctx, c: c, st: st, m: m}
}

// sync hands the monitor every block it has not seen, oldest first.
func (e *env) sync() {
	e.t.Helper()
	latest := e.c.Head()
	from := latest.Number
	if e.delivered != nil {
		from = e.delivered.Number + 1
	}
	for n := from; n <= latest.Number; n++ {
		h := e.c.HeadAt(new(big.Int).SetUint64(n))
		e.handle(chain.HeadEvent{Head: h})
	}
}

func (e *env) handle(ev chain.HeadEvent) {
	e.t.Helper()
	if err := e.m.HandleHead(e.ctx, ev); err != nil {
		e.t.Fatalf("HandleHead(%d): %v", ev.Head.Number, err)
	}
	h := ev.Head
	e.delivered = &h
}

func (e *env) floatState(a common.Address) store.FloatState {
	e.t.Helper()
	fs, err := e.st.FloatState(e.ctx, a)
	if err != nil {
		e.t.Fatal(err)
	}
	return fs
}

// checkAgainstChain compares a tracked sender's stored state with the
// contracts at the latest block.
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
	if chain.RevertReason(err) == "arithmetic underflow or overflow" {
		// The contract does not clamp at zero: it reverts when the pool
		// grew mid-round after the recipient claimed more than its new
		// share. The allocation is then zero.
		claimable, err = new(big.Int), nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	claimed, err := p.ClaimedReserve(e.ctx, a, recipient)
	if err != nil {
		e.t.Fatal(err)
	}
	pool, err := p.TranscoderPoolSize(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	s := fs.State
	if s.Deposit.Cmp(info.Deposit) != 0 || s.FundsRemaining.Cmp(info.FundsRemaining) != 0 ||
		s.ClaimedInRound.Cmp(info.ClaimedInCurrentRound) != 0 || s.WithdrawRound.Cmp(info.WithdrawRound) != 0 ||
		s.ClaimedByRecipient.Cmp(claimed) != 0 {
		e.t.Fatalf("%s: stored %s = deposit %s funds %s claimed %s/%s withdraw %s; chain: %s %s %s/%s %s", step, a,
			s.Deposit, s.FundsRemaining, s.ClaimedInRound, s.ClaimedByRecipient, s.WithdrawRound,
			info.Deposit, info.FundsRemaining, info.ClaimedInCurrentRound, claimed, info.WithdrawRound)
	}
	if fs.Protocol.PoolSize.Cmp(pool) != 0 {
		e.t.Fatalf("%s: stored pool size %s, chain %s", step, fs.Protocol.PoolSize, pool)
	}
	if got := ReserveAlloc(fs); got.Cmp(claimable) != 0 {
		e.t.Fatalf("%s: stored reserve allocation of %s is %s, claimableReserve says %s (funds %s, claimed %s/%s, pool %s)",
			step, a, got, claimable, s.FundsRemaining, s.ClaimedInRound, s.ClaimedByRecipient, fs.Protocol.PoolSize)
	}
}

// The property: whatever happens on chain, once the monitor has seen the
// blocks, every tracked sender's stored state equals getSenderInfo and its
// reserve allocation equals claimableReserve(sender, recipient).
func TestStoredStateFollowsTheChain(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2} {
		t.Run("seed"+big.NewInt(int64(seed)).String(), func(t *testing.T) {
			t.Parallel()
			runRandomHistory(t, seed, 30)
		})
	}
}

func runRandomHistory(t *testing.T, seed uint64, steps int) {
	e := newEnv(t, devchain.Options{Senders: 3, RoundLength: 6, UnlockPeriod: 1, Deposit: monitortest.Ether(2)})
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	senders := e.c.Senders()
	recipient := e.c.Recipient().Address
	other := devchain.DevAccount("other-orchestrator").Address
	e.c.SetActive(other, true) // pool size 2

	// Sender 0 is tracked because a client asked for it, sender 1 because
	// it sent a ticket; sender 2 is a stranger and must stay untracked.
	if err := e.m.Refresh(e.ctx, senders[0].Address); err != nil {
		t.Fatal(err)
	}
	monitortest.InsertTicket(t, e.ctx, e.st, senders[1].Address, recipient, monitortest.Milli(1))
	e.sync()
	tracked := senders[:2]

	amount := func(maxMilli int64) *big.Int { return monitortest.Milli(1 + rng.Int64N(maxMilli)) }
	var sawClaim, sawAlloc bool
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
		e.sync()
		for _, a := range tracked {
			e.checkAgainstChain(big.NewInt(int64(i)).String()+" "+step+" by "+s.Name, a.Address)
			fs := e.floatState(a.Address)
			sawClaim = sawClaim || fs.State.ClaimedByRecipient.Sign() > 0
			sawAlloc = sawAlloc || ReserveAlloc(fs).Sign() > 0
		}
	}
	if !sawClaim || !sawAlloc {
		t.Errorf("the history never had a reserve claim (%v) or a positive allocation (%v): the property was not exercised", sawClaim, sawAlloc)
	}
	if fs := e.floatState(senders[2].Address); fs.State != nil {
		t.Fatalf("an untracked sender got a row: %+v", fs.State)
	}
}

func TestReorgRewritesStateFromTheNewBranch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, devchain.Options{})
	s := e.c.Senders()[0]
	if err := e.m.Refresh(e.ctx, s.Address); err != nil {
		t.Fatal(err)
	}
	e.sync()
	before := e.floatState(s.Address).State.FundsRemaining

	forkPoint := e.c.Head()
	e.c.FundReserve(s, monitortest.Ether(5))
	funded := e.c.Head()
	e.c.Commit()
	e.sync()
	if got := e.floatState(s.Address).State.FundsRemaining; got.Cmp(new(big.Int).Add(before, monitortest.Ether(5))) != 0 {
		t.Fatalf("reserve after funding %s, want %s + 5 ETH", got, before)
	}
	removed := []chain.Head{e.c.Head(), funded}

	// A longer branch without the funding replaces it.
	if err := e.c.Backend().Fork(forkPoint.Hash); err != nil {
		t.Fatal(err)
	}
	e.c.Backend().Rollback() // drop the funding re-queued from the removed block
	for range 3 {
		e.c.Commit()
	}
	info, err := e.c.Protocol().SenderInfo(e.ctx, s.Address)
	if err != nil {
		t.Fatal(err)
	}
	if info.FundsRemaining.Cmp(before) != 0 {
		t.Fatalf("the new branch still holds the funding (reserve %s)", info.FundsRemaining)
	}
	first := e.c.HeadAt(new(big.Int).SetUint64(forkPoint.Number + 1))
	e.handle(chain.HeadEvent{Head: first, Removed: removed})
	if got := e.floatState(s.Address).State; got.FundsRemaining.Cmp(before) != 0 || got.Block != first.Number {
		t.Fatalf("after the reorg the stored reserve is %s at block %d, want %s at %d", got.FundsRemaining, got.Block, before, first.Number)
	}
	e.sync()
	e.checkAgainstChain("after reorg", s.Address)
}

// A head that fails (here: the node cannot serve its logs) leaves the next
// head to re-read everything, so skipping it loses nothing.
func TestFailedHeadIsMadeUpByTheNext(t *testing.T) {
	t.Parallel()
	e := newEnv(t, devchain.Options{})
	s := e.c.Senders()[0]
	if err := e.m.Refresh(e.ctx, s.Address); err != nil {
		t.Fatal(err)
	}
	e.sync()

	broken := &failingLogs{LogFilterer: e.m.logs, fail: true}
	e.m.logs = broken
	e.c.FundDeposit(s, monitortest.Ether(1))
	if err := e.m.HandleHead(e.ctx, chain.HeadEvent{Head: e.c.Head()}); err == nil {
		t.Fatal("HandleHead succeeded without logs")
	}
	broken.fail = false
	e.c.Commit() // an empty block: no log names the sender
	e.handle(chain.HeadEvent{Head: e.c.Head()})
	e.checkAgainstChain("after a skipped head", s.Address)
}

type failingLogs struct {
	LogFilterer
	fail bool
}

var errNoLogs = errors.New("logs unavailable")

func (f *failingLogs) FilterLogs(ctx context.Context, q ethereum.FilterQuery) ([]types.Log, error) {
	if f.fail {
		return nil, errNoLogs
	}
	return f.LogFilterer.FilterLogs(ctx, q)
}

func TestMaxFloatRefreshesUnknownSenders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, devchain.Options{})
	s := e.c.Senders()[0]
	got, err := e.m.MaxFloat(e.ctx, s.Address)
	if err != nil {
		t.Fatal(err)
	}
	claimable, err := e.c.Protocol().ClaimableReserve(e.ctx, s.Address, e.c.Recipient().Address)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing in limbo: the float is the allocation.
	if got.Cmp(claimable) != 0 || got.Sign() <= 0 {
		t.Fatalf("MaxFloat = %s, want claimableReserve %s", got, claimable)
	}
	if fs := e.floatState(s.Address); fs.State == nil {
		t.Fatal("the sender is not tracked after MaxFloat")
	}
}

// A replica's Refresh reads the latest block, ahead of the leader's poller.
// When a reorg replaces that block before the poller reaches it, the
// leader never hears of the removed block; it must still replace the row
// read there once it processes the new block at that height.
func TestRowReadAheadOnAReplacedBlockIsReread(t *testing.T) {
	t.Parallel()
	e := newEnv(t, devchain.Options{})
	s := e.c.Senders()[0]
	if err := e.m.Refresh(e.ctx, s.Address); err != nil {
		t.Fatal(err)
	}
	e.sync()
	before := e.floatState(s.Address).State.FundsRemaining
	forkPoint := e.c.Head()

	e.c.FundReserve(s, monitortest.Ether(7))
	follower, err := New(e.m.cfg, e.st, e.m.reader, e.m.logs, e.m.heads)
	if err != nil {
		t.Fatal(err)
	}
	if err := follower.Refresh(e.ctx, s.Address); err != nil {
		t.Fatal(err)
	}
	if got := e.floatState(s.Address).State; got.FundsRemaining.Cmp(before) == 0 || got.Block != forkPoint.Number+1 {
		t.Fatalf("the follower's read ahead was not stored: %+v", got)
	}

	if err := e.c.Backend().Fork(forkPoint.Hash); err != nil {
		t.Fatal(err)
	}
	e.c.Backend().Rollback()
	e.c.Commit()
	e.c.Commit()
	// The leader's cursor is the fork point: no removed heads to report.
	e.sync()
	if got := e.floatState(s.Address).State.FundsRemaining; got.Cmp(before) != 0 {
		t.Fatalf("stored reserve %s from the replaced block, want %s", got, before)
	}
	e.checkAgainstChain("after the replaced read-ahead", s.Address)
}
