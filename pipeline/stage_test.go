package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"redeemer/chain"
	"redeemer/pipeline"
	"redeemer/store"
)

var errBroken = errors.New("stage broken on purpose")

// TestFailingStageIsolated: a stage that always fails retries on its own
// backoff, not once per head, while another stage runs on every new tip and
// the heads follower keeps the tip current.
func TestFailingStageIsolated(t *testing.T) {
	var healthy atomic.Bool
	backoff := chain.Backoff{Min: 150 * time.Millisecond, Max: 2 * time.Second}
	bad := newStage("bad", func(context.Context, pipeline.Run, int) (pipeline.Result, error) {
		if healthy.Load() {
			return pipeline.Result{}, nil
		}
		return pipeline.Result{}, fmt.Errorf("bad stage: %w", errBroken)
	})
	good := newStage("good", nil)
	tm := startTerm(t, pipeline.Config{Stages: []pipeline.Spec{
		{Stage: bad, OnTip: true, Backoff: backoff},
		{Stage: good, OnTip: true},
	}}, nil)

	eventually(t, 10*time.Second, "the good stage to run at head 1", func() bool { return good.ranAt(mkHead(1, 1)) })
	const last = 40
	for n := uint64(2); n <= last; n++ {
		h := mkHead(n, n)
		tm.advance(h)
		eventually(t, 10*time.Second, fmt.Sprintf("the good stage to run at head %d", n), func() bool { return good.ranAt(h) })
		time.Sleep(15 * time.Millisecond)
	}
	elapsed := time.Since(tm.start)
	runs := bad.snapshot()

	// The good stage ran once per tip, every tip.
	for n := uint64(1); n <= last; n++ {
		if !good.ranAt(mkHead(n, n)) {
			t.Errorf("good stage never ran at head %d", n)
		}
	}
	if rec := tm.recorded(); len(rec) == 0 || rec[0].Number != last {
		t.Errorf("chain_heads tip %+v, want head %d", rec, last)
	}
	// The bad one retried, at its backoff.
	if len(runs) < 2 {
		t.Fatalf("bad stage ran %d times in %s: no retry", len(runs), elapsed)
	}
	if allowed := maxRuns(backoff, elapsed); len(runs) > allowed {
		t.Errorf("bad stage ran %d times in %s; its backoff allows %d", len(runs), elapsed, allowed)
	}
	if len(runs) >= last/2 {
		t.Errorf("bad stage ran %d times for %d heads: retried per head, not per backoff", len(runs), last)
	}
	for i := 1; i < len(runs); i++ {
		if gap, want := runs[i].start.Sub(runs[i-1].start), backoff.Delay(i); gap < want-2*time.Millisecond {
			t.Errorf("retry %d came %s after the previous run, before its backoff of %s", i, gap, want)
		}
	}
	st := tm.p.Status()
	if st["bad"].Failures != len(runs) || !strings.Contains(st["bad"].LastErr, errBroken.Error()) {
		t.Errorf("bad stage status %+v after %d failed runs", st["bad"], len(runs))
	}
	if st["good"].Done.Number != last || st["good"].Failures != 0 || st["heads"].Done.Number != last {
		t.Errorf("status %+v, want good and heads done at %d", st, last)
	}
	if n := tm.logs.count("stage failing; it retries its own work, the others go on", "stage=bad"); n != 1 {
		t.Errorf("logged the failure %d times, want once when it started", n)
	}

	// Once it works again it runs, reports so, and catches up to the tip.
	healthy.Store(true)
	eventually(t, 10*time.Second, "the bad stage to recover", func() bool { return bad.ranAt(mkHead(last, last)) })
	eventually(t, 5*time.Second, "the recovery in the status", func() bool {
		s := tm.p.Status()["bad"]
		return s.Failures == 0 && s.Done.Number == last
	})
	if tm.logs.count("stage recovered", "stage=bad") != 1 {
		t.Error("recovery not logged")
	}
}

// TestHungStageCancelledAndRetried: a run that outlasts its Timeout is
// cancelled, counted as a failure and retried; the other stage goes on.
func TestHungStageCancelledAndRetried(t *testing.T) {
	const timeout = 100 * time.Millisecond
	backoff := chain.Backoff{Min: 50 * time.Millisecond, Max: 50 * time.Millisecond}
	hung := newStage("hung", func(ctx context.Context, _ pipeline.Run, _ int) (pipeline.Result, error) {
		<-ctx.Done()
		return pipeline.Result{}, ctx.Err()
	})
	good := newStage("good", nil)
	tm := startTerm(t, pipeline.Config{Stages: []pipeline.Spec{
		{Stage: hung, OnTip: true, Timeout: timeout, Backoff: backoff},
		{Stage: good, OnTip: true},
	}}, nil)

	for n := uint64(2); n <= 20; n++ {
		h := mkHead(n, n)
		tm.advance(h)
		eventually(t, 10*time.Second, fmt.Sprintf("the good stage to run at head %d", n), func() bool { return good.ranAt(h) })
		time.Sleep(20 * time.Millisecond)
	}
	eventually(t, 10*time.Second, "the hung stage to be retried", func() bool {
		runs := hung.snapshot()
		return len(runs) >= 3 && !runs[2].end.IsZero()
	})
	runs := hung.snapshot()
	for i, r := range runs {
		if r.end.IsZero() {
			continue
		}
		if !errors.Is(r.err, context.DeadlineExceeded) || r.end.Sub(r.start) < timeout-2*time.Millisecond {
			t.Errorf("run %d ended after %s with %v, want cancelled at its %s timeout", i, r.end.Sub(r.start), r.err, timeout)
		}
		if i > 0 {
			if gap := r.start.Sub(runs[i-1].start); gap < timeout+backoff.Min-2*time.Millisecond {
				t.Errorf("run %d started %s after the previous one, before its timeout and backoff", i, gap)
			}
		}
	}
	if s := tm.p.Status()["hung"]; s.Failures < 2 || !strings.Contains(s.LastErr, "deadline exceeded") {
		t.Errorf("hung stage status %+v", s)
	}
}

// TestOnTipRunsAgainForTipThatCameDuringRun: a head that arrives while an
// OnTip stage is running makes it run again when it is done, even if no
// further head comes.
func TestOnTipRunsAgainForTipThatCameDuringRun(t *testing.T) {
	started := make(chan chain.Head, 10)
	slow := newStage("slow", func(_ context.Context, r pipeline.Run, _ int) (pipeline.Result, error) {
		started <- r.Tip
		time.Sleep(150 * time.Millisecond)
		return pipeline.Result{}, nil
	})
	tm := startTerm(t, pipeline.Config{Stages: []pipeline.Spec{{Stage: slow, OnTip: true}}}, nil)
	next := func() chain.Head {
		select {
		case tip := <-started:
			return tip
		case <-time.After(5 * time.Second):
			t.Fatalf("no run within 5s; runs so far: %+v", slow.snapshot())
			return chain.Head{}
		}
	}
	if tip := next(); tip.Number != 1 {
		t.Fatalf("first run at head %d, want 1", tip.Number)
	}
	// Head 2 arrives while the run at head 1 is still going.
	tm.advance(mkHead(2, 2))
	if tip := next(); tip.Number != 2 {
		t.Fatalf("second run at head %d, want 2", tip.Number)
	}
	eventually(t, 5*time.Second, "the run at head 2 to end", func() bool { return slow.ranAt(mkHead(2, 2)) })
	// Head 3 after the run: the usual case.
	tm.advance(mkHead(3, 3))
	if tip := next(); tip.Number != 3 {
		t.Fatalf("third run at head %d, want 3", tip.Number)
	}
}

// TestOnL1RunsOnlyWhenTheL1NumberChanges feeds heads whose L1 number
// advances once every four L2 heads.
func TestOnL1RunsOnlyWhenTheL1NumberChanges(t *testing.T) {
	l1 := newStage("l1", nil)
	probe := newStage("probe", nil)
	tm := startTerm(t, pipeline.Config{Stages: []pipeline.Spec{
		{Stage: l1, OnL1: true},
		{Stage: probe, OnTip: true},
	}}, &heads{cur: mkHead(1, 100)})
	l1Of := func(n uint64) uint64 { return 100 + n/4 }
	eventually(t, 10*time.Second, "the first runs at head 1", func() bool {
		return probe.ranAt(mkHead(1, 100)) && l1.ranAt(mkHead(1, 100))
	})
	const last = 26
	for n := uint64(2); n <= last; n++ {
		h := mkHead(n, l1Of(n))
		tm.advance(h)
		eventually(t, 10*time.Second, fmt.Sprintf("the probe to run at head %d", n), func() bool { return probe.ranAt(h) })
		if l1Of(n) != l1Of(n-1) {
			eventually(t, 10*time.Second, fmt.Sprintf("the L1 stage to run at L1 %d", l1Of(n)), func() bool { return l1.ranAt(h) })
		}
	}
	time.Sleep(100 * time.Millisecond) // room for a run that should not come
	runs := l1.snapshot()
	want := int(l1Of(last)-l1Of(1)) + 1
	if len(runs) != want {
		t.Errorf("L1 stage ran %d times over %d L2 heads spanning %d L1 numbers", len(runs), last, want)
	}
	for i, r := range runs {
		if r.tip.L1Number != l1Of(1)+uint64(i) {
			t.Errorf("run %d at L2 %d, L1 %d; want the first head of L1 %d", i, r.tip.Number, r.tip.L1Number, l1Of(1)+uint64(i))
		}
		if r.first != (i == 0) {
			t.Errorf("run %d: First = %t", i, r.first)
		}
	}
	if probe.count() != last {
		t.Errorf("the OnTip probe ran %d times for %d heads", probe.count(), last)
	}
}

// TestOnTipMinInterval: heads every few milliseconds, a stage that wants
// at most one run per interval: runs are spaced by it, and the last head
// still gets its run.
func TestOnTipMinInterval(t *testing.T) {
	const interval = 250 * time.Millisecond
	s := newStage("spaced", nil)
	tm := startTerm(t, pipeline.Config{Stages: []pipeline.Spec{{Stage: s, OnTip: true, MinInterval: interval}}}, nil)
	var n uint64 = 1
	for time.Since(tm.start) < 1200*time.Millisecond {
		n++
		tm.src.set(mkHead(n, n))
		time.Sleep(5 * time.Millisecond)
	}
	lastHead := mkHead(n, n)
	eventually(t, 5*time.Second, "a run at the last head", func() bool { return s.ranAt(lastHead) })
	runs := s.snapshot()
	if len(runs) < 3 {
		t.Fatalf("%d runs over %d heads in %s, want one per %s", len(runs), n, time.Since(tm.start), interval)
	}
	for i := 1; i < len(runs); i++ {
		if gap := runs[i].start.Sub(runs[i-1].start); gap < interval-2*time.Millisecond {
			t.Errorf("run %d came %s after the previous one, within the minimum interval %s", i, gap, interval)
		}
	}
	if uint64(len(runs)) >= n/4 {
		t.Errorf("%d runs for %d heads: the interval did not space them", len(runs), n)
	}
}

// TestWakeSignal: a stage with no other trigger runs when its signal fires,
// once for fires that came while it was busy, and not on heads.
func TestWakeSignal(t *testing.T) {
	sig := pipeline.NewSignal()
	busy := make(chan struct{})
	s := newStage("woken", func(_ context.Context, _ pipeline.Run, n int) (pipeline.Result, error) {
		if n == 1 {
			close(busy)
			time.Sleep(300 * time.Millisecond)
		}
		return pipeline.Result{}, nil
	})
	tm := startTerm(t, pipeline.Config{Stages: []pipeline.Spec{{Stage: s, Wake: []*pipeline.Signal{sig}}}}, nil)
	eventually(t, 5*time.Second, "the first run", func() bool { return s.count() == 1 })
	for n := uint64(2); n <= 5; n++ {
		tm.advance(mkHead(n, n))
	}
	time.Sleep(100 * time.Millisecond)
	if c := s.count(); c != 1 {
		t.Fatalf("%d runs without a fire: heads must not wake it", c)
	}
	sig.Fire()
	select {
	case <-busy:
	case <-time.After(5 * time.Second):
		t.Fatal("the fired signal did not run the stage")
	}
	for range 5 {
		sig.Fire() // while the second run is busy: one more run for all of them
	}
	eventually(t, 5*time.Second, "the run for the fires during the busy one", func() bool { return s.count() == 3 })
	time.Sleep(250 * time.Millisecond)
	if c := s.count(); c != 3 {
		t.Errorf("%d runs, want 3: fires during a run coalesce into one", c)
	}
	// A nil signal never fires, and firing it is harmless.
	var none *pipeline.Signal
	none.Fire()
}

// TestAgainRerunsAtOnce: a run that stops at its budget with work left
// gets the next run right away, with no head and no timer.
func TestAgainRerunsAtOnce(t *testing.T) {
	var wrongPriority atomic.Int32
	s := newStage("batches", func(ctx context.Context, _ pipeline.Run, n int) (pipeline.Result, error) {
		if chain.PriorityOf(ctx) != chain.PriorityBackground {
			wrongPriority.Add(1)
		}
		return pipeline.Result{Again: n < 3}, nil
	})
	tm := startTerm(t, pipeline.Config{Stages: []pipeline.Spec{
		{Stage: s, Every: time.Hour, Priority: chain.PriorityBackground}}}, nil)
	eventually(t, 5*time.Second, "four runs", func() bool { return s.count() == 4 })
	time.Sleep(200 * time.Millisecond)
	runs := s.snapshot()
	if len(runs) != 4 {
		t.Fatalf("%d runs, want 4: three asked for another, the fourth did not", len(runs))
	}
	for i, r := range runs {
		if r.tip.Number != 1 || r.first != (i == 0) {
			t.Errorf("run %d at head %d, First %t", i, r.tip.Number, r.first)
		}
	}
	// The stage's node calls wait in its place in the request budget.
	if n := wrongPriority.Load(); n != 0 {
		t.Errorf("%d runs without the stage's priority", n)
	}
	if ok, failed := tm.obs.runs("batches"); ok != 4 || failed != 0 {
		t.Errorf("observer heard %d good and %d failed runs, want 4 and 0", ok, failed)
	}
}

// TestWakeAtAndEvery: a run that asks for a wake-up at a time gets one
// then and not before; a stage with Every runs that often.
func TestWakeAtAndEvery(t *testing.T) {
	const later = 300 * time.Millisecond
	var wakeAt atomic.Value
	timed := newStage("timed", func(_ context.Context, _ pipeline.Run, n int) (pipeline.Result, error) {
		if n == 0 {
			at := time.Now().Add(later)
			wakeAt.Store(at)
			return pipeline.Result{WakeAt: at}, nil
		}
		return pipeline.Result{}, nil
	})
	const every = 120 * time.Millisecond
	periodic := newStage("periodic", nil)
	startTerm(t, pipeline.Config{Stages: []pipeline.Spec{
		{Stage: timed},
		{Stage: periodic, Every: every},
	}}, nil)
	eventually(t, 5*time.Second, "the run asked for", func() bool { return timed.count() == 2 })
	runs := timed.snapshot()
	if at := wakeAt.Load().(time.Time); runs[1].start.Before(at) {
		t.Errorf("second run at %s, before the time asked for %s", runs[1].start, at)
	}
	eventually(t, 5*time.Second, "four periodic runs", func() bool { return periodic.count() >= 4 })
	time.Sleep(later + 100*time.Millisecond)
	if c := timed.count(); c != 2 {
		t.Errorf("%d runs of the timed stage, want 2: nothing asked for a third", c)
	}
	p := periodic.snapshot()
	for i := 1; i < len(p); i++ {
		if gap := p[i].start.Sub(p[i-1].start); gap < every-2*time.Millisecond {
			t.Errorf("periodic run %d came %s after the previous one, want %s", i, gap, every)
		}
	}
}

// TestFencedStageEndsTerm: a stage whose write is fenced ends the term:
// RunTerm returns ErrFenced and no stage runs after.
func TestFencedStageEndsTerm(t *testing.T) {
	fenced := newStage("fenced", func(_ context.Context, _ pipeline.Run, n int) (pipeline.Result, error) {
		if n == 1 {
			return pipeline.Result{}, fmt.Errorf("write: %w", store.ErrFenced)
		}
		return pipeline.Result{}, nil
	})
	other := newStage("other", nil)
	tm := startTerm(t, pipeline.Config{Stages: []pipeline.Spec{
		{Stage: fenced, OnTip: true},
		{Stage: other, OnTip: true, Every: 10 * time.Millisecond},
	}}, nil)
	eventually(t, 5*time.Second, "the first runs", func() bool { return fenced.count() == 1 && other.count() > 0 })
	tm.src.set(mkHead(2, 2))
	select {
	case err := <-tm.done:
		tm.done <- err
		if !errors.Is(err, store.ErrFenced) {
			t.Fatalf("RunTerm returned %v, want ErrFenced", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunTerm went on after a fenced write")
	}
	n := other.count()
	time.Sleep(100 * time.Millisecond)
	if other.count() != n {
		t.Error("a stage ran after the term ended")
	}
}

// TestTakenOverTermEnds: when another replica takes the lease in the
// database, the old term's next fenced write fails and ends its term; the
// tip it saw is not recorded.
func TestTakenOverTermEnds(t *testing.T) {
	writes := newStage("writes", func(ctx context.Context, r pipeline.Run, _ int) (pipeline.Result, error) {
		return pipeline.Result{}, r.Lease.Fenced(ctx, func(q store.Q) error { return nil })
	})
	tm := startTerm(t, pipeline.Config{Stages: []pipeline.Spec{{Stage: writes, OnTip: true}}}, nil)
	tm.advance(mkHead(2, 2))
	if err := tm.st.ReleaseLease(tm.ctx, tm.lease.Term()); err != nil {
		t.Fatal(err)
	}
	other, err := tm.st.AcquireLease(tm.ctx, "other replica", time.Hour)
	if err != nil || other == nil || other.Term <= tm.lease.Term() {
		t.Fatalf("take over: %+v, %v", other, err)
	}
	tm.src.set(mkHead(3, 3))
	select {
	case err := <-tm.done:
		tm.done <- err
		if !errors.Is(err, store.ErrFenced) {
			t.Fatalf("RunTerm returned %v, want ErrFenced", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the old term went on after another replica took the lease")
	}
	for _, h := range tm.recorded() {
		if h.Number == 3 {
			t.Error("the old term recorded a tip after losing its lease")
		}
	}
	if err := tm.lease.Check(tm.ctx); !errors.Is(err, store.ErrFenced) {
		t.Errorf("Check of the old term: %v, want ErrFenced", err)
	}
}

// TestRecoverRunsFirstAndIsRetried: the term's recovery runs before any
// stage and is retried until it succeeds.
func TestRecoverRunsFirstAndIsRetried(t *testing.T) {
	var tries atomic.Int32
	var recovered atomic.Bool
	s := newStage("after", func(context.Context, pipeline.Run, int) (pipeline.Result, error) {
		if !recovered.Load() {
			return pipeline.Result{}, errors.New("ran before recovery")
		}
		return pipeline.Result{}, nil
	})
	startTerm(t, pipeline.Config{
		Recover: func(ctx context.Context, l *pipeline.Lease) error {
			if tries.Add(1) == 1 {
				return errors.New("database still starting")
			}
			return l.Fenced(ctx, func(store.Q) error {
				recovered.Store(true)
				return nil
			})
		},
		Stages: []pipeline.Spec{{Stage: s, OnTip: true}},
	}, nil)
	eventually(t, 10*time.Second, "the stage's first run", func() bool { return s.count() > 0 })
	if tries.Load() != 2 {
		t.Errorf("recovery tried %d times, want 2", tries.Load())
	}
	if r := s.snapshot()[0]; r.err != nil {
		t.Errorf("first run: %v", r.err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	if _, err := pipeline.New(pipeline.Config{}); err == nil {
		t.Error("a pipeline without store and head source was accepted")
	}
	st := &store.Store{}
	for name, stages := range map[string][]pipeline.Spec{
		"missing stage": {{}},
		"named twice":   {{Stage: newStage("a", nil)}, {Stage: newStage("a", nil)}},
		"named heads":   {{Stage: newStage("heads", nil)}},
	} {
		if _, err := pipeline.New(pipeline.Config{Store: st, Heads: &heads{}, Stages: stages}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestOwedAllowsTheStagesPace: a stage paced to run at most every interval
// owes the tip seen an interval ago, so on schedule it is never more than
// one run's worth of heads behind what it owes, though it trails the tip by
// its pace; a stage that stops completing runs falls ever further behind
// what it owes.
func TestOwedAllowsTheStagesPace(t *testing.T) {
	const interval = 300 * time.Millisecond
	paced := newStage("paced", nil)
	var stuck atomic.Bool
	stalls := newStage("stalls", func(ctx context.Context, _ pipeline.Run, _ int) (pipeline.Result, error) {
		if stuck.Load() {
			<-ctx.Done()
			return pipeline.Result{}, ctx.Err()
		}
		return pipeline.Result{}, nil
	})
	tm := startTerm(t, pipeline.Config{PollInterval: 5 * time.Millisecond, Stages: []pipeline.Spec{
		{Stage: paced, OnTip: true, MinInterval: interval},
		{Stage: stalls, OnTip: true, Timeout: time.Minute},
	}}, nil)
	if _, ok := tm.p.Owed("unknown", time.Now()); ok {
		t.Error("an unknown stage owes a head")
	}
	behind := func(stage string) (owed, done uint64) {
		o, ok := tm.p.Owed(stage, time.Now())
		if !ok {
			return 0, 0
		}
		return o.Number, tm.p.Status()[stage].Done.Number
	}
	var n uint64 = 1
	var worstPaced, trailPaced uint64
	for time.Since(tm.start) < 2*time.Second {
		n++
		tm.src.set(mkHead(n, n))
		time.Sleep(10 * time.Millisecond)
		if n == 100 {
			stuck.Store(true)
		}
		if owed, done := behind("paced"); owed > done {
			worstPaced = max(worstPaced, owed-done)
		}
		if tip, ok := tm.p.Tip(); ok {
			trailPaced = max(trailPaced, tip.Number-tm.p.Status()["paced"].Done.Number)
		}
	}
	// Heads come every ~10 ms: an interval is ~30 of them; a run's worth
	// of lateness is a few.
	if trailPaced < 15 {
		t.Errorf("the paced stage trailed the tip by at most %d heads; the test expects its pace to show", trailPaced)
	}
	if worstPaced > 15 {
		t.Errorf("the paced stage was %d heads behind what it owes, want a few at most (it trailed the tip by %d)", worstPaced, trailPaced)
	}
	owed, done := behind("stalls")
	if owed < done+50 {
		t.Errorf("a stage stuck since head ~100 owes %d and has done %d: its lag must show", owed, done)
	}
}
