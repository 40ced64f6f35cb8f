package pipeline_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"redeemer/pipeline"
	"redeemer/store"
	"redeemer/store/storetest"
)

func TestLeaseLocalDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := storetest.NewStore(t)
	const ttl = 400 * time.Millisecond
	start := time.Now()
	l, err := pipeline.NewTestLease(ctx, st, ttl)
	if err != nil {
		t.Fatal(err)
	}
	if !l.Valid() {
		t.Fatal("a lease just taken is not valid")
	}
	if _, err := pipeline.NewTestLease(ctx, st, ttl); err == nil {
		t.Fatal("a second lease was taken while the first is live")
	}
	called := false
	if err := l.Fenced(ctx, func(store.Q) error { called = true; return nil }); err != nil || !called {
		t.Fatalf("Fenced within the lease: %v (ran: %t)", err, called)
	}
	if err := l.Check(ctx); err != nil {
		t.Fatalf("Check within the lease: %v", err)
	}

	eventually(t, 10*time.Second, "the lease to pass its local deadline", func() bool { return !l.Valid() })
	if el := time.Since(start); el < ttl {
		t.Fatalf("lease invalid after %s, before its %s", el, ttl)
	}
	called = false
	err = l.Fenced(ctx, func(store.Q) error { called = true; return nil })
	if !errors.Is(err, store.ErrFenced) || called || !strings.Contains(err.Error(), "local deadline") {
		t.Errorf("Fenced past the local deadline: %v (ran: %t), want ErrFenced by the local clock", err, called)
	}
	if err := l.Check(ctx); !errors.Is(err, store.ErrFenced) || !strings.Contains(err.Error(), "local deadline") {
		t.Errorf("Check past the local deadline: %v, want ErrFenced by the local clock", err)
	}
}

// TestLeaseFencedByTheDatabase: a lease still valid by the local clock is
// refused once another replica holds the term in the database.
func TestLeaseFencedByTheDatabase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := storetest.NewStore(t)
	l, err := pipeline.NewTestLease(ctx, st, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ReleaseLease(ctx, l.Term()); err != nil {
		t.Fatal(err)
	}
	other, err := st.AcquireLease(ctx, "other", time.Hour)
	if err != nil || other == nil || other.Term != l.Term()+1 {
		t.Fatalf("take over: %+v, %v", other, err)
	}
	if !l.Valid() {
		t.Fatal("the local clock should still call the old lease valid")
	}
	called := false
	if err := l.Fenced(ctx, func(store.Q) error { called = true; return nil }); !errors.Is(err, store.ErrFenced) || called {
		t.Errorf("Fenced for a term that is over: %v (ran: %t)", err, called)
	}
	if err := l.Check(ctx); !errors.Is(err, store.ErrFenced) {
		t.Errorf("Check for a term that is over: %v", err)
	}
}

// leaderLog records the terms a Lead loop's lead function runs, and how
// many run at once across loops.
type leaderLog struct {
	mu        sync.Mutex
	active    int
	maxActive int
	terms     []leaderTerm
	onStart   func(name string, l *pipeline.Lease)
}

type leaderTerm struct {
	name       string
	lease      *pipeline.Lease
	start, end time.Time
	cause      error
	validAtEnd bool
}

func (g *leaderLog) lead(name string) func(ctx context.Context, l *pipeline.Lease) error {
	return func(ctx context.Context, l *pipeline.Lease) error {
		g.mu.Lock()
		g.active++
		g.maxActive = max(g.maxActive, g.active)
		i := len(g.terms)
		g.terms = append(g.terms, leaderTerm{name: name, lease: l, start: time.Now()})
		onStart := g.onStart
		g.mu.Unlock()
		if onStart != nil {
			onStart(name, l)
		}
		<-ctx.Done()
		g.mu.Lock()
		g.active--
		g.terms[i].end, g.terms[i].cause, g.terms[i].validAtEnd = time.Now(), context.Cause(ctx), l.Valid()
		g.mu.Unlock()
		return nil
	}
}

func (g *leaderLog) snapshot() (terms []leaderTerm, maxActive int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]leaderTerm(nil), g.terms...), g.maxActive
}

// current is the term running now, if any.
func (g *leaderLog) current() (leaderTerm, bool) {
	terms, _ := g.snapshot()
	for i := len(terms) - 1; i >= 0; i-- {
		if terms[i].end.IsZero() {
			return terms[i], true
		}
	}
	return leaderTerm{}, false
}

type leadLoop struct {
	cancel context.CancelFunc
	done   chan error
}

func startLead(t *testing.T, st *store.Store, opts pipeline.LeaderOptions, g *leaderLog) *leadLoop {
	ctx, cancel := context.WithCancel(context.Background())
	log, _ := newLogger(t)
	opts.Logger = log
	ll := &leadLoop{cancel: cancel, done: make(chan error, 1)}
	go func() { ll.done <- pipeline.Lead(ctx, st, opts, g.lead(opts.Holder)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ll.done:
		case <-time.After(30 * time.Second):
			t.Errorf("Lead of %s did not return", opts.Holder)
		}
	})
	return ll
}

func openStore(t *testing.T, dsn string) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// TestLeadOneLeaderAtATime: two replicas on one database; one leads, and
// when it stops it releases the lease, so the other takes over within
// about one renewal, long before the lease would have run out.
func TestLeadOneLeaderAtATime(t *testing.T) {
	dsn := storetest.New(t)
	const ttl, renew = 6 * time.Second, 100 * time.Millisecond
	g := &leaderLog{}
	var changes sync.Map // holder -> []bool
	opts := func(holder string) pipeline.LeaderOptions {
		return pipeline.LeaderOptions{Holder: holder, TTL: ttl, Renew: renew, OnChange: func(leader bool) {
			v, _ := changes.LoadOrStore(holder, &[]bool{})
			*v.(*[]bool) = append(*v.(*[]bool), leader)
		}}
	}
	stA, stB := openStore(t, dsn), openStore(t, dsn)
	loops := map[string]*leadLoop{
		"a": startLead(t, stA, opts("a"), g),
		"b": startLead(t, stB, opts("b"), g),
	}
	eventually(t, 10*time.Second, "a leader", func() bool { _, ok := g.current(); return ok })
	// Several renewals later, still the same single leader.
	time.Sleep(10 * renew)
	first, ok := g.current()
	if terms, maxActive := g.snapshot(); !ok || len(terms) != 1 || maxActive != 1 {
		t.Fatalf("terms %+v (at most %d at once), want one leader", terms, maxActive)
	}
	term, holder, live, err := stA.LeaseHolder(context.Background())
	if err != nil || term != first.lease.Term() || holder != first.name || !live {
		t.Fatalf("lease row: term %d holder %q live %t (%v); want %s's term %d", term, holder, live, err, first.name, first.lease.Term())
	}

	stopped := time.Now()
	loops[first.name].cancel()
	select {
	case err := <-loops[first.name].done:
		loops[first.name].done <- err
		if err != nil {
			t.Errorf("Lead returned %v on stop", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the leader did not stop")
	}
	eventually(t, 10*time.Second, "the other replica to take over", func() bool {
		cur, ok := g.current()
		return ok && cur.name != first.name
	})
	second, _ := g.current()
	// Without the release the takeover would wait for the lease to expire.
	if took := second.start.Sub(stopped); took > ttl/2 {
		t.Errorf("takeover took %s: the stopped leader did not release its lease (TTL %s)", took, ttl)
	}
	if second.lease.Term() != first.lease.Term()+1 {
		t.Errorf("new term %d, want %d", second.lease.Term(), first.lease.Term()+1)
	}
	terms, maxActive := g.snapshot()
	if maxActive != 1 || terms[0].end.After(second.start) {
		t.Errorf("two leaders at once: %+v", terms)
	}
	if v, ok := changes.Load(first.name); !ok || len(*v.(*[]bool)) != 2 || !(*v.(*[]bool))[0] || (*v.(*[]bool))[1] {
		t.Errorf("OnChange of the first leader: %v, want [true false]", v)
	}
}

// TestLeadStopsWhenRenewalsCannotReachTheDatabase: a leader cut off from
// the database stops leading once its local deadline passes, and its lease
// refuses every fenced action from then on, even before the database lets
// another replica take over.
func TestLeadStopsWhenRenewalsCannotReachTheDatabase(t *testing.T) {
	dsn := storetest.New(t)
	proxy := newTCPProxy(t, serverAddr(t, dsn))
	stA := openStore(t, dsnVia(t, dsn, proxy.addr()))
	// Closing a's pool waits for its dials; the proxy must let go of them
	// first.
	t.Cleanup(proxy.close)
	stB := openStore(t, dsn)
	const ttl, renew = 2 * time.Second, 200 * time.Millisecond
	g := &leaderLog{}
	// Whenever a term starts, every other term's lease must already be
	// invalid by its own clock: that is what keeps two leaders from acting
	// at once.
	var (
		mu      sync.Mutex
		overlap []string
	)
	g.onStart = func(name string, _ *pipeline.Lease) {
		terms, _ := g.snapshot()
		mu.Lock()
		defer mu.Unlock()
		for _, o := range terms {
			if o.name != name && o.lease.Valid() {
				overlap = append(overlap, o.name+" still valid when "+name+" started")
			}
		}
	}
	startLead(t, stA, pipeline.LeaderOptions{Holder: "a", TTL: ttl, Renew: renew}, g)
	eventually(t, 10*time.Second, "a to lead", func() bool { _, ok := g.current(); return ok })
	startLead(t, stB, pipeline.LeaderOptions{Holder: "b", TTL: ttl, Renew: renew}, g)
	time.Sleep(5 * renew)
	a, ok := g.current()
	if !ok || a.name != "a" {
		t.Fatalf("leader %+v, want a", a)
	}

	cut := time.Now()
	proxy.partition()
	eventually(t, 15*time.Second, "a to stop leading", func() bool {
		terms, _ := g.snapshot()
		return !terms[0].end.IsZero()
	})
	terms, _ := g.snapshot()
	aTerm := terms[0]
	if aTerm.validAtEnd {
		t.Error("a's term ended while its lease was still valid by its clock")
	}
	if aTerm.cause == nil || !strings.Contains(aTerm.cause.Error(), "leader lease lost") {
		t.Errorf("a's term ended with cause %v, want the lease lost", aTerm.cause)
	}
	if d := aTerm.end.Sub(cut); d < ttl-ttl/4-renew {
		t.Errorf("a stopped %s after the cut, before its lease could have lapsed", d)
	}
	called := false
	err := a.lease.Fenced(context.Background(), func(store.Q) error { called = true; return nil })
	if !errors.Is(err, store.ErrFenced) || called || !strings.Contains(err.Error(), "local deadline") {
		t.Errorf("a's Fenced after it stopped: %v (ran: %t), want refused by its clock", err, called)
	}
	if err := a.lease.Check(context.Background()); !errors.Is(err, store.ErrFenced) {
		t.Errorf("a's Check after it stopped: %v", err)
	}

	eventually(t, 15*time.Second, "b to take over", func() bool {
		cur, ok := g.current()
		return ok && cur.name == "b"
	})
	b, _ := g.current()
	if b.lease.Term() <= a.lease.Term() {
		t.Errorf("b's term %d does not follow a's %d", b.lease.Term(), a.lease.Term())
	}
	mu.Lock()
	if len(overlap) > 0 {
		t.Errorf("terms overlapped: %v", overlap)
	}
	mu.Unlock()
	// Cut off, a never leads again.
	time.Sleep(5 * renew)
	terms, _ = g.snapshot()
	for _, tm := range terms[1:] {
		if tm.name == "a" {
			t.Errorf("a led again while cut off: %+v", tm)
		}
	}
}
