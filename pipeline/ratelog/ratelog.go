// Package ratelog keeps repetitive log lines readable: a Limiter lets a
// recurring event (a refused caller, a failing call) through once per
// interval with the number of occurrences it held back, and a State logs a
// condition (a pipeline stage, a connection) only when it changes, with how
// often the previous state was reported.
//
// Both write through the *slog.Logger they are given, so every line goes to
// the handler the command configured. It lives under pipeline, whose stage
// and head failures are its main users; it imports nothing of the project,
// so intake's refusals use it too.
package ratelog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Attribute keys the helpers add to the lines they let through.
const (
	// KeySuppressed is the number of occurrences of the same key held back
	// since the previous line.
	KeySuppressed = "suppressed"
	// KeyPrevious is the state that just ended, KeyReports how many times it
	// was reported, and KeyLasted how long it held.
	KeyPrevious = "previous"
	KeyReports  = "reports"
	KeyLasted   = "lasted"
	// KeyRepeats is, on a reminder, the number of reports of the unchanged
	// state since the previous line, and KeyFor how long it has held.
	KeyRepeats = "repeats"
	KeyFor     = "for"
)

// Limiter lets one line per key through per interval. The first
// occurrence of a key is logged at once; later ones within the interval are
// counted, and the next line for that key carries the count as
// KeySuppressed. A key whose count is pending when its interval has passed
// is reported by the next call of Log for any key, or by Flush, so counts
// are not lost when an event stops recurring.
//
// Keys are what the caller wants counted apart, such as a rule name or a
// stage; their number should be bounded, since each key with a recent line
// is remembered for one interval.
type Limiter struct {
	log      *slog.Logger
	interval time.Duration
	now      func() time.Time

	mu        sync.Mutex
	keys      map[string]*limited
	lastSweep time.Time
}

type limited struct {
	logged     time.Time // when the last line for this key was written
	suppressed int
	// The most recent held-back occurrence, written when its count is
	// reported by a sweep.
	level slog.Level
	msg   string
	args  []any
}

// NewLimiter returns a Limiter writing to log; an interval ≤ 0 lets every
// line through.
func NewLimiter(log *slog.Logger, interval time.Duration) *Limiter {
	return &Limiter{log: log, interval: interval, now: time.Now, keys: map[string]*limited{}}
}

// Log writes msg with args at level unless a line for key was written less
// than an interval ago; it reports whether it wrote.
func (l *Limiter) Log(ctx context.Context, level slog.Level, key, msg string, args ...any) bool {
	if l.interval <= 0 {
		l.log.Log(ctx, level, msg, args...)
		return true
	}
	l.mu.Lock()
	now := l.now()
	pending := l.sweepLocked(now, key)
	e, ok := l.keys[key]
	write := !ok || now.Sub(e.logged) >= l.interval
	var suppressed int
	if write {
		if ok {
			suppressed = e.suppressed
		}
		l.keys[key] = &limited{logged: now}
	} else {
		e.suppressed++
		e.level, e.msg, e.args = level, msg, args
	}
	l.mu.Unlock()

	for _, p := range pending {
		l.write(ctx, p.level, p.msg, p.args, p.suppressed)
	}
	if write {
		l.write(ctx, level, msg, args, suppressed)
	}
	return write
}

// Flush writes every pending count now, whether or not its interval has
// passed: a stopping process calls it so its last counts are not lost.
func (l *Limiter) Flush(ctx context.Context) {
	l.mu.Lock()
	now := l.now()
	var pending []limited
	for key, e := range l.keys {
		if e.suppressed > 0 {
			pending = append(pending, *e)
			l.keys[key] = &limited{logged: now}
		}
	}
	l.mu.Unlock()
	for _, p := range pending {
		l.write(ctx, p.level, p.msg, p.args, p.suppressed)
	}
}

// sweepLocked, at most once per interval, forgets keys that have been
// quiet for an interval and takes out the pending counts of keys whose
// interval has passed, so they can be written outside the lock. skip is
// the key the caller is about to handle itself.
func (l *Limiter) sweepLocked(now time.Time, skip string) []limited {
	if now.Sub(l.lastSweep) < l.interval {
		return nil
	}
	l.lastSweep = now
	var pending []limited
	for key, e := range l.keys {
		if key == skip || now.Sub(e.logged) < l.interval {
			continue
		}
		if e.suppressed == 0 {
			delete(l.keys, key)
			continue
		}
		pending = append(pending, *e)
		// Writing the count opens a new interval for the key, which keeps
		// the rate at one line per interval.
		l.keys[key] = &limited{logged: now}
	}
	return pending
}

func (l *Limiter) write(ctx context.Context, level slog.Level, msg string, args []any, suppressed int) {
	if suppressed > 0 {
		args = append(args[:len(args):len(args)], KeySuppressed, suppressed)
	}
	l.log.Log(ctx, level, msg, args...)
}

// StateOK is the state Report treats as healthy: it is not logged as the
// first report, and a State does not remind of it.
const StateOK = "ok"

// State logs a condition when it changes instead of on every report. A
// change line carries the previous state (KeyPrevious), how many times it
// was reported (KeyReports) and how long it lasted (KeyLasted). While a
// state other than StateOK holds, a reminder is written once per remind
// interval with the reports since the previous line (KeyRepeats) and how
// long the state has held (KeyFor); remind ≤ 0 means no reminders.
type State struct {
	log    *slog.Logger
	remind time.Duration
	now    func() time.Time

	mu      sync.Mutex
	state   string
	known   bool
	since   time.Time // the current state began
	reports int       // reports of the current state, the first included
	logged  time.Time // the last line written
	unseen  int       // reports since the last line
}

// NewState returns a State writing to log, with reminders every remind.
func NewState(log *slog.Logger, remind time.Duration) *State {
	return &State{log: log, remind: remind, now: time.Now}
}

// Report records state and writes msg with args at level when state differs
// from the previous report (or is the first report and not StateOK), or when
// a reminder is due. It reports whether it wrote.
func (s *State) Report(ctx context.Context, level slog.Level, state, msg string, args ...any) bool {
	s.mu.Lock()
	now := s.now()
	var extra []any
	switch {
	case !s.known:
		s.known, s.state, s.since, s.reports = true, state, now, 1
		if state == StateOK {
			s.logged, s.unseen = now, 0
			s.mu.Unlock()
			return false
		}
	case state != s.state:
		extra = []any{KeyPrevious, s.state, KeyReports, s.reports, KeyLasted, now.Sub(s.since)}
		s.state, s.since, s.reports = state, now, 1
	default:
		s.reports++
		s.unseen++
		if state == StateOK || s.remind <= 0 || now.Sub(s.logged) < s.remind {
			s.mu.Unlock()
			return false
		}
		extra = []any{KeyRepeats, s.unseen, KeyFor, now.Sub(s.since)}
	}
	s.logged, s.unseen = now, 0
	s.mu.Unlock()
	s.log.Log(ctx, level, msg, append(args[:len(args):len(args)], extra...)...)
	return true
}

// OK reports the healthy state; msg is written, at Info, only on a
// recovery.
func (s *State) OK(ctx context.Context, msg string, args ...any) bool {
	return s.Report(ctx, slog.LevelInfo, StateOK, msg, args...)
}

// Fail reports the failing state with err; msg is written, at Warn, on the
// first failure after success and as reminders.
func (s *State) Fail(ctx context.Context, err error, msg string, args ...any) bool {
	return s.Report(ctx, slog.LevelWarn, "failing", msg, append(args[:len(args):len(args)], "err", err)...)
}
