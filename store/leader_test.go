package store_test

import (
	"context"
	"testing"
	"time"

	"redeemer/store/storetest"
)

// TestLeaderLockIsExclusive: one session holds the lock, a second is
// refused, and after release (or the holder's session ending) it is free.
func TestLeaderLockIsExclusive(t *testing.T) {
	ctx := context.Background()
	a := storetest.NewStore(t)
	first, err := a.TryLeaderLock(ctx)
	if err != nil || first == nil {
		t.Fatalf("first lock: %v %v", first, err)
	}
	if err := first.Alive(ctx); err != nil {
		t.Fatalf("held lock not alive: %v", err)
	}
	second, err := a.TryLeaderLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second != nil {
		t.Fatal("a second session got the leader lock while the first holds it")
	}
	first.Release(ctx)
	if err := first.Alive(ctx); err == nil {
		t.Fatal("a released lock reports alive")
	}
	third, err := a.TryLeaderLock(ctx)
	if err != nil || third == nil {
		t.Fatalf("lock after release: %v %v", third, err)
	}
	// The holder's session is killed, as when its replica dies: the lock
	// goes with it.
	if _, err := a.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
		  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	if err := third.Alive(ctx); err == nil {
		t.Fatal("lock reported alive after its session was terminated")
	}
	// pg_terminate_backend only signals; the session ends a moment later.
	deadline := time.Now().Add(10 * time.Second)
	for {
		fourth, err := a.TryLeaderLock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if fourth != nil {
			fourth.Release(ctx)
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the lock was not freed after its holder's session was terminated")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
