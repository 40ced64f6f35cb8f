package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"redeemer/store"
	"redeemer/store/storetest"
)

// listenRecorder collects what a Listener reports.
type listenRecorder struct {
	mu       sync.Mutex
	listens  int
	payloads []string
	changed  chan struct{}
}

func newListenRecorder() *listenRecorder {
	return &listenRecorder{changed: make(chan struct{}, 1)}
}

func (r *listenRecorder) onListen() {
	r.mu.Lock()
	r.listens++
	r.mu.Unlock()
	r.poke()
}

func (r *listenRecorder) onNotify(p string) {
	r.mu.Lock()
	r.payloads = append(r.payloads, p)
	r.mu.Unlock()
	r.poke()
}

func (r *listenRecorder) poke() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// waitFor waits until cond holds on the recorded state.
func (r *listenRecorder) waitFor(t *testing.T, what string, cond func(listens int, payloads []string) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		ok := cond(r.listens, r.payloads)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestListenerDeliversAndReconnects(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	l := s.NewListener(store.FloatChannel, store.ListenOptions{MinBackoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, PingInterval: 200 * time.Millisecond})
	rec := newListenRecorder()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- l.Run(runCtx, rec.onListen, rec.onNotify) }()

	rec.waitFor(t, "first LISTEN", func(n int, _ []string) bool { return n == 1 })
	notify := func(p string) {
		t.Helper()
		if _, err := s.Pool().Exec(ctx, `SELECT pg_notify($1, $2)`, store.FloatChannel, p); err != nil {
			t.Fatal(err)
		}
	}
	notify("0xabc")
	rec.waitFor(t, "the first payload", func(_ int, p []string) bool { return len(p) == 1 && p[0] == "0xabc" })

	// Quiet for longer than the ping interval: the session must survive
	// its own liveness checks.
	time.Sleep(500 * time.Millisecond)
	notify("*")
	rec.waitFor(t, "a payload after pings", func(n int, p []string) bool { return n == 1 && len(p) == 2 && p[1] == "*" })

	// Kill the session from the server side, as a failover or an operator
	// would: the listener must come back and say so.
	var killed int
	if err := s.Pool().QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, store.ListenerApplicationName).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d listener sessions, want 1", killed)
	}
	rec.waitFor(t, "LISTEN again after the kill", func(n int, _ []string) bool { return n == 2 })
	notify("0xdef")
	rec.waitFor(t, "a payload after the reconnect", func(_ int, p []string) bool { return len(p) == 3 && p[2] == "0xdef" })

	stop()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Fatalf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
