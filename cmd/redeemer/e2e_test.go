package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	ethrpc "github.com/ethereum/go-ethereum/rpc"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"redeemer/chain"
	"redeemer/rpc"
	"redeemer/rpc/pb"
	"redeemer/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// buildBinary compiles the real redeemer binary for tests that drive it as
// an operator would.
func buildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "redeemer")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startDev runs `redeemer dev` and waits for its info file.
func startDev(t testing.TB, bin, dsn string, extra ...string) (*devInfo, *proc) {
	t.Helper()
	dir := t.TempDir()
	infoPath := filepath.Join(dir, "info.json")
	args := append([]string{"dev",
		"--database-url", dsn,
		"--eth-rpc-addr", "127.0.0.1:0",
		"--grpc-addr", "127.0.0.1:0",
		"--block-time", "100ms",
		"--round-length", "5",
		"--data-dir", filepath.Join(dir, "data"),
		"--info-file", infoPath,
		"--metrics-addr", "127.0.0.1:0",
	}, extra...)
	p := startProc(t, "dev", bin, args...)
	return waitInfo(t, p, infoPath), p
}

// waitInfo waits for the info file p writes once it serves.
func waitInfo(t testing.TB, p *proc, path string) *devInfo {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if blob, err := os.ReadFile(path); err == nil {
			var info devInfo
			if err := json.Unmarshal(blob, &info); err != nil {
				t.Fatalf("info file is not JSON: %v\n%s", err, blob)
			}
			return &info
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited before writing its info file: %v", p.name, p.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s wrote no info file within 90s", p.name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// orchestrator is what a separate program knows from the info file alone.
type orchestrator struct {
	t        testing.TB
	info     *devInfo
	protocol *chain.Protocol
	client   pb.TicketRedeemerClient
	db       *pgx.Conn
}

func newOrchestrator(t testing.TB, info *devInfo, dsn string) *orchestrator {
	t.Helper()
	ctx := context.Background()
	eth, err := ethclient.DialContext(ctx, info.EthRPCURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eth.Close)
	p, err := chain.NewProtocol(ctx, eth, common.HexToAddress(info.Controller))
	if err != nil {
		t.Fatal(err)
	}
	if p.Addresses().TicketBroker != common.HexToAddress(info.TicketBroker) {
		t.Fatalf("info file's ticket broker %s differs from the controller's %s", info.TicketBroker, p.Addresses().TicketBroker)
	}
	if !info.GRPCTLS {
		t.Fatal("dev mode must serve TLS by default")
	}
	// As go-livepeer's client does: TLS without verifying the server.
	conn, err := grpc.NewClient(info.GRPCAddr,
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return &orchestrator{t: t, info: info, protocol: p, client: pb.NewTicketRedeemerClient(conn), db: db}
}

func (o *orchestrator) senderKey(i int) *ecdsa.PrivateKey {
	o.t.Helper()
	key, err := crypto.HexToECDSA(strings.TrimPrefix(o.info.Senders[i].PrivateKey, "0x"))
	if err != nil {
		o.t.Fatal(err)
	}
	if crypto.PubkeyToAddress(key.PublicKey) != common.HexToAddress(o.info.Senders[i].Address) {
		o.t.Fatal("info file's sender key does not match its address")
	}
	return key
}

// ticket builds a winning ticket from sender 0 for the last initialized
// round, the way a broadcaster does.
func (o *orchestrator) ticket(mutate func(*chain.Ticket)) (*pb.Ticket, common.Hash) {
	o.t.Helper()
	ctx := context.Background()
	round, err := o.protocol.LastInitializedRound(ctx)
	if err != nil {
		o.t.Fatal(err)
	}
	bh, err := o.protocol.BlockHashForRound(ctx, round)
	if err != nil {
		o.t.Fatal(err)
	}
	tk := chain.Ticket{
		Recipient:              common.HexToAddress(o.info.Recipient),
		FaceValue:              big.NewInt(2e15),
		WinProb:                chain.MaxWinProb,
		SenderNonce:            uint32(time.Now().UnixNano()),
		CreationRound:          round.Int64(),
		CreationRoundBlockHash: bh,
		ParamsExpirationBlock:  o.lastDueBlock(round),
	}
	if mutate != nil {
		mutate(&tk)
	}
	m, h, err := rpc.SignTicket(tk, o.senderKey(0), big.NewInt(time.Now().UnixNano()))
	if err != nil {
		o.t.Fatal(err)
	}
	return m, h
}

// lastDueBlock is the latest expiration block intake accepts for a ticket
// of creation round: the L1 block before the round in which it expires
// begins. A ticket due then stays queued as long as it can.
func (o *orchestrator) lastDueBlock(creation *big.Int) *big.Int {
	o.t.Helper()
	due, err := lastDueBlock(context.Background(), o.protocol, creation)
	if err != nil {
		o.t.Fatal(err)
	}
	return due
}

// lastDueBlock reads from chain the L1 block before the round in which a
// ticket of round creation expires: start(creation) + validity × length - 1.
// The round and its start block are two calls, and the dev chain mines
// between them: a round that begins in between would pair the old round
// with the new start, so the pair is read again until the round held.
func lastDueBlock(ctx context.Context, p *chain.Protocol, creation *big.Int) (*big.Int, error) {
	call := &bind.CallOpts{Context: ctx}
	var current, start *big.Int
	for {
		before, err := p.RoundsManager().CurrentRound(call)
		if err != nil {
			return nil, err
		}
		if start, err = p.RoundsManager().CurrentRoundStartBlock(call); err != nil {
			return nil, err
		}
		if current, err = p.RoundsManager().CurrentRound(call); err != nil {
			return nil, err
		}
		if current.Cmp(before) == 0 {
			break
		}
	}
	length, err := p.RoundLength(ctx)
	if err != nil {
		return nil, err
	}
	validity, err := p.TicketValidityPeriod(ctx)
	if err != nil {
		return nil, err
	}
	due := new(big.Int).Sub(start, new(big.Int).Mul(new(big.Int).Sub(current, creation), length))
	due.Add(due, new(big.Int).Mul(validity, length))
	return due.Sub(due, big.NewInt(1)), nil
}

// rows counts tickets with one plain SQL query, as an operator would.
func (o *orchestrator) rows(where string, args ...any) int {
	o.t.Helper()
	var n int
	if err := o.db.QueryRow(context.Background(), "SELECT count(*) FROM tickets "+where, args...).Scan(&n); err != nil {
		o.t.Fatal(err)
	}
	return n
}

func expectCode(t *testing.T, err error, code codes.Code, msgPart string) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code || !strings.Contains(st.Message(), msgPart) {
		t.Fatalf("got %s %q, want %s naming %q", st.Code(), st.Message(), code, msgPart)
	}
}

// TestDevEndToEnd drives the real binary: `redeemer dev` starts, a program
// that knows only the info file queues a signed ticket over TLS, the ticket
// is in PostgreSQL, a repeat stores nothing, and every kind of bad ticket
// gets its code and stores nothing.
func TestDevEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	dsn := storetest.New(t)
	info, dev := startDev(t, bin, dsn)
	if len(info.Senders) < 2 || info.Recipient == "" || info.RedeemerAccount == "" || info.EthRPCURL == "" {
		t.Fatalf("info file incomplete: %+v", info)
	}
	o := newOrchestrator(t, info, dsn)
	ctx := context.Background()

	m, hash := o.ticket(nil)
	if _, err := o.client.QueueTicket(ctx, m); err != nil {
		t.Fatalf("valid ticket: %v", err)
	}
	if n := o.rows("WHERE ticket_hash = $1 AND status = 'queued' AND sender = $2",
		hash.Bytes(), common.HexToAddress(info.Senders[0].Address).Bytes()); n != 1 {
		t.Fatalf("queued rows for the ticket = %d, want 1", n)
	}
	if _, err := o.client.QueueTicket(ctx, m); err != nil {
		t.Fatalf("same ticket again: %v", err)
	}
	if n := o.rows(""); n != 1 {
		t.Fatalf("tickets = %d after sending one ticket twice, want 1", n)
	}

	t.Run("max float", func(t *testing.T) {
		// Sender 0 has a 10 ETH reserve, the pool holds one transcoder,
		// and nothing is in limbo: the float is the whole reserve.
		want, _ := new(big.Int).SetString("10000000000000000000", 10)
		req := &pb.MaxFloatReq{Sender: common.HexToAddress(info.Senders[0].Address).Bytes()}
		got, err := o.client.MaxFloat(ctx, req)
		if err != nil {
			t.Fatalf("MaxFloat: %v", err)
		}
		if v := new(big.Int).SetBytes(got.MaxFloat); v.Cmp(want) != 0 {
			t.Fatalf("MaxFloat = %s, want %s", v, want)
		}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		stream, err := o.client.MonitorMaxFloat(sctx, req)
		if err != nil {
			t.Fatal(err)
		}
		first, err := stream.Recv()
		if err != nil {
			t.Fatalf("MonitorMaxFloat: %v", err)
		}
		if v := new(big.Int).SetBytes(first.MaxFloat); v.Cmp(want) != 0 {
			t.Fatalf("first streamed float = %s, want %s", v, want)
		}
		if m := scrape(t, dev); !strings.Contains(m, "redeemer_float_streams_open 1\n") {
			t.Fatalf("metrics do not count the open stream:\n%s", grepLines(m, "redeemer_float"))
		}
		_, err = o.client.MaxFloat(ctx, &pb.MaxFloatReq{Sender: []byte{1, 2, 3}})
		expectCode(t, err, codes.InvalidArgument, "")
	})
	t.Run("forged signature", func(t *testing.T) {
		m, _ := o.ticket(nil)
		d, err := rpc.DecodeTicket(m, common.HexToAddress(info.Recipient))
		if err != nil {
			t.Fatal(err)
		}
		m.SenderParams.Sig, err = chain.Sign(d.Hash, o.senderKey(1))
		if err != nil {
			t.Fatal(err)
		}
		_, err = o.client.QueueTicket(ctx, m)
		expectCode(t, err, codes.InvalidArgument, "sig")
	})
	t.Run("wrong recipientRand", func(t *testing.T) {
		m, _ := o.ticket(nil)
		m.RecipientRand = big.NewInt(42).Bytes()
		_, err := o.client.QueueTicket(ctx, m)
		expectCode(t, err, codes.InvalidArgument, "recipient_rand")
	})
	t.Run("losing ticket", func(t *testing.T) {
		m, _ := o.ticket(func(tk *chain.Ticket) { tk.WinProb = big.NewInt(1) })
		_, err := o.client.QueueTicket(ctx, m)
		expectCode(t, err, codes.InvalidArgument, "winning")
	})
	t.Run("foreign recipient", func(t *testing.T) {
		m, _ := o.ticket(func(tk *chain.Ticket) { tk.Recipient = common.HexToAddress(info.RedeemerAccount) })
		_, err := o.client.QueueTicket(ctx, m)
		expectCode(t, err, codes.PermissionDenied, "recipient")
	})
	t.Run("malformed message", func(t *testing.T) {
		m, _ := o.ticket(nil)
		m.Sender = m.Sender[:5]
		_, err := o.client.QueueTicket(ctx, m)
		expectCode(t, err, codes.InvalidArgument, "sender")
	})
	t.Run("stale creation round", func(t *testing.T) {
		// Rounds are 5 blocks of 100ms here; wait until the ticket's round
		// is two rounds (the validity period) in the past.
		old, _ := o.ticket(nil)
		created := old.ExpirationParams.CreationRound
		deadline := time.Now().Add(30 * time.Second)
		for {
			r, err := o.protocol.CurrentRound(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// Intake judges by the state the leader stores (its heads and
			// protocol values): wait until that state has seen the round too,
			// and for intake's one-second reuse of it.
			var stored int64
			if err := o.db.QueryRow(ctx, `SELECT coalesce(max(current_round), 0) FROM protocol_state`).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if r.Int64() >= created+2 && stored >= created+2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round did not advance past %d (chain round %s, stored %d)", created+1, r, stored)
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(1100 * time.Millisecond)
		_, err := o.client.QueueTicket(ctx, old)
		expectCode(t, err, codes.InvalidArgument, "validity period")
	})
	if n := o.rows(""); n != 1 {
		t.Fatalf("tickets = %d after the rejected ones, want 1", n)
	}
}

// TestServeRejectsBadConfig: every bad setting is reported at once, and the
// process exits non-zero.
func TestServeRejectsBadConfig(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "serve", "--eth-url", "ftp://x", "--controller", "0x12", "--recipient", "nope").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("serve with bad config exited %v", err)
	}
	for _, want := range []string{"--database-url", "--eth-url", "--controller", "--recipient", "--keystore", "--password-file"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("error output does not mention %s:\n%s", want, out)
		}
	}
}

// scrape reads the /metrics of a process started with --metrics-addr
// 127.0.0.1:0, finding the port it bound in its log.
func scrape(t *testing.T, p *proc) string {
	t.Helper()
	p.waitLog(t, "metrics and health endpoints listening", 30*time.Second)
	m := regexp.MustCompile(`metrics and health endpoints listening.* addr=(\S+)`).FindStringSubmatch(p.logs.String())
	if m == nil {
		t.Fatal("no metrics address in the log")
	}
	resp, err := http.Get("http://" + m[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestArbitrumL1Numbers runs the dev chain as Arbitrum is: four blocks per
// L1 block, rounds and due blocks in L1 numbers, each block's L1 number
// served as l1BlockNumber. A ticket due at an L1 block is claimed once the
// L1 number reaches it, not once the (four times larger) block number
// does; the stored round is the L1 round; heads are recorded by their own
// numbers with their L1 numbers beside them.
func TestArbitrumL1Numbers(t *testing.T) {
	const ratio = 4
	bin := buildBinary(t)
	dsn := storetest.New(t)
	info, _ := startDev(t, bin, dsn, "--l1-ratio", strconv.Itoa(ratio), "--round-length", "20")
	o := newOrchestrator(t, info, dsn)
	ctx := context.Background()

	rpcClient, err := ethrpc.DialContext(ctx, info.EthRPCURL)
	if err != nil {
		t.Fatal(err)
	}
	defer rpcClient.Close()
	heads := chain.NewRPCHeadReader(rpcClient)
	head, err := heads.LatestHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head.L1Number != head.Number/ratio || head.Number < ratio {
		t.Fatalf("head %d carries L1 number %d, want %d", head.Number, head.L1Number, head.Number/ratio)
	}
	// Due three L1 blocks on: about twelve blocks away. A service reading
	// due blocks as block numbers would claim it at once.
	due := head.L1Number + 3
	m, hash := o.ticket(func(tk *chain.Ticket) { tk.ParamsExpirationBlock = new(big.Int).SetUint64(due) })
	if _, err := o.client.QueueTicket(ctx, m); err != nil {
		t.Fatalf("ticket: %v", err)
	}
	waitFor(t, 60*time.Second, "the ticket redeemed", func() bool {
		return o.rows("WHERE ticket_hash = $1 AND status = 'redeemed'", hash.Bytes()) == 1
	})
	var claimedAt int64
	if err := o.db.QueryRow(ctx, `SELECT r.created_block FROM redemptions r JOIN tickets t ON t.redemption_id = r.id
		WHERE t.ticket_hash = $1`, hash.Bytes()).Scan(&claimedAt); err != nil {
		t.Fatal(err)
	}
	if l1 := uint64(claimedAt) / ratio; l1 < due || l1 > due+2 {
		t.Errorf("claimed at block %d (L1 %d); due at L1 %d: want the claim within two L1 blocks of due, not before", claimedAt, l1, due)
	}

	var storedRound, storedL1 int64
	if err := o.db.QueryRow(ctx, `SELECT current_round, state_l1_block FROM protocol_state`).Scan(&storedRound, &storedL1); err != nil {
		t.Fatal(err)
	}
	chainRound, err := o.protocol.CurrentRound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if storedRound != storedL1/20 || storedRound > chainRound.Int64() || storedRound < chainRound.Int64()-1 {
		t.Errorf("stored round %d at L1 %d; the chain's round is %s: rounds must count L1 blocks (%d per round)",
			storedRound, storedL1, chainRound, 20)
	}
	var bad int
	if err := o.db.QueryRow(ctx, `SELECT count(*) FROM chain_heads WHERE l1_number <> number / $1`, ratio).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	var recorded int
	if err := o.db.QueryRow(ctx, `SELECT count(*) FROM chain_heads`).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if recorded == 0 || bad != 0 {
		t.Errorf("%d heads recorded, %d with an L1 number other than number / %d", recorded, bad, ratio)
	}
}

// TestTicketLinesCarryItsHash: every log line about one ticket, from
// intake to its final state, carries its hash and its sender, so grepping a
// ticket hash from an orchestrator's log finds its whole story; a refused
// ticket's line carries its hash too.
func TestTicketLinesCarryItsHash(t *testing.T) {
	bin := buildBinary(t)
	dsn := storetest.New(t)
	info, dev := startDev(t, bin, dsn, "--log-format", "json", "--round-length", "50")
	o := newOrchestrator(t, info, dsn)
	ctx := context.Background()
	sender := common.HexToAddress(info.Senders[0].Address).Hex()

	eth, err := ethclient.DialContext(ctx, info.EthRPCURL)
	if err != nil {
		t.Fatal(err)
	}
	defer eth.Close()
	head, err := eth.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, hash := o.ticket(func(tk *chain.Ticket) { tk.ParamsExpirationBlock = new(big.Int).SetUint64(head + 3) })
	if _, err := o.client.QueueTicket(ctx, m); err != nil {
		t.Fatalf("valid ticket: %v", err)
	}
	// Signed by another sender's key: refused for its signature.
	bad, badHash := o.ticket(nil)
	if bad.SenderParams.Sig, err = chain.Sign(badHash, o.senderKey(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := o.client.QueueTicket(ctx, bad); err == nil {
		t.Fatal("a ticket signed by another key was accepted")
	}
	steps := []string{"ticket queued", "ticket claimed", "ticket mined", "ticket final"}
	about := func(msg string, h common.Hash) []map[string]any {
		var out []map[string]any
		for _, l := range strings.Split(dev.logs.String(), "\n") {
			l = strings.TrimSpace(l)
			if !strings.HasPrefix(l, "{") {
				continue
			}
			var rec map[string]any
			if json.Unmarshal([]byte(l), &rec) != nil || rec["msg"] != msg {
				continue
			}
			if got, _ := rec["ticket_hash"].(string); strings.EqualFold(got, h.Hex()) {
				out = append(out, rec)
			}
		}
		return out
	}
	waitFor(t, 60*time.Second, "every step of the ticket logged", func() bool {
		for _, msg := range steps {
			if len(about(msg, hash)) == 0 {
				return false
			}
		}
		return true
	})
	for _, msg := range steps {
		for _, rec := range about(msg, hash) {
			if rec["sender"] != sender {
				t.Errorf("%q line for the ticket names sender %v, want %s", msg, rec["sender"], sender)
			}
		}
	}
	if len(about("ticket refused", badHash)) == 0 {
		t.Errorf("no \"ticket refused\" line carries the refused ticket's hash %s", badHash.Hex())
	}
}
