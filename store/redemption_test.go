package store_test

import (
	"context"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"redeemer/store"
	"redeemer/store/storetest"
)

func openRedemptions(t *testing.T, ctx context.Context, s *store.Store) []store.Redemption {
	t.Helper()
	rs, err := s.Q().OpenRedemptions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func unfinalized(t *testing.T, ctx context.Context, s *store.Store) []store.Redemption {
	t.Helper()
	rs, err := s.Q().UnfinalizedRedemptions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// paidAmount reads tickets.paid_amount as text ("" for NULL).
func paidAmount(t *testing.T, ctx context.Context, s *store.Store, id int64) string {
	t.Helper()
	var paid *string
	if err := s.Pool().QueryRow(ctx, `SELECT paid_amount::text FROM tickets WHERE id = $1`, id).Scan(&paid); err != nil {
		t.Fatal(err)
	}
	if paid == nil {
		return ""
	}
	return *paid
}

// TestRedemptionLifecycle follows one redemption from its claim through
// broadcasts, a re-price, inclusion, a reorg that unmines it, settlement,
// a move to another block, a re-opening after a deeper reorg, a second
// settlement and finality, checking what the track stage reads at each
// step.
func TestRedemptionLifecycle(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	q := s.Q()
	a, b := addr(0xa1), addr(0xb1)
	account := addr(0xcc)
	ids := []int64{insertTicket(t, ctx, s, numbered(1, a, 70)), insertTicket(t, ctx, s, numbered(2, b, 30))}
	lease := acquire(t, ctx, s, "leader", time.Minute)

	first := fakeAttempt(0xe1, 2)
	c, nonce, err := claimIn(ctx, s, lease.Term, account, 9, 100, first, ids...)
	if err != nil {
		t.Fatal(err)
	}
	if nonce != 9 {
		t.Fatalf("nonce %d, want the chain's 9", nonce)
	}
	open := openRedemptions(t, ctx, s)
	if len(open) != 1 {
		t.Fatalf("%d open redemptions, want 1", len(open))
	}
	r := open[0]
	if r.ID != c.RedemptionID || r.Status != store.RedemptionPending || r.Nonce != 9 || r.Account != account ||
		r.TicketCount != 2 || r.CreatedBlock != 100 || r.Term != lease.Term || len(r.Attempts) != 1 {
		t.Fatalf("open redemption %+v", r)
	}
	at := r.Latest()
	if at.ID != c.AttemptID || at.TxHash != first.TxHash || !slices.Equal(at.Raw, first.Raw) ||
		at.GasLimit != first.GasLimit || at.FeeCap.Cmp(first.FeeCap) != 0 || at.TipCap.Cmp(first.TipCap) != 0 ||
		at.CreatedBlock != 100 || at.SentAt != nil || at.SendCount != 0 || at.SendError != "" {
		t.Fatalf("first attempt %+v", at)
	}
	tickets, err := q.RedemptionTickets(ctx, c.RedemptionID)
	if err != nil || len(tickets) != 2 || tickets[0].ID != ids[0] || tickets[1].ID != ids[1] {
		t.Fatalf("redemption tickets %v, %v", tickets, err)
	}
	for _, tk := range tickets {
		if tk.Status != store.StatusRedeeming || tk.RedemptionID != c.RedemptionID || tk.ExpectedPayout.Cmp(tk.FaceValue) != 0 {
			t.Fatalf("claimed ticket %d: %s, redemption %d, expected payout %v", tk.ID, tk.Status, tk.RedemptionID, tk.ExpectedPayout)
		}
	}

	// Broadcasts: accepted, then refused; the refusal keeps the last
	// accepted time.
	if err := q.RecordSend(ctx, c.AttemptID, ""); err != nil {
		t.Fatal(err)
	}
	if err := q.RecordSend(ctx, c.AttemptID, "replacement transaction underpriced"); err != nil {
		t.Fatal(err)
	}
	at = openRedemptions(t, ctx, s)[0].Latest()
	if at.SendCount != 2 || at.SentAt == nil || at.SendError != "replacement transaction underpriced" {
		t.Fatalf("attempt after two broadcasts: %+v", at)
	}

	// Re-priced at the same nonce.
	second := fakeAttempt(0xe2, 4)
	secondID, err := q.AddAttempt(ctx, c.RedemptionID, second, 110, lease.Term)
	if err != nil {
		t.Fatal(err)
	}
	r = openRedemptions(t, ctx, s)[0]
	if len(r.Attempts) != 2 || r.Latest().ID != secondID || r.Latest().TxHash != second.TxHash || r.Latest().CreatedBlock != 110 {
		t.Fatalf("after re-pricing: %+v", r.Attempts)
	}

	// Mined, then unmined by a reorg.
	mined := store.Mined{TxHash: second.TxHash, Block: 120, BlockHash: [32]byte{0x12}, ReceiptStatus: 1,
		GasUsed: 200_000, EffectiveGasPrice: big.NewInt(3e9)}
	if err := q.MarkMined(ctx, c.RedemptionID, mined); err != nil {
		t.Fatal(err)
	}
	r = openRedemptions(t, ctx, s)[0]
	if r.Status != store.RedemptionMined || r.MinedTxHash != second.TxHash || r.MinedBlock != 120 || r.MinedBlockHash != mined.BlockHash {
		t.Fatalf("mined redemption %+v", r)
	}
	if _, err := q.AddAttempt(ctx, c.RedemptionID, fakeAttempt(0xe3, 5), 121, lease.Term); err == nil {
		t.Fatal("an attempt was added to a mined redemption")
	}
	if err := q.Unmine(ctx, c.RedemptionID); err != nil {
		t.Fatal(err)
	}
	r = openRedemptions(t, ctx, s)[0]
	if r.Status != store.RedemptionPending || r.MinedBlock != 0 || r.MinedTxHash != ([32]byte{}) {
		t.Fatalf("unmined redemption %+v", r)
	}

	// Mined again elsewhere and settled.
	mined.Block, mined.BlockHash = 125, [32]byte{0x25}
	if err := q.MarkMined(ctx, c.RedemptionID, mined); err != nil {
		t.Fatal(err)
	}
	settle(t, ctx, s, store.Settlement{RedemptionID: c.RedemptionID, Status: store.RedemptionConfirmed, FinalBlock: 130,
		Outcome: "mined in block 125", Tickets: []store.TicketOutcome{
			{TicketID: ids[0], Status: store.StatusRedeemed, Reason: "redeemed", Paid: big.NewInt(65)},
			{TicketID: ids[1], Status: store.StatusFailed, Reason: "ticket is used"},
		}})
	if open := openRedemptions(t, ctx, s); len(open) != 0 {
		t.Fatalf("settled redemption still open: %+v", open)
	}
	if got := paidAmount(t, ctx, s, ids[0]); got != "65" {
		t.Fatalf("paid amount %q, want 65", got)
	}
	// Confirmed and watched until final; a move to another block keeps
	// the outcome.
	un := unfinalized(t, ctx, s)
	if len(un) != 1 || un[0].ID != c.RedemptionID || un[0].Status != store.RedemptionConfirmed || un[0].MinedBlock != 125 ||
		un[0].FinalBlock != 130 || len(un[0].Attempts) != 2 {
		t.Fatalf("unfinalized %+v", un)
	}
	moved := store.Mined{TxHash: second.TxHash, Block: 126, BlockHash: [32]byte{0x26}}
	if err := q.MoveConfirmed(ctx, c.RedemptionID, moved); err != nil {
		t.Fatal(err)
	}
	un = unfinalized(t, ctx, s)
	if un[0].MinedBlock != 126 || un[0].MinedBlockHash != moved.BlockHash || un[0].Status != store.RedemptionConfirmed {
		t.Fatalf("after the move: %+v", un[0])
	}
	if tk := ticketByID(t, ctx, s, ids[0]); tk.Status != store.StatusRedeemed {
		t.Fatalf("the move changed the ticket to %s", tk.Status)
	}

	// A deeper reorg re-opens it: its redeemed ticket goes back into limbo,
	// the failed one stays failed.
	checkAmounts(t, ctx, s, "settled")
	reopened, err := reopen(ctx, s, c.RedemptionID, "block 126 is no longer canonical; ticket unused on chain")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(reopened, ids[:1]) {
		t.Fatalf("re-opened %v, want %v", reopened, ids[:1])
	}
	checkAmounts(t, ctx, s, "re-opened")
	wantAmounts(t, ctx, s, "re-opened", a, 0, 70)
	wantAmounts(t, ctx, s, "re-opened", b, 0, 0)
	if tk := ticketByID(t, ctx, s, ids[0]); tk.Status != store.StatusRedeeming || tk.RedemptionID != c.RedemptionID {
		t.Fatalf("re-opened ticket: %s in %d", tk.Status, tk.RedemptionID)
	}
	if got := paidAmount(t, ctx, s, ids[0]); got != "" {
		t.Fatalf("re-opened ticket keeps paid amount %s", got)
	}
	if tk := ticketByID(t, ctx, s, ids[1]); tk.Status != store.StatusFailed {
		t.Fatalf("failed ticket became %s", tk.Status)
	}
	evs := eventsOf(t, ctx, s, ids[0])
	last := evs[len(evs)-1]
	if last.FromStatus != "redeemed" || last.ToStatus != "redeeming" || last.RedemptionID == nil ||
		*last.RedemptionID != c.RedemptionID || !strings.Contains(deref(last.Reason), "no longer canonical") {
		t.Fatalf("re-open event %+v (%s)", last, deref(last.Reason))
	}
	open = openRedemptions(t, ctx, s)
	if len(open) != 1 || open[0].Status != store.RedemptionPending || open[0].MinedBlock != 0 || open[0].FinalBlock != 0 {
		t.Fatalf("re-opened redemption %+v", open)
	}
	if len(unfinalized(t, ctx, s)) != 0 {
		t.Fatal("a re-opened redemption is still watched as confirmed")
	}
	var times int
	var outcome *string
	if err := s.Pool().QueryRow(ctx, `SELECT reopened, outcome FROM redemptions WHERE id = $1`, c.RedemptionID).
		Scan(&times, &outcome); err != nil || times != 1 || outcome != nil {
		t.Fatalf("reopened %d, outcome %v (%v); want 1 and none", times, outcome, err)
	}
	if _, err := reopen(ctx, s, c.RedemptionID, "again"); err == nil {
		t.Fatal("a pending redemption was re-opened")
	}

	// Mined again, settled, finalized.
	mined.Block, mined.BlockHash = 140, [32]byte{0x40}
	if err := q.MarkMined(ctx, c.RedemptionID, mined); err != nil {
		t.Fatal(err)
	}
	settle(t, ctx, s, store.Settlement{RedemptionID: c.RedemptionID, Status: store.RedemptionConfirmed, FinalBlock: 145,
		Outcome: "mined in block 140", Tickets: []store.TicketOutcome{
			{TicketID: ids[0], Status: store.StatusRedeemed, Reason: "redeemed", Paid: big.NewInt(70)},
		}})
	checkAmounts(t, ctx, s, "settled again")
	if err := q.MarkFinalized(ctx, c.RedemptionID, 150); err != nil {
		t.Fatal(err)
	}
	if err := q.MarkFinalized(ctx, c.RedemptionID, 160); err != nil {
		t.Fatal(err)
	}
	var final int64
	if err := s.Pool().QueryRow(ctx, `SELECT finalized_block FROM redemptions WHERE id = $1`, c.RedemptionID).Scan(&final); err != nil || final != 150 {
		t.Fatalf("finalized block %d (%v), want the first, 150", final, err)
	}
	if un := unfinalized(t, ctx, s); len(un) != 0 {
		t.Fatalf("finalized redemption still watched: %+v", un)
	}
	// Final means final: the schema refuses to re-open it.
	if _, err := reopen(ctx, s, c.RedemptionID, "late reorg signal"); err == nil {
		t.Fatal("a finalized redemption was re-opened")
	}
	if tk := ticketByID(t, ctx, s, ids[0]); tk.Status != store.StatusRedeemed {
		t.Fatalf("finalized ticket is %s", tk.Status)
	}
	checkAmounts(t, ctx, s, "finalized")
}

func reopen(ctx context.Context, s *store.Store, id int64, reason string) (ids []int64, err error) {
	err = s.InTx(ctx, func(q store.Q) error {
		ids, err = q.Reopen(ctx, id, reason)
		return err
	})
	return ids, err
}

// TestSettleRefusals: a settlement must give every ticket of the
// redemption an outcome, only its own tickets, and a final status; a
// refused one changes nothing. MarkFinalized and MoveConfirmed leave a
// redemption that is not confirmed alone.
func TestSettleRefusals(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	q := s.Q()
	a := addr(0xa1)
	ids := []int64{insertTicket(t, ctx, s, numbered(1, a, 5)), insertTicket(t, ctx, s, numbered(2, a, 6)),
		insertTicket(t, ctx, s, numbered(3, a, 7))}
	c, _ := claimTickets(t, ctx, s, addr(0xcc), 0, 1, fakeAttempt(1, 1), ids[0], ids[1])

	for name, st := range map[string]store.Settlement{
		"a ticket left without outcome": {RedemptionID: c.RedemptionID, Status: store.RedemptionDropped, FinalBlock: 2,
			Tickets: []store.TicketOutcome{{TicketID: ids[0], Status: store.StatusQueued, Reason: "dropped", RetryAt: time.Now()}}},
		"a ticket of no redemption": {RedemptionID: c.RedemptionID, Status: store.RedemptionDropped, FinalBlock: 2,
			Tickets: []store.TicketOutcome{
				{TicketID: ids[0], Status: store.StatusQueued, Reason: "dropped", RetryAt: time.Now()},
				{TicketID: ids[1], Status: store.StatusQueued, Reason: "dropped", RetryAt: time.Now()},
				{TicketID: ids[2], Status: store.StatusFailed, Reason: "not in it"},
			}},
		"an open redemption status": {RedemptionID: c.RedemptionID, Status: store.RedemptionMined, FinalBlock: 2},
		"an outcome that is no ticket status": {RedemptionID: c.RedemptionID, Status: store.RedemptionDropped, FinalBlock: 2,
			Tickets: []store.TicketOutcome{
				{TicketID: ids[0], Status: store.StatusExpired, Reason: "x"},
				{TicketID: ids[1], Status: store.StatusQueued, Reason: "dropped", RetryAt: time.Now()},
			}},
	} {
		if err := s.InTx(ctx, func(q store.Q) error { return q.Settle(ctx, st) }); err == nil {
			t.Errorf("%s: settled", name)
		}
	}
	if open := openRedemptions(t, ctx, s); len(open) != 1 || open[0].Status != store.RedemptionPending {
		t.Fatalf("after refused settlements: %+v", open)
	}
	for _, id := range ids[:2] {
		if tk := ticketByID(t, ctx, s, id); tk.Status != store.StatusRedeeming {
			t.Fatalf("ticket %d is %s after refused settlements", id, tk.Status)
		}
	}
	checkAmounts(t, ctx, s, "refused settlements")

	if err := q.MarkFinalized(ctx, c.RedemptionID, 9); err != nil {
		t.Fatal(err)
	}
	if err := q.MoveConfirmed(ctx, c.RedemptionID, store.Mined{TxHash: [32]byte{1}, Block: 9, BlockHash: [32]byte{9}}); err != nil {
		t.Fatal(err)
	}
	var (
		finalized *int64
		mined     *int64
	)
	if err := s.Pool().QueryRow(ctx, `SELECT finalized_block, mined_block FROM redemptions WHERE id = $1`, c.RedemptionID).
		Scan(&finalized, &mined); err != nil || finalized != nil || mined != nil {
		t.Fatalf("pending redemption: finalized %v mined %v (%v); want both untouched", finalized, mined, err)
	}

	// Dropped: unused tickets back to the queue; a dropped redemption is
	// never watched for finality.
	settle(t, ctx, s, store.Settlement{RedemptionID: c.RedemptionID, Status: store.RedemptionDropped, FinalBlock: 10,
		Outcome: "nonce used by another transaction", Tickets: []store.TicketOutcome{
			{TicketID: ids[0], Status: store.StatusQueued, Reason: "dropped", RetryAt: time.Now()},
			{TicketID: ids[1], Status: store.StatusQueued, Reason: "dropped", RetryAt: time.Now()},
		}})
	if len(openRedemptions(t, ctx, s)) != 0 || len(unfinalized(t, ctx, s)) != 0 {
		t.Fatal("a dropped redemption is still open or watched")
	}
	if _, err := reopen(ctx, s, c.RedemptionID, "reorg"); err == nil {
		t.Fatal("a dropped redemption was re-opened")
	}
	checkAmounts(t, ctx, s, "dropped")
}

// TestLastRedemptionGas: the gas of the newest successful confirmed
// redemption; reverted, unconfirmed and dropped ones do not count.
func TestLastRedemptionGas(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	q := s.Q()
	if gas, ok, err := s.LastRedemptionGas(ctx); err != nil || ok || gas != 0 {
		t.Fatalf("no redemption yet: %d %v %v", gas, ok, err)
	}
	redeem := func(n int, gas uint64, status uint64, final store.RedemptionStatus) {
		t.Helper()
		id := insertTicket(t, ctx, s, numbered(n, addr(0xa1), 1))
		tx := fakeAttempt(byte(n), 1)
		c, _ := claimTickets(t, ctx, s, addr(0xcc), 0, uint64(n), tx, id)
		if final == store.RedemptionPending {
			return
		}
		outcome := store.TicketOutcome{TicketID: id, Status: store.StatusQueued, Reason: "not redeemed", RetryAt: time.Now()}
		if final == store.RedemptionConfirmed {
			if err := q.MarkMined(ctx, c.RedemptionID, store.Mined{TxHash: tx.TxHash, Block: uint64(n), BlockHash: [32]byte{byte(n)},
				ReceiptStatus: status, GasUsed: gas, EffectiveGasPrice: big.NewInt(1)}); err != nil {
				t.Fatal(err)
			}
			if status == 1 {
				outcome = store.TicketOutcome{TicketID: id, Status: store.StatusRedeemed, Reason: "redeemed"}
			}
		}
		settle(t, ctx, s, store.Settlement{RedemptionID: c.RedemptionID, Status: final, FinalBlock: uint64(n) + 1,
			Outcome: "test", Tickets: []store.TicketOutcome{outcome}})
	}
	redeem(1, 250_000, 1, store.RedemptionConfirmed)
	redeem(2, 90_000, 0, store.RedemptionConfirmed) // reverted: cheaper than a real one
	redeem(3, 0, 0, store.RedemptionDropped)
	redeem(4, 0, 0, store.RedemptionPending)
	if gas, ok, err := s.LastRedemptionGas(ctx); err != nil || !ok || gas != 250_000 {
		t.Fatalf("last gas %d %v %v, want 250000 from the only successful one", gas, ok, err)
	}
	redeem(5, 180_000, 1, store.RedemptionConfirmed)
	if gas, ok, err := s.LastRedemptionGas(ctx); err != nil || !ok || gas != 180_000 {
		t.Fatalf("last gas %d %v %v, want the newest, 180000", gas, ok, err)
	}
}
