package store_test

import (
	"context"
	"math/big"
	"slices"
	"testing"
	"time"

	"redeemer/store"
	"redeemer/store/storetest"
)

func countRows(t *testing.T, ctx context.Context, s *store.Store, table string) int64 {
	t.Helper()
	var n int64
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func exec(t *testing.T, ctx context.Context, s *store.Store, sql string, args ...any) {
	t.Helper()
	if _, err := s.Pool().Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestPrune: one call deletes at most Limit rows per table of what is past
// retention: events of final tickets, attempts of dropped or finalized
// redemptions, senders nobody wants that have no open tickets, and
// redeemed tickets of old rounds. Rows inside retention stay, and tickets
// and redemptions are never deleted.
func TestPrune(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	q := s.Q()
	a := addr(0xa1)
	account := addr(0xcc)
	var ids []int64
	for i := range 7 {
		ids = append(ids, insertTicket(t, ctx, s, numbered(i+1, a, 10)))
	}
	minedAt := func(id int64, tx store.AttemptTx, block uint64) {
		t.Helper()
		if err := q.MarkMined(ctx, id, store.Mined{TxHash: tx.TxHash, Block: block, BlockHash: [32]byte{byte(block)},
			ReceiptStatus: 1, GasUsed: 1, EffectiveGasPrice: big.NewInt(1)}); err != nil {
			t.Fatal(err)
		}
	}
	// r1: confirmed and finalized; tickets 0-2 redeemed, 3 failed, 4 queued
	// again.
	r1, _ := claimTickets(t, ctx, s, account, 0, 1, fakeAttempt(1, 1), ids[:5]...)
	minedAt(r1.RedemptionID, fakeAttempt(1, 1), 2)
	settle(t, ctx, s, store.Settlement{RedemptionID: r1.RedemptionID, Status: store.RedemptionConfirmed, FinalBlock: 3,
		Outcome: "mined", Tickets: []store.TicketOutcome{
			{TicketID: ids[0], Status: store.StatusRedeemed, Reason: "redeemed"},
			{TicketID: ids[1], Status: store.StatusRedeemed, Reason: "redeemed"},
			{TicketID: ids[2], Status: store.StatusRedeemed, Reason: "redeemed"},
			{TicketID: ids[3], Status: store.StatusFailed, Reason: "ticket is used"},
			{TicketID: ids[4], Status: store.StatusQueued, Reason: "did not win", RetryAt: time.Now()},
		}})
	if err := q.MarkFinalized(ctx, r1.RedemptionID, 5); err != nil {
		t.Fatal(err)
	}
	// r2: ticket 4 again, pending.
	r2, _ := claimTickets(t, ctx, s, account, 0, 6, fakeAttempt(2, 1), ids[4])
	// r3: ticket 5, dropped, then expired.
	r3, _ := claimTickets(t, ctx, s, account, 0, 7, fakeAttempt(3, 1), ids[5])
	settle(t, ctx, s, store.Settlement{RedemptionID: r3.RedemptionID, Status: store.RedemptionDropped, FinalBlock: 8,
		Outcome: "dropped", Tickets: []store.TicketOutcome{{TicketID: ids[5], Status: store.StatusQueued, Reason: "dropped", RetryAt: time.Now()}}})
	if _, err := q.EndQueuedTickets(ctx, []store.Ending{{TicketID: ids[5], Status: store.StatusExpired, Reason: "validity over"}}); err != nil {
		t.Fatal(err)
	}
	// r4: ticket 6, confirmed, not finalized yet: a reorg may still re-open
	// it, so its attempt stays.
	r4, _ := claimTickets(t, ctx, s, account, 0, 9, fakeAttempt(4, 1), ids[6])
	minedAt(r4.RedemptionID, fakeAttempt(4, 1), 10)
	settle(t, ctx, s, store.Settlement{RedemptionID: r4.RedemptionID, Status: store.RedemptionConfirmed, FinalBlock: 11,
		Outcome: "mined", Tickets: []store.TicketOutcome{{TicketID: ids[6], Status: store.StatusRedeemed, Reason: "redeemed"}}})

	// Everything is ten days old except ticket 0's events.
	exec(t, ctx, s, `UPDATE ticket_events SET at = now() - interval '10 days' WHERE ticket_id <> $1`, ids[0])
	exec(t, ctx, s, `UPDATE tx_attempts SET created_at = now() - interval '10 days'`)

	old, open, recent := addr(0x01), a, addr(0x03)
	if _, err := s.SaveChainState(ctx, store.ChainState{Senders: []store.SenderState{
		senderState(old, 1, 1), senderState(open, 1, 1), senderState(recent, 1, 1)}}); err != nil {
		t.Fatal(err)
	}
	exec(t, ctx, s, `UPDATE senders SET wanted_at = now() - interval '2 days' WHERE sender = ANY($1)`, [][]byte{old[:], open[:]})
	if _, err := q.RecordRedeemed(ctx, []store.RedeemedTicket{
		{TicketHash: [32]byte{1}, Sender: old, Round: 1, Block: 1, BlockHash: [32]byte{1}, TxHash: [32]byte{1}},
		{TicketHash: [32]byte{2}, Sender: old, Round: 2, Block: 2, BlockHash: [32]byte{2}, TxHash: [32]byte{2}},
		{TicketHash: [32]byte{3}, Sender: old, Round: 3, Block: 3, BlockHash: [32]byte{3}, TxHash: [32]byte{3}},
	}); err != nil {
		t.Fatal(err)
	}

	events, attempts := countRows(t, ctx, s, "ticket_events"), countRows(t, ctx, s, "tx_attempts")
	tickets, redemptions := countRows(t, ctx, s, "tickets"), countRows(t, ctx, s, "redemptions")
	r := store.Retention{Before: time.Now().Add(-7 * 24 * time.Hour), SendersBefore: time.Now().Add(-24 * time.Hour),
		RedeemedBeforeRound: 3, Limit: 4}
	// Old events of final tickets: 1 and 2 (claim, settle), 3 (claim,
	// settle), 5 (claim, settle, expire), 6 (claim, settle) = 11.
	// Attempts of r1 and r3. One sender. Rounds 1 and 2.
	want := []store.Pruned{
		{Events: 4, Attempts: 2, Senders: 1, Redeemed: 2},
		{Events: 4},
		{Events: 3},
		{},
	}
	var total store.Pruned
	for i, w := range want {
		var p store.Pruned
		err := s.InTx(ctx, func(q store.Q) (err error) { p, err = q.Prune(ctx, r); return err })
		if err != nil {
			t.Fatal(err)
		}
		if p != w {
			t.Fatalf("call %d pruned %+v, want %+v", i, p, w)
		}
		total.Events += p.Events
		total.Attempts += p.Attempts
		if p.Total() != p.Events+p.Attempts+p.Senders+p.Redeemed {
			t.Fatalf("Total %d of %+v", p.Total(), p)
		}
	}
	if got := countRows(t, ctx, s, "ticket_events"); got != events-11 {
		t.Fatalf("%d events left of %d, want 11 deleted", got, events)
	}
	if got := countRows(t, ctx, s, "tx_attempts"); got != attempts-2 {
		t.Fatalf("%d attempts left of %d, want 2 deleted", got, attempts)
	}
	if countRows(t, ctx, s, "tickets") != tickets || countRows(t, ctx, s, "redemptions") != redemptions {
		t.Fatal("tickets or redemptions were deleted")
	}
	// What stays: ticket 0's recent events, the open ticket's events, the
	// pending and the unfinalized redemptions' attempts.
	for _, id := range []int64{ids[0], ids[4]} {
		if len(eventsOf(t, ctx, s, id)) == 0 {
			t.Errorf("events of ticket %d were pruned", id)
		}
	}
	for _, id := range []int64{ids[1], ids[5], ids[6]} {
		if n := len(eventsOf(t, ctx, s, id)); n != 0 {
			t.Errorf("ticket %d keeps %d events past retention", id, n)
		}
	}
	var kept []int64
	rows, err := s.Pool().Query(ctx, `SELECT DISTINCT redemption_id FROM tx_attempts ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		kept = append(kept, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []int64{r2.RedemptionID, r4.RedemptionID}; !slices.Equal(kept, want) {
		t.Fatalf("attempts kept for redemptions %v, want %v (pending and unfinalized)", kept, want)
	}
	tracked, err := q.TrackedSenders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sortAddrs(tracked)
	if want := [][20]byte{recent, open}; !slices.Equal(tracked, sortedAddrs(want)) {
		t.Fatalf("senders after pruning %x, want the recent one and the one with open tickets", tracked)
	}
	var rounds []int64
	rows, err = s.Pool().Query(ctx, `SELECT round FROM redeemed_tickets ORDER BY round`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r int64
		if err := rows.Scan(&r); err != nil {
			t.Fatal(err)
		}
		rounds = append(rounds, r)
	}
	if !slices.Equal(rounds, []int64{3}) {
		t.Fatalf("redeemed rounds left %v, want [3]", rounds)
	}
}

func sortedAddrs(a [][20]byte) [][20]byte {
	sortAddrs(a)
	return a
}

// TestRecordRedeemed: tickets the chain shows redeemed are recorded; a
// queued copy fails at once (someone else redeemed it); a ticket in one of
// the service's own redemptions is left to its settlement. Forgetting the
// rows above a block (a reorg) lets intake take such a ticket again.
func TestRecordRedeemed(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	q := s.Q()
	a := addr(0xa1)
	queued, inFlight, unknown := numbered(1, a, 10), numbered(2, a, 20), numbered(3, a, 30)
	qid := insertTicket(t, ctx, s, queued)
	fid := insertTicket(t, ctx, s, inFlight)
	claimTickets(t, ctx, s, addr(0xcc), 0, 1, fakeAttempt(1, 1), fid)
	n := listenFloats(t, ctx, s)

	rec := func(tk store.NewTicket, block uint64) store.RedeemedTicket {
		return store.RedeemedTicket{TicketHash: tk.TicketHash, Sender: tk.Sender, Round: 7, Block: block,
			BlockHash: [32]byte{byte(block)}, TxHash: [32]byte{0xee, byte(block)}}
	}
	failed, err := q.RecordRedeemed(ctx, []store.RedeemedTicket{rec(queued, 100), rec(inFlight, 100), rec(unknown, 101)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(failed, []int64{qid}) {
		t.Fatalf("failed %v, want the queued copy %d", failed, qid)
	}
	tk := ticketByID(t, ctx, s, qid)
	if tk.Status != store.StatusFailed || tk.LastError == "" {
		t.Fatalf("queued copy: %s %q", tk.Status, tk.LastError)
	}
	if tk := ticketByID(t, ctx, s, fid); tk.Status != store.StatusRedeeming {
		t.Fatalf("ticket in flight became %s", tk.Status)
	}
	checkAmounts(t, ctx, s, "recorded")
	// Only the queued amount moved: no float changed.
	if got := n.drain(); len(got) != 0 {
		t.Fatalf("announced %q for a queued ticket failing", got)
	}
	if got := countRows(t, ctx, s, "redeemed_tickets"); got != 3 {
		t.Fatalf("%d redeemed rows, want 3", got)
	}
	// Recording the same log again (a replay) changes nothing.
	if failed, err := q.RecordRedeemed(ctx, []store.RedeemedTicket{rec(queued, 100)}); err != nil || len(failed) != 0 {
		t.Fatalf("replay: %v, %v", failed, err)
	}
	// The same ticket seen in another block (after a reorg) moves there.
	if _, err := q.RecordRedeemed(ctx, []store.RedeemedTicket{rec(unknown, 105)}); err != nil {
		t.Fatal(err)
	}

	out, err := s.AdmitTickets(ctx, []store.Admit{{Ticket: unknown}})
	if err != nil || !out[0].Used || out[0].Stored {
		t.Fatalf("intake of a redeemed ticket: %+v, %v; want used", out, err)
	}
	gone, err := q.ForgetRedeemedAbove(ctx, 100)
	if err != nil || gone != 1 {
		t.Fatalf("forgot %d rows (%v), want the one at block 105", gone, err)
	}
	if got := countRows(t, ctx, s, "redeemed_tickets"); got != 2 {
		t.Fatalf("%d redeemed rows left, want 2", got)
	}
	out, err = s.AdmitTickets(ctx, []store.Admit{{Ticket: unknown}})
	if err != nil || !out[0].Inserted {
		t.Fatalf("intake after the reorg removed the log: %+v, %v; want stored", out, err)
	}
	if gone, err := q.ForgetRedeemedAbove(ctx, 1<<63); err == nil {
		t.Fatalf("a block beyond bigint was accepted (%d rows)", gone)
	}
}

// TestStageCursorsAndRoundHashes: a stage's cursor and the rounds' block
// hashes read back as written; a later write replaces them.
func TestStageCursorsAndRoundHashes(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	q := s.Q()
	if c, err := q.StageCursor(ctx, "senders"); err != nil || c != nil {
		t.Fatalf("cursor before any write: %+v, %v", c, err)
	}
	want := store.Cursor{Number: 1000, Hash: [32]byte{1, 2, 3}, L1Number: 250}
	if err := q.SetStageCursor(ctx, "senders", want, 4); err != nil {
		t.Fatal(err)
	}
	if c, err := q.StageCursor(ctx, "senders"); err != nil || c == nil || *c != want {
		t.Fatalf("cursor %+v, %v; want %+v", c, err, want)
	}
	if c, err := q.StageCursor(ctx, "other"); err != nil || c != nil {
		t.Fatalf("another stage's cursor: %+v, %v", c, err)
	}
	back := store.Cursor{Number: 990, Hash: [32]byte{9}, L1Number: 248}
	if err := q.SetStageCursor(ctx, "senders", back, 5); err != nil {
		t.Fatal(err)
	}
	if c, err := q.StageCursor(ctx, "senders"); err != nil || *c != back {
		t.Fatalf("cursor after a rewind: %+v, %v", c, err)
	}
	if err := q.SetStageCursor(ctx, "senders", store.Cursor{Number: 1 << 63}, 5); err == nil {
		t.Fatal("a block beyond bigint was accepted")
	}

	if _, ok, err := q.RoundHash(ctx, 5); err != nil || ok {
		t.Fatalf("round hash before any write: %v, %v", ok, err)
	}
	if err := q.SaveRoundHashes(ctx, map[int64][32]byte{5: {5}, 6: {6}}); err != nil {
		t.Fatal(err)
	}
	if h, ok, err := q.RoundHash(ctx, 6); err != nil || !ok || h != ([32]byte{6}) {
		t.Fatalf("round 6: %x %v %v", h, ok, err)
	}
	if err := q.SaveRoundHashes(ctx, map[int64][32]byte{5: {0x55}}); err != nil {
		t.Fatal(err)
	}
	if h, ok, err := q.RoundHash(ctx, 5); err != nil || !ok || h != ([32]byte{0x55}) {
		t.Fatalf("round 5 after a reorg: %x %v %v", h, ok, err)
	}
	if _, ok, err := q.RoundHash(ctx, 7); err != nil || ok {
		t.Fatalf("round 7: %v %v", ok, err)
	}
	if err := q.SaveRoundHashes(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

// TestSenderWorkLists: the lists the senders and reread stages work
// through, and the marks that keep a sender tracked.
func TestSenderWorkLists(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	q := s.Q()
	s10, s20, s30 := addr(0x10), addr(0x20), addr(0x30)
	if _, err := s.SaveChainState(ctx, store.ChainState{Senders: []store.SenderState{
		senderState(s10, 10, 1), senderState(s20, 20, 1), senderState(s30, 30, 1)}}); err != nil {
		t.Fatal(err)
	}
	after, err := q.SendersReadAfter(ctx, 15, 10)
	if err != nil || !slices.Equal(after, [][20]byte{s30, s20}) {
		t.Fatalf("read after 15: %x, %v; want 30 then 20", after, err)
	}
	if after, err = q.SendersReadAfter(ctx, 15, 1); err != nil || !slices.Equal(after, [][20]byte{s30}) {
		t.Fatalf("read after 15, limit 1: %x, %v", after, err)
	}
	before, err := q.SendersReadBefore(ctx, 25, 10)
	if err != nil || !slices.Equal(before, [][20]byte{s10, s20}) {
		t.Fatalf("read before 25: %x, %v; want 10 then 20", before, err)
	}
	if before, err = q.SendersReadBefore(ctx, 10, 10); err != nil || len(before) != 0 {
		t.Fatalf("read before 10: %x, %v; want none", before, err)
	}

	// Senders with open tickets and no stored state.
	unread, closed := addr(0x40), addr(0x50)
	insertTicket(t, ctx, s, numbered(1, unread, 1))
	insertTicket(t, ctx, s, numbered(2, s10, 1))
	cid := insertTicket(t, ctx, s, numbered(3, closed, 1))
	if _, err := q.EndQueuedTickets(ctx, []store.Ending{{TicketID: cid, Status: store.StatusFailed, Reason: "x"}}); err != nil {
		t.Fatal(err)
	}
	got, err := q.UnreadTicketSenders(ctx, 10)
	if err != nil || !slices.Equal(got, [][20]byte{unread}) {
		t.Fatalf("unread ticket senders %x, %v; want only the one with open tickets and no state", got, err)
	}

	// Touching keeps a sender wanted.
	exec(t, ctx, s, `UPDATE senders SET wanted_at = now() - interval '1 day'`)
	if err := s.TouchSenders(ctx, [][20]byte{s20, addr(0x99)}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Pool().Query(ctx, `SELECT sender FROM senders WHERE wanted_at > now() - interval '1 minute'`)
	if err != nil {
		t.Fatal(err)
	}
	var fresh [][20]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		fresh = append(fresh, [20]byte(b))
	}
	if !slices.Equal(fresh, [][20]byte{s20}) {
		t.Fatalf("recently wanted %x, want only the touched sender", fresh)
	}
	if err := s.TouchSenders(ctx, nil); err != nil {
		t.Fatal(err)
	}

	n := listenFloats(t, ctx, s)
	if err := q.NotifySenders(ctx, [][20]byte{s10, s30}); err != nil {
		t.Fatal(err)
	}
	if got, want := n.drain(), sorted(store.FloatPayload(s10), store.FloatPayload(s30)); !slices.Equal(got, want) {
		t.Fatalf("announced %q, want %q", got, want)
	}
}

// TestProtocolStateOptionalValues: the values added with the pipeline are
// nil until read; a save that did not read them keeps the stored ones,
// and a change to them is announced like any protocol change.
func TestProtocolStateOptionalValues(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	n := listenFloats(t, ctx, s)
	p := protocolState(10, 5)
	if _, err := s.SaveChainState(ctx, store.ChainState{Protocol: p}); err != nil {
		t.Fatal(err)
	}
	n.drain()
	got, err := s.StoredProtocolState(ctx)
	if err != nil || got.TicketValidityPeriod != nil || got.RoundLength != nil || got.RoundStartL1 != nil {
		t.Fatalf("optional values before any read: %+v, %v", got, err)
	}
	if _, ok := got.NextRoundL1(); ok {
		t.Fatal("NextRoundL1 known without round length and start")
	}
	if !got.RoundInitialized() {
		t.Fatal("round 7 of 7 not initialized")
	}

	p = protocolState(11, 5)
	p.TicketValidityPeriod, p.RoundLength, p.RoundStartL1 = big.NewInt(2), big.NewInt(5760), big.NewInt(1_000_000)
	res, err := s.SaveChainState(ctx, store.ChainState{Protocol: p})
	if err != nil || !res.ProtocolChanged {
		t.Fatalf("first read of the optional values: %+v, %v; want a change", res, err)
	}
	if got := n.drain(); !slices.Equal(got, []string{store.FloatAllSenders}) {
		t.Fatalf("announced %q, want every sender", got)
	}
	// A save that did not read them keeps them, and is no change.
	res, err = s.SaveChainState(ctx, store.ChainState{Protocol: protocolState(12, 5)})
	if err != nil || res.ProtocolChanged {
		t.Fatalf("save without the optional values: %+v, %v; want no change", res, err)
	}
	got, err = s.StoredProtocolState(ctx)
	if err != nil || got.TicketValidityPeriod.Int64() != 2 || got.RoundLength.Int64() != 5760 ||
		got.RoundStartL1.Int64() != 1_000_000 || got.Block != 12 {
		t.Fatalf("stored after a save without them: %+v, %v", got, err)
	}
	if next, ok := got.NextRoundL1(); !ok || next != 1_005_760 {
		t.Fatalf("next round at %d (%v), want 1005760", next, ok)
	}
	p = protocolState(13, 5)
	p.RoundStartL1 = big.NewInt(1_005_760)
	if res, err := s.SaveChainState(ctx, store.ChainState{Protocol: p}); err != nil || !res.ProtocolChanged {
		t.Fatalf("new round start: %+v, %v; want a change", res, err)
	}
	p = protocolState(14, 5)
	p.LastInitializedRound = big.NewInt(6)
	if _, err := s.SaveChainState(ctx, store.ChainState{Protocol: p}); err != nil {
		t.Fatal(err)
	}
	if got, err = s.StoredProtocolState(ctx); err != nil || got.RoundInitialized() {
		t.Fatalf("round 7 with last initialized 6 reported initialized (%v)", err)
	}
}
