package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"redeemer/store"
	"redeemer/store/storetest"
)

// auditSeed is a database holding a ticket in every status (two failed: one
// by its redemption, one refused too often), a confirmed redemption with two
// attempts and a pending one, and the events written on the way.
type auditSeed struct {
	dsn              string
	st               *store.Store
	senderA, senderB common.Address
	ids              map[string]int64 // queued, redeeming, redeemed, failed, expired, failed2
	hashes           map[string]string
	r1, r2           int64
}

func auditEth(n int64) *big.Int {
	return new(big.Int).Mul(big.NewInt(n), big.NewInt(1_000_000_000_000_000_000))
}

func auditTicket(seed byte, sender common.Address, faceEth int64) store.NewTicket {
	fill := func(dst []byte, b byte) {
		for i := range dst {
			dst[i] = b + byte(i)
		}
	}
	t := store.NewTicket{Sender: sender, FaceValue: auditEth(faceEth), SenderNonce: uint32(seed),
		CreationRound: 10, ParamsExpirationBlock: 500}
	fill(t.TicketHash[:], seed)
	fill(t.Recipient[:], 0x70)
	t.WinProb = new(big.Int).Lsh(big.NewInt(1), 250)
	fill(t.RecipientRand[:], seed+1)
	fill(t.RecipientRandHash[:], seed+2)
	t.Sig = make([]byte, 65)
	fill(t.Sig, seed+3)
	fill(t.CreationRoundBlockHash[:], seed+4)
	return t
}

func auditAttempt(b byte, gwei int64) store.AttemptTx {
	a := store.AttemptTx{Raw: []byte{0x02, b, 0x01}, GasLimit: 250_000,
		FeeCap: new(big.Int).Mul(big.NewInt(gwei), big.NewInt(1_000_000_000)), TipCap: big.NewInt(1_000_000_000)}
	for i := range a.TxHash {
		a.TxHash[i] = b
	}
	return a
}

func newAuditSeed(t *testing.T, ctx context.Context) *auditSeed {
	t.Helper()
	s := &auditSeed{dsn: storetest.New(t), ids: map[string]int64{}, hashes: map[string]string{},
		senderA: common.HexToAddress("0x" + strings.Repeat("aa", 20)),
		senderB: common.HexToAddress("0x" + strings.Repeat("bb", 20))}
	st, err := store.Open(ctx, s.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	s.st = st
	for i, tk := range []struct {
		name   string
		sender common.Address
		eth    int64
	}{
		{"queued", s.senderA, 1}, {"redeemed", s.senderA, 2}, {"failed", s.senderB, 3},
		{"redeeming", s.senderB, 4}, {"expired", s.senderA, 5}, {"failed2", s.senderA, 6},
	} {
		nt := auditTicket(byte(16*(i+1)), tk.sender, tk.eth)
		if _, err := st.InsertTicket(ctx, nt); err != nil {
			t.Fatal(err)
		}
		got, err := st.TicketByHash(ctx, nt.TicketHash)
		if err != nil {
			t.Fatal(err)
		}
		s.ids[tk.name], s.hashes[tk.name] = got.ID, "0x"+hex.EncodeToString(nt.TicketHash[:])
	}
	account := common.HexToAddress("0x" + strings.Repeat("cc", 20))
	s.r1 = auditClaim(t, ctx, st, account, 100, auditAttempt(0xd1, 2), s.ids["redeemed"], s.ids["failed"])
	second := auditAttempt(0xd2, 3)
	err = st.InTx(ctx, func(q store.Q) error {
		if _, err := q.AddAttempt(ctx, s.r1, second, 120, 0); err != nil {
			return err
		}
		if err := q.MarkMined(ctx, s.r1, store.Mined{TxHash: second.TxHash, Block: 121, BlockHash: [32]byte{9},
			ReceiptStatus: 1, GasUsed: 100_000, EffectiveGasPrice: big.NewInt(2_000_000_000)}); err != nil {
			return err
		}
		return q.Settle(ctx, store.Settlement{RedemptionID: s.r1, Status: store.RedemptionConfirmed, FinalBlock: 124,
			Outcome: "mined in block 121", Tickets: []store.TicketOutcome{
				{TicketID: s.ids["redeemed"], Status: store.StatusRedeemed, Reason: "redeemed"},
				{TicketID: s.ids["failed"], Status: store.StatusFailed, Reason: "used by another transaction"},
			}})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.r2 = auditClaim(t, ctx, st, account, 130, auditAttempt(0xd3, 2), s.ids["redeeming"])
	err = st.InTx(ctx, func(q store.Q) error {
		_, err := q.EndQueuedTickets(ctx, []store.Ending{
			{TicketID: s.ids["expired"], Status: store.StatusExpired, Reason: "validity period passed"},
			{TicketID: s.ids["failed2"], Status: store.StatusFailed, Reason: "refused 5 times:\trevert"},
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// auditClaim claims queued tickets into a redemption with the given attempt,
// as the claim stage composes it, and returns the redemption's id.
func auditClaim(t *testing.T, ctx context.Context, st *store.Store, account common.Address, head uint64,
	a store.AttemptTx, ids ...int64) int64 {
	t.Helper()
	var id int64
	err := st.InTx(ctx, func(q store.Q) error {
		locked, err := q.LockQueuedTickets(ctx, ids)
		if err != nil {
			return err
		}
		nonce, err := q.TakeNonce(ctx, account, 0)
		if err != nil {
			return err
		}
		cts := make([]store.ClaimedTicket, len(locked))
		for i, tk := range locked {
			cts[i] = store.ClaimedTicket{ID: tk.ID, Sender: tk.Sender, FaceValue: tk.FaceValue, ExpectedPayout: tk.FaceValue}
		}
		c, err := q.InsertRedemption(ctx, store.NewRedemption{Account: account, Nonce: nonce, HeadNumber: head, Tx: a, Tickets: cts})
		id = c.RedemptionID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// redeemer runs the command line in-process.
func (s *auditSeed) redeemer(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// must runs a command that has to succeed, with the seed's database.
func (s *auditSeed) must(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := s.redeemer(t, append(args, "--database-url", s.dsn)...)
	if err != nil {
		t.Fatalf("redeemer %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

func (s *auditSeed) mustJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := s.must(t, append(args, "--format", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("redeemer %s: output is not JSON of %T: %v\n%s", strings.Join(args, " "), v, err, out)
	}
}

// tableRows returns the data lines of a table, the header removed.
func tableRows(t *testing.T, out, header string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], header) {
		t.Fatalf("table does not start with %q:\n%s", header, out)
	}
	return lines[1:]
}

func (s *auditSeed) eventCount(t *testing.T, id int64) int {
	t.Helper()
	d, err := s.st.TicketDetail(context.Background(), strconv.FormatInt(id, 10))
	if err != nil {
		t.Fatal(err)
	}
	return len(d.Events)
}

func TestTicketsList(t *testing.T) {
	s := newAuditSeed(t, context.Background())

	rows := tableRows(t, s.must(t, "tickets", "list"), "ID  ")
	if len(rows) != 6 {
		t.Fatalf("%d rows, want 6:\n%s", len(rows), strings.Join(rows, "\n"))
	}
	// Newest first; every ticket with its status, hash and exact ETH amount.
	for i, name := range []string{"failed2", "expired", "redeeming", "failed", "redeemed", "queued"} {
		f := strings.Fields(rows[i])
		status := strings.TrimSuffix(name, "2")
		if f[0] != strconv.FormatInt(s.ids[name], 10) || f[1] != s.hashes[name] || f[2] != status {
			t.Errorf("row %d = %q, want ticket %d %s %s", i, rows[i], s.ids[name], s.hashes[name], status)
		}
	}
	// A claim is no attempt: only a refusal for the ticket's own reasons
	// counts, and this one was redeemed at once.
	if f := strings.Fields(rows[4]); f[3] != strings.ToLower(s.senderA.Hex()) || f[4] != "2" || f[5] != "0" {
		t.Errorf("redeemed row = %q, want sender A, 2 ETH, 0 attempts", rows[4])
	}
	if !strings.HasSuffix(rows[0], "refused 5 times: revert") {
		t.Errorf("last error is not shown on one line: %q", rows[0])
	}

	var all []store.TicketRow
	s.mustJSON(t, &all, "tickets", "list")
	if len(all) != 6 || all[0].ID != s.ids["failed2"] || all[5].ID != s.ids["queued"] {
		t.Fatalf("json: %+v", all)
	}
	r := all[4]
	if r.TicketHash != s.hashes["redeemed"] || r.FaceValueWei != "2000000000000000000" ||
		r.FaceValueEth != "2.000000000000000000" || r.RedemptionID == nil || *r.RedemptionID != s.r1 {
		t.Errorf("json redeemed row: %+v", r)
	}
	var raw []map[string]any
	s.mustJSON(t, &raw, "tickets", "list", "--limit", "1")
	if len(raw) != 1 || raw[0]["last_error"] != "refused 5 times:\trevert" || raw[0]["next_attempt_at"] != nil {
		t.Errorf("json keys: %v", raw)
	}

	count := func(args ...string) int {
		t.Helper()
		var rows []store.TicketRow
		s.mustJSON(t, &rows, append([]string{"tickets", "list"}, args...)...)
		return len(rows)
	}
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"--status", "failed"}, 2},
		{[]string{"--status", "queued"}, 1},
		{[]string{"--status=redeeming"}, 1},
		{[]string{"--sender", s.senderB.Hex()}, 2},
		{[]string{"--sender", strings.ToLower(s.senderA.Hex()), "--status", "failed"}, 1},
		{[]string{"--limit", "2"}, 2},
		{[]string{"--limit", "0"}, 6},
		{[]string{"--since", "1h"}, 6},
		{[]string{"--until", "1h"}, 0},
		{[]string{"--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, 0},
	} {
		if got := count(c.args...); got != c.want {
			t.Errorf("tickets list %v: %d rows, want %d", c.args, got, c.want)
		}
	}
	if _, err := s.st.Pool().Exec(context.Background(),
		`UPDATE tickets SET received_at = now() - interval '3 days' WHERE id = $1`, s.ids["queued"]); err != nil {
		t.Fatal(err)
	}
	if got := count("--since", "24h"); got != 5 {
		t.Errorf("--since 24h: %d rows, want 5", got)
	}
	if got := count("--until", "2d"); got != 1 {
		t.Errorf("--until 2d: %d rows, want 1", got)
	}
	weekAgo := time.Now().Add(-7 * 24 * time.Hour).Format(time.RFC3339)
	if got := count("--since", weekAgo, "--until", "1d"); got != 1 {
		t.Errorf("--since a week ago --until 1d: %d rows, want 1", got)
	}
	var empty []store.TicketRow
	s.mustJSON(t, &empty, "tickets", "list", "--status", "expired", "--sender", s.senderB.Hex())
	if empty == nil || len(empty) != 0 {
		t.Errorf("no match: %v, want []", empty)
	}

	// The database URL from the environment.
	t.Setenv("REDEEMER_DATABASE_URL", s.dsn)
	out, _, err := s.redeemer(t, "tickets", "list", "--status", "redeeming")
	if err != nil || len(tableRows(t, out, "ID  ")) != 1 {
		t.Errorf("with REDEEMER_DATABASE_URL: %v\n%s", err, out)
	}
}

func TestAuditBadFlags(t *testing.T) {
	s := newAuditSeed(t, context.Background())
	t.Setenv("REDEEMER_DATABASE_URL", "")
	db := []string{"--database-url", s.dsn}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tickets", "list", "--sender", "0x1234"}, "--sender"},
		{[]string{"tickets", "list", "--sender", "bb"}, "--sender"},
		{[]string{"tickets", "list", "--status", "lost"}, "--status"},
		{[]string{"tickets", "list", "--since", "yesterday"}, "--since"},
		{[]string{"tickets", "list", "--until", "-5h"}, "--until"},
		{[]string{"tickets", "list", "--since", "1h", "--until", "2h"}, "not after"},
		{[]string{"tickets", "list", "--limit", "-1"}, "--limit"},
		{[]string{"tickets", "list", "--limit", "ten"}, "invalid value"},
		{[]string{"tickets", "list", "--format", "xml"}, "--format"},
		{[]string{"tickets", "list", "extra"}, "no arguments"},
		{[]string{"tickets", "list", "--bogus"}, "not defined"},
		{[]string{"tickets", "show"}, "one ticket"},
		{[]string{"tickets", "show", "0x12"}, "64 hex digits"},
		{[]string{"tickets", "show", "0x" + strings.Repeat("ab", 32)}, "not found"},
		{[]string{"tickets", "show", "99999"}, "not found"},
		{[]string{"tickets", "retry", "abc", "--reason", "x"}, "positive integer"},
		{[]string{"tickets", "retry", strconv.FormatInt(s.ids["failed"], 10)}, "--reason is required"},
		{[]string{"tickets", "retry", strconv.FormatInt(s.ids["failed"], 10), "--reason", "  "}, "--reason is required"},
		{[]string{"tickets", "retry", "99999", "--reason", "x"}, "not found"},
		{[]string{"tickets"}, "no verb"},
		{[]string{"tickets", "delete"}, "unknown verb"},
		{[]string{"txs", "--redemption", "99999"}, "not found"},
		{[]string{"txs", "--redemption", "-1"}, "--redemption"},
		{[]string{"senders", "--format", "yaml"}, "--format"},
	} {
		out, _, err := s.redeemer(t, append(c.args, db...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want one mentioning %q", c.args, err, c.want)
		}
		if out != "" {
			t.Errorf("%v: wrote to stdout on error: %q", c.args, out)
		}
	}
	// Every problem at once, and no database needed to find them.
	_, _, err := s.redeemer(t, "tickets", "list", "--sender", "0x12", "--status", "lost", "--since", "soon")
	for _, want := range []string{"--database-url", "--sender", "--status", "--since"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("all bad flags: err = %v, want one mentioning %s", err, want)
		}
	}
	if n := s.eventCount(t, s.ids["failed"]); n != 2 {
		t.Errorf("failed ticket has %d events after refused retries, want 2", n)
	}
}

func TestTicketsShow(t *testing.T) {
	s := newAuditSeed(t, context.Background())

	for _, ref := range []string{s.hashes["failed"], strings.TrimPrefix(s.hashes["failed"], "0x"),
		strconv.FormatInt(s.ids["failed"], 10)} {
		out := s.must(t, "tickets", "show", ref)
		for _, want := range []string{
			"ticket\n", "  id ", "  ticket_hash  ", s.hashes["failed"], "  status ", "failed",
			"  face_value_wei  ", "3000000000000000000", "  last_error ", "used by another transaction",
			"events (2)", "queued  ", "redeeming", "claimed into redemption",
			"redemption " + strconv.FormatInt(s.r1, 10) + "\n", "  status ", "confirmed", "  attempts ", "  fee_paid_wei ",
			"200000000000000", "mined in block 121",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("tickets show %s: no %q in\n%s", ref, want, out)
			}
		}
	}
	out := s.must(t, "tickets", "show", s.hashes["queued"])
	if !strings.Contains(out, "events (0)") || !strings.Contains(out, "never claimed") ||
		!strings.Contains(out, "  redemption_id ") {
		t.Errorf("tickets show queued:\n%s", out)
	}

	var d store.TicketDetail
	s.mustJSON(t, &d, "tickets", "show", s.hashes["failed"])
	if d.Ticket.ID != s.ids["failed"] || len(d.Events) != 2 || d.Events[1].ToStatus != "failed" ||
		d.Redemption == nil || d.Redemption.ID != s.r1 || d.Redemption.Attempts != 2 ||
		d.Redemption.FeePaidWei == nil || *d.Redemption.FeePaidWei != "200000000000000" {
		t.Errorf("json: %+v", d)
	}
	var raw map[string]any
	s.mustJSON(t, &raw, "tickets", "show", s.hashes["queued"])
	if raw["redemption"] != nil || raw["events"] == nil || len(raw["events"].([]any)) != 0 {
		t.Errorf("json of an unclaimed ticket: %v", raw)
	}
}

func TestTicketsRetry(t *testing.T) {
	s := newAuditSeed(t, context.Background())

	for _, name := range []string{"queued", "redeemed", "redeeming", "expired"} {
		id := s.ids[name]
		before := s.eventCount(t, id)
		out, _, err := s.redeemer(t, "tickets", "retry", strconv.FormatInt(id, 10), "--reason", "again",
			"--database-url", s.dsn)
		if !errors.Is(err, store.ErrNotRetryable) || !strings.Contains(err.Error(), name) || out != "" {
			t.Errorf("retry %s ticket: err = %v, out %q; want ErrNotRetryable naming the status", name, err, out)
		}
		if after := s.eventCount(t, id); after != before {
			t.Errorf("refused retry of a %s ticket wrote an event", name)
		}
	}

	id := s.ids["failed"]
	out := s.must(t, "tickets", "retry", strconv.FormatInt(id, 10), "--reason", "sender topped up")
	if !strings.Contains(out, "ticket "+strconv.FormatInt(id, 10)+" requeued") {
		t.Errorf("retry output: %q", out)
	}
	d, err := s.st.TicketDetail(context.Background(), strconv.FormatInt(id, 10))
	if err != nil {
		t.Fatal(err)
	}
	if d.Ticket.Status != "queued" || d.Ticket.Attempts != 0 || d.Ticket.LastError != nil || d.Ticket.NextAttemptAt != nil {
		t.Errorf("retried ticket: %+v", d.Ticket)
	}
	e := d.Events[len(d.Events)-1]
	if len(d.Events) != 3 || e.FromStatus != "failed" || e.ToStatus != "queued" || e.Reason == nil ||
		*e.Reason != "operator retry: sender topped up (last error: used by another transaction)" {
		t.Errorf("retry event: %+v", d.Events)
	}
	if _, _, err := s.redeemer(t, "tickets", "retry", strconv.FormatInt(id, 10), "--reason", "twice",
		"--database-url", s.dsn); !errors.Is(err, store.ErrNotRetryable) {
		t.Errorf("second retry: err = %v, want ErrNotRetryable", err)
	}

	// Flags before the id, JSON output: the ticket as it is now.
	var row store.TicketRow
	s.mustJSON(t, &row, "tickets", "retry", "--reason", "node was down", strconv.FormatInt(s.ids["failed2"], 10))
	if row.ID != s.ids["failed2"] || row.Status != "queued" || row.Attempts != 0 || row.LastError != nil {
		t.Errorf("json retry: %+v", row)
	}
}

func TestSendersAndTxs(t *testing.T) {
	s := newAuditSeed(t, context.Background())

	rows := tableRows(t, s.must(t, "senders"), "SENDER  ")
	want := [][]string{
		{strings.ToLower(s.senderA.Hex()), "1", "1", "0", "0", "1", "2", "1", "6", "1", "5"},
		{strings.ToLower(s.senderB.Hex()), "0", "0", "1", "4", "0", "0", "1", "3", "0", "0"},
	}
	if len(rows) != len(want) {
		t.Fatalf("senders: %d rows, want %d", len(rows), len(want))
	}
	for i := range want {
		if got := strings.Fields(rows[i]); strings.Join(got, " ") != strings.Join(want[i], " ") {
			t.Errorf("senders row %d = %q, want %q", i, got, want[i])
		}
	}
	var sums []store.SenderSummary
	s.mustJSON(t, &sums, "senders")
	if len(sums) != 2 || sums[1].InLimboWei != "4000000000000000000" || sums[0].FailedWei != "6000000000000000000" {
		t.Errorf("senders json: %+v", sums)
	}

	rows = tableRows(t, s.must(t, "txs"), "ID  ")
	if len(rows) != 2 {
		t.Fatalf("txs: %d rows, want 2", len(rows))
	}
	f := strings.Fields(rows[1])
	if f[0] != strconv.FormatInt(s.r1, 10) || f[2] != "confirmed" || f[3] != "2" || f[4] != "2" ||
		f[5] != "0x"+strings.Repeat("d2", 32) || f[6] != "121" || f[7] != "1" || f[8] != "0.0002" {
		t.Errorf("confirmed redemption row: %q", rows[1])
	}
	if f := strings.Fields(rows[0]); f[0] != strconv.FormatInt(s.r2, 10) || f[2] != "pending" || f[6] != "-" || f[8] != "-" {
		t.Errorf("pending redemption row: %q", rows[0])
	}
	var rs []store.RedemptionRow
	s.mustJSON(t, &rs, "txs", "--limit", "1")
	if len(rs) != 1 || rs[0].ID != s.r2 || rs[0].MinedBlock != nil {
		t.Errorf("txs json: %+v", rs)
	}

	rows = tableRows(t, s.must(t, "txs", "--redemption", strconv.FormatInt(s.r1, 10)), "ID  ")
	if len(rows) != 2 {
		t.Fatalf("attempts: %d rows, want 2", len(rows))
	}
	for i, c := range []struct{ hash, fee string }{{"d1", "2"}, {"d2", "3"}} {
		f := strings.Fields(rows[i])
		if f[1] != "0x"+strings.Repeat(c.hash, 32) || f[2] != "250000" || f[3] != c.fee || f[4] != "1" {
			t.Errorf("attempt row %d = %q", i, rows[i])
		}
	}
	var as []store.AttemptRow
	s.mustJSON(t, &as, "txs", "--redemption", strconv.FormatInt(s.r1, 10))
	if len(as) != 2 || as[0].RawTx != "0x02d101" || as[1].MaxFeePerGas != "3000000000" || as[1].CreatedBlock != 120 {
		t.Errorf("attempts json: %+v", as)
	}
}

func TestAccountCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ks := filepath.Join(dir, "keystore.json")
	pw := filepath.Join(dir, "password")
	wrong := filepath.Join(dir, "wrong")
	empty := filepath.Join(dir, "empty")
	for path, content := range map[string]string{pw: "correct horse\n", wrong: "battery staple\n", empty: "\n"} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A cheap scrypt cost for the one encryption here; decryption follows
	// the cost written in the file.
	account := accountCommandWithCost(keystore.LightScryptN, keystore.LightScryptP)
	exec := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := account.run(context.Background(), args, &out, &errOut)
		return out.String(), errOut.String(), err
	}
	do := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut)
		return out.String(), errOut.String(), err
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"new", "--keystore", ks}, "--password-file"},
		{[]string{"new", "--password-file", pw}, "--keystore"},
		{[]string{"new", "--keystore", ks, "--password-file", empty}, "empty"},
		{[]string{"new", "--keystore", ks, "--password-file", filepath.Join(dir, "missing")}, "password file"},
		{[]string{"new", "--keystore", filepath.Join(dir, "no", "dir.json"), "--password-file", pw}, "keystore"},
	} {
		if _, _, err := exec(c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("account %v: err = %v, want one mentioning %q", c.args, err, c.want)
		}
	}
	if _, err := os.Stat(ks); err == nil {
		t.Fatal("a failed account new left a keystore file")
	}

	out, errOut, err := exec("new", "--keystore", ks, "--password-file", pw)
	if err != nil {
		t.Fatalf("account new: %v\n%s", err, errOut)
	}
	addr := strings.TrimSuffix(out, "\n")
	if !common.IsHexAddress(addr) || out != addr+"\n" || addr != common.HexToAddress(addr).Hex() {
		t.Fatalf("account new printed %q, want only a checksummed address", out)
	}
	info, err := os.Stat(ks)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("keystore mode %v, want 0600", info.Mode().Perm())
	}
	blob, err := os.ReadFile(ks)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Address string `json:"address"`
		Crypto  struct {
			KDF       string         `json:"kdf"`
			KDFParams map[string]any `json:"kdfparams"`
		} `json:"crypto"`
	}
	if err := json.Unmarshal(blob, &file); err != nil {
		t.Fatal(err)
	}
	if common.HexToAddress(file.Address).Hex() != addr || file.Crypto.KDF != "scrypt" ||
		file.Crypto.KDFParams["n"] != float64(keystore.LightScryptN) {
		t.Errorf("keystore file: address %s kdf %s params %v", file.Address, file.Crypto.KDF, file.Crypto.KDFParams)
	}

	// Never overwritten, through the registered command too.
	for _, try := range []func(...string) (string, string, error){exec, func(a ...string) (string, string, error) {
		return do(append([]string{"account"}, a...)...)
	}} {
		if _, _, err := try("new", "--keystore", ks, "--password-file", pw); err == nil ||
			!strings.Contains(err.Error(), "already exists") {
			t.Errorf("account new over an existing file: err = %v", err)
		}
	}
	if after, _ := os.ReadFile(ks); !bytes.Equal(after, blob) {
		t.Error("the existing keystore was changed")
	}

	out, _, err = do("account", "show", "--keystore", ks)
	if err != nil || out != addr+"\n" {
		t.Errorf("account show: %q, %v; want %s", out, err, addr)
	}
	out, errOut, err = do("account", "show", "--keystore", ks, "--password-file", pw)
	if err != nil || out != addr+"\n" || !strings.Contains(errOut, "decrypts") {
		t.Errorf("account show with password: %q, %q, %v", out, errOut, err)
	}
	out, _, err = do("account", "show", "--keystore", ks, "--password-file", wrong)
	if !errors.Is(err, keystore.ErrDecrypt) || !strings.Contains(err.Error(), "cannot decrypt") || out != "" {
		t.Errorf("account show with a wrong password: out %q, err %v", out, err)
	}
	// serve decrypts it the same way.
	key, err := loadKey(ks, pw)
	if err != nil {
		t.Fatal(err)
	}
	if got := crypto.PubkeyToAddress(key.PublicKey); got.Hex() != addr {
		t.Errorf("decrypted key is %s, want %s", got.Hex(), addr)
	}

	if _, _, err := do("account", "show", "--keystore", filepath.Join(dir, "missing.json")); err == nil {
		t.Error("account show of a missing file: no error")
	}
	if _, _, err := do("account", "show", "--keystore", pw); err == nil || !strings.Contains(err.Error(), "not a keystore") {
		t.Errorf("account show of a non-keystore: err = %v", err)
	}
	if _, _, err := do("account"); err == nil || !strings.Contains(err.Error(), "no verb") {
		t.Errorf("account without verb: err = %v", err)
	}
}

func TestFormatUnitsAndTimes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		dec  int
		want string
	}{
		{"0", 18, "0"}, {"1", 18, "0.000000000000000001"}, {"1500000000000000000", 18, "1.5"},
		{"2000000000", 9, "2"}, {"115792089237316195423570985008687907853269984665640564039457584007913129639935", 18,
			"115792089237316195423570985008687907853269984665640564039457.584007913129639935"},
		{"garbage", 18, "garbage"},
	} {
		if got := formatUnits(c.in, c.dec); got != c.want {
			t.Errorf("formatUnits(%s, %d) = %s, want %s", c.in, c.dec, got, c.want)
		}
	}
	now := time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"24h": now.Add(-24 * time.Hour), "90m": now.Add(-90 * time.Minute), "7d": now.Add(-7 * 24 * time.Hour),
		"2026-05-01T00:00:00Z": time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC),
	} {
		got, err := parseTimeFlag(in, now)
		if err != nil || got == nil || !got.Equal(want) {
			t.Errorf("parseTimeFlag(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if got, err := parseTimeFlag("", now); got != nil || err != nil {
		t.Errorf("empty: %v, %v", got, err)
	}
	for _, bad := range []string{"yesterday", "-1h", "d", "1.5d", "2026-05-01"} {
		if _, err := parseTimeFlag(bad, now); err == nil {
			t.Errorf("parseTimeFlag(%q): no error", bad)
		}
	}
}
