package store_test

import (
	"bytes"
	"testing"

	"redeemer/store"
	"redeemer/store/storetest"
)

// A batch reports, per ticket, whether this call wrote it: a hash already
// stored and a hash repeated inside the batch are not written twice.
func TestInsertTicketsReportsEachTicket(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	stored := sampleTicket(10)
	if _, err := s.InsertTicket(ctx, stored); err != nil {
		t.Fatal(err)
	}
	a, b := sampleTicket(20), sampleTicket(30)
	batch := []store.NewTicket{a, stored, b, a}
	inserted, err := s.InsertTickets(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{true, false, true, false}
	for i := range want {
		if inserted[i] != want[i] {
			t.Errorf("inserted[%d] = %v, want %v", i, inserted[i], want[i])
		}
	}
	if n, err := s.CountTickets(ctx); err != nil || n != 3 {
		t.Fatalf("CountTickets = %d, %v; want 3", n, err)
	}
	got, err := s.TicketByHash(ctx, b.TicketHash)
	if err != nil {
		t.Fatal(err)
	}
	if got.FaceValue.Cmp(b.FaceValue) != 0 || !bytes.Equal(got.Sig, b.Sig) || got.Sender != b.Sender ||
		got.CreationRound != b.CreationRound || got.ParamsExpirationBlock != b.ParamsExpirationBlock || !bytes.Equal(got.Seed, b.Seed) {
		t.Errorf("stored ticket differs from the batch's: %+v", got.NewTicket)
	}
}

// One row the schema refuses fails the whole statement: nothing of the
// batch is stored, so no caller is told OK for a row that is not there.
func TestInsertTicketsIsAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	good, bad := sampleTicket(40), sampleTicket(50)
	bad.Seed = make([]byte, 33) // over the schema's 32-byte limit
	if _, err := s.InsertTickets(ctx, []store.NewTicket{good, bad}); err == nil {
		t.Fatal("a batch holding a row the schema refuses was accepted")
	}
	if n, err := s.CountTickets(ctx); err != nil || n != 0 {
		t.Fatalf("CountTickets = %d, %v after a refused batch; want 0", n, err)
	}
}
