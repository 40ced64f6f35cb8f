package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"redeemer/chain/devchain"
	"redeemer/store"
	"redeemer/store/storetest"
)

// Durations read the same in both formats, as Go prints them.
func TestLogDurationsAsText(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		log, err := (&logFlags{format: format, level: "info"}).logger(&buf)
		if err != nil {
			t.Fatal(err)
		}
		log.Info("took", "elapsed", 1500*time.Millisecond, slog.Group("stage", "wait", 2*time.Minute))
		want := map[string][]string{
			"json": {`"elapsed":"1.5s"`, `"stage":{"wait":"2m0s"}`},
			"text": {"elapsed=1.5s", "stage.wait=2m0s"},
		}[format]
		for _, w := range want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("%s: %q does not contain %s", format, buf.String(), w)
			}
		}
	}
}

// jsonLines parses output that must hold nothing but JSON log lines.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for l := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("a line not written by the JSON handler: %q (%v)", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}

// withMsg returns the lines whose message is msg.
func withMsg(lines []map[string]any, msg string) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

// checkMigrationLines wants at least one "migration ran" line, each with
// its duration as text.
func checkMigrationLines(t *testing.T, lines []map[string]any) {
	t.Helper()
	ran := withMsg(lines, "migration ran")
	if len(ran) == 0 {
		t.Fatal("no \"migration ran\" line")
	}
	for _, l := range ran {
		d, ok := l["duration"].(string)
		if !ok {
			t.Fatalf("migration duration %v (%T), want text", l["duration"], l["duration"])
		}
		if _, err := time.ParseDuration(d); err != nil {
			t.Errorf("migration duration %q: %v", d, err)
		}
	}
}

// `redeemer migrate` reports through the handler its flags chose.
func TestMigrateLogsThroughCommandLogger(t *testing.T) {
	dsn := storetest.New(t)
	var stderr bytes.Buffer
	for _, args := range [][]string{{"--yes", "down"}, {"up"}, {"status"}} {
		if err := run(context.Background(), append([]string{"migrate", "--database-url", dsn, "--log-format", "json"}, args...),
			io.Discard, &stderr); err != nil {
			t.Fatalf("migrate %v: %v", args, err)
		}
	}
	lines := jsonLines(t, stderr.String())
	checkMigrationLines(t, lines)
	if n := len(withMsg(lines, "migration status")); n != len(embeddedVersions(t)) {
		t.Errorf("%d status lines, want one per migration", n)
	}
}

// The last line lists what was left in flight.
func TestLogStoppedCountsInFlight(t *testing.T) {
	ctx := context.Background()
	seed := newAuditSeed(t, ctx)
	var buf bytes.Buffer
	logStopped(ctx, slog.New(slog.NewJSONHandler(&buf, nil)), seed.st)
	lines := jsonLines(t, buf.String())
	if len(lines) != 1 || lines[0]["msg"] != "stopped" || lines[0]["level"] != "INFO" {
		t.Fatalf("lines %v, want one INFO stopped", lines)
	}
	// The seed holds one queued ticket and one of 4 ETH in a pending
	// redemption; the others are final.
	want := map[string]any{"queued": 1.0, "redeeming": 1.0, "redeeming_wei": auditEth(4).String(),
		"redemptions_pending": 1.0, "redemptions_mined": 0.0}
	for k, v := range want {
		if lines[0][k] != v {
			t.Errorf("%s = %v, want %v", k, lines[0][k], v)
		}
	}

	// A database that does not answer still gets its line, promptly.
	seed.st.Close()
	buf.Reset()
	start := time.Now()
	logStopped(ctx, slog.New(slog.NewJSONHandler(&buf, nil)), seed.st)
	if d := time.Since(start); d > stoppedReadTimeout+time.Second {
		t.Errorf("took %s with the store closed", d)
	}
	lines = jsonLines(t, buf.String())
	if len(lines) != 1 || lines[0]["msg"] != "stopped" || lines[0]["level"] != "WARN" || lines[0]["err"] == nil {
		t.Errorf("lines %v, want one WARN stopped with the error", lines)
	}
}

// waitForLog polls the buffer of a command running in-process.
func waitForLog(t *testing.T, buf *lockedBuffer, done <-chan error, substr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(buf.String(), substr) {
		select {
		case err := <-done:
			t.Fatalf("command ended before logging %q: %v\n%s", substr, err, buf.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q not logged within %s:\n%s", substr, within, buf.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runUntilReady runs a long-running command in-process until it logs that
// it is ready, stops it as SIGTERM would and returns its log.
func runUntilReady(t *testing.T, args []string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, io.Discard, stderr) }()
	waitForLog(t, stderr, done, `"msg":"ready"`, 90*time.Second)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v\n%s", args[0], err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop within 30s", args[0])
	}
	return stderr.String()
}

// checkStoppedLast wants the stop line last, after everything else.
func checkStoppedLast(t *testing.T, lines []map[string]any) {
	t.Helper()
	last := lines[len(lines)-1]
	if last["msg"] != "stopped" {
		t.Fatalf("last line %v, want the stopped line", last)
	}
	for _, k := range []string{"queued", "redeeming", "redeeming_wei", "redemptions_pending", "redemptions_mined"} {
		if _, ok := last[k]; !ok {
			t.Errorf("stopped line lacks %s: %v", k, last)
		}
	}
}

// serve, set up from a config file the way a systemd unit does it (the
// keystore password as a credential, the database password in its own
// file), writes every line through the handler it configured and ends with
// the stop line.
func TestServeConfigFileLogsAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dc, err := devchain.New(ctx, devchain.Options{RPCAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	go dc.Mine(ctx, 200*time.Millisecond)

	dsn := storetest.New(t)
	// From an empty schema, so serve --migrate has migrations to report.
	if err := store.Migrate(ctx, nil, dsn, "reset"); err != nil {
		t.Fatal(err)
	}
	creds := t.TempDir()
	keystorePath, passwordPath, err := writeDevKeystore(creds, dc.Redeemer().Key)
	if err != nil {
		t.Fatal(err)
	}
	dbPassword := writeFile(t, "db-password", "trusted-anyway\n")
	cfg := writeFile(t, "redeemer.conf", strings.Join([]string{
		"# redeemer serve settings",
		"database-url " + dsn,
		"database-password-file " + dbPassword,
		"eth-url " + dc.RPCURL(),
		"controller " + dc.Addresses().Controller.Hex(),
		"recipient " + dc.Recipient().Address.Hex(),
		"keystore " + filepath.Base(keystorePath),
		"password-file " + filepath.Base(passwordPath),
		"migrate",
		"grpc-addr 127.0.0.1:0",
		"metrics-addr 127.0.0.1:0",
		"data-dir " + t.TempDir(),
		"confirmations 1",
		"log-format text", // the environment says json, and wins
		"log-level error", // the command line says info, and wins
	}, "\n"))
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	t.Setenv("REDEEMER_LOG_FORMAT", "json")

	out := runUntilReady(t, []string{"serve", "--config", cfg, "--log-level", "info"})
	lines := jsonLines(t, out)
	checkMigrationLines(t, lines)
	if len(withMsg(lines, "gRPC server listening")) != 1 {
		t.Error("no info line about the gRPC server: the command line's --log-level info lost to the file")
	}
	checkStoppedLast(t, lines)
}

// dev creates its database, migrates it and stops, every line through its
// handler.
func TestDevLogsThroughHandlerAndStops(t *testing.T) {
	name := fmt.Sprintf("%sdev_%d", storetest.DatabasePrefix, time.Now().UnixNano())
	server := storetest.ServerDSN(t)
	dsn, err := storetest.WithDatabase(server, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})
	dir := t.TempDir()
	out := runUntilReady(t, []string{"dev", "--database-url", dsn, "--eth-rpc-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0",
		"--metrics-addr", "", "--data-dir", filepath.Join(dir, "data"), "--block-time", "200ms", "--log-format", "json"})
	lines := jsonLines(t, out)
	if created := withMsg(lines, "created database"); len(created) != 1 || created[0]["database"] != name {
		t.Errorf("created database lines %v, want one naming %s", created, name)
	}
	checkMigrationLines(t, lines)
	checkStoppedLast(t, lines)
	last := lines[len(lines)-1]
	if w, ok := new(big.Int).SetString(fmt.Sprint(last["redeeming_wei"]), 10); !ok || w.Sign() != 0 {
		t.Errorf("a fresh dev database has redeeming_wei %v, want 0", last["redeeming_wei"])
	}
}
