package main

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"redeemer/migrations"
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

// embeddedVersions lists the binary's migration versions in order; they
// need not be consecutive.
func embeddedVersions(t *testing.T) []int64 {
	t.Helper()
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var vs []int64
	for _, f := range files {
		v, err := strconv.ParseInt(strings.SplitN(f, "_", 2)[0], 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", f, err)
		}
		vs = append(vs, v)
	}
	slices.Sort(vs)
	if len(vs) < 3 {
		t.Fatalf("only %d migrations embedded", len(vs))
	}
	return vs
}

// TestMigrateCommand drives `redeemer migrate` as a script would: down
// one step (confirmed by --yes), up again, and the bad-usage errors.
func TestMigrateCommand(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.New(t)
	top := schemaVersion(t, dsn)
	vs := embeddedVersions(t)
	below := vs[len(vs)-2]
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"migrate", "--database-url", dsn, "--yes", "down"}, &out, &errOut); err != nil {
		t.Fatalf("migrate down: %v", err)
	}
	if v := schemaVersion(t, dsn); v != below {
		t.Fatalf("version after down = %d, want %d", v, below)
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

// A rollback drops tables with their tickets: at a terminal it asks, and
// without a terminal it needs --yes.
func TestMigrateDropNeedsConfirmation(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.New(t)
	top := schemaVersion(t, dsn)
	vs := embeddedVersions(t)
	notTerminal := console{in: strings.NewReader("yes\n"), terminal: false}
	terminal := func(answer string) console { return console{in: strings.NewReader(answer), terminal: true} }

	for _, verb := range [][]string{{"down"}, {"down-to", "0"}, {"redo"}, {"reset"}} {
		var stderr bytes.Buffer
		err := runMigrateWith(ctx, notTerminal, append([]string{"--database-url", dsn}, verb...), &stderr)
		if err == nil || !strings.Contains(err.Error(), "--yes") || !strings.Contains(err.Error(), "not a terminal") {
			t.Errorf("%v without a terminal or --yes: err = %v, want a refusal naming --yes", verb, err)
		}
		if strings.Contains(stderr.String(), "Type yes") {
			t.Errorf("%v without a terminal asked anyway: %q", verb, stderr.String())
		}
	}
	// The process's own stdin under go test is not a terminal either.
	if err := run(ctx, []string{"migrate", "--database-url", dsn, "reset"}, io.Discard, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "--yes") {
		t.Errorf("migrate reset from the test's stdin: err = %v, want a refusal naming --yes", err)
	}
	if v := schemaVersion(t, dsn); v != top {
		t.Fatalf("version after refusals = %d, want %d untouched", v, top)
	}

	for _, answer := range []string{"no\n", "\n", "", "yess\n"} {
		var stderr bytes.Buffer
		err := runMigrateWith(ctx, terminal(answer), []string{"--database-url", dsn, "down"}, &stderr)
		if err == nil || !strings.Contains(err.Error(), "not confirmed") {
			t.Errorf("answer %q: err = %v, want not confirmed", answer, err)
		}
		if !strings.Contains(stderr.String(), "Type yes") || !strings.Contains(stderr.String(), "rolls back the latest migration") {
			t.Errorf("answer %q: prompt %q does not say what happens and ask", answer, stderr.String())
		}
	}
	if v := schemaVersion(t, dsn); v != top {
		t.Fatalf("version after declined prompts = %d, want %d untouched", v, top)
	}

	var stderr bytes.Buffer
	if err := runMigrateWith(ctx, terminal("yes\n"), []string{"--database-url", dsn, "down"}, &stderr); err != nil {
		t.Fatalf("down confirmed at the terminal: %v", err)
	}
	if !strings.Contains(stderr.String(), `database "`+storetest.DatabasePrefix) {
		t.Errorf("prompt %q does not name the database", stderr.String())
	}
	if v := schemaVersion(t, dsn); v != vs[len(vs)-2] {
		t.Fatalf("version after a confirmed down = %d, want %d", v, vs[len(vs)-2])
	}
	if err := runMigrateWith(ctx, notTerminal, []string{"--database-url", dsn, "--yes", "down"}, io.Discard); err != nil {
		t.Fatalf("down with --yes and no terminal: %v", err)
	}
	if v := schemaVersion(t, dsn); v != vs[len(vs)-3] {
		t.Fatalf("version after down --yes = %d, want %d", v, vs[len(vs)-3])
	}
	// Applying needs no confirmation.
	if err := runMigrateWith(ctx, notTerminal, []string{"--database-url", dsn, "up"}, io.Discard); err != nil {
		t.Fatalf("up: %v", err)
	}
	if v := schemaVersion(t, dsn); v != top {
		t.Fatalf("version after up = %d, want %d", v, top)
	}
}
