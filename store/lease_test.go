package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"redeemer/store"
	"redeemer/store/storetest"
)

// acquire takes the lease for holder or fails the test.
func acquire(t *testing.T, ctx context.Context, s *store.Store, holder string, ttl time.Duration) *store.Lease {
	t.Helper()
	l, err := s.AcquireLease(ctx, holder, ttl)
	if err != nil {
		t.Fatal(err)
	}
	if l == nil {
		t.Fatalf("%s could not take a free lease", holder)
	}
	return l
}

// TestLeaseOneHolderAtATime: while a lease is live nobody else gets it;
// each new holder gets a term one higher than the last; a release frees
// the lease at once.
func TestLeaseOneHolderAtATime(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)

	term, holder, live, err := s.LeaseHolder(ctx)
	if err != nil || term != 0 || holder != "" || live {
		t.Fatalf("fresh lease: term %d holder %q live %v (%v), want 0, empty, not live", term, holder, live, err)
	}
	a := acquire(t, ctx, s, "replica-a", time.Minute)
	if a.Term != 1 {
		t.Fatalf("first term %d, want 1", a.Term)
	}
	if d := time.Until(a.Expires); d < 50*time.Second || d > 70*time.Second {
		t.Errorf("lease expires in %s, want about a minute", d)
	}
	for _, h := range []string{"replica-b", "replica-a"} {
		if l, err := s.AcquireLease(ctx, h, time.Minute); err != nil || l != nil {
			t.Fatalf("%s took a live lease: %+v, %v", h, l, err)
		}
	}
	term, holder, live, err = s.LeaseHolder(ctx)
	if err != nil || term != a.Term || holder != "replica-a" || !live {
		t.Fatalf("holder: term %d %q live %v (%v), want term %d replica-a live", term, holder, live, err, a.Term)
	}
	if err := s.CheckTerm(ctx, a.Term); err != nil {
		t.Fatalf("CheckTerm of the live term: %v", err)
	}

	if err := s.ReleaseLease(ctx, a.Term); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckTerm(ctx, a.Term); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("CheckTerm of a released term: %v, want ErrFenced", err)
	}
	b := acquire(t, ctx, s, "replica-b", time.Minute)
	if b.Term != a.Term+1 {
		t.Fatalf("term after a release %d, want %d", b.Term, a.Term+1)
	}
	// Releasing a term that is over changes nothing.
	if err := s.ReleaseLease(ctx, a.Term); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckTerm(ctx, b.Term); err != nil {
		t.Fatalf("the old term's release ended the new term: %v", err)
	}
	if err := s.CheckTerm(ctx, a.Term); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("CheckTerm of a superseded term: %v, want ErrFenced", err)
	}
	if err := s.CheckTerm(ctx, b.Term+1); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("CheckTerm of a term never granted: %v, want ErrFenced", err)
	}
	term, holder, live, err = s.LeaseHolder(ctx)
	if err != nil || term != b.Term || holder != "replica-b" || !live {
		t.Fatalf("holder: term %d %q live %v (%v), want term %d replica-b live", term, holder, live, err, b.Term)
	}
}

// TestLeaseConcurrentAcquire: of many replicas asking for a free lease at
// once, exactly one gets it.
func TestLeaseConcurrentAcquire(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	const n = 8
	got := make(chan *store.Lease, n)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			l, err := s.AcquireLease(ctx, "replica-"+itoa(int64(i)), time.Minute)
			errs <- err
			got <- l
		}()
	}
	var winners []*store.Lease
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
		if l := <-got; l != nil {
			winners = append(winners, l)
		}
	}
	if len(winners) != 1 || winners[0].Term != 1 {
		t.Fatalf("%d replicas got the lease (%+v), want exactly one with term 1", len(winners), winners)
	}
}

// TestRenewLease: renewal pushes the expiry out; a term that lapsed or was
// superseded cannot be renewed, so a lease that anyone may have seen free
// is never revived.
func TestRenewLease(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)

	a := acquire(t, ctx, s, "a", 2*time.Second)
	expires, err := s.RenewLease(ctx, a.Term, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !expires.After(a.Expires.Add(50 * time.Second)) {
		t.Fatalf("renewed lease expires %v, not a minute past the first expiry %v", expires, a.Expires)
	}
	if l, err := s.AcquireLease(ctx, "b", time.Minute); err != nil || l != nil {
		t.Fatalf("a renewed lease was taken: %+v, %v", l, err)
	}

	// Lapsed: nobody took it yet, but the holder may not take it back by
	// renewing.
	if _, err := s.RenewLease(ctx, a.Term, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if _, err := s.RenewLease(ctx, a.Term, time.Minute); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("renewing a lapsed lease: %v, want ErrFenced", err)
	}
	if _, _, live, err := s.LeaseHolder(ctx); err != nil || live {
		t.Fatalf("the refused renewal revived the lease: live %v, %v", live, err)
	}

	// Superseded.
	b := acquire(t, ctx, s, "b", time.Minute)
	if b.Term != a.Term+1 {
		t.Fatalf("term after expiry %d, want %d", b.Term, a.Term+1)
	}
	if _, err := s.RenewLease(ctx, a.Term, time.Minute); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("renewing a superseded term: %v, want ErrFenced", err)
	}
	if _, err := s.RenewLease(ctx, b.Term, time.Minute); err != nil {
		t.Fatalf("renewing the current term: %v", err)
	}
}

// TestFencedRefusesOtherTerms: a fenced transaction of a superseded,
// expired or unknown term runs nothing and writes nothing; one of the
// current term commits.
func TestFencedRefusesOtherTerms(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)

	write := func(term store.Term, block uint64) error {
		return s.Fenced(ctx, term, func(q store.Q) error {
			return q.SetStageCursor(ctx, "test", store.Cursor{Number: block, Hash: [32]byte{byte(block)}, L1Number: block}, term)
		})
	}
	cursor := func() *store.Cursor {
		t.Helper()
		c, err := s.Q().StageCursor(ctx, "test")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	if err := write(1, 1); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("write before any lease: %v, want ErrFenced", err)
	}
	a := acquire(t, ctx, s, "a", 2*time.Second)
	if err := write(a.Term, 10); err != nil {
		t.Fatalf("write of the current term: %v", err)
	}
	if c := cursor(); c == nil || c.Number != 10 {
		t.Fatalf("cursor %+v after the current term's write, want block 10", c)
	}
	if err := write(a.Term+1, 11); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("write of a term never granted: %v, want ErrFenced", err)
	}

	// Lapsed, not yet taken over.
	time.Sleep(time.Until(a.Expires) + 200*time.Millisecond)
	ran := false
	err := s.Fenced(ctx, a.Term, func(q store.Q) error { ran = true; return nil })
	if !errors.Is(err, store.ErrFenced) || ran {
		t.Fatalf("expired term: err %v, fn ran %v; want ErrFenced before fn", err, ran)
	}
	if !strings.Contains(err.Error(), "lease live: false") {
		t.Errorf("the refusal does not say the lease ran out: %v", err)
	}

	b := acquire(t, ctx, s, "b", time.Minute)
	if err := write(a.Term, 12); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("write of a superseded term: %v, want ErrFenced", err)
	}
	if c := cursor(); c.Number != 10 {
		t.Fatalf("a refused write moved the cursor to %d", c.Number)
	}
	if err := write(b.Term, 13); err != nil {
		t.Fatalf("write of the new term: %v", err)
	}
	if c := cursor(); c.Number != 13 {
		t.Fatalf("cursor %d after the new term's write, want 13", c.Number)
	}
	var term int64
	if err := s.Pool().QueryRow(ctx, `SELECT leader_term FROM stage_cursors WHERE stage = 'test'`).Scan(&term); err != nil ||
		store.Term(term) != b.Term {
		t.Fatalf("cursor stamped with term %d (%v), want %d", term, err, b.Term)
	}
}

// TestTakeoverWaitsForFencedWrites: a fenced transaction of the old term
// that began while its lease was live holds the lease row FOR SHARE, so a
// replica taking the lease after it expired waits until that transaction
// commits. The old term's write is therefore committed before the new term
// exists, and nothing of the old term commits after.
func TestTakeoverWaitsForFencedWrites(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	const ttl = 2 * time.Second
	old := acquire(t, ctx, s, "old", ttl)

	inside := make(chan struct{})
	release := make(chan struct{})
	// A failing test must still end the transaction, or closing the store
	// would wait for its connection forever.
	end := sync.OnceFunc(func() { close(release) })
	t.Cleanup(end)
	oldDone := make(chan error, 1)
	go func() {
		oldDone <- s.Fenced(ctx, old.Term, func(q store.Q) error {
			if err := q.SetStageCursor(ctx, "senders", store.Cursor{Number: 7, Hash: [32]byte{7}, L1Number: 7}, old.Term); err != nil {
				return err
			}
			close(inside)
			<-release
			return nil
		})
	}()
	select {
	case <-inside:
	case err := <-oldDone:
		t.Fatalf("the old term's fenced transaction ended early: %v", err)
	}

	// Past the lease's end by the database clock, a new replica tries.
	time.Sleep(time.Until(old.Expires) + 200*time.Millisecond)
	if _, _, live, err := s.LeaseHolder(ctx); err != nil || live {
		t.Fatalf("lease still live after its expiry: %v %v", live, err)
	}
	type acquired struct {
		l   *store.Lease
		err error
	}
	newDone := make(chan acquired, 1)
	go func() {
		l, err := s.AcquireLease(ctx, "new", time.Minute)
		newDone <- acquired{l, err}
	}()

	// The takeover must be blocked on the lease row's lock, not merely slow.
	waiting := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err := s.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'
			  AND query LIKE 'UPDATE leader_lease%SET term = term + 1%')`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		select {
		case a := <-newDone:
			t.Fatalf("the lease was taken (%+v, %v) while a fenced transaction of the old term was open", a.l, a.err)
		default:
		}
	}
	if !waiting {
		t.Fatal("the takeover never waited for the lease row")
	}
	// A transaction of the old term that starts now is refused: its lease
	// is over even though nobody holds the new term yet.
	if err := s.Fenced(ctx, old.Term, func(q store.Q) error { return nil }); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("a new transaction of the expired term: %v, want ErrFenced", err)
	}
	select {
	case a := <-newDone:
		t.Fatalf("the lease was taken (%+v, %v) while a fenced transaction of the old term was open", a.l, a.err)
	case <-time.After(200 * time.Millisecond):
	}

	end()
	if err := <-oldDone; err != nil {
		t.Fatalf("the old term's write, begun while its lease was live: %v", err)
	}
	a := <-newDone
	if a.err != nil || a.l == nil || a.l.Term != old.Term+1 {
		t.Fatalf("takeover after the old write committed: %+v, %v; want term %d", a.l, a.err, old.Term+1)
	}
	// The old term's write is there for the new term to start from.
	var block, term int64
	if err := s.Pool().QueryRow(ctx, `SELECT block_number, leader_term FROM stage_cursors WHERE stage = 'senders'`).
		Scan(&block, &term); err != nil {
		t.Fatal(err)
	}
	if block != 7 || store.Term(term) != old.Term {
		t.Fatalf("cursor %d of term %d, want the old term's block 7", block, term)
	}
	// Nothing of the old term commits any more.
	err := s.Fenced(ctx, old.Term, func(q store.Q) error {
		return q.SetStageCursor(ctx, "senders", store.Cursor{Number: 8, Hash: [32]byte{8}, L1Number: 8}, old.Term)
	})
	if !errors.Is(err, store.ErrFenced) {
		t.Fatalf("old term write after the takeover: %v, want ErrFenced", err)
	}
	c, err := s.Q().StageCursor(ctx, "senders")
	if err != nil || c == nil || c.Number != 7 {
		t.Fatalf("cursor after the refused write: %+v, %v; want block 7", c, err)
	}
}
