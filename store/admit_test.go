package store_test

import (
	"errors"
	"math/big"
	"sync"
	"testing"

	"redeemer/store"
	"redeemer/store/storetest"
)

func capped(tk store.NewTicket, limit int64) store.Admit {
	return store.Admit{Ticket: tk, Cap: big.NewInt(limit)}
}

// TestAdmitTicketsCaps: a sender's exposure (queued plus in limbo, the
// ticket included) is checked against the cap; tickets of one sender in a
// batch count in order; a capped ticket says what its exposure would have
// been; a repeat of a stored ticket is stored whatever its cap.
func TestAdmitTicketsCaps(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	a, b := addr(0xa1), addr(0xb1)

	// 30 of a's is already in limbo, 10 queued.
	inLimbo := insertTicket(t, ctx, s, numbered(1, a, 30))
	insertTicket(t, ctx, s, numbered(2, a, 10))
	claimTickets(t, ctx, s, addr(0xcc), 0, 1, fakeAttempt(1, 1), inLimbo)

	batch := []store.Admit{
		capped(numbered(10, a, 40), 100),  // 40 open + 40 = 80
		capped(numbered(11, b, 500), 100), // another sender: its own count
		capped(numbered(12, a, 20), 100),  // 80 + 20 = 100: at the cap
		capped(numbered(13, a, 1), 100),   // 101
		capped(numbered(2, a, 10), 1),     // stored already: stored whatever its cap
		{Ticket: numbered(14, b, 7)},      // no cap
	}
	out, err := s.AdmitTickets(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		inserted, stored, capped bool
		exposure                 int64 // -1: not reported
	}{
		{true, true, false, 80},
		{false, false, true, 500},
		{true, true, false, 100},
		{false, false, true, 101},
		{false, true, false, -1},
		{true, true, false, -2}, // reported, not checked: no cap
	}
	for i, w := range want {
		o := out[i]
		if o.Inserted != w.inserted || o.Stored != w.stored || o.Capped != w.capped || o.Used {
			t.Errorf("ticket %d: %+v, want inserted %v stored %v capped %v", i, o, w.inserted, w.stored, w.capped)
		}
		switch {
		case w.exposure >= 0 && (o.Exposure == nil || o.Exposure.Cmp(big.NewInt(w.exposure)) != 0):
			t.Errorf("ticket %d: exposure %v, want %d", i, o.Exposure, w.exposure)
		case w.exposure == -1 && o.Exposure != nil:
			t.Errorf("ticket %d: exposure %v reported for a ticket stored before", i, o.Exposure)
		}
	}
	for i, tk := range batch {
		_, err := s.TicketByHash(ctx, tk.Ticket.TicketHash)
		if stored := err == nil; stored != want[i].stored {
			t.Errorf("ticket %d: in the table %v, want %v (%v)", i, stored, want[i].stored, err)
		}
	}
	checkAmounts(t, ctx, s, "admitted")
	wantAmounts(t, ctx, s, "admitted", a, 70, 30)
	wantAmounts(t, ctx, s, "admitted", b, 7, 0)

	// At the cap, a new ticket of any size is refused; a repeat of a
	// stored one is still answered as stored.
	out, err = s.AdmitTickets(ctx, []store.Admit{capped(numbered(15, a, 1), 100), capped(numbered(12, a, 20), 100)})
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].Capped || out[0].Stored || out[0].Exposure.Cmp(big.NewInt(101)) != 0 {
		t.Errorf("new ticket at the cap: %+v", out[0])
	}
	if out[1].Capped || !out[1].Stored || out[1].Inserted {
		t.Errorf("repeat at the cap: %+v, want stored, not inserted", out[1])
	}
	// Settling frees room.
	wantAmounts(t, ctx, s, "at the cap", a, 70, 30)
}

// TestAdmitTicketsCappedTicketTakesNoRoom: a ticket refused for its cap
// is not stored, so it takes no room from the sender's later tickets in
// the same batch: each is judged on what is stored, as it would be in a
// batch of its own.
func TestAdmitTicketsCappedTicketTakesNoRoom(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	a := addr(0xa1)
	out, err := s.AdmitTickets(ctx, []store.Admit{
		capped(numbered(1, a, 60), 100), // 60
		capped(numbered(2, a, 50), 100), // 110: refused
		capped(numbered(3, a, 30), 100), // 90
		capped(numbered(4, a, 20), 100), // 110: refused
		capped(numbered(5, a, 10), 100), // 100
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		stored   bool
		exposure int64
	}{{true, 60}, {false, 110}, {true, 90}, {false, 110}, {true, 100}}
	for i, w := range want {
		o := out[i]
		if o.Stored != w.stored || o.Inserted != w.stored || o.Capped == w.stored ||
			o.Exposure == nil || o.Exposure.Cmp(big.NewInt(w.exposure)) != 0 {
			t.Errorf("ticket %d: stored %v capped %v exposure %v, want stored %v exposure %d",
				i+1, o.Stored, o.Capped, o.Exposure, w.stored, w.exposure)
		}
	}
	checkAmounts(t, ctx, s, "admitted")
	wantAmounts(t, ctx, s, "admitted", a, 100, 0)
}

// TestAdmitTicketsRefusesRedeemedAndDuplicates: a ticket that
// redeemed_tickets shows redeemed on chain is refused as used and not
// stored (InsertTickets fails the whole call with ErrTicketUsed); a hash
// repeated within a batch is stored once, the first copy answering for
// the others.
func TestAdmitTicketsRefusesRedeemedAndDuplicates(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	a := addr(0xa1)
	used, fresh := numbered(1, a, 10), numbered(2, a, 20)
	if _, err := s.Q().RecordRedeemed(ctx, []store.RedeemedTicket{{TicketHash: used.TicketHash, Sender: a,
		Round: 1, Block: 5, BlockHash: [32]byte{5}, TxHash: [32]byte{6}}}); err != nil {
		t.Fatal(err)
	}
	out, err := s.AdmitTickets(ctx, []store.Admit{{Ticket: fresh}, {Ticket: used}, {Ticket: fresh}, capped(used, 1000)})
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].Inserted || !out[0].Stored {
		t.Errorf("fresh ticket: %+v", out[0])
	}
	if out[2].Inserted || !out[2].Stored || out[2].Used || out[2].Capped {
		t.Errorf("second copy of the fresh ticket: %+v, want stored, not inserted", out[2])
	}
	for _, i := range []int{1, 3} {
		if !out[i].Used || out[i].Stored || out[i].Inserted || out[i].Capped {
			t.Errorf("redeemed ticket (%d): %+v, want used, not stored", i, out[i])
		}
	}
	if _, err := s.TicketByHash(ctx, used.TicketHash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the redeemed ticket was stored: %v", err)
	}
	if n, err := s.CountTickets(ctx); err != nil || n != 1 {
		t.Errorf("%d tickets stored (%v), want 1", n, err)
	}
	checkAmounts(t, ctx, s, "admitted")
	wantAmounts(t, ctx, s, "admitted", a, 20, 0)

	other := numbered(3, a, 30)
	_, err = s.InsertTickets(ctx, []store.NewTicket{other, used})
	if !errors.Is(err, store.ErrTicketUsed) {
		t.Fatalf("InsertTickets with a redeemed ticket: %v, want ErrTicketUsed", err)
	}
	if _, err := s.InsertTicket(ctx, used); !errors.Is(err, store.ErrTicketUsed) {
		t.Fatalf("InsertTicket of a redeemed ticket: %v, want ErrTicketUsed", err)
	}

	// A ticket stored before the chain showed it redeemed stays stored:
	// a repeat is answered as stored, not used.
	if _, err := s.Q().RecordRedeemed(ctx, []store.RedeemedTicket{{TicketHash: fresh.TicketHash, Sender: a,
		Round: 1, Block: 6, BlockHash: [32]byte{6}, TxHash: [32]byte{7}}}); err != nil {
		t.Fatal(err)
	}
	out, err = s.AdmitTickets(ctx, []store.Admit{{Ticket: fresh}})
	if err != nil || !out[0].Stored || out[0].Used {
		t.Fatalf("repeat of a stored ticket the chain shows redeemed: %+v, %v; want stored", out, err)
	}
}

// TestAdmitTicketsConcurrentCap: many statements admitting tickets of one
// sender at once never take its exposure past the cap, whether or not the
// sender had an amounts row before the burst.
func TestAdmitTicketsConcurrentCap(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	const (
		calls = 50
		face  = 10
		limit = 205 // 20 tickets fit, and 5 wei more
	)
	for _, c := range []struct {
		name   string
		sender [20]byte
		before int64 // face value queued before the burst; 0: no row at all
	}{
		{"known sender", addr(0xa1), 35},
		{"first tickets of a sender", addr(0xa2), 0},
	} {
		base := 1000 * (int(c.sender[0]) - 0xa0)
		if c.before > 0 {
			insertTicket(t, ctx, s, numbered(base, c.sender, c.before))
		}
		var wg sync.WaitGroup
		errs := make(chan error, calls)
		for i := range calls {
			wg.Go(func() {
				// Two tickets per call, so the in-batch count matters too.
				_, err := s.AdmitTickets(ctx, []store.Admit{
					capped(numbered(base+1+2*i, c.sender, face), limit),
					capped(numbered(base+2+2*i, c.sender, face), limit),
				})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
		checkAmounts(t, ctx, s, c.name)
		queued, limbo := amounts(t, ctx, s, c.sender)
		exposure := new(big.Int).Add(queued, limbo)
		if exposure.Cmp(big.NewInt(limit)) > 0 {
			t.Errorf("%s: exposure %s after %d concurrent admissions, over the cap of %d", c.name, exposure, calls, limit)
		}
		// The cap must not be met by refusing everything either.
		if exposure.Cmp(big.NewInt(limit-face)) <= 0 {
			t.Errorf("%s: exposure %s, want the cap filled to within one ticket", c.name, exposure)
		}
	}
}
