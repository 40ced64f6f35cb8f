package store_test

import (
	"context"
	"math/big"
	"slices"
	"sort"
	"testing"
	"time"

	"redeemer/store"
	"redeemer/store/storetest"
)

// wantAmounts checks a sender's stored amounts against figures worked out
// by hand, so a transition that moved neither tickets nor amounts cannot
// pass checkAmounts unnoticed.
func wantAmounts(t *testing.T, ctx context.Context, s *store.Store, step string, sender [20]byte, queued, limbo int64) {
	t.Helper()
	q, l := amounts(t, ctx, s, sender)
	if q.Cmp(big.NewInt(queued)) != 0 || l.Cmp(big.NewInt(limbo)) != 0 {
		t.Fatalf("%s: sender %x queued %s in limbo %s, want %d and %d", step, sender[:2], q, l, queued, limbo)
	}
	if l, err := s.SenderLimbo(ctx, sender); err != nil || l.Cmp(big.NewInt(limbo)) != 0 {
		t.Fatalf("%s: SenderLimbo of %x = %v (%v), want %d", step, sender[:2], l, err, limbo)
	}
}

// TestAmountsFollowEveryTransition walks tickets of two senders through
// every transition that moves face values and checks invariant 2 of
// docs/design.md after each: sender_limbo.amount is the sum of the
// sender's redeeming tickets, queued_amount that of its queued ones.
func TestAmountsFollowEveryTransition(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	n := listenFloats(t, ctx, s)
	a, b := addr(0xa1), addr(0xb1)
	account := addr(0xcc)
	q := s.Q()

	// Intake, with and without caps.
	tickets := []store.NewTicket{
		numbered(1, a, 10), numbered(2, a, 20), numbered(3, a, 30), numbered(4, a, 40),
		numbered(5, b, 100), numbered(6, b, 200),
	}
	in := make([]store.Admit, len(tickets))
	for i, tk := range tickets {
		in[i] = store.Admit{Ticket: tk}
		if i%2 == 0 {
			in[i].Cap = big.NewInt(1000)
		}
	}
	out, err := s.AdmitTickets(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(tickets)+1) // by ticket number
	for i, o := range out {
		if !o.Inserted || !o.Stored {
			t.Fatalf("ticket %d: %+v, want inserted", i+1, o)
		}
		got, err := s.TicketByHash(ctx, tickets[i].TicketHash)
		if err != nil {
			t.Fatal(err)
		}
		ids[i+1] = got.ID
	}
	checkAmounts(t, ctx, s, "admitted")
	wantAmounts(t, ctx, s, "admitted", a, 100, 0)
	wantAmounts(t, ctx, s, "admitted", b, 300, 0)
	n.drain()

	// Claim: queued to redeeming, announced.
	c1, _ := claimTickets(t, ctx, s, account, 0, 10, fakeAttempt(1, 2), ids[1], ids[2], ids[5])
	checkAmounts(t, ctx, s, "claimed")
	wantAmounts(t, ctx, s, "claimed", a, 70, 30)
	wantAmounts(t, ctx, s, "claimed", b, 200, 100)
	if got, want := n.drain(), sorted(store.FloatPayload(a), store.FloatPayload(b)); !slices.Equal(got, want) {
		t.Fatalf("claim announced %q, want %q", got, want)
	}

	// A claim that names a ticket no longer queued fails and changes
	// nothing.
	if _, _, err := claimIn(ctx, s, 0, account, 0, 11, fakeAttempt(2, 2), ids[1], ids[3]); err == nil {
		t.Fatal("a claim of a redeeming ticket succeeded")
	}
	err = s.InTx(ctx, func(q store.Q) error {
		_, err := q.InsertRedemption(ctx, store.NewRedemption{Account: account, Nonce: 99, HeadNumber: 11,
			Tx: fakeAttempt(3, 2), Tickets: []store.ClaimedTicket{
				{ID: ids[3], Sender: a, FaceValue: big.NewInt(30), ExpectedPayout: big.NewInt(30)},
				{ID: ids[1], Sender: a, FaceValue: big.NewInt(10), ExpectedPayout: big.NewInt(10)},
			}})
		return err
	})
	if err == nil {
		t.Fatal("InsertRedemption of a ticket already redeeming succeeded")
	}
	checkAmounts(t, ctx, s, "refused claim")
	wantAmounts(t, ctx, s, "refused claim", a, 70, 30)

	// Settle: redeemed, back to the queue, failed.
	if err := q.MarkMined(ctx, c1.RedemptionID, store.Mined{TxHash: fakeAttempt(1, 2).TxHash, Block: 12,
		BlockHash: [32]byte{12}, ReceiptStatus: 1, GasUsed: 1, EffectiveGasPrice: big.NewInt(1)}); err != nil {
		t.Fatal(err)
	}
	r1 := store.Settlement{RedemptionID: c1.RedemptionID, Status: store.RedemptionConfirmed, FinalBlock: 14,
		Outcome: "mined", Tickets: []store.TicketOutcome{
			{TicketID: ids[1], Status: store.StatusRedeemed, Reason: "redeemed", Paid: big.NewInt(10)},
			{TicketID: ids[2], Status: store.StatusQueued, Reason: "did not win", RetryAt: time.Now().Add(-time.Second), Attempt: true},
			{TicketID: ids[5], Status: store.StatusFailed, Reason: "used by another transaction"},
		}}
	settle(t, ctx, s, r1)
	checkAmounts(t, ctx, s, "settled")
	wantAmounts(t, ctx, s, "settled", a, 90, 0)
	wantAmounts(t, ctx, s, "settled", b, 200, 0)
	if got, want := n.drain(), sorted(store.FloatPayload(a), store.FloatPayload(b)); !slices.Equal(got, want) {
		t.Fatalf("settlement announced %q, want %q", got, want)
	}
	// Settling again (a crash before the caller saw the commit) is a no-op.
	settle(t, ctx, s, r1)
	checkAmounts(t, ctx, s, "settled twice")
	wantAmounts(t, ctx, s, "settled twice", a, 90, 0)
	if tk := ticketByID(t, ctx, s, ids[2]); tk.Attempts != 1 || tk.Status != store.StatusQueued {
		t.Fatalf("re-queued ticket: %s with %d attempts, want queued with 1", tk.Status, tk.Attempts)
	}
	if tk := ticketByID(t, ctx, s, ids[1]); tk.Status != store.StatusRedeemed {
		t.Fatalf("redeemed ticket is %s", tk.Status)
	}

	// Queued tickets end unpaid.
	ended, err := q.EndQueuedTickets(ctx, []store.Ending{
		{TicketID: ids[3], Status: store.StatusExpired, Reason: "validity period over"},
		{TicketID: ids[6], Status: store.StatusFailed, Reason: "sender is unlocked"},
		{TicketID: ids[1], Status: store.StatusFailed, Reason: "not queued: left alone"},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantEnded := []int64{ids[3], ids[6]}
	slices.Sort(ended)
	slices.Sort(wantEnded)
	if !slices.Equal(ended, wantEnded) {
		t.Fatalf("ended %v, want %v", ended, wantEnded)
	}
	checkAmounts(t, ctx, s, "ended")
	wantAmounts(t, ctx, s, "ended", a, 60, 0)
	wantAmounts(t, ctx, s, "ended", b, 0, 0)

	// An operator's retry puts a failed ticket back in the queue.
	if err := s.RetryTicket(ctx, ids[5], "sender topped up"); err != nil {
		t.Fatal(err)
	}
	checkAmounts(t, ctx, s, "retried")
	wantAmounts(t, ctx, s, "retried", b, 100, 0)

	// Redeemed, re-opened by a reorg, then dropped back to the queue.
	c2, _ := claimTickets(t, ctx, s, account, 0, 20, fakeAttempt(4, 2), ids[2], ids[5])
	checkAmounts(t, ctx, s, "claimed again")
	wantAmounts(t, ctx, s, "claimed again", a, 40, 20)
	if err := q.MarkMined(ctx, c2.RedemptionID, store.Mined{TxHash: fakeAttempt(4, 2).TxHash, Block: 21,
		BlockHash: [32]byte{21}, ReceiptStatus: 1, GasUsed: 1, EffectiveGasPrice: big.NewInt(1)}); err != nil {
		t.Fatal(err)
	}
	settle(t, ctx, s, store.Settlement{RedemptionID: c2.RedemptionID, Status: store.RedemptionConfirmed, FinalBlock: 23,
		Outcome: "mined", Tickets: []store.TicketOutcome{
			{TicketID: ids[2], Status: store.StatusRedeemed, Reason: "redeemed", Paid: big.NewInt(20)},
			{TicketID: ids[5], Status: store.StatusRedeemed, Reason: "redeemed", Paid: big.NewInt(100)},
		}})
	checkAmounts(t, ctx, s, "second settlement")
	wantAmounts(t, ctx, s, "second settlement", a, 40, 0)
	wantAmounts(t, ctx, s, "second settlement", b, 0, 0)
	n.drain()
	if err := s.InTx(ctx, func(q store.Q) error {
		_, err := q.Reopen(ctx, c2.RedemptionID, "block 21 left the chain")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	checkAmounts(t, ctx, s, "re-opened")
	wantAmounts(t, ctx, s, "re-opened", a, 40, 20)
	wantAmounts(t, ctx, s, "re-opened", b, 0, 100)
	if got, want := n.drain(), sorted(store.FloatPayload(a), store.FloatPayload(b)); !slices.Equal(got, want) {
		t.Fatalf("re-opening announced %q, want %q", got, want)
	}
	settle(t, ctx, s, store.Settlement{RedemptionID: c2.RedemptionID, Status: store.RedemptionDropped, FinalBlock: 30,
		Outcome: "nonce used by another transaction", Tickets: []store.TicketOutcome{
			{TicketID: ids[2], Status: store.StatusQueued, Reason: "dropped", RetryAt: time.Now()},
			{TicketID: ids[5], Status: store.StatusQueued, Reason: "dropped", RetryAt: time.Now()},
		}})
	checkAmounts(t, ctx, s, "dropped")
	wantAmounts(t, ctx, s, "dropped", a, 60, 0)
	wantAmounts(t, ctx, s, "dropped", b, 100, 0)

	// The chain shows a queued ticket redeemed by someone else.
	failed, err := q.RecordRedeemed(ctx, []store.RedeemedTicket{{TicketHash: tickets[3].TicketHash, Sender: a,
		Round: 3500, Block: 31, BlockHash: [32]byte{31}, TxHash: [32]byte{0x31}}})
	if err != nil || !slices.Equal(failed, []int64{ids[4]}) {
		t.Fatalf("RecordRedeemed failed %v (%v), want ticket %d", failed, err, ids[4])
	}
	checkAmounts(t, ctx, s, "redeemed elsewhere")
	wantAmounts(t, ctx, s, "redeemed elsewhere", a, 20, 0)

	// Expiry by round.
	expired, err := q.ExpireQueued(ctx, 3501, 10, func(tk store.Ticket) string { return "created in an old round" })
	if err != nil || len(expired) != 2 {
		t.Fatalf("expired %d tickets (%v), want the 2 still queued", len(expired), err)
	}
	checkAmounts(t, ctx, s, "expired")
	wantAmounts(t, ctx, s, "expired", a, 0, 0)
	wantAmounts(t, ctx, s, "expired", b, 0, 0)
}

func sorted(s ...string) []string {
	sort.Strings(s)
	return s
}

// TestRecomputeAmountsRepairsAndAnnounces: rows an outsider corrupted are
// rebuilt from the tickets; only senders whose in-limbo amount changed are
// announced (the float depends on it, not on the queued amount); correct
// rows are not touched.
func TestRecomputeAmountsRepairsAndAnnounces(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	account := addr(0xcc)
	var (
		wrongLimbo   = addr(0xa1) // in-limbo amount wrong
		wrongQueued  = addr(0xa2) // queued amount wrong only
		staleLimbo   = addr(0xa3) // row with an in-limbo amount, no tickets
		missingQueue = addr(0xa4) // queued tickets, row deleted
		missingLimbo = addr(0xa5) // redeeming tickets, row deleted
		correct      = addr(0xa6)
		staleQueued  = addr(0xa7) // row with a queued amount, no tickets
	)
	k := 0
	add := func(sender [20]byte, face int64) int64 {
		k++
		return insertTicket(t, ctx, s, numbered(k, sender, face))
	}
	add(wrongLimbo, 10)
	l1 := add(wrongLimbo, 20)
	add(wrongQueued, 30)
	add(missingQueue, 40)
	l2 := add(missingLimbo, 50)
	add(correct, 60)
	l3 := add(correct, 70)
	claimTickets(t, ctx, s, account, 0, 1, fakeAttempt(1, 1), l1, l2, l3)
	checkAmounts(t, ctx, s, "before the outsider")

	for _, sql := range []string{
		`UPDATE sender_limbo SET amount = 999 WHERE sender = '\xa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1'`,
		`UPDATE sender_limbo SET queued_amount = 5 WHERE sender = '\xa2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2'`,
		`INSERT INTO sender_limbo (sender, amount) VALUES ('\xa3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3', 50)`,
		`DELETE FROM sender_limbo WHERE sender IN ('\xa4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4', '\xa5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5')`,
		`INSERT INTO sender_limbo (sender, queued_amount) VALUES ('\xa7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7', 7)`,
		`UPDATE sender_limbo SET updated_at = '2000-01-01' WHERE sender = '\xa6a6a6a6a6a6a6a6a6a6a6a6a6a6a6a6a6a6a6a6'`,
	} {
		if _, err := s.Pool().Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	n := listenFloats(t, ctx, s)
	var changed int
	if err := s.InTx(ctx, func(q store.Q) (err error) {
		changed, err = q.RecomputeAmounts(ctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	checkAmounts(t, ctx, s, "recomputed")
	want := sorted(store.FloatPayload(wrongLimbo), store.FloatPayload(staleLimbo), store.FloatPayload(missingLimbo))
	if got := n.drain(); !slices.Equal(got, want) {
		t.Fatalf("announced %q, want %q", got, want)
	}
	if changed != 3 {
		t.Fatalf("RecomputeAmounts reported %d senders changed, want 3", changed)
	}
	wantAmounts(t, ctx, s, "recomputed", wrongLimbo, 10, 20)
	wantAmounts(t, ctx, s, "recomputed", wrongQueued, 30, 0)
	wantAmounts(t, ctx, s, "recomputed", staleLimbo, 0, 0)
	wantAmounts(t, ctx, s, "recomputed", missingQueue, 40, 0)
	wantAmounts(t, ctx, s, "recomputed", missingLimbo, 0, 50)
	wantAmounts(t, ctx, s, "recomputed", staleQueued, 0, 0)
	var untouched bool
	if err := s.Pool().QueryRow(ctx, `SELECT updated_at = '2000-01-01' FROM sender_limbo WHERE sender = $1`,
		correct[:]).Scan(&untouched); err != nil || !untouched {
		t.Fatalf("a correct row was rewritten (untouched %v, %v)", untouched, err)
	}

	// Nothing left to repair.
	if err := s.InTx(ctx, func(q store.Q) (err error) {
		changed, err = q.RecomputeAmounts(ctx)
		return err
	}); err != nil || changed != 0 {
		t.Fatalf("second recompute: %d changed, %v; want 0", changed, err)
	}
	if got := n.drain(); len(got) != 0 {
		t.Fatalf("second recompute announced %q", got)
	}
}
