package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"redeemer/chain"
	"redeemer/pipeline"
	"redeemer/store"
)

func wantRecorded(t *testing.T, got []store.Head, want []chain.Head) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("chain_heads holds %d heads, want %d: %+v", len(got), len(want), got)
	}
	for i, h := range want {
		g := got[i]
		if g.Number != h.Number || g.Hash != h.Hash || g.ParentHash != h.ParentHash || g.L1Number != h.L1Number ||
			!g.Time.Equal(time.Unix(int64(h.Time), 0)) {
			t.Errorf("chain_heads row %d = %+v, want head %+v", i, g, h)
		}
	}
}

// TestHeadsFollowerRecordsTipsInWindow: every new tip lands in chain_heads,
// which keeps only the window; a head replaced at the same height replaces
// its row; a node that goes backwards is not followed.
func TestHeadsFollowerRecordsTipsInWindow(t *testing.T) {
	const window = 5
	s := newStage("ontip", nil)
	tm := startTerm(t, pipeline.Config{HeadWindow: window, Stages: []pipeline.Spec{{Stage: s, OnTip: true}}}, nil)
	var all []chain.Head
	for n := uint64(1); n <= 12; n++ {
		h := mkHead(n, 1000+n/3)
		all = append(all, h)
		tm.advance(h)
	}
	want := func(top chain.Head) []chain.Head {
		out := []chain.Head{top}
		for n := top.Number - 1; n >= top.Number-window; n-- {
			out = append(out, all[n-1])
		}
		return out
	}
	eventually(t, 5*time.Second, "head 12 recorded", func() bool { r := tm.recorded(); return len(r) > 0 && r[0].Number == 12 })
	wantRecorded(t, tm.recorded(), want(all[11]))

	// The node replaces head 12 (a reorg at the tip): the new one is the
	// tip and its row replaces the old one.
	fork := mkHead(12, 1004, 1)
	tm.advance(fork)
	wantRecorded(t, tm.recorded(), want(fork))
	eventually(t, 5*time.Second, "the stage to run at the replaced head", func() bool { return s.ranAt(fork) })

	// A node behind (a lagging replica): the tip stays, nothing is
	// recorded, no stage runs, and it is no failure.
	runs := s.count()
	tm.src.set(mkHead(9, 1003, 2))
	readsFrom := time.Now()
	eventually(t, 5*time.Second, "the follower to read the lagging node", func() bool { return tm.src.readsSince(readsFrom) >= 5 })
	if tip, _ := tm.p.Tip(); tip.Hash != fork.Hash {
		t.Errorf("tip %+v after the node went back, want %+v", tip, fork)
	}
	wantRecorded(t, tm.recorded(), want(fork))
	if s.count() != runs {
		t.Error("a stage ran for a head behind the tip")
	}
	if st := tm.p.Status()["heads"]; st.Failures != 0 || st.Done.Hash != fork.Hash {
		t.Errorf("heads status %+v", st)
	}

	// Caught up again: followed.
	h13 := mkHead(13, 1004)
	h13.ParentHash = fork.Hash
	all = append(all[:11], fork, h13)
	tm.advance(h13)
	wantRecorded(t, tm.recorded(), want(h13))
}

// TestHeadsFollowerReadsOncePerPoll: the follower's whole cost is one head
// read per poll interval.
func TestHeadsFollowerReadsOncePerPoll(t *testing.T) {
	const poll = 100 * time.Millisecond
	tm := startTerm(t, pipeline.Config{PollInterval: poll}, nil)
	tm.advance(mkHead(2, 2))
	from := time.Now()
	time.Sleep(time.Second)
	reads := tm.src.readsSince(from)
	if allowed := int(time.Since(from)/poll) + 1; reads > allowed || reads < 3 {
		t.Errorf("%d head reads in %s at one per %s, want at most %d", reads, time.Since(from), poll, allowed)
	}
	// Heads come first in the request budget.
	if p := tm.src.readPriorities(); len(p) != 1 || p[chain.PriorityCritical] == 0 {
		t.Errorf("head reads by priority: %v, want all critical", p)
	}
}

// TestHeadsFollowerSurvivesReadFailures: while head reads fail, stages go
// on at the last tip, reads back off, the failure is logged once and
// reported, and the recovery is logged.
func TestHeadsFollowerSurvivesReadFailures(t *testing.T) {
	const poll = 20 * time.Millisecond
	ticker := newStage("ticker", nil)
	tm := startTerm(t, pipeline.Config{PollInterval: poll,
		Stages: []pipeline.Spec{{Stage: ticker, Every: 30 * time.Millisecond}}}, nil)
	last := mkHead(5, 5)
	tm.advance(last)

	down := time.Now()
	tm.src.fail(errors.New("node is down"))
	runsBefore := ticker.count()
	time.Sleep(800 * time.Millisecond)
	elapsed := time.Since(down)
	runs := ticker.snapshot()[runsBefore:]
	if len(runs) < 5 {
		t.Errorf("%d stage runs in %s of failing head reads, want the stage to go on", len(runs), elapsed)
	}
	for _, r := range runs {
		if r.tip.Hash != last.Hash {
			t.Errorf("a run during the failure worked at %+v, want the last tip %d", r.tip, last.Number)
		}
	}
	// Reads back off: from the poll interval, doubling to ten times it.
	reads := tm.src.readsSince(down)
	if allowed := maxRuns(chain.Backoff{Min: poll, Max: 10 * poll}, elapsed) + 1; reads > allowed || reads < 3 {
		t.Errorf("%d head reads in %s of failure, want between 3 and %d", reads, elapsed, allowed)
	}
	st := tm.p.Status()["heads"]
	if st.Failures < 3 || !strings.Contains(st.LastErr, "node is down") || st.Done.Hash != last.Hash {
		t.Errorf("heads status during the failure: %+v", st)
	}
	// The observer hears of a failure just before the status shows it.
	if _, failed := tm.obs.runs("heads"); failed != st.Failures && failed != st.Failures+1 {
		t.Errorf("observer heard %d failed head reads, status says %d", failed, st.Failures)
	}
	if n := tm.logs.count("head reads failing; the stages go on at the last head", "node is down"); n != 1 {
		t.Errorf("failure logged %d times, want once for %d failures", n, st.Failures)
	}

	next := mkHead(6, 6)
	tm.advance(next)
	eventually(t, 5*time.Second, "the stage to work at the new tip", func() bool { return ticker.ranAt(next) })
	if st := tm.p.Status()["heads"]; st.Failures != 0 || st.LastErr != "" || st.Done.Hash != next.Hash {
		t.Errorf("heads status after recovery: %+v", st)
	}
	eventually(t, 5*time.Second, "the recovery logged", func() bool { return tm.logs.count("head reads recovered") == 1 })
}

// TestHeadsFollowerUsesPushedHeads: with a subscription, pushed heads are
// followed and recorded without reading the node.
func TestHeadsFollowerUsesPushedHeads(t *testing.T) {
	push := make(chan chain.Head)
	subscribed := make(chan struct{}, 1)
	sub := func(ctx context.Context, out chan<- chain.Head) (<-chan error, error) {
		done := make(chan error, 1)
		go func() {
			for {
				select {
				case <-ctx.Done():
					done <- nil
					return
				case h := <-push:
					select {
					case out <- h:
					case <-ctx.Done():
					}
				}
			}
		}()
		subscribed <- struct{}{}
		return done, nil
	}
	s := newStage("ontip", nil)
	// Polling every 10 × 1s: within the test only the first read happens.
	tm := startTerm(t, pipeline.Config{PollInterval: time.Second, Subscribe: sub,
		Stages: []pipeline.Spec{{Stage: s, OnTip: true}}}, nil)
	eventually(t, 5*time.Second, "the first head", func() bool { _, ok := tm.p.Tip(); return ok })
	select {
	case <-subscribed:
	case <-time.After(5 * time.Second):
		t.Fatal("the pipeline did not subscribe")
	}
	reads := tm.src.readsSince(time.Time{})
	for n := uint64(2); n <= 6; n++ {
		h := mkHead(n, n)
		select {
		case push <- h:
		case <-time.After(5 * time.Second):
			t.Fatalf("nobody took pushed head %d", n)
		}
		eventually(t, 5*time.Second, fmt.Sprintf("pushed head %d followed", n), func() bool {
			tip, _ := tm.p.Tip()
			return tip.Hash == h.Hash
		})
		eventually(t, 5*time.Second, fmt.Sprintf("the stage to run at pushed head %d", n), func() bool { return s.ranAt(h) })
	}
	if r := tm.src.readsSince(time.Time{}); r != reads || r > 1 {
		t.Errorf("%d head reads, %d before the pushes: pushed heads must cost no read", r, reads)
	}
	rec := tm.recorded()
	if len(rec) != 6 || rec[0].Number != 6 {
		t.Errorf("chain_heads %+v, want heads 1 to 6", rec)
	}
	if tm.obs.headCount() != 6 {
		t.Errorf("observer heard %d heads, want 6", tm.obs.headCount())
	}
}
