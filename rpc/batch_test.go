package rpc

import (
	"context"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"redeemer/store"
	"redeemer/store/storetest"
)

// countingStore is the real store, counting statements and holding each one
// back until release is closed, so that callers pile up behind it.
type countingStore struct {
	*store.Store
	statements atomic.Int32
	tickets    atomic.Int32
	largest    atomic.Int32
	release    chan struct{}
}

func (c *countingStore) AdmitTickets(ctx context.Context, ts []store.Admit) ([]store.Admitted, error) {
	c.statements.Add(1)
	c.tickets.Add(int32(len(ts)))
	for {
		l := c.largest.Load()
		if int32(len(ts)) <= l || c.largest.CompareAndSwap(l, int32(len(ts))) {
			break
		}
	}
	<-c.release
	return c.Store.AdmitTickets(ctx, ts)
}

func batchTicket(i int) store.Admit {
	var t store.NewTicket
	t.TicketHash[0], t.TicketHash[1] = byte(i), byte(i>>8)
	t.Sender[0], t.Recipient[0] = 1, 2
	t.FaceValue, t.WinProb = big.NewInt(1000), big.NewInt(1)
	t.Sig = make([]byte, 65)
	t.Sig[64] = 27
	t.ParamsExpirationBlock = 100
	return store.Admit{Ticket: t}
}

// Callers arriving while a statement is in flight share the next ones; each
// still learns whether its own ticket was written, and one ticket the
// schema refuses fails only its own caller.
func TestBatcherGroupsConcurrentInserts(t *testing.T) {
	st := &countingStore{Store: storetest.NewStore(t), release: make(chan struct{})}
	b := newTicketBatcher(st, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const callers = 40
	bad := 7
	type result struct {
		inserted bool
		err      error
	}
	results := make([]result, callers)
	var wg sync.WaitGroup
	for i := range callers {
		tk := batchTicket(i)
		if i == bad {
			tk.Ticket.Seed = make([]byte, 40) // over the schema's limit
		}
		if i == callers-1 {
			tk = batchTicket(0) // a repeat of caller 0's ticket
		}
		wg.Go(func() {
			res, err := b.insert(ctx, tk)
			results[i] = result{res.Inserted, err}
		})
	}
	// Let every caller queue behind the first statements, then let them run.
	deadline := time.Now().Add(30 * time.Second)
	for {
		b.mu.Lock()
		queued := len(b.pending)
		b.mu.Unlock()
		if queued+int(st.tickets.Load()) >= callers {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d callers queued", queued)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(st.release)
	wg.Wait()

	// The callers queued behind the first statements shared one (the bad
	// ticket then makes that batch be written again row by row).
	if l := int(st.largest.Load()); l < callers/2 {
		t.Errorf("largest statement held %d tickets of %d queued callers: they were not grouped", l, callers)
	}
	inserted := 0
	for i, r := range results {
		switch {
		case i == bad:
			if r.err == nil {
				t.Errorf("the ticket the schema refuses got no error")
			}
		case r.err != nil:
			t.Errorf("caller %d: %v", i, r.err)
		case r.inserted:
			inserted++
		}
	}
	// Caller 0 and the last share a hash: exactly one of them wrote it.
	if want := callers - 2; inserted != want {
		t.Errorf("%d callers report a written row, want %d", inserted, want)
	}
	n, err := st.CountTickets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != callers-2 {
		t.Errorf("%d rows stored, want %d", n, callers-2)
	}
}

// A caller that gives up is answered at once; the statement it joined is
// not cancelled for the others.
func TestBatcherCallerGivesUp(t *testing.T) {
	st := &countingStore{Store: storetest.NewStore(t), release: make(chan struct{})}
	b := newTicketBatcher(st, 10*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := b.insert(ctx, batchTicket(1))
		errc <- err
	}()
	for st.statements.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("a cancelled caller got no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled caller was not answered")
	}
	close(st.release)
	other, err := b.insert(context.Background(), batchTicket(2))
	if err != nil || !other.Inserted || !other.Stored {
		t.Fatalf("next insert: %v, %v", other, err)
	}
	// The abandoned ticket is still written by the statement it joined.
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := st.CountTickets(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d rows stored, want 2: the abandoned caller's statement did not complete", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
