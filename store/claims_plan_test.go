package store_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"redeemer/store"
	"redeemer/store/storetest"
)

// explainRowsEnv sets how many queued tickets TestDueTicketsIndexPlan
// loads; the default keeps `make test` quick.
const explainRowsEnv = "REDEEMER_EXPLAIN_ROWS"

// recordedQuery is one statement the store ran, with its arguments.
type recordedQuery struct {
	sql  string
	args []any
}

// queryRecorder is a pgx tracer that keeps every statement run through
// its pool while on, so a test can EXPLAIN exactly what the store ran.
type queryRecorder struct {
	mu      sync.Mutex
	on      bool
	queries []recordedQuery
}

func (r *queryRecorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.on {
		r.queries = append(r.queries, recordedQuery{sql: d.SQL, args: append([]any(nil), d.Args...)})
	}
	return ctx
}

func (r *queryRecorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// record runs fn and returns the statements it ran.
func (r *queryRecorder) record(fn func()) []recordedQuery {
	r.mu.Lock()
	r.on, r.queries = true, nil
	r.mu.Unlock()
	fn()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	return r.queries
}

// TestDueTicketsIndexPlan loads a large queue (REDEEMER_EXPLAIN_ROWS queued
// tickets, 200,000 by default; set REDEEMER_EXPLAIN_ROWS=1000000 for the
// production-sized check) from 10,000 senders, a fifth of them postponed
// with retry times around now, due blocks spread so about half are due,
// plus one sender whose many tickets are all postponed; ANALYZEs (no
// VACUUM: the visibility map of freshly written rows is unset, as for the
// queue's hot rows); runs the claim stage's reads (NextDue, then DueTickets
// from a cursor in the middle and from one just before the postponed
// sender, which wraps); and EXPLAINs each statement they ran, with its
// arguments. None may read tickets with a sequential scan, and the walk
// over senders must use the index of never-postponed tickets: a claim
// pass runs on every L1 block, and its work must not grow with the queue
// or with postponed tickets (docs/design.md, invariant 9).
func TestDueTicketsIndexPlan(t *testing.T) {
	t.Parallel()
	rowCount := 200_000
	if v := os.Getenv(explainRowsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10_000 {
			t.Fatalf("%s=%q: want a number of rows, at least 10000", explainRowsEnv, v)
		}
		rowCount = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dsn := storetest.New(t)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	rec := &queryRecorder{}
	cfg.ConnConfig.Tracer = rec
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := store.New(pool)

	start := time.Now()
	loadQueue(t, ctx, s, rowCount)
	t.Logf("loaded %d queued tickets in %s", rowCount, time.Since(start).Round(time.Millisecond))

	const l1 = 5000
	type pass struct {
		name  string
		after uint64
	}
	var stmts []recordedQuery
	stmts = append(stmts, rec.record(func() {
		if _, ok, _, err := s.Q().NextDue(ctx); err != nil || !ok {
			t.Fatalf("NextDue: %v, %v", ok, err)
		}
	})...)
	for _, p := range []pass{{"from the middle", 4992}, {"past the last sender, wrapping", 9999}} {
		stmts = append(stmts, rec.record(func() {
			sel, err := s.Q().DueTickets(ctx, store.DueParams{L1: l1, Limit: 30, After: senderNumber(p.after)})
			if err != nil {
				t.Fatal(err)
			}
			if len(sel.Tickets) != 30 {
				t.Fatalf("%s: %d due tickets, want a full pass of 30", p.name, len(sel.Tickets))
			}
		})...)
	}
	if len(stmts) < 6 {
		t.Fatalf("recorded %d statements, want NextDue's and both passes' (walks and retries)", len(stmts))
	}

	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	seen := map[string]bool{}
	for _, q := range stmts {
		key := q.sql + fmt.Sprint(q.args...)
		if seen[key] {
			continue
		}
		seen[key] = true
		plan := explain(t, ctx, conn.Conn(), q)
		t.Logf("%s\n-- args %s\n%s", strings.TrimSpace(q.sql), printableArgs(q.args), plan)
		if strings.Contains(plan, "Seq Scan on tickets") {
			t.Errorf("a claim read scans every ticket:\n%s\n%s", q.sql, plan)
		}
		if !strings.Contains(plan, "Index") {
			t.Errorf("a claim read uses no index:\n%s\n%s", q.sql, plan)
		}
		if strings.Contains(q.sql, "walk(sender, n)") && !strings.Contains(plan, "tickets_fresh_sender_idx") {
			t.Errorf("the walk over senders does not use tickets_fresh_sender_idx:\n%s", plan)
		}
		if strings.Contains(plan, "tickets_sender_status_idx") {
			t.Errorf("a claim read goes through tickets_sender_status_idx, reading postponed tickets:\n%s", plan)
		}
		if strings.Contains(q.sql, "next_attempt_at <= now()") && !strings.Contains(plan, "tickets_retry_idx") {
			t.Errorf("the retry read does not use tickets_retry_idx:\n%s", plan)
		}
	}
}

// senderNumber is the 20-byte big-endian address n, as loadQueue names
// senders.
func senderNumber(n uint64) [20]byte {
	var a [20]byte
	binary.BigEndian.PutUint64(a[12:], n)
	return a
}

func printableArgs(args []any) string {
	out := make([]string, len(args))
	for i, a := range args {
		if b, ok := a.([]byte); ok {
			out[i] = fmt.Sprintf("0x%x", b)
			continue
		}
		out[i] = fmt.Sprint(a)
	}
	return strings.Join(out, ", ")
}

func explain(t *testing.T, ctx context.Context, conn *pgx.Conn, q recordedQuery) string {
	t.Helper()
	rows, err := conn.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q.sql, q.args...)
	if err != nil {
		t.Fatalf("explain %s: %v", q.sql, err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("explain %s: %v", q.sql, err)
	}
	return strings.Join(lines, "\n")
}

// loadQueue fills tickets with n queued rows in one INSERT … SELECT:
// 10,000 senders (the 20-byte big-endian numbers 0 to 9999) with due
// blocks spread over 0..9999 and every fifth ticket postponed with a retry
// time within an hour either side of now; and sender 20000, which gets
// every twentieth ticket, all postponed an hour or more. The tickets
// indexes are dropped for the load and rebuilt from their own definitions,
// several times faster than maintaining them row by row.
func loadQueue(t *testing.T, ctx context.Context, s *store.Store, n int) {
	t.Helper()
	rows, err := s.Pool().Query(ctx, `SELECT indexname, indexdef FROM pg_indexes
		WHERE schemaname = 'public' AND tablename = 'tickets'
		  AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'tickets'::regclass)`)
	if err != nil {
		t.Fatal(err)
	}
	type index struct{ Name, Def string }
	indexes, err := pgx.CollectRows(rows, pgx.RowToStructByPos[index])
	if err != nil {
		t.Fatal(err)
	}
	for _, ix := range indexes {
		exec(t, ctx, s, `DROP INDEX `+pgx.Identifier{ix.Name}.Sanitize())
	}
	exec(t, ctx, s, `
		INSERT INTO tickets (ticket_hash, sender, recipient, face_value, win_prob, sender_nonce,
			recipient_rand, recipient_rand_hash, seed, sig, creation_round, creation_round_block_hash,
			params_expiration_block, next_attempt_at, attempts, last_error)
		SELECT decode(lpad(to_hex(g), 64, '0'), 'hex'),
			decode(lpad(to_hex(CASE WHEN g % 20 = 0 THEN 20000 ELSE g % 10000 END), 40, '0'), 'hex'),
			'\xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', 1000000000000000 + g, 1, 0,
			decode(lpad(to_hex(g), 64, '1'), 'hex'), decode(lpad(to_hex(g), 64, '2'), 'hex'), '',
			decode(repeat('ab', 65), 'hex'), 3500, decode(repeat('cd', 32), 'hex'),
			(g * 7919) % 10000,
			CASE WHEN g % 20 = 0 THEN now() + (3600 + g % 7200) * interval '1 second'
			     WHEN g % 5 = 0 THEN now() + ((g % 7200) - 3600) * interval '1 second' END,
			CASE WHEN g % 5 = 0 THEN 1 ELSE 0 END,
			CASE WHEN g % 5 = 0 THEN 'ticket did not win' END
		FROM generate_series(1, $1::bigint) AS g`, n)
	for _, ix := range indexes {
		exec(t, ctx, s, ix.Def)
	}
	exec(t, ctx, s, `ANALYZE tickets`)
	if got := countRows(t, ctx, s, "tickets"); got != int64(n) {
		t.Fatalf("loaded %d tickets, want %d", got, n)
	}
}
