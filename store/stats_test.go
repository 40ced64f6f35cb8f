package store_test

import (
	"math/big"
	"testing"
	"time"

	"redeemer/store"
	"redeemer/store/storetest"
)

// TestStatsCountOpenWork: the snapshot counts queued, postponed and
// redeeming tickets, open redemptions by state and in-limbo amounts per
// sender, and leaves final tickets out.
func TestStatsCountOpenWork(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)

	empty, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if empty.Queued != 0 || empty.Redeeming != 0 || empty.OldestQueued != 0 || len(empty.Limbo) != 0 ||
		empty.PendingRedemptions != 0 || empty.MinedRedemptions != 0 {
		t.Fatalf("stats of an empty database: %+v", empty)
	}

	ids := map[byte]int64{}
	var sender [20]byte
	for _, seed := range []byte{10, 20, 30, 40, 50} {
		nt := sampleTicket(seed)
		if seed >= 30 {
			nt.Sender = sampleTicket(30).Sender // one sender for the claimed ones
			sender = nt.Sender
		}
		if _, err := s.InsertTicket(ctx, nt); err != nil {
			t.Fatal(err)
		}
		got, err := s.TicketByHash(ctx, nt.TicketHash)
		if err != nil {
			t.Fatal(err)
		}
		ids[seed] = got.ID
	}
	// Backdate intake so the oldest queued age is unmistakable.
	if _, err := s.Pool().Exec(ctx, `UPDATE tickets SET received_at = now() - interval '1 hour' WHERE id = $1`, ids[10]); err != nil {
		t.Fatal(err)
	}
	if err := s.Q().PostponeTickets(ctx, []store.Postponement{{TicketID: ids[20],
		RetryAt: time.Now().Add(time.Hour), Reason: "uneconomic"}}); err != nil {
		t.Fatal(err)
	}
	attempt := func(b byte) store.AttemptTx {
		return store.AttemptTx{TxHash: [32]byte{b}, Raw: []byte{b}, GasLimit: 100_000,
			FeeCap: big.NewInt(2e9), TipCap: big.NewInt(1e9)}
	}
	account := [20]byte{0xac}
	claim := func(b byte, ticketIDs ...int64) int64 {
		c, _ := claimTickets(t, ctx, s, account, 0, 100, attempt(b), ticketIDs...)
		return c.RedemptionID
	}
	claim(1, ids[30], ids[40])
	mined := claim(2, ids[50])
	if err := s.Q().MarkMined(ctx, mined, store.Mined{TxHash: [32]byte{2}, Block: 101, BlockHash: [32]byte{9},
		ReceiptStatus: 1, GasUsed: 90_000, EffectiveGasPrice: big.NewInt(1e9)}); err != nil {
		t.Fatal(err)
	}

	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Queued != 2 || st.Postponed != 1 || st.Redeeming != 3 || st.PendingRedemptions != 1 || st.MinedRedemptions != 1 {
		t.Fatalf("stats %+v: want 2 queued (1 postponed), 3 redeeming, 1 pending and 1 mined redemption", st)
	}
	if st.OldestQueued < 59*time.Minute || st.OldestQueued > 2*time.Hour {
		t.Fatalf("oldest queued %s, want about an hour", st.OldestQueued)
	}
	want := new(big.Int).Mul(sampleTicket(30).FaceValue, big.NewInt(3))
	if len(st.Limbo) != 1 || st.Limbo[sender] == nil || st.Limbo[sender].Cmp(want) != 0 {
		t.Fatalf("in limbo %v, want %s for %x only", st.Limbo, want, sender)
	}

	// Final redemptions and tickets leave the snapshot.
	settle(t, ctx, s, store.Settlement{RedemptionID: mined, Status: store.RedemptionConfirmed, FinalBlock: 105,
		Outcome: "test", Tickets: []store.TicketOutcome{{TicketID: ids[50], Status: store.StatusRedeemed, Reason: "test"}}})
	st, err = s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want.Sub(want, sampleTicket(50).FaceValue)
	if st.Redeeming != 2 || st.PendingRedemptions != 1 || st.MinedRedemptions != 0 || st.Limbo[sender].Cmp(want) != 0 {
		t.Fatalf("stats after settling one redemption: %+v", st)
	}
}

// TestMigrationVersions: a migrated database is at the highest embedded
// version; one migration down, it is behind.
func TestMigrationVersions(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	dsn := storetest.New(t)
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	current, latest, err := s.MigrationVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if current != latest || latest < 3 {
		t.Fatalf("migrated database at %d, embedded latest %d: want equal", current, latest)
	}
	if err := store.Migrate(ctx, nil, dsn, "down"); err != nil {
		t.Fatal(err)
	}
	if current, latest, err = s.MigrationVersions(ctx); err != nil {
		t.Fatal(err)
	}
	if current >= latest {
		t.Fatalf("after one migration down the database is at %d, latest %d: want behind", current, latest)
	}
}

// TestLeaderElected follows the lease, whoever holds it: live while held,
// not after release or expiry.
func TestLeaderElected(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	if held, err := s.LeaderElected(ctx); err != nil || held {
		t.Fatalf("leader elected before anyone took the lease: %v %v", held, err)
	}
	l, err := s.AcquireLease(ctx, "a", time.Minute)
	if err != nil || l == nil {
		t.Fatalf("acquire: %v %v", l, err)
	}
	if held, err := s.LeaderElected(ctx); err != nil || !held {
		t.Fatalf("no leader elected while the lease is held: %v %v", held, err)
	}
	if err := s.ReleaseLease(ctx, l.Term); err != nil {
		t.Fatal(err)
	}
	if held, err := s.LeaderElected(ctx); err != nil || held {
		t.Fatalf("leader elected after the lease was released: %v %v", held, err)
	}
	l, err = s.AcquireLease(ctx, "b", 300*time.Millisecond)
	if err != nil || l == nil {
		t.Fatalf("acquire again: %v %v", l, err)
	}
	time.Sleep(400 * time.Millisecond)
	if held, err := s.LeaderElected(ctx); err != nil || held {
		t.Fatalf("leader elected after the lease expired: %v %v", held, err)
	}
}
