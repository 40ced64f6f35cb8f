package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"

	"redeemer/chain"
	"redeemer/queue"
	"redeemer/rpc"
	"redeemer/rpc/pb"
	"redeemer/store"
	"redeemer/store/storetest"
)

// The recovery load.
const (
	recoveryQueued  = 100_000
	recoveryInLimbo = 1_000
	recoverySenders = 10
	// recoveryBatch is serve's default --max-batch: the in-limbo tickets sit
	// in redemptions of this many, as the worker would have left them.
	recoveryBatch    = 10
	recoveryRestarts = 3
)

// In-limbo face values add up to half of each sender's 10 ETH deposit, so
// deposit / pending = 2 < 3 and the in-limbo amount is subtracted from the
// float: a restart that served floats before counting the tickets in limbo
// would answer 10 ETH instead of 5.
var (
	recoveryLimboFace  = new(big.Int).Div(ether(5), big.NewInt(recoveryInLimbo/recoverySenders))
	recoveryQueuedFace = big.NewInt(1e15)
)

// BenchmarkRecovery measures a restart after SIGKILL: the time from
// starting `redeemer serve` to its answering MaxFloat over gRPC, for every
// sender, with the value the formula gives from the chain and the tickets
// in limbo. The database holds 100,000 queued tickets (not due yet) and
// 1,000 in limbo: tickets marked redeeming inside 100 pending redemptions,
// each with its signed transaction in tx_attempts, claimed through the
// same store call the worker uses and never broadcast, as a crash right
// after the claim commits leaves them. The floor is the same restart with
// a database that tracks the same senders but holds no tickets. Each is
// restarted three times (SIGKILL, start, measure); the figures are the
// medians. From serve's own log it also reports the time to leadership and
// to the end of the recovery pass (in-limbo amounts recomputed, the 100
// stored transactions re-broadcast byte for byte).
func BenchmarkRecovery(b *testing.B) {
	bin := buildBinary(b)
	c := newBenchChain(b, recoverySenders, 1000)
	floorRun := runRecovery(b, bin, c, false)
	run := runRecovery(b, bin, c, true)

	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ms(run.floats), "ready-ms")
	b.ReportMetric(ms(run.floatsMax), "ready-max-ms")
	b.ReportMetric(ms(run.leader), "leader-ms")
	b.ReportMetric(ms(run.recovered), "recovered-ms")
	b.ReportMetric(ms(run.listening), "listening-ms")
	b.ReportMetric(ms(floorRun.floats), "floor-ready-ms")
	b.ReportMetric(ms(floorRun.leader), "floor-leader-ms")
	b.ReportMetric(ms(run.floats)/ms(floorRun.floats), "x-floor")
	b.Logf("floor: the same SIGKILL and restart with a database that tracks the same %d senders but holds no tickets: correct floats %s after start (gRPC listening %s, leader %s); with %d queued and %d in limbo: %s (gRPC listening %s, leader %s, recovery pass done %s); medians of %d restarts",
		recoverySenders, fmtMS(floorRun.floats), fmtMS(floorRun.listening), fmtMS(floorRun.leader), recoveryQueued, recoveryInLimbo,
		fmtMS(run.floats), fmtMS(run.listening), fmtMS(run.leader), fmtMS(run.recovered), recoveryRestarts)
}

type recoveryResult struct {
	floats, floatsMax, leader, recovered, listening time.Duration
}

func runRecovery(b *testing.B, bin string, c *benchChain, load bool) recoveryResult {
	b.Helper()
	ctx := context.Background()
	dsn := storetest.New(b)
	grpcAddr := freeLoopbackAddr(b)
	args := serveArgs(b, c, dsn, grpcAddr, "--max-head-lag", "0")
	client := pb.NewTicketRedeemerClient(dialRestarting(b, grpcAddr))
	senders := c.Senders()

	// A first run tracks the senders (reads them from chain) and leads.
	srv := startBenchServer(b, bin, args)
	srv.waitMsg(b, "became leader: this replica redeems tickets", 90*time.Second)
	for _, s := range senders {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := client.MaxFloat(cctx, &pb.MaxFloatReq{Sender: s.Address.Bytes()}, grpc.WaitForReady(true))
		cancel()
		if err != nil {
			b.Fatalf("track %s: %v", s.Address, err)
		}
	}
	if load {
		seedRecoveryLoad(b, c, dsn)
	}
	want := expectedFloats(b, c, dsn)

	var floats, leaders, recovered, listening []time.Duration
	for range recoveryRestarts {
		srv.kill(b)
		srv = startBenchServer(b, bin, args)
		ready := waitFloats(b, client, want, 60*time.Second)
		floats = append(floats, ready.Sub(srv.started))
		leaders = append(leaders, logTime(b, srv.waitMsg(b, "became leader: this replica redeems tickets", 90*time.Second)).Sub(srv.started))
		listening = append(listening, logTime(b, srv.waitMsg(b, "gRPC server listening", 90*time.Second)).Sub(srv.started))
		if load {
			l := srv.waitMsg(b, "recovered open redemptions", 90*time.Second)
			if n, _ := l.rec["count"].(float64); int(n) != recoveryInLimbo/recoveryBatch {
				b.Fatalf("serve recovered %v open redemptions, want %d", l.rec["count"], recoveryInLimbo/recoveryBatch)
			}
			recovered = append(recovered, logTime(b, l).Sub(srv.started))
		}
		// The floats stay right once recovery is done.
		waitFloats(b, client, want, 10*time.Second)
	}
	b.Logf("last restart (load %v), serve's log from its start: %s", load, srv.timeline(b))
	srv.stop()
	slices.Sort(floats)
	slices.Sort(leaders)
	slices.Sort(recovered)
	slices.Sort(listening)
	r := recoveryResult{floats: floats[len(floats)/2], floatsMax: floats[len(floats)-1], leader: leaders[len(leaders)/2],
		listening: listening[len(listening)/2]}
	if load {
		r.recovered = recovered[len(recovered)/2]
	}
	return r
}

// dialRestarting connects to a server that comes and goes: reconnection
// retries every few milliseconds instead of gRPC's default backoff of a
// second or more, which would otherwise be most of what is measured.
func dialRestarting(b testing.TB, addr string) *grpc.ClientConn {
	b.Helper()
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 5 * time.Millisecond, Multiplier: 1.2, MaxDelay: 20 * time.Millisecond},
			MinConnectTimeout: 2 * time.Second,
		}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return conn
}

// waitFloats asks MaxFloat for every sender in want until each answers its
// wanted value, and returns when the last one did.
func waitFloats(b testing.TB, client pb.TicketRedeemerClient, want map[common.Address][]byte, within time.Duration) time.Time {
	b.Helper()
	deadline := time.Now().Add(within)
	pending := make([]common.Address, 0, len(want))
	for a := range want {
		pending = append(pending, a)
	}
	var lastErr error
	for len(pending) > 0 {
		if time.Now().After(deadline) {
			b.Fatalf("%d senders without their correct float after %s; last: %v", len(pending), within, lastErr)
		}
		a := pending[0]
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		m, err := client.MaxFloat(cctx, &pb.MaxFloatReq{Sender: a.Bytes()}, grpc.WaitForReady(true))
		cancel()
		switch {
		case err != nil:
			lastErr = err
		case !bytes.Equal(m.MaxFloat, want[a]):
			lastErr = fmt.Errorf("MaxFloat(%s) = %x, want %x", a, m.MaxFloat, want[a])
			time.Sleep(2 * time.Millisecond)
		default:
			pending = pending[1:]
		}
	}
	return time.Now()
}

// expectedFloats applies the max float formula to the chain's values and
// the database's tickets in limbo: deposit from getSenderInfo, allocation
// from claimableReserve, pending = face values of redeeming tickets.
func expectedFloats(b testing.TB, c *benchChain, dsn string) map[common.Address][]byte {
	b.Helper()
	ctx := context.Background()
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close(ctx)
	out := map[common.Address][]byte{}
	p := c.Protocol()
	recipient := c.Recipient().Address
	for _, s := range c.Senders() {
		info, err := p.SenderInfo(ctx, s.Address)
		if err != nil {
			b.Fatal(err)
		}
		alloc, err := p.ClaimableReserve(ctx, s.Address, recipient)
		if err != nil {
			b.Fatal(err)
		}
		var pendingText string
		if err := db.QueryRow(ctx, `SELECT coalesce(sum(face_value), 0)::text FROM tickets
			WHERE sender = $1 AND status = 'redeeming'`, s.Address.Bytes()).Scan(&pendingText); err != nil {
			b.Fatal(err)
		}
		pending, ok := new(big.Int).SetString(pendingText, 10)
		if !ok {
			b.Fatalf("in-limbo sum %q", pendingText)
		}
		f := new(big.Int).Set(alloc)
		if pending.Sign() == 0 || new(big.Int).Quo(info.Deposit, pending).Cmp(big.NewInt(3)) < 0 {
			f.Sub(f, pending)
		}
		out[s.Address] = rpc.WireFloat(f)
	}
	return out
}

// seedRecoveryLoad writes the recovery load: queued tickets in one
// INSERT ... SELECT over generate_series, and the in-limbo ones inserted
// the same way and then claimed in batches through store.ClaimTickets with
// real signed transactions.
func seedRecoveryLoad(b testing.TB, c *benchChain, dsn string) {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close(ctx)
	round, err := c.Protocol().LastInitializedRound(ctx)
	if err != nil {
		b.Fatal(err)
	}
	bh, err := c.Protocol().BlockHashForRound(ctx, round)
	if err != nil {
		b.Fatal(err)
	}
	var senders [][]byte
	for _, s := range c.Senders() {
		senders = append(senders, s.Address.Bytes())
	}
	// Hashes come from the row number and a tag per kind, so they are
	// distinct; the signatures are not real (nothing here is mined), but
	// every column satisfies the schema's checks.
	insert := func(tag string, from, n int, face *big.Int) {
		_, err := db.Exec(ctx, `
			INSERT INTO tickets (ticket_hash, sender, recipient, face_value, win_prob, sender_nonce,
				recipient_rand, recipient_rand_hash, sig, creation_round, creation_round_block_hash,
				params_expiration_block)
			SELECT sha256(convert_to($1, 'UTF8') || int8send(i)), ($2::bytea[])[1 + i % array_length($2::bytea[], 1)],
				$3, $4::numeric, $5::numeric, i % 4294967296,
				sha256(int8send(i)), sha256(sha256(int8send(i))), sha256(int8send(i)) || sha256(int8send(-i)) || '\x1b'::bytea,
				$6, $7, $8
			FROM generate_series($9::bigint, $10::bigint) AS i`,
			tag, senders, c.Recipient().Address.Bytes(), face.String(), chain.MaxWinProb.String(),
			round.Int64(), bh.Bytes(), int64(1<<40), int64(from), int64(from+n-1))
		if err != nil {
			b.Fatalf("seed %s tickets: %v", tag, err)
		}
	}
	insert("queued", 0, recoveryQueued, recoveryQueuedFace)
	insert("limbo", 0, recoveryInLimbo, recoveryLimboFace)
	// Rows written past intake: their senders' queued amounts, as intake
	// would have kept them, so the claims below move them into limbo.
	if _, err := db.Exec(ctx, `INSERT INTO sender_limbo (sender, queued_amount)
		SELECT sender, sum(face_value) FROM tickets WHERE status = 'queued' GROUP BY sender
		ON CONFLICT (sender) DO UPDATE SET queued_amount = EXCLUDED.queued_amount`); err != nil {
		b.Fatalf("seed queued amounts: %v", err)
	}

	st, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var ids []int64
	rows, err := db.Query(ctx, `SELECT id FROM tickets WHERE face_value = $1::numeric ORDER BY id`, recoveryLimboFace.String())
	if err != nil {
		b.Fatal(err)
	}
	ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) != recoveryInLimbo {
		b.Fatalf("%d in-limbo candidates, %v; want %d", len(ids), err, recoveryInLimbo)
	}
	signer := chain.NewTxSigner(c.Redeemer().Key, c.ChainID())
	tip, feeCap, err := chain.SuggestFees(ctx, c.Client(), new(big.Int).Mul(big.NewInt(100), big.NewInt(1e9)))
	if err != nil {
		b.Fatal(err)
	}
	chainNonce, err := c.Client().PendingNonceAt(ctx, signer.Address())
	if err != nil {
		b.Fatal(err)
	}
	broker := c.Addresses().TicketBroker
	head, err := c.Client().BlockNumber(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < len(ids); i += recoveryBatch {
		var locked []store.Ticket
		err := st.InTx(ctx, func(q store.Q) error {
			var err error
			if locked, err = q.LockQueuedTickets(ctx, ids[i:i+recoveryBatch]); err != nil {
				return err
			}
			nonce, err := q.TakeNonce(ctx, signer.Address(), chainNonce)
			if err != nil {
				return err
			}
			batch := make([]chain.SignedTicket, len(locked))
			claimedTickets := make([]store.ClaimedTicket, len(locked))
			for j := range locked {
				batch[j] = queue.SignedTicket(&locked[j])
				claimedTickets[j] = store.ClaimedTicket{ID: locked[j].ID, Sender: locked[j].Sender,
					FaceValue: locked[j].FaceValue, ExpectedPayout: locked[j].FaceValue}
			}
			data, err := chain.RedeemCalldata(batch)
			if err != nil {
				return err
			}
			const gasLimit = 2_000_000
			tx, raw, err := signer.Sign(chain.TxParams{Nonce: nonce, To: broker, Data: data, GasLimit: gasLimit, TipCap: tip, FeeCap: feeCap})
			if err != nil {
				return err
			}
			_, err = q.InsertRedemption(ctx, store.NewRedemption{Account: signer.Address(), Nonce: nonce, HeadNumber: head,
				Tx:      store.AttemptTx{TxHash: tx.Hash(), Raw: raw, GasLimit: gasLimit, FeeCap: feeCap, TipCap: tip},
				Tickets: claimedTickets})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		if len(locked) != recoveryBatch {
			b.Fatalf("claim %d: %d tickets locked", i/recoveryBatch, len(locked))
		}
	}
	var queued, redeeming int
	if err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'queued'), count(*) FILTER (WHERE status = 'redeeming')
		FROM tickets`).Scan(&queued, &redeeming); err != nil {
		b.Fatal(err)
	}
	if queued != recoveryQueued || redeeming != recoveryInLimbo {
		b.Fatalf("seeded %d queued and %d redeeming, want %d and %d", queued, redeeming, recoveryQueued, recoveryInLimbo)
	}
	b.Logf("seeded %d queued and %d in-limbo tickets (%d pending redemptions) in %s",
		queued, redeeming, recoveryInLimbo/recoveryBatch, time.Since(start).Round(time.Millisecond))
}

// logTime is the time serve stamped on a log line.
func logTime(b testing.TB, l benchLogLine) time.Time {
	b.Helper()
	ts, _ := l.rec["time"].(string)
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		b.Fatalf("log line without a time: %v", l.rec)
	}
	return at
}

// timeline lists each log message with its time from the start; a run of
// one message is one entry with its count and last time.
func (s *benchServer) timeline(b testing.TB) string {
	s.mu.Lock()
	lines := slices.Clone(s.lines)
	s.mu.Unlock()
	type entry struct {
		msg         string
		first, last time.Duration
		n           int
	}
	var entries []entry
	for _, l := range lines {
		msg, _ := l.rec["msg"].(string)
		ts, _ := l.rec["time"].(string)
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			continue
		}
		d := at.Sub(s.started)
		if k := len(entries) - 1; k >= 0 && entries[k].msg == msg {
			entries[k].last, entries[k].n = d, entries[k].n+1
			continue
		}
		entries = append(entries, entry{msg: msg, first: d, last: d, n: 1})
	}
	parts := make([]string, len(entries))
	for i, e := range entries {
		parts[i] = fmt.Sprintf("%s %q", fmtMS(e.first), e.msg)
		if e.n > 1 {
			parts[i] += fmt.Sprintf(" x%d (last %s)", e.n, fmtMS(e.last))
		}
	}
	return strings.Join(parts, "; ")
}
