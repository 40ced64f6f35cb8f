package store_test

import (
	"context"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"redeemer/store"
	"redeemer/store/storetest"
)

// auditFixture is a database with a ticket in every status, two redemptions
// (one confirmed after a re-priced attempt, one in flight) and the events
// the store methods wrote on the way.
type auditFixture struct {
	s                  *store.Store
	senderA, senderB   [20]byte
	account            [20]byte
	queued, redeemed   store.NewTicket
	failed, redeeming  store.NewTicket
	expired            store.NewTicket
	ids                map[store.TicketStatus]int64
	r1, r2             int64    // confirmed, pending
	r1first, r1second  [32]byte // attempt hashes of r1
	r1GasUsed, r1Price int64
}

func eth(n int64) *big.Int {
	return new(big.Int).Mul(big.NewInt(n), big.NewInt(1_000_000_000_000_000_000))
}

func fakeAttempt(b byte, gwei int64) store.AttemptTx {
	var a store.AttemptTx
	for i := range a.TxHash {
		a.TxHash[i] = b
	}
	a.Raw = []byte{0x02, 0xf8, b, 0x01, 0x02}
	a.GasLimit = 300_000
	a.FeeCap = new(big.Int).Mul(big.NewInt(gwei), big.NewInt(1_000_000_000))
	a.TipCap = big.NewInt(1_000_000_000)
	return a
}

func newAuditFixture(t *testing.T, ctx context.Context) *auditFixture {
	t.Helper()
	f := &auditFixture{s: storetest.NewStore(t), ids: map[store.TicketStatus]int64{}}
	for i := range f.senderA {
		f.senderA[i], f.senderB[i], f.account[i] = 0xaa, 0xbb, 0xcc
	}
	mk := func(seed byte, sender [20]byte, faceEth int64) store.NewTicket {
		tk := sampleTicket(seed)
		tk.Sender, tk.FaceValue = sender, eth(faceEth)
		if _, err := f.s.InsertTicket(ctx, tk); err != nil {
			t.Fatal(err)
		}
		return tk
	}
	id := func(tk store.NewTicket) int64 {
		got, err := f.s.TicketByHash(ctx, tk.TicketHash)
		if err != nil {
			t.Fatal(err)
		}
		return got.ID
	}
	f.queued = mk(10, f.senderA, 1)
	f.redeemed = mk(20, f.senderA, 2)
	f.failed = mk(30, f.senderB, 3)
	f.redeeming = mk(40, f.senderB, 4)
	f.expired = mk(50, f.senderA, 5)
	for status, tk := range map[store.TicketStatus]store.NewTicket{
		store.StatusQueued: f.queued, store.StatusRedeemed: f.redeemed, store.StatusFailed: f.failed,
		store.StatusRedeeming: f.redeeming, store.StatusExpired: f.expired,
	} {
		f.ids[status] = id(tk)
	}

	f.r1first, f.r1second = fakeAttempt(0xe1, 2).TxHash, fakeAttempt(0xe2, 3).TxHash
	c1, _ := claimTickets(t, ctx, f.s, f.account, 7, 100, fakeAttempt(0xe1, 2),
		f.ids[store.StatusRedeemed], f.ids[store.StatusFailed])
	f.r1 = c1.RedemptionID
	q := f.s.Q()
	if _, err := q.AddAttempt(ctx, f.r1, fakeAttempt(0xe2, 3), 120, 0); err != nil {
		t.Fatal(err)
	}
	f.r1GasUsed, f.r1Price = 150_000, 2_500_000_000
	if err := q.MarkMined(ctx, f.r1, store.Mined{TxHash: f.r1second, Block: 121, BlockHash: [32]byte{1},
		ReceiptStatus: 1, GasUsed: uint64(f.r1GasUsed), EffectiveGasPrice: big.NewInt(f.r1Price)}); err != nil {
		t.Fatal(err)
	}
	settle(t, ctx, f.s, store.Settlement{RedemptionID: f.r1, Status: store.RedemptionConfirmed,
		FinalBlock: 124, Outcome: "mined in block 121", Tickets: []store.TicketOutcome{
			{TicketID: f.ids[store.StatusRedeemed], Status: store.StatusRedeemed, Reason: "redeemed in tx"},
			{TicketID: f.ids[store.StatusFailed], Status: store.StatusFailed, Reason: "used by another transaction"},
		}})
	c2, _ := claimTickets(t, ctx, f.s, f.account, 0, 130, fakeAttempt(0xe3, 2), f.ids[store.StatusRedeeming])
	f.r2 = c2.RedemptionID
	ended, err := q.EndQueuedTickets(ctx, []store.Ending{{TicketID: f.ids[store.StatusExpired],
		Status: store.StatusExpired, Reason: "validity period passed"}})
	if err != nil || len(ended) != 1 {
		t.Fatalf("end the expired ticket: %v, %v", ended, err)
	}
	return f
}

func hexOf(b []byte) string { return "0x" + hex.EncodeToString(b) }

func TestListTickets(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	f := newAuditFixture(t, ctx)

	all, err := f.s.ListTickets(ctx, store.TicketFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 {
		t.Fatalf("%d tickets, want 5", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].ID <= all[i].ID {
			t.Fatalf("not newest first: ids %d then %d", all[i-1].ID, all[i].ID)
		}
	}
	byID := map[int64]store.TicketRow{}
	for _, r := range all {
		byID[r.ID] = r
	}
	for status, id := range f.ids {
		if got := byID[id].Status; got != string(status) {
			t.Errorf("ticket %d status %q, want %q", id, got, status)
		}
	}

	r := byID[f.ids[store.StatusRedeemed]]
	if r.TicketHash != hexOf(f.redeemed.TicketHash[:]) || r.Sender != hexOf(f.senderA[:]) ||
		r.Recipient != hexOf(f.redeemed.Recipient[:]) || r.Sig != hexOf(f.redeemed.Sig) {
		t.Errorf("hex columns: %+v", r)
	}
	if r.FaceValueWei != "2000000000000000000" || r.FaceValueEth != "2.000000000000000000" {
		t.Errorf("face value %s wei / %s eth, want 2 ETH", r.FaceValueWei, r.FaceValueEth)
	}
	if r.WinProb != f.redeemed.WinProb.String() {
		t.Errorf("win prob %s, want %s", r.WinProb, f.redeemed.WinProb)
	}
	// A claim counts no attempt; only a refusal that belongs to the ticket
	// does, and this one was redeemed.
	if r.RedemptionID == nil || *r.RedemptionID != f.r1 || r.Attempts != 0 || r.LastError != nil {
		t.Errorf("redeemed row: redemption %v attempts %d last error %v", r.RedemptionID, r.Attempts, r.LastError)
	}
	if q := byID[f.ids[store.StatusQueued]]; q.RedemptionID != nil || q.NextAttemptAt != nil {
		t.Errorf("queued row has redemption %v, next attempt %v", q.RedemptionID, q.NextAttemptAt)
	}
	if e := byID[f.ids[store.StatusExpired]]; e.LastError == nil || *e.LastError != "validity period passed" {
		t.Errorf("expired row last error %v", e.LastError)
	}

	for status, id := range f.ids {
		rows, err := f.s.ListTickets(ctx, store.TicketFilter{Status: string(status)})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].ID != id {
			t.Errorf("status %s: %d rows, want ticket %d", status, len(rows), id)
		}
	}
	rows, err := f.s.ListTickets(ctx, store.TicketFilter{Sender: &f.senderB})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].ID != f.ids[store.StatusRedeeming] || rows[1].ID != f.ids[store.StatusFailed] {
		t.Errorf("sender B: %+v", rows)
	}
	rows, err = f.s.ListTickets(ctx, store.TicketFilter{Sender: &f.senderA, Status: string(store.StatusQueued)})
	if err != nil || len(rows) != 1 || rows[0].ID != f.ids[store.StatusQueued] {
		t.Errorf("sender A queued: %d rows, %v", len(rows), err)
	}
	rows, err = f.s.ListTickets(ctx, store.TicketFilter{Limit: 2})
	if err != nil || len(rows) != 2 || rows[0].ID != all[0].ID || rows[1].ID != all[1].ID {
		t.Errorf("limit 2: %d rows, %v", len(rows), err)
	}

	// Move one ticket three days back to test the time window.
	if _, err := f.s.Pool().Exec(ctx, `UPDATE tickets SET received_at = now() - interval '3 days' WHERE id = $1`,
		f.ids[store.StatusQueued]); err != nil {
		t.Fatal(err)
	}
	dayAgo := time.Now().Add(-24 * time.Hour)
	rows, err = f.s.ListTickets(ctx, store.TicketFilter{Since: &dayAgo})
	if err != nil || len(rows) != 4 {
		t.Errorf("since a day ago: %d rows, %v", len(rows), err)
	}
	for _, r := range rows {
		if r.ID == f.ids[store.StatusQueued] {
			t.Errorf("since a day ago includes the 3-day-old ticket")
		}
	}
	rows, err = f.s.ListTickets(ctx, store.TicketFilter{Until: &dayAgo})
	if err != nil || len(rows) != 1 || rows[0].ID != f.ids[store.StatusQueued] {
		t.Errorf("until a day ago: %d rows, %v", len(rows), err)
	}
	weekAgo := time.Now().Add(-7 * 24 * time.Hour)
	rows, err = f.s.ListTickets(ctx, store.TicketFilter{Since: &weekAgo, Until: &dayAgo})
	if err != nil || len(rows) != 1 {
		t.Errorf("between a week and a day ago: %d rows, %v", len(rows), err)
	}

	for _, bad := range []store.TicketFilter{
		{Status: "lost"},
		{Limit: -1},
		{Since: &dayAgo, Until: &weekAgo},
	} {
		if _, err := f.s.ListTickets(ctx, bad); err == nil {
			t.Errorf("filter %+v: no error", bad)
		}
	}
}

func TestTicketDetail(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	f := newAuditFixture(t, ctx)

	failedHash := hex.EncodeToString(f.failed.TicketHash[:])
	for _, ref := range []string{"0x" + failedHash, strings.ToUpper(failedHash), " 0X" + failedHash + " "} {
		d, err := f.s.TicketDetail(ctx, ref)
		if err != nil {
			t.Fatalf("%q: %v", ref, err)
		}
		if d.Ticket.ID != f.ids[store.StatusFailed] {
			t.Errorf("%q: ticket %d, want %d", ref, d.Ticket.ID, f.ids[store.StatusFailed])
		}
	}
	d, err := f.s.TicketDetail(ctx, "0x"+failedHash)
	if err != nil {
		t.Fatal(err)
	}
	if d.Ticket.Status != string(store.StatusFailed) || d.Ticket.LastError == nil || *d.Ticket.LastError != "used by another transaction" {
		t.Errorf("ticket: %+v", d.Ticket)
	}
	if len(d.Events) != 2 ||
		d.Events[0].FromStatus != "queued" || d.Events[0].ToStatus != "redeeming" ||
		d.Events[1].FromStatus != "redeeming" || d.Events[1].ToStatus != "failed" ||
		d.Events[1].Reason == nil || *d.Events[1].Reason != "used by another transaction" ||
		d.Events[1].RedemptionID == nil || *d.Events[1].RedemptionID != f.r1 {
		t.Errorf("events: %+v", d.Events)
	}
	r := d.Redemption
	if r == nil {
		t.Fatal("no redemption")
	}
	wantFee := new(big.Int).Mul(big.NewInt(f.r1GasUsed), big.NewInt(f.r1Price)).String()
	if r.ID != f.r1 || r.Status != string(store.RedemptionConfirmed) || r.Nonce != 7 || r.TicketCount != 2 ||
		r.Attempts != 2 || r.Account != hexOf(f.account[:]) ||
		r.LastTxHash == nil || *r.LastTxHash != hexOf(f.r1second[:]) ||
		r.MinedTxHash == nil || *r.MinedTxHash != hexOf(f.r1second[:]) ||
		r.MinedBlock == nil || *r.MinedBlock != 121 || r.ReceiptStatus == nil || *r.ReceiptStatus != 1 ||
		r.LastMaxFeePerGas == nil || *r.LastMaxFeePerGas != "3000000000" ||
		r.FeePaidWei == nil || *r.FeePaidWei != wantFee ||
		r.FinalBlock == nil || *r.FinalBlock != 124 || r.Outcome == nil || *r.Outcome != "mined in block 121" {
		t.Errorf("redemption: %+v", r)
	}

	d, err = f.s.TicketDetail(ctx, "  "+itoa(f.ids[store.StatusQueued]))
	if err != nil {
		t.Fatal(err)
	}
	if d.Ticket.Status != string(store.StatusQueued) || d.Redemption != nil || d.Events == nil || len(d.Events) != 0 {
		t.Errorf("queued ticket detail: %+v", d)
	}

	for _, missing := range []string{"999999", "0x" + strings.Repeat("ab", 32)} {
		if _, err := f.s.TicketDetail(ctx, missing); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%q: err = %v, want ErrNotFound", missing, err)
		}
	}
	for _, bad := range []string{"", "0", "-3", "abc", "0x1234", "0x" + strings.Repeat("zz", 32), "1.5"} {
		_, err := f.s.TicketDetail(ctx, bad)
		if err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%q: err = %v, want a bad-reference error", bad, err)
		}
	}
}

func itoa(n int64) string { return big.NewInt(n).String() }

func TestSenderSummariesRedemptionsAttempts(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	f := newAuditFixture(t, ctx)

	sums, err := f.s.SenderSummaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.SenderSummary{
		{Sender: hexOf(f.senderA[:]), Queued: 1, QueuedWei: eth(1).String(), InLimboWei: "0",
			Redeemed: 1, RedeemedWei: eth(2).String(), FailedWei: "0", Expired: 1, ExpiredWei: eth(5).String()},
		{Sender: hexOf(f.senderB[:]), QueuedWei: "0", InLimbo: 1, InLimboWei: eth(4).String(),
			RedeemedWei: "0", Failed: 1, FailedWei: eth(3).String(), ExpiredWei: "0"},
	}
	if len(sums) != len(want) {
		t.Fatalf("%d senders, want %d: %+v", len(sums), len(want), sums)
	}
	for i := range want {
		if sums[i] != want[i] {
			t.Errorf("sender %d:\n got %+v\nwant %+v", i, sums[i], want[i])
		}
	}

	rs, err := f.s.Redemptions(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].ID != f.r2 || rs[1].ID != f.r1 {
		t.Fatalf("redemptions: %+v", rs)
	}
	if p := rs[0]; p.Status != string(store.RedemptionPending) || p.Nonce != 8 || p.Attempts != 1 ||
		p.MinedTxHash != nil || p.FeePaidWei != nil || p.Outcome != nil {
		t.Errorf("pending redemption: %+v", p)
	}
	if rs, err := f.s.Redemptions(ctx, 1); err != nil || len(rs) != 1 || rs[0].ID != f.r2 {
		t.Errorf("limit 1: %+v, %v", rs, err)
	}
	if _, err := f.s.Redemptions(ctx, -1); err == nil {
		t.Error("negative limit: no error")
	}

	as, err := f.s.Attempts(ctx, f.r1)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || as[0].TxHash != hexOf(f.r1first[:]) || as[1].TxHash != hexOf(f.r1second[:]) {
		t.Fatalf("attempts: %+v", as)
	}
	a := as[0]
	if a.RedemptionID != f.r1 || a.RawTx != "0x02f8e10102" || a.GasLimit != 300_000 ||
		a.MaxFeePerGas != "2000000000" || a.MaxPriorityFeePerGas != "1000000000" ||
		a.CreatedBlock != 100 || a.SentAt != nil || a.SendCount != 0 || a.SendError != nil {
		t.Errorf("first attempt: %+v", a)
	}
	if as[1].CreatedBlock != 120 {
		t.Errorf("second attempt created at block %d, want 120", as[1].CreatedBlock)
	}
	if _, err := f.s.Attempts(ctx, 424242); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown redemption: err = %v, want ErrNotFound", err)
	}
}

func TestRetryTicket(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	f := newAuditFixture(t, ctx)

	events := func(id int64) []store.TicketEvent {
		t.Helper()
		d, err := f.s.TicketDetail(ctx, itoa(id))
		if err != nil {
			t.Fatal(err)
		}
		return d.Events
	}
	for _, status := range []store.TicketStatus{store.StatusQueued, store.StatusRedeeming, store.StatusRedeemed, store.StatusExpired} {
		id := f.ids[status]
		before := events(id)
		err := f.s.RetryTicket(ctx, id, "try again")
		if !errors.Is(err, store.ErrNotRetryable) || !strings.Contains(err.Error(), string(status)) {
			t.Errorf("retry %s ticket: err = %v, want ErrNotRetryable naming the status", status, err)
		}
		if after := events(id); len(after) != len(before) {
			t.Errorf("refused retry of %s ticket wrote an event", status)
		}
	}
	if err := f.s.RetryTicket(ctx, 999999, "try again"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("retry missing ticket: err = %v, want ErrNotFound", err)
	}

	id := f.ids[store.StatusFailed]
	if err := f.s.RetryTicket(ctx, id, "  "); err == nil {
		t.Error("retry without a reason: no error")
	}
	if len(events(id)) != 2 {
		t.Fatal("retry without a reason wrote an event")
	}
	if err := f.s.RetryTicket(ctx, id, "sender topped up"); err != nil {
		t.Fatal(err)
	}
	d, err := f.s.TicketDetail(ctx, itoa(id))
	if err != nil {
		t.Fatal(err)
	}
	if d.Ticket.Status != string(store.StatusQueued) || d.Ticket.Attempts != 0 || d.Ticket.LastError != nil ||
		d.Ticket.NextAttemptAt != nil {
		t.Errorf("retried ticket: %+v", d.Ticket)
	}
	if len(d.Events) != 3 {
		t.Fatalf("%d events, want 3", len(d.Events))
	}
	e := d.Events[2]
	if e.FromStatus != "failed" || e.ToStatus != "queued" || e.Reason == nil ||
		*e.Reason != "operator retry: sender topped up (last error: used by another transaction)" {
		t.Errorf("retry event: %+v (reason %v)", e, deref(e.Reason))
	}
	// The worker may claim it now; a second retry is refused as it is queued.
	if err := f.s.RetryTicket(ctx, id, "again"); !errors.Is(err, store.ErrNotRetryable) {
		t.Errorf("second retry: err = %v, want ErrNotRetryable", err)
	}
	due, err := f.s.Q().DueTickets(ctx, store.DueParams{L1: uint64(f.failed.ParamsExpirationBlock), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tk := range due.Tickets {
		found = found || tk.ID == id
	}
	if !found {
		t.Error("retried ticket is not due for the worker")
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
