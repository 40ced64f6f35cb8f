package monitor

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"redeemer/monitor/monitortest"
	"redeemer/store"
	"redeemer/store/storetest"
)

// hubEnv is a running hub on a fresh database whose sender states the test
// writes directly, as the monitor would.
type hubEnv struct {
	t   *testing.T
	ctx context.Context
	st  *store.Store
	hub *Hub
	// block numbers each write so that no write is older than the last.
	block uint64
}

func newHubEnv(t *testing.T, opts HubOptions) (*hubEnv, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	st := storetest.NewStore(t)
	e := &hubEnv{t: t, ctx: ctx, st: st, hub: NewHub(st, opts)}
	e.setProtocol(1)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.hub.Run(runCtx)
	}()
	t.Cleanup(func() { stop(); <-done })
	return e, stop
}

func (e *hubEnv) setProtocol(pool int64) {
	e.t.Helper()
	e.block++
	_, err := e.st.SaveChainState(e.ctx, store.ChainState{Protocol: &store.ProtocolState{
		Recipient: common.Address{1}, RecipientActive: true, PoolSize: big.NewInt(pool),
		CurrentRound: big.NewInt(1), LastInitializedRound: big.NewInt(1), Block: e.block, L1Block: e.block,
	}})
	if err != nil {
		e.t.Fatal(err)
	}
}

// setReserve stores a sender whose float is reserve / pool size.
func (e *hubEnv) setReserve(a common.Address, reserve int64) {
	e.t.Helper()
	e.block++
	_, err := e.st.SaveChainState(e.ctx, store.ChainState{Senders: []store.SenderState{{
		Sender: a, Deposit: big.NewInt(0), WithdrawRound: big.NewInt(0), FundsRemaining: big.NewInt(reserve),
		ClaimedInRound: big.NewInt(0), ClaimedByRecipient: big.NewInt(0), Round: big.NewInt(1), Block: e.block,
	}}})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *hubEnv) subscribe(a common.Address) *Subscription {
	e.t.Helper()
	s, err := e.hub.Subscribe(a)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(s.Close)
	return s
}

// expect waits for the subscription to carry want, skipping older values.
func expect(t *testing.T, s *Subscription, want int64) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	var last *big.Int
	for {
		select {
		case v := <-s.C():
			if v.Int64() == want {
				return
			}
			last = v
		case <-deadline:
			t.Fatalf("float never became %d (last %v)", want, last)
		}
	}
}

func expectNothing(t *testing.T, s *Subscription, within time.Duration) {
	t.Helper()
	select {
	case v := <-s.C():
		t.Fatalf("unexpected float %s", v)
	case <-time.After(within):
	}
}

func TestHubDeliversCurrentValueThenChanges(t *testing.T) {
	t.Parallel()
	e, _ := newHubEnv(t, HubOptions{})
	a, b := common.Address{0xa}, common.Address{0xb}
	e.setReserve(a, 1000)
	e.setReserve(b, 500)

	sa, sb := e.subscribe(a), e.subscribe(b)
	expect(t, sa, 1000)
	expect(t, sb, 500)

	e.setReserve(a, 2000)
	expect(t, sa, 2000)
	expectNothing(t, sb, 200*time.Millisecond)

	// A protocol change ("*") moves every float.
	e.setProtocol(4)
	expect(t, sa, 500)
	expect(t, sb, 125)

	// A second subscriber to the same sender gets the current value, the
	// first is not told again.
	sa2 := e.subscribe(a)
	expect(t, sa2, 500)
	expectNothing(t, sa, 200*time.Millisecond)
}

// A sender first asked for before it is tracked gets its value as soon as
// its state is stored.
func TestHubWaitsForUntrackedSender(t *testing.T) {
	t.Parallel()
	e, _ := newHubEnv(t, HubOptions{})
	a := common.Address{0xa}
	s := e.subscribe(a)
	expectNothing(t, s, 200*time.Millisecond)
	e.setReserve(a, 700)
	expect(t, s, 700)
}

func TestHubSlowSubscriberGetsOnlyTheLatestValue(t *testing.T) {
	t.Parallel()
	e, _ := newHubEnv(t, HubOptions{})
	a, b := common.Address{0xa}, common.Address{0xb}
	e.setReserve(a, 1)
	e.setReserve(b, 1)
	slow, fast := e.subscribe(a), e.subscribe(b)
	expect(t, slow, 1)
	expect(t, fast, 1)

	// The slow subscriber reads nothing while a hundred changes go by; the
	// other one keeps receiving.
	for i := int64(2); i <= 100; i++ {
		e.setReserve(a, i)
	}
	e.setReserve(b, 42)
	expect(t, fast, 42)
	time.Sleep(300 * time.Millisecond)
	select {
	case v := <-slow.C():
		if v.Int64() != 100 {
			t.Fatalf("slow subscriber got %s, want the latest value 100", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("slow subscriber got nothing")
	}
	expectNothing(t, slow, 100*time.Millisecond)
}

func TestHubResendsAfterReconnect(t *testing.T) {
	t.Parallel()
	// A long reconnect wait keeps the listener away while the change
	// commits, so its notification is certainly lost.
	e, _ := newHubEnv(t, HubOptions{Listen: store.ListenOptions{MinBackoff: 700 * time.Millisecond}})
	a := common.Address{0xa}
	e.setReserve(a, 1000)
	s := e.subscribe(a)
	expect(t, s, 1000)

	monitortest.TerminateListeners(t, e.ctx, e.st)
	e.setReserve(a, 3000)
	expect(t, s, 3000)
}

func TestHubStopEndsSubscriptions(t *testing.T) {
	t.Parallel()
	e, stop := newHubEnv(t, HubOptions{})
	a := common.Address{0xa}
	s := e.subscribe(a)
	s2 := e.subscribe(a)
	if n := e.hub.Subscribers(); n != 2 {
		t.Fatalf("%d subscribers, want 2", n)
	}
	s2.Close()
	s2.Close()
	if n := e.hub.Subscribers(); n != 1 {
		t.Fatalf("%d subscribers after Close, want 1", n)
	}
	stop()
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("subscription not ended by the hub's stop")
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := e.hub.Subscribe(a); err == ErrHubStopped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Subscribe still works after the hub stopped")
		}
	}
	if n := e.hub.Subscribers(); n != 0 {
		t.Fatalf("%d subscribers after the stop, want 0", n)
	}
}

func TestParseSender(t *testing.T) {
	t.Parallel()
	a := common.HexToAddress("0x00112233445566778899aabbccddeeff00112233")
	if got, ok := parseSender(store.FloatPayload(a)); !ok || got != a {
		t.Fatalf("parseSender(FloatPayload(a)) = %x, %v", got, ok)
	}
	for _, bad := range []string{"", "*", "0x", "0x1234", "00112233445566778899aabbccddeeff0011223344", "0xzz112233445566778899aabbccddeeff00112233"} {
		if _, ok := parseSender(bad); ok {
			t.Errorf("parseSender(%q) accepted", bad)
		}
	}
}

type change struct {
	sender [20]byte
	all    bool
}

// OnChange hears every announcement, so caches of sender state (a
// replica's strangers) drop what changed: one sender, or everything after
// a protocol change or a new LISTEN connection.
func TestHubOnChangeHearsEveryAnnouncement(t *testing.T) {
	t.Parallel()
	changes := make(chan change, 100)
	e, _ := newHubEnv(t, HubOptions{OnChange: func(sender [20]byte, all bool) { changes <- change{sender, all} }})
	expectChange := func(want change) {
		t.Helper()
		for deadline := time.After(5 * time.Second); ; {
			select {
			case c := <-changes:
				if c == want {
					return
				}
			case <-deadline:
				t.Fatalf("OnChange never heard %+v", want)
			}
		}
	}
	// A new connection: whatever was announced meanwhile is unknown.
	expectChange(change{all: true})
	a := common.Address{0xa}
	e.setReserve(a, 100) // no subscriber: heard all the same
	expectChange(change{sender: a})
	e.setProtocol(3)
	expectChange(change{all: true})
}

// Senders with open subscriptions are marked wanted every TouchEvery, so
// the leader keeps following them; others are left alone.
func TestHubTouchesSubscribedSenders(t *testing.T) {
	t.Parallel()
	e, _ := newHubEnv(t, HubOptions{TouchEvery: 100 * time.Millisecond})
	a, b := common.Address{0xa}, common.Address{0xb}
	e.setReserve(a, 1)
	e.setReserve(b, 1)
	old := time.Now().Add(-time.Hour)
	if _, err := e.st.Pool().Exec(e.ctx, `UPDATE senders SET wanted_at = $1`, old); err != nil {
		t.Fatal(err)
	}
	s := e.subscribe(a)
	expect(t, s, 1)
	wanted := func(x common.Address) time.Time {
		t.Helper()
		var at time.Time
		if err := e.st.Pool().QueryRow(e.ctx, `SELECT wanted_at FROM senders WHERE sender = $1`, x[:]).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	for deadline := time.Now().Add(5 * time.Second); !wanted(a).After(old.Add(time.Minute)); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the subscribed sender was never marked wanted")
		}
	}
	if got := wanted(b); got.After(old.Add(time.Minute)) {
		t.Fatalf("a sender nobody subscribed to was marked wanted at %s", got)
	}
}
