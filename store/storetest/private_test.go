package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestPrivateRestartKeepsCommits: a row committed before a fast stop is
// there after the start; while the server is down nothing connects.
func TestPrivateRestartKeepsCommits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := NewPrivate(t)
	dsn := p.NewDatabase(t)
	if err := exec(ctx, dsn, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	var fsync string
	if err := queryRow(ctx, dsn, "SHOW fsync", &fsync); err != nil || fsync != "on" {
		t.Fatalf("fsync = %q (%v), want on", fsync, err)
	}

	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if p.Running() {
		t.Fatal("Running after Stop")
	}
	cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
	err := exec(cctx, dsn, "SELECT 1")
	ccancel()
	if err == nil {
		t.Fatal("a connection succeeded while the server was stopped")
	}

	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := queryRow(ctx, dsn, "SELECT v FROM kept", &v); err != nil || v != 42 {
		t.Fatalf("after restart: v = %d (%v), want 42", v, err)
	}
	if err := p.Restart(ctx, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := queryRow(ctx, dsn, "SELECT v FROM kept", &v); err != nil || v != 42 {
		t.Fatalf("after Restart: v = %d (%v), want 42", v, err)
	}
}

func queryRow(ctx context.Context, dsn, sql string, dst any) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.QueryRow(ctx, sql).Scan(dst)
}
