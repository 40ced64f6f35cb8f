package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"redeemer/store"
	"redeemer/store/storetest"
)

func TestMain(m *testing.M) {
	storetest.Main(m)
}

var maxUint256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// sampleTicket fills every field with bytes derived from seed so that two
// samples with different seeds differ everywhere.
func sampleTicket(seed byte) store.NewTicket {
	fill := func(dst []byte, b byte) {
		for i := range dst {
			dst[i] = b + byte(i)
		}
	}
	var t store.NewTicket
	fill(t.TicketHash[:], seed)
	fill(t.Sender[:], seed+1)
	fill(t.Recipient[:], seed+2)
	t.FaceValue = big.NewInt(1_000_000_000_000_000)
	t.WinProb = new(big.Int).Rsh(maxUint256, 4)
	t.SenderNonce = 42
	fill(t.RecipientRand[:], seed+3)
	fill(t.RecipientRandHash[:], seed+4)
	t.Seed = []byte{seed, 0xfe}
	t.Sig = make([]byte, 65)
	fill(t.Sig, seed+5)
	t.Sig[64] = 27
	t.CreationRound = 3500
	fill(t.CreationRoundBlockHash[:], seed+6)
	t.ParamsExpirationBlock = 19_000_000
	return t
}

func assertSameTicket(t *testing.T, got *store.Ticket, want store.NewTicket) {
	t.Helper()
	if got.TicketHash != want.TicketHash || got.Sender != want.Sender || got.Recipient != want.Recipient ||
		got.RecipientRand != want.RecipientRand || got.RecipientRandHash != want.RecipientRandHash ||
		got.CreationRoundBlockHash != want.CreationRoundBlockHash {
		t.Errorf("fixed-size fields differ:\n got %+v\nwant %+v", got.NewTicket, want)
	}
	if got.FaceValue.Cmp(want.FaceValue) != 0 {
		t.Errorf("face value = %s, want %s", got.FaceValue, want.FaceValue)
	}
	if got.WinProb.Cmp(want.WinProb) != 0 {
		t.Errorf("win prob = %s, want %s", got.WinProb, want.WinProb)
	}
	if got.SenderNonce != want.SenderNonce || got.CreationRound != want.CreationRound ||
		got.ParamsExpirationBlock != want.ParamsExpirationBlock {
		t.Errorf("integers differ: got nonce=%d round=%d exp=%d, want %d %d %d",
			got.SenderNonce, got.CreationRound, got.ParamsExpirationBlock,
			want.SenderNonce, want.CreationRound, want.ParamsExpirationBlock)
	}
	if !bytes.Equal(got.Seed, want.Seed) && !(len(got.Seed) == 0 && len(want.Seed) == 0) {
		t.Errorf("seed = %x, want %x", got.Seed, want.Seed)
	}
	if !bytes.Equal(got.Sig, want.Sig) {
		t.Errorf("sig = %x, want %x", got.Sig, want.Sig)
	}
}

func TestInsertTicketIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	tk := sampleTicket(1)

	before := time.Now()
	inserted, err := s.InsertTicket(ctx, tk)
	if err != nil {
		t.Fatal(err)
	}
	if !inserted {
		t.Fatal("first insert reported inserted=false")
	}
	inserted, err = s.InsertTicket(ctx, tk)
	if err != nil {
		t.Fatal(err)
	}
	if inserted {
		t.Fatal("second insert of the same ticket reported inserted=true")
	}
	n, err := s.CountTickets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d rows after inserting one ticket twice, want 1", n)
	}

	got, err := s.TicketByHash(ctx, tk.TicketHash)
	if err != nil {
		t.Fatal(err)
	}
	assertSameTicket(t, got, tk)
	if got.ID <= 0 {
		t.Errorf("id = %d, want positive", got.ID)
	}
	if got.Status != store.StatusQueued || got.Attempts != 0 || got.LastError != "" || got.NextAttemptAt != nil {
		t.Errorf("new ticket state = %q attempts=%d last_error=%q next=%v, want queued/0/empty/nil",
			got.Status, got.Attempts, got.LastError, got.NextAttemptAt)
	}
	// The database clock is the authority; allow for skew against the test's.
	if got.ReceivedAt.Before(before.Add(-time.Minute)) || got.ReceivedAt.After(time.Now().Add(time.Minute)) {
		t.Errorf("received_at = %v, not near now", got.ReceivedAt)
	}
}

func TestInsertTicketConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	tk := sampleTicket(2)

	var wg sync.WaitGroup
	var wins atomic.Int32
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			inserted, err := s.InsertTicket(ctx, tk)
			if err != nil {
				errs <- err
				return
			}
			if inserted {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if wins.Load() != 1 {
		t.Errorf("%d concurrent inserts reported inserted=true, want exactly 1", wins.Load())
	}
	if n, err := s.CountTickets(ctx); err != nil || n != 1 {
		t.Errorf("count = %d, %v; want 1", n, err)
	}
}

func TestInsertTicketNilSeedStoredEmpty(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	tk := sampleTicket(3)
	tk.Seed = nil
	if _, err := s.InsertTicket(ctx, tk); err != nil {
		t.Fatal(err)
	}
	got, err := s.TicketByHash(ctx, tk.TicketHash)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Seed) != 0 {
		t.Errorf("seed = %x, want empty", got.Seed)
	}
}

func TestNumericRoundTripIsExact(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)

	wei, _ := new(big.Int).SetString("1000000000000000000000", 10) // trailing zeros: pgx may use an exponent
	cases := []struct{ face, win *big.Int }{
		{maxUint256, big.NewInt(1)},
		{big.NewInt(1), maxUint256},
		{wei, new(big.Int).Sub(maxUint256, big.NewInt(10_000))},
	}
	for i, c := range cases {
		tk := sampleTicket(byte(10 + i))
		tk.FaceValue, tk.WinProb = c.face, c.win
		if _, err := s.InsertTicket(ctx, tk); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		got, err := s.TicketByHash(ctx, tk.TicketHash)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if got.FaceValue.Cmp(c.face) != 0 || got.WinProb.Cmp(c.win) != 0 {
			t.Errorf("case %d: read back face=%s win=%s, want %s %s", i, got.FaceValue, got.WinProb, c.face, c.win)
		}
		// What an operator sees in psql must be the same digits.
		var faceText, winText string
		err = s.Pool().QueryRow(ctx, `SELECT face_value::text, win_prob::text FROM tickets WHERE ticket_hash = $1`,
			tk.TicketHash[:]).Scan(&faceText, &winText)
		if err != nil {
			t.Fatal(err)
		}
		if faceText != c.face.String() || winText != c.win.String() {
			t.Errorf("case %d: SQL text face=%s win=%s, want %s %s", i, faceText, winText, c.face, c.win)
		}
	}
}

func TestInsertTicketRejectsOutOfRangeAmounts(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	twoTo256 := new(big.Int).Lsh(big.NewInt(1), 256)

	for name, mutate := range map[string]func(*store.NewTicket){
		"face 2^256": func(tk *store.NewTicket) { tk.FaceValue = twoTo256 },
		"face 0":     func(tk *store.NewTicket) { tk.FaceValue = big.NewInt(0) },
		"win 2^256":  func(tk *store.NewTicket) { tk.WinProb = twoTo256 },
		"win 0":      func(tk *store.NewTicket) { tk.WinProb = new(big.Int) },
		"sig 64":     func(tk *store.NewTicket) { tk.Sig = tk.Sig[:64] },
		"seed 33":    func(tk *store.NewTicket) { tk.Seed = make([]byte, 33) },
		"round -1":   func(tk *store.NewTicket) { tk.CreationRound = -1 },
		"exp -1":     func(tk *store.NewTicket) { tk.ParamsExpirationBlock = -1 },
	} {
		tk := sampleTicket(20)
		mutate(&tk)
		_, err := s.InsertTicket(ctx, tk)
		if sqlState(err) != "23514" {
			t.Errorf("%s: err = %v, want check violation 23514", name, err)
		}
		if store.IsUnavailable(err) {
			t.Errorf("%s: constraint violation classified as unavailable", name)
		}
	}
	for name, mutate := range map[string]func(*store.NewTicket){
		"nil face":      func(tk *store.NewTicket) { tk.FaceValue = nil },
		"negative win":  func(tk *store.NewTicket) { tk.WinProb = big.NewInt(-1) },
		"nil win":       func(tk *store.NewTicket) { tk.WinProb = nil },
		"negative face": func(tk *store.NewTicket) { tk.FaceValue = big.NewInt(-5) },
	} {
		tk := sampleTicket(21)
		mutate(&tk)
		if _, err := s.InsertTicket(ctx, tk); err == nil {
			t.Errorf("%s: insert succeeded", name)
		}
	}
	if n, err := s.CountTickets(ctx); err != nil || n != 0 {
		t.Errorf("count = %d, %v after only rejected inserts; want 0", n, err)
	}
}

// validRow is one good tickets row written as SQL expressions, so each case
// below can break exactly one column.
func validRow() map[string]string {
	bytesOf := func(n int) string { return fmt.Sprintf(`decode(repeat('ab', %d), 'hex')`, n) }
	return map[string]string{
		"ticket_hash":               bytesOf(32),
		"sender":                    bytesOf(20),
		"recipient":                 bytesOf(20),
		"face_value":                "1000",
		"win_prob":                  "12345",
		"sender_nonce":              "7",
		"recipient_rand":            bytesOf(32),
		"recipient_rand_hash":       bytesOf(32),
		"seed":                      bytesOf(0),
		"sig":                       bytesOf(65),
		"creation_round":            "1",
		"creation_round_block_hash": bytesOf(32),
		"params_expiration_block":   "100",
	}
}

func insertRow(ctx context.Context, s *store.Store, row map[string]string) error {
	cols := make([]string, 0, len(row))
	vals := make([]string, 0, len(row))
	for c, v := range row {
		cols = append(cols, c)
		vals = append(vals, v)
	}
	_, err := s.Pool().Exec(ctx, fmt.Sprintf("INSERT INTO tickets (%s) VALUES (%s)",
		strings.Join(cols, ", "), strings.Join(vals, ", ")))
	return err
}

func TestCheckConstraintsRejectBadRows(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)

	if err := insertRow(ctx, s, validRow()); err != nil {
		t.Fatalf("the valid base row was rejected: %v", err)
	}
	const twoTo256 = "115792089237316195423570985008687907853269984665640564039457584007913129639936"
	bytesOf := func(n int) string { return fmt.Sprintf(`decode(repeat('cd', %d), 'hex')`, n) }
	cases := []struct {
		column, value, constraint string
	}{
		{"ticket_hash", bytesOf(31), "tickets_ticket_hash_len"},
		{"ticket_hash", bytesOf(33), "tickets_ticket_hash_len"},
		{"sender", bytesOf(19), "tickets_sender_len"},
		{"recipient", bytesOf(21), "tickets_recipient_len"},
		{"face_value", "0", "tickets_face_value_range"},
		{"face_value", "-1", "tickets_face_value_range"},
		{"face_value", twoTo256, "tickets_face_value_range"},
		{"win_prob", "0", "tickets_win_prob_range"},
		{"win_prob", twoTo256, "tickets_win_prob_range"},
		{"sender_nonce", "-1", "tickets_sender_nonce_range"},
		{"sender_nonce", "4294967296", "tickets_sender_nonce_range"},
		{"recipient_rand", bytesOf(31), "tickets_recipient_rand_len"},
		{"recipient_rand_hash", bytesOf(33), "tickets_recipient_rand_hash_len"},
		{"seed", bytesOf(33), "tickets_seed_len"},
		{"sig", bytesOf(64), "tickets_sig_len"},
		{"creation_round", "-1", "tickets_creation_round_range"},
		{"creation_round_block_hash", bytesOf(20), "tickets_creation_round_block_hash_len"},
		{"params_expiration_block", "-1", "tickets_params_expiration_block_range"},
		{"status", "'lost'", "tickets_status_valid"},
		{"attempts", "-1", "tickets_attempts_range"},
		{"status", "'failed'", "tickets_unpaid_has_reason"},
		{"status", "'expired'", "tickets_unpaid_has_reason"},
	}
	for _, c := range cases {
		row := validRow()
		row["ticket_hash"] = bytesOf(32) // distinct from the base row, so only the CHECK can object
		row[c.column] = c.value
		err := insertRow(ctx, s, row)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "23514" || pgErr.ConstraintName != c.constraint {
			t.Errorf("%s = %s: err = %v, want SQLSTATE 23514 on %s", c.column, c.value, err, c.constraint)
		}
	}

	// Terminal unpaid states are fine once a reason is given.
	row := validRow()
	row["ticket_hash"] = bytesOf(32)
	row["status"] = "'failed'"
	row["last_error"] = "'sender deposit and reserve exhausted'"
	if err := insertRow(ctx, s, row); err != nil {
		t.Errorf("failed ticket with a reason rejected: %v", err)
	}
	_, err := s.Pool().Exec(ctx, `UPDATE tickets SET last_error = '' WHERE status = 'failed'`)
	if sqlState(err) != "23514" {
		t.Errorf("blanking the reason of a failed ticket: err = %v, want 23514", err)
	}
}

func TestUpdatedAtAndAuditView(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	tk := sampleTicket(30)
	tk.FaceValue, _ = new(big.Int).SetString("1500000000000000001", 10)
	if _, err := s.InsertTicket(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE tickets SET attempts = attempts + 1`); err != nil {
		t.Fatal(err)
	}
	got, err := s.TicketByHash(ctx, tk.TicketHash)
	if err != nil {
		t.Fatal(err)
	}
	if !got.UpdatedAt.After(got.ReceivedAt) {
		t.Errorf("updated_at %v not after received_at %v following an UPDATE", got.UpdatedAt, got.ReceivedAt)
	}

	var hash, sender, eth, wei string
	err = s.Pool().QueryRow(ctx, `SELECT ticket_hash, sender, face_value_eth::text, face_value_wei::text FROM ticket_audit`).
		Scan(&hash, &sender, &eth, &wei)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("0x%x", tk.TicketHash); hash != want {
		t.Errorf("audit ticket_hash = %s, want %s", hash, want)
	}
	if want := fmt.Sprintf("0x%x", tk.Sender); sender != want {
		t.Errorf("audit sender = %s, want %s", sender, want)
	}
	if eth != "1.500000000000000001" || wei != "1500000000000000001" {
		t.Errorf("audit face value = %s ETH / %s wei, want exact 1.500000000000000001 / 1500000000000000001", eth, wei)
	}
}

func TestTicketByHashNotFound(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	_, err := s.TicketByHash(testContext(t), [32]byte{1})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if store.IsUnavailable(err) {
		t.Error("ErrNotFound classified as unavailable")
	}
}

// Operators audit with SQL, so an uncommented table, view or column is a
// defect: this test fails for anything a future migration adds without a
// COMMENT.
func TestEverySchemaObjectIsCommented(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)

	rows, err := s.Pool().Query(ctx, `
		SELECT c.relname || '.' || a.attname
		FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relname <> 'goose_db_version'
		  AND coalesce(col_description(c.oid, a.attnum), '') = ''
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	missing, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Errorf("columns without COMMENT: %s", strings.Join(missing, ", "))
	}
	rows, err = s.Pool().Query(ctx, `SELECT relname FROM pg_class
		WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'v') AND relname <> 'goose_db_version'
		  AND coalesce(obj_description(oid, 'pg_class'), '') = ''`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) > 0 {
		t.Errorf("tables or views without COMMENT: %s", strings.Join(tables, ", "))
	}

	var columns int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_attribute
		WHERE attrelid = 'tickets'::regclass AND attnum > 0 AND NOT attisdropped`).Scan(&columns); err != nil {
		t.Fatal(err)
	}
	if columns < 20 {
		t.Errorf("tickets has %d columns; the comment check is looking at the wrong schema", columns)
	}
}

func relationExists(t *testing.T, ctx context.Context, dsn, rel string) bool {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, rel).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	return exists
}

func TestMigrateDownAndUpAgain(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	dsn := storetest.New(t)

	for _, rel := range []string{"tickets", "ticket_audit"} {
		if !relationExists(t, ctx, dsn, rel) {
			t.Fatalf("%s missing after up", rel)
		}
	}
	for _, cmd := range []string{"status", "version"} {
		if err := store.Migrate(ctx, nil, dsn, cmd); err != nil {
			t.Errorf("migrate %s: %v", cmd, err)
		}
	}
	// Every migration's Down runs, newest first.
	if err := store.Migrate(ctx, nil, dsn, "down-to", "0"); err != nil {
		t.Fatalf("down to 0: %v", err)
	}
	for _, rel := range []string{"tickets", "ticket_audit"} {
		if relationExists(t, ctx, dsn, rel) {
			t.Errorf("%s still exists after down", rel)
		}
	}
	if err := store.Migrate(ctx, nil, dsn, "up"); err != nil {
		t.Fatalf("up after down: %v", err)
	}
	if !relationExists(t, ctx, dsn, "tickets") {
		t.Fatal("tickets missing after up, down, up")
	}
	// A second up with nothing pending is a no-op, as every replica start is.
	if err := store.Migrate(ctx, nil, dsn, "up"); err != nil {
		t.Fatalf("idempotent up: %v", err)
	}

	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.InsertTicket(ctx, sampleTicket(40)); err != nil {
		t.Errorf("insert after re-migration: %v", err)
	}
}

func TestMigrateConcurrentReplicas(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	dsn := storetest.New(t)
	if err := store.Migrate(ctx, nil, dsn, "reset"); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- store.Migrate(ctx, nil, dsn, "up") })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent up: %v", err)
		}
	}
	if !relationExists(t, ctx, dsn, "tickets") {
		t.Fatal("tickets missing after concurrent up")
	}
}

func TestMigrateRejectsBadCommands(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	dsn := storetest.New(t)
	for _, c := range []struct {
		cmd  string
		args []string
	}{
		{"sideways", nil},
		{"up", []string{"1"}},
		{"up-to", nil},
		{"down-to", []string{"x"}},
	} {
		if err := store.Migrate(ctx, nil, dsn, c.cmd, c.args...); err == nil {
			t.Errorf("migrate %s %v succeeded", c.cmd, c.args)
		}
	}
}

func TestEnsureDatabaseCreatesMissingDatabase(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	server := storetest.ServerDSN(t)
	name := fmt.Sprintf("%sensure_%d", storetest.DatabasePrefix, time.Now().UnixNano())
	dsn, err := storetest.WithDatabase(server, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), server)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
			t.Error(err)
		}
	})

	if _, err := pgx.Connect(ctx, dsn); sqlState(err) != "3D000" {
		t.Fatalf("connecting before EnsureDatabase: err = %v, want 3D000 (no such database)", err)
	}
	// The creation is reported through the caller's logger, once.
	var logged bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logged, nil))
	if err := store.EnsureDatabase(ctx, log, dsn); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect after EnsureDatabase: %v", err)
	}
	conn.Close(ctx)
	if err := store.EnsureDatabase(ctx, log, dsn); err != nil {
		t.Errorf("EnsureDatabase on an existing database: %v", err)
	}
	if want := `"msg":"created database","database":"` + name + `"`; strings.Count(logged.String(), want) != 1 {
		t.Errorf("logged %q, want one line with %s", logged.String(), want)
	}
}

func TestIsUnavailable(t *testing.T) {
	t.Parallel()

	t.Run("classification", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			err  error
			want bool
		}{
			{nil, false},
			{errors.New("boom"), false},
			{context.Canceled, false},
			{context.DeadlineExceeded, true},
			{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), true},
			{store.ErrNotFound, false},
			{&pgconn.PgError{Code: "23505"}, false},
			{&pgconn.PgError{Code: "23514"}, false},
			{&pgconn.PgError{Code: "40001"}, true},
			{&pgconn.PgError{Code: "40P01"}, true},
			{&pgconn.PgError{Code: "08006"}, true},
			{&pgconn.PgError{Code: "57P01"}, true},
			{&pgconn.PgError{Code: "57P02"}, true},
			{&pgconn.PgError{Code: "57P03"}, true},
			{&pgconn.PgError{Code: "57014"}, false}, // query_canceled: our own cancel, not an outage
			{fmt.Errorf("x: %w", &pgconn.PgError{Code: "53300"}), true},
		}
		for _, c := range cases {
			if got := store.IsUnavailable(c.err); got != c.want {
				t.Errorf("IsUnavailable(%v) = %v, want %v", c.err, got, c.want)
			}
		}
	})

	t.Run("unreachable server", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		// Port 1 on loopback refuses at once; nothing listens there.
		_, err := store.Open(ctx, "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2")
		if err == nil {
			t.Fatal("Open of an unreachable server succeeded")
		}
		if !store.IsUnavailable(err) {
			t.Errorf("IsUnavailable(%v) = false", err)
		}
	})

	t.Run("closed pool", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		s, err := store.Open(ctx, storetest.New(t))
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err = s.CountTickets(ctx)
		if err == nil {
			t.Fatal("query on a closed pool succeeded")
		}
		if !store.IsUnavailable(err) {
			t.Errorf("IsUnavailable(%v) = false", err)
		}
	})

	t.Run("backend terminated", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		s := storetest.NewStore(t)
		conn, err := s.Pool().Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		pid := conn.Conn().PgConn().PID()
		if _, err := s.Pool().Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
			t.Fatal(err)
		}
		_, err = conn.Exec(ctx, `SELECT 1`)
		if err == nil {
			t.Fatal("query on a terminated backend succeeded")
		}
		if !store.IsUnavailable(err) {
			t.Errorf("IsUnavailable(%v) = false", err)
		}
	})

	t.Run("constraint violation", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		s := storetest.NewStore(t)
		tk := sampleTicket(50)
		tk.Sig = tk.Sig[:10]
		_, err := s.InsertTicket(ctx, tk)
		if err == nil {
			t.Fatal("insert with a 10-byte signature succeeded")
		}
		if store.IsUnavailable(err) {
			t.Errorf("IsUnavailable(%v) = true for a constraint violation", err)
		}
	})
}

func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// The service's DSN may carry pool settings; migrating and creating the
// database must not pass them to the server as connection parameters.
func TestPoolSettingsInDSN(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	dsn := storetest.New(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	withPool := dsn + sep + "pool_max_conns=7"
	if err := store.EnsureDatabase(ctx, nil, withPool); err != nil {
		t.Fatalf("ensure database: %v", err)
	}
	if err := store.Migrate(ctx, nil, withPool, "up"); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	s, err := store.Open(ctx, withPool)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Pool().Config().MaxConns; got != 7 {
		t.Errorf("pool max conns %d, want 7 from the DSN", got)
	}
	plain, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if got := plain.Pool().Config().MaxConns; got != 16 {
		t.Errorf("pool max conns %d without pool_max_conns, want 16", got)
	}
}
