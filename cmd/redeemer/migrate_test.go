package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"redeemer/store/storetest"
)

func schemaVersion(t *testing.T, dsn string) int64 {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var v int64
	if err := conn.QueryRow(context.Background(),
		`SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestMigrateCommand drives `redeemer migrate` as an operator would: down
// one step, up again, and the bad-usage errors.
func TestMigrateCommand(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.New(t)
	top := schemaVersion(t, dsn)
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"migrate", "--database-url", dsn, "down"}, &out, &errOut); err != nil {
		t.Fatalf("migrate down: %v", err)
	}
	if v := schemaVersion(t, dsn); v != top-1 {
		t.Fatalf("version after down = %d, want %d", v, top-1)
	}
	if err := run(ctx, []string{"migrate", "--database-url", dsn, "up"}, &out, &errOut); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	if v := schemaVersion(t, dsn); v != top {
		t.Fatalf("version after up = %d, want %d", v, top)
	}
	if err := run(ctx, []string{"migrate", "--database-url", dsn, "status"}, &out, &errOut); err != nil {
		t.Fatalf("migrate status: %v", err)
	}
	for _, args := range [][]string{
		{"migrate", "--database-url", dsn, "sideways"},
		{"migrate", "--database-url", dsn},
		{"migrate", "up"},
	} {
		t.Setenv("REDEEMER_DATABASE_URL", "")
		err := run(ctx, args, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "migrate") && !strings.Contains(err.Error(), "database-url") {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
}
