package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"redeemer/store"
	"redeemer/store/storetest"
)

// insertBatch stores tickets in one statement and returns their ids in
// order.
func insertBatch(t *testing.T, ctx context.Context, s *store.Store, tickets []store.NewTicket) []int64 {
	t.Helper()
	if _, err := s.InsertTickets(ctx, tickets); err != nil {
		t.Fatal(err)
	}
	hashes := make([][]byte, len(tickets))
	for i := range tickets {
		hashes[i] = tickets[i].TicketHash[:]
	}
	rows, err := s.Pool().Query(ctx, `SELECT t.id FROM unnest($1::bytea[]) WITH ORDINALITY AS h(hash, ord)
		JOIN tickets t ON t.ticket_hash = h.hash ORDER BY h.ord`, hashes)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil || len(ids) != len(tickets) {
		t.Fatalf("%d of %d tickets stored (%v)", len(ids), len(tickets), err)
	}
	return ids
}

// due runs one claim pass's selection.
func due(t *testing.T, ctx context.Context, s *store.Store, p store.DueParams) store.DueSelection {
	t.Helper()
	sel, err := s.Q().DueTickets(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

func sendersOf(ts []store.Ticket) [][20]byte {
	var out [][20]byte
	for _, tk := range ts {
		out = append(out, tk.Sender)
	}
	return out
}

// TestDueTicketsFairness: a sender with a thousand tickets due first does
// not hold back senders with one ticket each: every sender's first ticket
// comes before any sender's second.
func TestDueTicketsFairness(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	a, b, c := addr(0x0a), addr(0x0b), addr(0x0c)
	batch := make([]store.NewTicket, 0, 1000)
	for i := range 1000 {
		tk := numbered(10_000+i, a, 1)
		tk.ParamsExpirationBlock = 100
		batch = append(batch, tk)
	}
	insertBatch(t, ctx, s, batch)
	bt, ct := numbered(1, b, 1), numbered(2, c, 1)
	bt.ParamsExpirationBlock, ct.ParamsExpirationBlock = 500, 600
	ids := insertBatch(t, ctx, s, []store.NewTicket{bt, ct})

	sel := due(t, ctx, s, store.DueParams{L1: 1000, Limit: 10})
	if len(sel.Tickets) != 10 {
		t.Fatalf("%d tickets, want 10", len(sel.Tickets))
	}
	got := sendersOf(sel.Tickets)
	if !slices.Equal(got[:3], [][20]byte{a, b, c}) {
		t.Fatalf("first senders %x, want a, b, c each once first", got[:3])
	}
	for i, tk := range sel.Tickets {
		if i >= 3 && tk.Sender != a {
			t.Fatalf("ticket %d from %x, want only a's after every sender's first", i, tk.Sender)
		}
	}
	for _, id := range ids {
		if !slices.ContainsFunc(sel.Tickets, func(tk store.Ticket) bool { return tk.ID == id }) {
			t.Errorf("ticket %d of a one-ticket sender not in the pass", id)
		}
	}
	// Within a sender: by due block, then arrival.
	for i := 4; i < len(sel.Tickets); i++ {
		if sel.Tickets[i].ID < sel.Tickets[i-1].ID {
			t.Fatalf("a's tickets out of arrival order: %d after %d", sel.Tickets[i].ID, sel.Tickets[i-1].ID)
		}
	}

	// Only due tickets: at L1 550, c's ticket (due at 600) waits.
	sel = due(t, ctx, s, store.DueParams{L1: 550, Limit: 10})
	if slices.Contains(sendersOf(sel.Tickets), c) || !slices.Contains(sendersOf(sel.Tickets), b) {
		t.Fatalf("at L1 550: senders %x, want a and b only", sendersOf(sel.Tickets))
	}
	if sel = due(t, ctx, s, store.DueParams{L1: 99, Limit: 10}); len(sel.Tickets) != 0 {
		t.Fatalf("at L1 99: %d tickets, want none due", len(sel.Tickets))
	}
	if sel = due(t, ctx, s, store.DueParams{L1: 1000, Limit: 0}); len(sel.Tickets) != 0 {
		t.Fatalf("limit 0: %d tickets", len(sel.Tickets))
	}
}

// TestDueTicketsRotation: the cursor each pass returns moves past the
// senders it served, so passes smaller than the number of senders serve
// every sender in turn, also when a pass may visit only a few senders.
func TestDueTicketsRotation(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	senders := [][20]byte{addr(0x11), addr(0x22), addr(0x33), addr(0x44), addr(0x55)}
	var batch []store.NewTicket
	for i, a := range senders {
		for j := range 3 {
			batch = append(batch, numbered(100*i+j+1, a, 1))
		}
	}
	// A sender whose only tickets are not due yet still takes a place in
	// a pass's walk.
	for j := range 3 {
		tk := numbered(900+j, addr(0x30), 1)
		tk.ParamsExpirationBlock = 1 << 40
		batch = append(batch, tk)
	}
	insertBatch(t, ctx, s, batch)

	for _, c := range []struct {
		name              string
		limit, maxSenders int
		passes            int
	}{
		{"limit below the senders", 2, 0, 3},
		{"few senders per walk", 10, 2, 3},
		{"one sender per walk", 10, 1, 6},
	} {
		t.Run(c.name, func(t *testing.T) {
			var cursor [20]byte
			served := map[[20]byte]int{}
			for pass := range 2 * c.passes {
				sel := due(t, ctx, s, store.DueParams{L1: 19_000_000, Limit: c.limit, After: cursor, MaxSenders: c.maxSenders})
				if len(sel.Tickets) == 0 && sel.Next == cursor {
					t.Fatalf("pass %d found nothing and left the cursor at %x", pass, cursor[:1])
				}
				for _, a := range sendersOf(sel.Tickets) {
					served[a]++
				}
				cursor = sel.Next
				if pass == c.passes-1 {
					for _, a := range senders {
						if served[a] == 0 {
							t.Fatalf("after %d passes sender %x was never served (served %v)", c.passes, a[:1], served)
						}
					}
				}
			}
			// Over many passes the turns are even: nobody gets more than
			// twice the tickets of another.
			lo, hi := 1<<30, 0
			for _, a := range senders {
				lo, hi = min(lo, served[a]), max(hi, served[a])
			}
			if hi > 2*lo+c.limit {
				t.Errorf("uneven service over %d passes: %v", 2*c.passes, served)
			}
		})
	}
}

// TestDueTicketsPostponed: a postponed ticket leaves the fresh walk and is
// found only once its retry time has come (and its due block passed);
// NextDue names the earliest due block and retry time.
func TestDueTicketsPostponed(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	q := s.Q()

	if block, ok, retry, err := q.NextDue(ctx); err != nil || ok || block != 0 || !retry.IsZero() {
		t.Fatalf("NextDue of an empty queue: %d %v %v %v", block, ok, retry, err)
	}
	a, b := addr(0xa1), addr(0xb1)
	t1, t2, t3 := numbered(1, a, 1), numbered(2, b, 1), numbered(3, b, 1)
	t1.ParamsExpirationBlock, t2.ParamsExpirationBlock, t3.ParamsExpirationBlock = 300, 200, 400
	ids := insertBatch(t, ctx, s, []store.NewTicket{t1, t2, t3})
	if block, ok, retry, err := q.NextDue(ctx); err != nil || !ok || block != 200 || !retry.IsZero() {
		t.Fatalf("NextDue: %d %v %v %v; want block 200, no retry", block, ok, retry, err)
	}

	later := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	if err := q.PostponeTickets(ctx, []store.Postponement{
		{TicketID: ids[1], RetryAt: later, Reason: "uneconomic"},
		{TicketID: ids[0], RetryAt: later.Add(time.Hour), Reason: "node unavailable"},
	}); err != nil {
		t.Fatal(err)
	}
	block, ok, retry, err := q.NextDue(ctx)
	if err != nil || !ok || block != 400 || !retry.Equal(later) {
		t.Fatalf("NextDue after postponing: %d %v %v %v; want block 400, retry %v", block, ok, retry, err, later)
	}
	sel := due(t, ctx, s, store.DueParams{L1: 1000, Limit: 10})
	if len(sel.Tickets) != 1 || sel.Tickets[0].ID != ids[2] {
		t.Fatalf("due with two postponed: %v, want ticket %d only", sel.Tickets, ids[2])
	}

	// The retry time of one has come.
	if err := q.PostponeTickets(ctx, []store.Postponement{
		{TicketID: ids[1], RetryAt: time.Now().Add(-time.Second), Reason: "retry now"},
	}); err != nil {
		t.Fatal(err)
	}
	sel = due(t, ctx, s, store.DueParams{L1: 1000, Limit: 10})
	got := []int64{}
	for _, tk := range sel.Tickets {
		got = append(got, tk.ID)
	}
	slices.Sort(got)
	if want := []int64{ids[1], ids[2]}; !slices.Equal(got, want) {
		t.Fatalf("due after a retry time came: %v, want %v", got, want)
	}
	// ... but not before its due block.
	sel = due(t, ctx, s, store.DueParams{L1: 150, Limit: 10})
	if len(sel.Tickets) != 0 {
		t.Fatalf("due at L1 150: %d tickets, want none", len(sel.Tickets))
	}
	// Only queued tickets: a claimed one is neither due nor next.
	claimTickets(t, ctx, s, addr(0xcc), 0, 1, fakeAttempt(1, 1), ids[1], ids[2])
	if block, ok, retry, err := q.NextDue(ctx); err != nil || ok || !retry.Equal(later.Add(time.Hour)) {
		t.Fatalf("NextDue with only a postponed ticket: %d %v %v %v", block, ok, retry, err)
	}
	if sel := due(t, ctx, s, store.DueParams{L1: 1000, Limit: 10}); len(sel.Tickets) != 0 {
		t.Fatalf("due with only a postponed ticket: %d", len(sel.Tickets))
	}
}

// TestPostponeAndEndCountAttempts: a postponement or an ending counts an
// attempt only when asked, so a reason that says "after N attempts" agrees
// with the attempts column; both write ticket_events rows; tickets no
// longer queued are left alone.
func TestPostponeAndEndCountAttempts(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	q := s.Q()
	a := addr(0xa1)
	ids := insertBatch(t, ctx, s, []store.NewTicket{numbered(1, a, 5), numbered(2, a, 7), numbered(3, a, 9)})

	retry := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, p := range []store.Postponement{
		{TicketID: ids[0], RetryAt: retry, Reason: "invalid signature over ticket hash", Attempt: true},
		{TicketID: ids[0], RetryAt: retry, Reason: "node unavailable"},
		{TicketID: ids[0], RetryAt: retry, Reason: "ticket did not win", Attempt: true},
	} {
		if err := q.PostponeTickets(ctx, []store.Postponement{p}); err != nil {
			t.Fatalf("postponement %d: %v", i, err)
		}
	}
	tk := ticketByID(t, ctx, s, ids[0])
	if tk.Attempts != 2 || tk.LastError != "ticket did not win" || tk.NextAttemptAt == nil || !tk.NextAttemptAt.Equal(retry) {
		t.Fatalf("postponed ticket: attempts %d, last error %q, next %v", tk.Attempts, tk.LastError, tk.NextAttemptAt)
	}
	evs := eventsOf(t, ctx, s, ids[0])
	if len(evs) != 3 {
		t.Fatalf("%d events after three postponements, want 3", len(evs))
	}
	for _, e := range evs {
		if e.FromStatus != "queued" || e.ToStatus != "queued" || e.Reason == nil ||
			!strings.HasPrefix(*e.Reason, "postponed until 2030-01-02T03:04:05Z: ") {
			t.Errorf("postponement event %+v (%s)", e, deref(e.Reason))
		}
	}
	if !strings.HasSuffix(*evs[1].Reason, ": node unavailable") {
		t.Errorf("event reason %q", *evs[1].Reason)
	}

	reason := fmt.Sprintf("refused: ticket did not win (after %d attempts)", tk.Attempts+1)
	ended, err := q.EndQueuedTickets(ctx, []store.Ending{
		{TicketID: ids[0], Status: store.StatusFailed, Reason: reason, Attempt: true},
		{TicketID: ids[1], Status: store.StatusExpired, Reason: "validity period over"},
	})
	if err != nil || len(ended) != 2 {
		t.Fatalf("ended %v, %v", ended, err)
	}
	tk = ticketByID(t, ctx, s, ids[0])
	if tk.Status != store.StatusFailed || tk.LastError != reason || tk.NextAttemptAt != nil {
		t.Fatalf("failed ticket: %s %q next %v", tk.Status, tk.LastError, tk.NextAttemptAt)
	}
	if want := fmt.Sprintf("(after %d attempts)", tk.Attempts); !strings.HasSuffix(tk.LastError, want) {
		t.Fatalf("attempts column %d disagrees with the reason %q", tk.Attempts, tk.LastError)
	}
	if tk := ticketByID(t, ctx, s, ids[1]); tk.Status != store.StatusExpired || tk.Attempts != 0 {
		t.Fatalf("expired ticket: %s with %d attempts, want no attempt counted", tk.Status, tk.Attempts)
	}
	evs = eventsOf(t, ctx, s, ids[0])
	if last := evs[len(evs)-1]; last.FromStatus != "queued" || last.ToStatus != "failed" || deref(last.Reason) != reason {
		t.Fatalf("ending event %+v (%s)", last, deref(last.Reason))
	}

	// Tickets no longer queued are neither postponed nor ended again.
	if err := q.PostponeTickets(ctx, []store.Postponement{{TicketID: ids[0], RetryAt: retry, Reason: "late", Attempt: true}}); err != nil {
		t.Fatal(err)
	}
	ended, err = q.EndQueuedTickets(ctx, []store.Ending{{TicketID: ids[1], Status: store.StatusFailed, Reason: "late"}})
	if err != nil || len(ended) != 0 {
		t.Fatalf("ending a final ticket: %v, %v; want nothing ended", ended, err)
	}
	if tk := ticketByID(t, ctx, s, ids[0]); tk.Attempts != 3 || tk.Status != store.StatusFailed || tk.LastError != reason {
		t.Fatalf("final ticket changed: %s %d %q", tk.Status, tk.Attempts, tk.LastError)
	}
	if n := len(eventsOf(t, ctx, s, ids[0])); n != 4 {
		t.Fatalf("%d events, want 4: nothing recorded for a ticket left alone", n)
	}
	if _, err := q.EndQueuedTickets(ctx, []store.Ending{{TicketID: ids[2], Status: store.StatusRedeemed, Reason: "x"}}); err == nil {
		t.Fatal("ending a queued ticket as redeemed was accepted")
	}
	if tk := ticketByID(t, ctx, s, ids[2]); tk.Status != store.StatusQueued {
		t.Fatalf("refused ending changed the ticket to %s", tk.Status)
	}
	checkAmounts(t, ctx, s, "ended")
}

// TestExpireQueued: queued tickets created before the round end expired,
// oldest round first, at most limit per call, with their reason.
func TestExpireQueued(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	a := addr(0xa1)
	var batch []store.NewTicket
	for i, round := range []int64{10, 8, 9, 11, 8} {
		tk := numbered(i+1, a, 1)
		tk.CreationRound = round
		batch = append(batch, tk)
	}
	ids := insertBatch(t, ctx, s, batch)
	reason := func(tk store.Ticket) string { return fmt.Sprintf("created in round %d", tk.CreationRound) }
	got, err := s.Q().ExpireQueued(ctx, 11, 3, reason)
	if err != nil {
		t.Fatal(err)
	}
	var rounds []int64
	for _, tk := range got {
		rounds = append(rounds, tk.CreationRound)
	}
	if !slices.Equal(rounds, []int64{8, 8, 9}) {
		t.Fatalf("expired rounds %v, want 8, 8, 9", rounds)
	}
	if tk := ticketByID(t, ctx, s, ids[1]); tk.Status != store.StatusExpired || tk.LastError != "created in round 8" {
		t.Fatalf("expired ticket: %s %q", tk.Status, tk.LastError)
	}
	got, err = s.Q().ExpireQueued(ctx, 11, 3, reason)
	if err != nil || len(got) != 1 || got[0].ID != ids[0] {
		t.Fatalf("second call: %v, %v; want only the round-10 ticket", got, err)
	}
	if tk := ticketByID(t, ctx, s, ids[3]); tk.Status != store.StatusQueued {
		t.Fatalf("ticket of round 11 is %s", tk.Status)
	}
	checkAmounts(t, ctx, s, "expired")
}

// TestLockQueuedTicketsSkipsLocked: a ticket another transaction holds is
// skipped, not waited for, so two claims never carry one ticket.
func TestLockQueuedTicketsSkipsLocked(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	ids := insertBatch(t, ctx, s, []store.NewTicket{numbered(1, addr(1), 1), numbered(2, addr(1), 1), numbered(3, addr(2), 1)})

	held := make(chan struct{})
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- s.InTx(ctx, func(q store.Q) error {
			got, err := q.LockQueuedTickets(ctx, ids[:1])
			if err != nil || len(got) != 1 {
				return fmt.Errorf("first lock: %v, %v", got, err)
			}
			close(held)
			<-done
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-errc:
		t.Fatal(err)
	}
	lockCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := s.InTx(lockCtx, func(q store.Q) error {
		got, err := q.LockQueuedTickets(lockCtx, ids)
		if err != nil {
			return err
		}
		var gotIDs []int64
		for _, tk := range got {
			gotIDs = append(gotIDs, tk.ID)
		}
		if !slices.Equal(gotIDs, ids[1:]) {
			return fmt.Errorf("locked %v, want %v", gotIDs, ids[1:])
		}
		return nil
	})
	cancel()
	close(done)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestTakeNonce: nonces start at the chain's pending nonce, never go back
// below what was handed out, and follow the chain when it is ahead.
func TestTakeNonce(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	acct := addr(0xcc)
	take := func(chain uint64) uint64 {
		t.Helper()
		var n uint64
		if err := s.InTx(ctx, func(q store.Q) (err error) { n, err = q.TakeNonce(ctx, acct, chain); return err }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i, c := range []struct{ chain, want uint64 }{{5, 5}, {0, 6}, {6, 7}, {20, 20}, {3, 21}} {
		if got := take(c.chain); got != c.want {
			t.Fatalf("take %d (chain %d) = %d, want %d", i, c.chain, got, c.want)
		}
	}
	// A rolled-back claim gives its nonce back: no gap.
	boom := errors.New("sign failed")
	err := s.InTx(ctx, func(q store.Q) error {
		if _, err := q.TakeNonce(ctx, acct, 0); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if got := take(0); got != 22 {
		t.Fatalf("after a rolled-back take: %d, want 22", got)
	}
}

func TestTicketStatusFinal(t *testing.T) {
	t.Parallel()
	for st, final := range map[store.TicketStatus]bool{
		store.StatusQueued: false, store.StatusRedeeming: false,
		store.StatusRedeemed: true, store.StatusFailed: true, store.StatusExpired: true,
	} {
		if st.Final() != final {
			t.Errorf("%s.Final() = %v, want %v", st, st.Final(), final)
		}
		if !store.ValidStatus(string(st)) {
			t.Errorf("ValidStatus(%q) = false", st)
		}
	}
	if store.ValidStatus("lost") {
		t.Error(`ValidStatus("lost") = true`)
	}
}
