package store_test

import (
	"context"
	"errors"
	"math/big"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"redeemer/store"
	"redeemer/store/storetest"
)

// notes is a LISTEN session on the float channel, to see exactly what a
// write announced.
type notes struct {
	t    *testing.T
	conn *pgx.Conn
}

func listenFloats(t *testing.T, ctx context.Context, s *store.Store) *notes {
	t.Helper()
	conn, err := pgx.ConnectConfig(ctx, s.Pool().Config().ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "LISTEN "+store.FloatChannel); err != nil {
		t.Fatal(err)
	}
	return &notes{t: t, conn: conn}
}

// drain returns the payloads announced so far, sorted. Notifications of a
// committed transaction are already on the wire when the commit returns,
// so a short wait catches them all.
func (n *notes) drain() []string {
	n.t.Helper()
	var out []string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		got, err := n.conn.WaitForNotification(ctx)
		cancel()
		if err != nil {
			if !errors.Is(err, context.DeadlineExceeded) {
				n.t.Fatal(err)
			}
			sort.Strings(out)
			return out
		}
		out = append(out, got.Payload)
	}
}

func addr(b byte) [20]byte {
	var a [20]byte
	for i := range a {
		a[i] = b
	}
	return a
}

func senderState(a [20]byte, block uint64, deposit int64) store.SenderState {
	return store.SenderState{
		Sender: a, Deposit: big.NewInt(deposit), WithdrawRound: big.NewInt(0),
		FundsRemaining: big.NewInt(1000), ClaimedInRound: big.NewInt(10), ClaimedByRecipient: big.NewInt(3),
		Round: big.NewInt(7), Block: block,
	}
}

func protocolState(block uint64, pool int64) *store.ProtocolState {
	return &store.ProtocolState{
		Recipient: addr(0xee), RecipientActive: true, PoolSize: big.NewInt(pool),
		CurrentRound: big.NewInt(7), LastInitializedRound: big.NewInt(7), Block: block, L1Block: block + 100,
	}
}

func TestSaveChainStateAnnouncesOnlyChanges(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	n := listenFloats(t, ctx, s)
	a, b := addr(0xaa), addr(0xbb)
	pa, pb := store.FloatPayload(a), store.FloatPayload(b)

	save := func(cs store.ChainState) store.SaveResult {
		t.Helper()
		res, err := s.SaveChainState(ctx, cs)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	expect := func(step string, want ...string) {
		t.Helper()
		sort.Strings(want)
		if got := n.drain(); !slices.Equal(got, want) {
			t.Fatalf("%s: announced %q, want %q", step, got, want)
		}
	}

	save(store.ChainState{Protocol: protocolState(10, 5), Senders: []store.SenderState{senderState(a, 10, 100), senderState(b, 10, 200)}})
	expect("first save", "*", pa, pb)

	res := save(store.ChainState{Protocol: protocolState(11, 5), Senders: []store.SenderState{senderState(a, 11, 100), senderState(b, 11, 200)}})
	expect("same values at a later block")
	if res.ProtocolChanged || len(res.SendersChanged) != 0 {
		t.Fatalf("result %+v for unchanged values", res)
	}

	save(store.ChainState{Senders: []store.SenderState{senderState(a, 12, 101), senderState(b, 12, 200)}})
	expect("one deposit changed", pa)

	save(store.ChainState{Protocol: protocolState(12, 6)})
	expect("pool size changed", "*")

	// A read from an older block must not roll the row back.
	save(store.ChainState{Protocol: protocolState(5, 1), Senders: []store.SenderState{senderState(a, 5, 1)}})
	expect("older reads")
	fs, err := s.FloatState(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if fs.State.Deposit.Int64() != 101 || fs.State.Block != 12 || fs.Protocol.PoolSize.Int64() != 6 {
		t.Fatalf("older reads overwrote newer ones: %+v %+v", fs.State, fs.Protocol)
	}

	// After a reorg the rewrite wins whatever its block.
	save(store.ChainState{Protocol: protocolState(5, 1), Senders: []store.SenderState{senderState(a, 5, 1)}, Force: true})
	expect("forced rewrite", "*", pa)
	fs, err = s.FloatState(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if fs.State.Deposit.Int64() != 1 || fs.State.Block != 5 || fs.Protocol.PoolSize.Int64() != 1 || fs.Protocol.Block != 5 {
		t.Fatalf("forced rewrite not stored: %+v %+v", fs.State, fs.Protocol)
	}

	// The same sender twice in one batch: the later read wins.
	save(store.ChainState{Senders: []store.SenderState{senderState(b, 20, 300), senderState(b, 19, 250)}})
	expect("duplicate sender", pb)
	if fs, err = s.FloatState(ctx, b); err != nil {
		t.Fatal(err)
	}
	if fs.State.Deposit.Int64() != 300 {
		t.Fatalf("deposit %s, want the block-20 read", fs.State.Deposit)
	}
}

func TestSaveChainStateRejectsBadValues(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	bad := senderState(addr(1), 1, 1)
	bad.Deposit = big.NewInt(-1)
	if _, err := s.SaveChainState(ctx, store.ChainState{Senders: []store.SenderState{bad}}); err == nil {
		t.Error("negative deposit stored")
	}
	bad = senderState(addr(1), 1, 1)
	bad.Deposit = new(big.Int).Lsh(big.NewInt(1), 256)
	if _, err := s.SaveChainState(ctx, store.ChainState{Senders: []store.SenderState{bad}}); err == nil {
		t.Error("deposit of 2^256 stored")
	}
	p := protocolState(1, 1)
	p.PoolSize = nil
	if _, err := s.SaveChainState(ctx, store.ChainState{Protocol: p}); err == nil {
		t.Error("nil pool size stored")
	}
}

func TestFloatStatesReadsEverythingExactly(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	a, unknown := addr(0xaa), addr(0xcc)

	fs, err := s.FloatState(ctx, unknown)
	if err != nil {
		t.Fatal(err)
	}
	if fs.State != nil || fs.Protocol != nil || fs.InLimbo.Sign() != 0 || fs.Sender != unknown {
		t.Fatalf("empty database: %+v", fs)
	}

	st := store.SenderState{
		Sender: a, Deposit: maxUint256, WithdrawRound: big.NewInt(9), FundsRemaining: new(big.Int).Sub(maxUint256, big.NewInt(1)),
		ClaimedInRound: big.NewInt(12345), ClaimedByRecipient: big.NewInt(678), Round: big.NewInt(42), Block: 99,
	}
	if _, err := s.SaveChainState(ctx, store.ChainState{Protocol: protocolState(99, 3), Senders: []store.SenderState{st}}); err != nil {
		t.Fatal(err)
	}
	limbo, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	if _, err := s.Pool().Exec(ctx, `INSERT INTO sender_limbo (sender, amount) VALUES ($1, $2)`, a[:], limbo.String()); err != nil {
		t.Fatal(err)
	}

	got, err := s.FloatStates(ctx, [][20]byte{unknown, a})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Sender != unknown || got[1].Sender != a {
		t.Fatalf("states not in the order asked: %+v", got)
	}
	if got[0].State != nil || got[0].Protocol == nil || got[0].InLimbo.Sign() != 0 {
		t.Fatalf("unknown sender: %+v", got[0])
	}
	g := got[1]
	if g.State == nil || g.State.Deposit.Cmp(st.Deposit) != 0 || g.State.FundsRemaining.Cmp(st.FundsRemaining) != 0 ||
		g.State.ClaimedInRound.Cmp(st.ClaimedInRound) != 0 || g.State.ClaimedByRecipient.Cmp(st.ClaimedByRecipient) != 0 ||
		g.State.WithdrawRound.Cmp(st.WithdrawRound) != 0 || g.State.Round.Cmp(st.Round) != 0 || g.State.Block != 99 {
		t.Fatalf("sender state %+v, want %+v", g.State, st)
	}
	if g.InLimbo.Cmp(limbo) != 0 {
		t.Fatalf("in limbo %s, want %s", g.InLimbo, limbo)
	}
	want := protocolState(99, 3)
	if p := g.Protocol; p.Recipient != want.Recipient || !p.RecipientActive || p.PoolSize.Cmp(want.PoolSize) != 0 ||
		p.CurrentRound.Cmp(want.CurrentRound) != 0 || p.LastInitializedRound.Cmp(want.LastInitializedRound) != 0 ||
		p.Block != 99 || p.L1Block != 199 {
		t.Fatalf("protocol %+v, want %+v", p, want)
	}
	stored, err := s.StoredProtocolState(ctx)
	if err != nil || stored == nil || stored.PoolSize.Int64() != 3 {
		t.Fatalf("StoredProtocolState = %+v, %v", stored, err)
	}
}

func TestTrackedSenders(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	if got, err := s.Q().TrackedSenders(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty database: %x, %v", got, err)
	}
	// Two tickets from one sender, one from another, and a sender known
	// only from its stored state.
	t1, t2, t3 := sampleTicket(1), sampleTicket(2), sampleTicket(3)
	t2.Sender = t1.Sender
	for _, tk := range []store.NewTicket{t1, t2, t3} {
		if _, err := s.InsertTicket(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	stateOnly := addr(0x77)
	if _, err := s.SaveChainState(ctx, store.ChainState{Senders: []store.SenderState{senderState(stateOnly, 1, 1), senderState(t3.Sender, 1, 1)}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Q().TrackedSenders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := [][20]byte{t1.Sender, t3.Sender, stateOnly}
	sortAddrs(got)
	sortAddrs(want)
	if !slices.Equal(got, want) {
		t.Fatalf("tracked %x, want %x", got, want)
	}

	stranger := addr(0x01)
	got, err = s.Q().FilterTracked(ctx, [][20]byte{stranger, t1.Sender, stateOnly, t1.Sender})
	if err != nil {
		t.Fatal(err)
	}
	want = [][20]byte{t1.Sender, stateOnly}
	sortAddrs(got)
	sortAddrs(want)
	if !slices.Equal(got, want) {
		t.Fatalf("filtered %x, want %x", got, want)
	}
}

func sortAddrs(a [][20]byte) {
	slices.SortFunc(a, func(x, y [20]byte) int {
		for i := range x {
			if x[i] != y[i] {
				return int(x[i]) - int(y[i])
			}
		}
		return 0
	})
}

func TestStoredAt(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	a, b, c := addr(0xa), addr(0xb), addr(0xc)
	if _, err := s.SaveChainState(ctx, store.ChainState{Protocol: protocolState(8, 1),
		Senders: []store.SenderState{senderState(a, 8, 1), senderState(b, 9, 1), senderState(c, 8, 1)}}); err != nil {
		t.Fatal(err)
	}
	got, protocol, err := s.StoredAt(ctx, 8)
	if err != nil {
		t.Fatal(err)
	}
	if !protocol || !slices.Equal(got, [][20]byte{a, c}) {
		t.Fatalf("StoredAt(8) = %x, %v; want a and c, true", got, protocol)
	}
	if got, protocol, err = s.StoredAt(ctx, 10); err != nil || protocol || len(got) != 0 {
		t.Fatalf("StoredAt(10) = %x, %v, %v; want nothing", got, protocol, err)
	}
}

// TestProtocolStateAt: values read before a round began are carried to a
// later L1 block with the round and its start block moved together; inside
// the round, or without a start or length, they stand.
func TestProtocolStateAt(t *testing.T) {
	t.Parallel()
	p := &store.ProtocolState{CurrentRound: big.NewInt(7), RoundLength: big.NewInt(10), RoundStartL1: big.NewInt(70)}
	for _, c := range []struct {
		l1           uint64
		round, start int64
	}{
		{0, 7, 70}, {70, 7, 70}, {79, 7, 70}, {80, 8, 80}, {89, 8, 80}, {90, 9, 90}, {125, 12, 120},
	} {
		got := p.At(c.l1)
		if got.CurrentRound.Int64() != c.round || got.RoundStartL1.Int64() != c.start {
			t.Errorf("At(%d) = round %s from %s, want round %d from %d", c.l1, got.CurrentRound, got.RoundStartL1, c.round, c.start)
		}
	}
	if p.CurrentRound.Int64() != 7 || p.RoundStartL1.Int64() != 70 {
		t.Fatalf("At changed its receiver: round %s from %s", p.CurrentRound, p.RoundStartL1)
	}
	for _, q := range []*store.ProtocolState{
		nil,
		{},
		{CurrentRound: big.NewInt(7), RoundLength: big.NewInt(10)},
		{CurrentRound: big.NewInt(7), RoundStartL1: big.NewInt(70)},
		{CurrentRound: big.NewInt(7), RoundLength: big.NewInt(0), RoundStartL1: big.NewInt(70)},
	} {
		if got := q.At(1000); got != q {
			t.Errorf("At(1000) of %+v = %+v, want it unchanged", q, got)
		}
	}
}
