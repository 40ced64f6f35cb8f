package monitor

import (
	"math/big"
	"sync"
	"testing"
	"time"

	"redeemer/chain/devchain"
	"redeemer/chain/nodeproxy"
	"redeemer/monitor/monitortest"
	"redeemer/store"
)

// strangerReads is the node requests a stranger's read took since the
// proxy's last reset: the head, and one batch of its two reads.
func (e *env) strangerReads() (requests, calls int64) {
	st := e.proxy.Stats()
	return st.Requests, st.Methods["eth_call"]
}

// A sender nobody tracks is read from chain once per StrangerTTL, however
// often it is asked about, and never stored.
func TestStrangerIsReadOnceCachedAndNotStored(t *testing.T) {
	t.Parallel()
	const ttl = 500 * time.Millisecond
	e := newEnv(t, envOptions{monitor: Config{StrangerTTL: ttl}})
	s := e.c.Senders()[0]
	e.follow()

	e.proxy.Reset()
	fs, tracked, err := e.m.FloatState(e.ctx, s.Address)
	if err != nil {
		t.Fatal(err)
	}
	if tracked {
		t.Fatal("a sender never seen is tracked")
	}
	if req, calls := e.strangerReads(); req != 2 || calls != 2 {
		t.Fatalf("reading a stranger took %d requests, %d eth_calls; want the head and one batch of 2", req, calls)
	}
	info, err := e.c.Protocol().SenderInfo(e.ctx, s.Address)
	if err != nil {
		t.Fatal(err)
	}
	if fs.State == nil || fs.Protocol == nil || fs.State.Deposit.Cmp(info.Deposit) != 0 ||
		fs.State.FundsRemaining.Cmp(info.FundsRemaining) != 0 {
		t.Fatalf("stranger's state %+v, chain %+v", fs.State, info)
	}
	if got := e.floatState(s.Address); got.State != nil {
		t.Fatalf("a stranger's read was stored: %+v", got.State)
	}
	var n int
	if err := e.st.Pool().QueryRow(e.ctx, `SELECT count(*) FROM senders`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d sender rows (%v) after asking about a stranger, want none", n, err)
	}

	for range 5 {
		if _, _, err := e.m.FloatState(e.ctx, s.Address); err != nil {
			t.Fatal(err)
		}
	}
	if req, _ := e.strangerReads(); req != 2 {
		t.Fatalf("asking again within the TTL made %d requests in all, want the first 2", req)
	}

	// A funded stranger's reading ages out after the TTL.
	time.Sleep(ttl + 100*time.Millisecond)
	if _, _, err := e.m.FloatState(e.ctx, s.Address); err != nil {
		t.Fatal(err)
	}
	if req, _ := e.strangerReads(); req != 4 {
		t.Fatalf("asking after the TTL made %d requests in all, want a second read (4)", req)
	}
}

// A stranger with no funds keeps its reading far longer than the TTL, until
// Forget drops it (a funding announcement); Track stores it.
func TestUnfundedStrangerIsCachedLong(t *testing.T) {
	t.Parallel()
	const ttl = 300 * time.Millisecond
	e := newEnv(t, envOptions{monitor: Config{StrangerTTL: ttl}})
	e.follow()
	nobody := devchain.DevAccount("unfunded").Address

	e.proxy.Reset()
	fs, _, err := e.m.FloatState(e.ctx, nobody)
	if err != nil {
		t.Fatal(err)
	}
	if fs.State == nil || fs.State.Deposit.Sign() != 0 || fs.State.FundsRemaining.Sign() != 0 {
		t.Fatalf("unfunded stranger read as %+v", fs.State)
	}
	if got := MaxFloat(fs); got.Sign() != 0 {
		t.Fatalf("unfunded stranger's float %s, want 0", got)
	}
	time.Sleep(3 * ttl)
	if _, _, err := e.m.FloatState(e.ctx, nobody); err != nil {
		t.Fatal(err)
	}
	if req, _ := e.strangerReads(); req != 2 {
		t.Fatalf("an unfunded stranger was read again after %s (%d requests), want its reading kept", 3*ttl, req)
	}

	e.m.Forget(nobody)
	if _, _, err := e.m.FloatState(e.ctx, nobody); err != nil {
		t.Fatal(err)
	}
	if req, _ := e.strangerReads(); req != 4 {
		t.Fatalf("after Forget the stranger was not read again (%d requests)", req)
	}

	// Track makes it a tracked sender with a row; FloatState then answers
	// from the store without the node.
	if err := e.m.Track(e.ctx, nobody); err != nil {
		t.Fatal(err)
	}
	if got := e.floatState(nobody); got.State == nil {
		t.Fatal("Track stored nothing")
	}
	e.proxy.Reset()
	if _, tracked, err := e.m.FloatState(e.ctx, nobody); err != nil || !tracked {
		t.Fatalf("FloatState after Track: tracked %v, %v", tracked, err)
	}
	if req, _ := e.strangerReads(); req != 0 {
		t.Fatalf("a tracked sender's float took %d node requests", req)
	}
}

// MaxFloat of a sender never seen comes from one chain read: the
// allocation claimableReserve gives, with nothing stored.
func TestMaxFloatOfAStrangerComesFromChain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.c.Senders()[0]
	e.follow()
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
	if fs := e.floatState(s.Address); fs.State != nil {
		t.Fatal("MaxFloat stored a stranger")
	}

	// Once tracked, the float is the stored one, in-limbo amount included.
	e.track(s)
	face := monitortest.Ether(1)
	monitortest.Claim(t, e.ctx, e.st, monitortest.InsertTicket(t, e.ctx, e.st, s.Address, e.c.Recipient().Address, face))
	got, err = e.m.MaxFloat(e.ctx, s.Address)
	if err != nil {
		t.Fatal(err)
	}
	fs := e.floatState(s.Address)
	if fs.InLimbo.Cmp(face) != 0 || got.Cmp(MaxFloat(fs)) != 0 {
		t.Fatalf("tracked MaxFloat = %s with %s in limbo, want %s", got, fs.InLimbo, MaxFloat(fs))
	}
}

// Askers about one stranger at the same time share one read.
func TestConcurrentAsksShareOneRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.c.Senders()[0]
	e.follow()
	// Latency holds the first read long enough for the others to join it.
	if err := e.proxy.SetOptions(nodeproxy.Options{Latency: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	e.proxy.Reset()
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() {
			_, _, err := e.m.FloatState(e.ctx, s.Address)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if req, _ := e.strangerReads(); req != 2 {
		t.Fatalf("10 concurrent asks made %d requests, want one read (2)", req)
	}
}

// Fresh reads the chain now, whatever is stored or cached, and stores
// nothing.
func TestFreshReadsTheChain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.c.Senders()[0]
	e.follow()
	e.track(s)
	stored := e.floatState(s.Address).State
	if _, err := e.m.Fresh(e.ctx, s.Address); err != nil {
		t.Fatal(err)
	}
	e.c.FundDeposit(s, monitortest.Ether(2))
	fs, err := e.m.Fresh(e.ctx, s.Address)
	if err != nil {
		t.Fatal(err)
	}
	want := new(big.Int).Add(stored.Deposit, monitortest.Ether(2))
	if fs.State.Deposit.Cmp(want) != 0 {
		t.Fatalf("Fresh deposit %s, want %s", fs.State.Deposit, want)
	}
	if got := e.floatState(s.Address).State; got.Deposit.Cmp(stored.Deposit) != 0 || got.Block != stored.Block {
		t.Fatalf("Fresh stored its read: %+v", got)
	}
}

// Until the leader stored the protocol values there is nothing to compute
// a float from: the Monitor says so rather than answer 0.
func TestMonitorNeedsProtocolState(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.c.Senders()[0]
	if _, _, err := e.m.FloatState(e.ctx, s.Address); err == nil {
		t.Fatal("FloatState answered before any protocol state was stored")
	}
	if err := e.m.Track(e.ctx, s.Address); err == nil {
		t.Fatal("Track succeeded before any protocol state was stored")
	}
	e.follow()
	if _, _, err := e.m.FloatState(e.ctx, s.Address); err != nil {
		t.Fatal(err)
	}
}

func TestRoundAt(t *testing.T) {
	t.Parallel()
	p := &store.ProtocolState{CurrentRound: big.NewInt(7), RoundLength: big.NewInt(10), RoundStartL1: big.NewInt(70)}
	for _, c := range []struct {
		l1   uint64
		want int64
	}{
		{0, 7}, {70, 7}, {79, 7}, {80, 8}, {89, 8}, {90, 9}, {125, 12},
	} {
		if got := RoundAt(p, c.l1); got != c.want {
			t.Errorf("RoundAt(round 7 from 70, length 10; L1 %d) = %d, want %d", c.l1, got, c.want)
		}
	}
	if got := RoundAt(nil, 100); got != -1 {
		t.Errorf("RoundAt(nil) = %d, want -1", got)
	}
	// Without a round start or length the next round cannot be told: the
	// stored round stands.
	for _, q := range []*store.ProtocolState{
		{CurrentRound: big.NewInt(7), RoundLength: big.NewInt(10)},
		{CurrentRound: big.NewInt(7), RoundStartL1: big.NewInt(70)},
		{CurrentRound: big.NewInt(7), RoundLength: big.NewInt(0), RoundStartL1: big.NewInt(70)},
	} {
		if got := RoundAt(q, 1000); got != 7 {
			t.Errorf("RoundAt(%+v, 1000) = %d, want 7", q, got)
		}
	}
	if got := RoundAt(&store.ProtocolState{}, 5); got != -1 {
		t.Errorf("RoundAt without a round = %d, want -1", got)
	}
}
