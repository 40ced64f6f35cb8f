package ratelog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder keeps every record written through it, as "LEVEL msg k=v ...".
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	parts := []string{rec.Level.String(), rec.Message}
	rec.Attrs(func(a slog.Attr) bool {
		parts = append(parts, a.Key+"="+a.Value.String())
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, strings.Join(parts, " "))
	return nil
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.lines
	r.lines = nil
	return out
}

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func expectLines(t *testing.T, step string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s: lines\n%s\nwant\n%s", step, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLimiterFirstThenOnePerIntervalWithCount(t *testing.T) {
	ctx := context.Background()
	rec, c := &recorder{}, newClock()
	l := NewLimiter(slog.New(rec), time.Minute)
	l.now = c.now

	if !l.Log(ctx, slog.LevelInfo, "sig", "ticket refused", "n", 1) {
		t.Fatal("first occurrence held back")
	}
	for i := 2; i <= 5; i++ {
		c.advance(10 * time.Second)
		if l.Log(ctx, slog.LevelInfo, "sig", "ticket refused", "n", i) {
			t.Fatalf("occurrence %d within the interval written", i)
		}
	}
	// Another key has its own interval.
	if !l.Log(ctx, slog.LevelWarn, "winning", "ticket refused", "n", 0) {
		t.Fatal("first occurrence of a second key held back")
	}
	expectLines(t, "first minute", rec.take(), "INFO ticket refused n=1", "WARN ticket refused n=0")

	c.advance(20 * time.Second) // 60s after the first line of "sig"
	if !l.Log(ctx, slog.LevelInfo, "sig", "ticket refused", "n", 6) {
		t.Fatal("occurrence after the interval held back")
	}
	expectLines(t, "after the interval", rec.take(), "INFO ticket refused n=6 suppressed=4")

	c.advance(time.Minute)
	l.Log(ctx, slog.LevelInfo, "sig", "ticket refused", "n", 7)
	expectLines(t, "nothing held back", rec.take(), "INFO ticket refused n=7")
}

// A key that stops recurring still gets its count written, by the next
// call for any key once its interval has passed.
func TestLimiterReportsCountOfAKeyThatWentQuiet(t *testing.T) {
	ctx := context.Background()
	rec, c := &recorder{}, newClock()
	l := NewLimiter(slog.New(rec), time.Minute)
	l.now = c.now

	l.Log(ctx, slog.LevelWarn, "a", "stage failed", "stage", "claims", "try", 1)
	c.advance(time.Second)
	l.Log(ctx, slog.LevelWarn, "a", "stage failed", "stage", "claims", "try", 2)
	l.Log(ctx, slog.LevelWarn, "a", "stage failed", "stage", "claims", "try", 3)
	rec.take()

	c.advance(2 * time.Minute)
	l.Log(ctx, slog.LevelInfo, "b", "other event")
	got := rec.take()
	sort.Strings(got)
	expectLines(t, "sweep", got, "INFO other event", "WARN stage failed stage=claims try=3 suppressed=2")

	// The count's line opened a new interval for "a".
	if l.Log(ctx, slog.LevelWarn, "a", "stage failed", "try", 4) {
		t.Error("a line right after the swept count was written: two lines within one interval")
	}
}

func TestLimiterFlushWritesPendingCounts(t *testing.T) {
	ctx := context.Background()
	rec, c := &recorder{}, newClock()
	l := NewLimiter(slog.New(rec), time.Hour)
	l.now = c.now
	for i := range 3 {
		l.Log(ctx, slog.LevelInfo, "k", "refused", "i", i)
	}
	l.Log(ctx, slog.LevelInfo, "lone", "refused once")
	rec.take()
	l.Flush(ctx)
	expectLines(t, "flush", rec.take(), "INFO refused i=2 suppressed=2")
	l.Flush(ctx)
	expectLines(t, "second flush", rec.take())
}

func TestLimiterForgetsQuietKeys(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l := NewLimiter(slog.New(&recorder{}), time.Minute)
	l.now = c.now
	for i := range 100 {
		l.Log(ctx, slog.LevelInfo, fmt.Sprint("sender-", i), "refused")
	}
	c.advance(time.Minute)
	l.Log(ctx, slog.LevelInfo, "new", "refused")
	l.mu.Lock()
	n := len(l.keys)
	l.mu.Unlock()
	if n != 1 {
		t.Errorf("%d keys remembered after the others were quiet for an interval, want 1", n)
	}
}

func TestLimiterWithoutIntervalWritesEverything(t *testing.T) {
	rec := &recorder{}
	l := NewLimiter(slog.New(rec), 0)
	for range 3 {
		if !l.Log(context.Background(), slog.LevelInfo, "k", "line") {
			t.Fatal("held back without an interval")
		}
	}
	if n := len(rec.take()); n != 3 {
		t.Errorf("%d lines, want 3", n)
	}
}

func TestLimiterConcurrentCallsCountEveryOccurrence(t *testing.T) {
	rec, c := &recorder{}, newClock()
	l := NewLimiter(slog.New(rec), time.Minute)
	l.now = c.now
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				l.Log(context.Background(), slog.LevelInfo, "k", "refused")
			}
		})
	}
	wg.Wait()
	l.Flush(context.Background())
	expectLines(t, "concurrent", rec.take(), "INFO refused", "INFO refused suppressed=799")
}

func TestStateLogsChangesWithReportsInBetween(t *testing.T) {
	ctx := context.Background()
	rec, c := &recorder{}, newClock()
	s := NewState(slog.New(rec), 0)
	s.now = c.now
	boom := errors.New("node timeout")

	if s.OK(ctx, "claims stage recovered") {
		t.Error("a first ok report was written")
	}
	for range 3 {
		c.advance(time.Second)
		s.OK(ctx, "claims stage recovered")
	}
	c.advance(time.Second)
	if !s.Fail(ctx, boom, "claims stage failing", "stage", "claims") {
		t.Fatal("ok → failing not written")
	}
	for range 9 {
		c.advance(500 * time.Millisecond)
		if s.Fail(ctx, boom, "claims stage failing", "stage", "claims") {
			t.Fatal("a repeated failure was written without reminders")
		}
	}
	c.advance(500 * time.Millisecond)
	if !s.OK(ctx, "claims stage recovered", "stage", "claims") {
		t.Fatal("failing → ok not written")
	}
	expectLines(t, "changes", rec.take(),
		"WARN claims stage failing stage=claims err=node timeout previous=ok reports=4 lasted=4s",
		"INFO claims stage recovered stage=claims previous=failing reports=10 lasted=5s")
}

func TestStateRemindsWhileNotOK(t *testing.T) {
	ctx := context.Background()
	rec, c := &recorder{}, newClock()
	s := NewState(slog.New(rec), time.Minute)
	s.now = c.now
	boom := errors.New("database unavailable")

	if !s.Fail(ctx, boom, "head stage failing") {
		t.Fatal("a first failing report was not written")
	}
	for range 11 {
		c.advance(6 * time.Second)
		s.Fail(ctx, boom, "head stage failing")
	}
	c.advance(6 * time.Second)
	s.Report(ctx, slog.LevelInfo, "waiting", "head stage waiting for round", "round", 7)
	for range 20 {
		c.advance(10 * time.Second)
		s.OK(ctx, "head stage ok")
	}
	expectLines(t, "reminders", rec.take(),
		"WARN head stage failing err=database unavailable",
		"WARN head stage failing err=database unavailable repeats=10 for=1m0s",
		"INFO head stage waiting for round round=7 previous=failing reports=12 lasted=1m12s",
		"INFO head stage ok previous=waiting reports=1 lasted=10s")
}
