package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/jackc/pgx/v5"

	"redeemer/chain"
	"redeemer/rpc"
	"redeemer/rpc/pb"
	"redeemer/store/storetest"
)

// Due-to-broadcast timing: blocks come every dueBlockInterval (two polls
// of the default interval, so a block lands anywhere in the poll cycle),
// and one queued ticket falls due in each.
const (
	dueBlockInterval = 500 * time.Millisecond
	duePollInterval  = 250 * time.Millisecond
)

// BenchmarkDueToBroadcast measures how long a ticket waits, once it is due,
// for its redemption transaction to reach the node, with the pipeline as
// `redeemer serve` runs it on pushed heads (--eth-ws-url; --poll-interval
// 250ms, the target, is then only the fallback).
//
// Tickets are queued over gRPC (full intake) ahead of time, one falling due
// per block (params expiration block = that block's number). The chain is
// in this process and mines a block every 500 ms; the moment a block is
// visible at the node is stamped when it is mined. The broadcast moment is
// tx_attempts.sent_at of the ticket's redemption's first attempt: the
// worker records it right after the node accepted the transaction. The
// figure is sent_at minus the due block's time; the target, one
// poll interval, is the floor. From serve's own debug log, each ticket's
// wait splits into the poll (block visible -> the poller's "new head") and
// the pipeline (new head -> sent_at).
func BenchmarkDueToBroadcast(b *testing.B) {
	ctx := context.Background()
	n := benchReps(b, 40)
	bin := buildBinary(b)
	c := newBenchChain(b, 2, 1000)
	dsn := storetest.New(b)
	// Heads are pushed over the node's websocket, as a hosted endpoint
	// with a wss URL serves them; the poll interval stays the target.
	extra := []string{"--poll-interval", duePollInterval.String(), "--max-head-lag", "0", "--log-level", "debug",
		"--eth-ws-url", c.WSURL()}
	pprofOn := serveHasFlag(b, bin, "pprof")
	if pprofOn {
		extra = append(extra, "--pprof")
	}
	srv := startBenchServer(b, bin, serveArgs(b, c, dsn, "127.0.0.1:0", extra...))
	grpcAddr := srv.addr(b, "gRPC server listening")
	srv.waitMsg(b, "became leader: this replica redeems tickets", 90*time.Second)
	prof := &serverMemory{srv: srv, metrics: srv.metricsURL(b), pprof: pprofOn}
	client := pb.NewTicketRedeemerClient(dialTLS(b, grpcAddr))

	head, err := c.Client().BlockNumber(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// Room to queue every ticket before the first falls due, and to stay
	// inside the round (1000 blocks) and the tickets' validity.
	first := head + 10
	if (first+uint64(n))/c.RoundLength() != head/c.RoundLength() {
		b.Fatalf("%d tickets from block %d would cross a round boundary", n, first)
	}
	hashes := make(map[common.Hash]uint64, n)
	for i := range n {
		due := first + uint64(i)
		m, h := signDueTicket(b, c, i, due)
		if _, err := client.QueueTicket(ctx, m); err != nil {
			b.Fatalf("QueueTicket: %v", err)
		}
		hashes[h] = due
	}
	if head2, _ := c.Client().BlockNumber(ctx); head2 != head {
		b.Fatalf("chain moved from %d to %d while queueing; nothing else mines", head, head2)
	}

	stopProfile := prof.startProfile(b, "due-to-broadcast")
	mctx, stopMining := context.WithCancel(ctx)
	mined := make(chan struct{})
	go func() { defer close(mined); c.mineEvery(mctx, b, dueBlockInterval) }()
	defer func() { stopMining(); <-mined }()

	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close(ctx)
	type sent struct {
		hash   common.Hash
		sentAt time.Time
	}
	var got []sent
	deadline := time.Now().Add(time.Duration(n)*dueBlockInterval + 2*time.Minute)
	for {
		rows, err := db.Query(ctx, `
			SELECT t.ticket_hash, (SELECT a.sent_at FROM tx_attempts a WHERE a.redemption_id = t.redemption_id
			                       ORDER BY a.id LIMIT 1)
			FROM tickets t WHERE t.redemption_id IS NOT NULL`)
		if err != nil {
			b.Fatal(err)
		}
		got = got[:0]
		for rows.Next() {
			var h []byte
			var at *time.Time
			if err := rows.Scan(&h, &at); err != nil {
				b.Fatal(err)
			}
			if at != nil {
				got = append(got, sent{common.BytesToHash(h), *at})
			}
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		if len(got) == n {
			break
		}
		if time.Now().After(deadline) {
			var summary string
			_ = db.QueryRow(ctx, `SELECT string_agg(status || ' ' || coalesce(last_error, ''), '; ') FROM tickets
				WHERE redemption_id IS NULL`).Scan(&summary)
			b.Fatalf("%d of %d tickets broadcast by %s; the others: %s", len(got), n, deadline.Format(time.TimeOnly), summary)
		}
		time.Sleep(100 * time.Millisecond)
	}

	stopProfile()
	heads := headLogTimes(srv)
	var waits, polls, passes []time.Duration
	for _, s := range got {
		due, ok := hashes[s.hash]
		if !ok {
			b.Fatalf("ticket %s was not queued by this benchmark", s.hash)
		}
		dueAt, ok := c.blockTime(due)
		if !ok {
			b.Fatalf("block %d was not mined by the benchmark", due)
		}
		w := s.sentAt.Sub(dueAt)
		if w < 0 {
			b.Fatalf("ticket due at block %d was broadcast %s before the block was mined", due, -w)
		}
		waits = append(waits, w)
		if seen, ok := heads[due]; ok {
			polls = append(polls, seen.Sub(dueAt))
			passes = append(passes, s.sentAt.Sub(seen))
		}
	}
	slices.Sort(waits)
	slices.Sort(polls)
	slices.Sort(passes)
	p99 := percentile(waits, 99)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(n), "tickets")
	b.ReportMetric(ms(percentile(waits, 50)), "p50-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	b.ReportMetric(ms(waits[len(waits)-1]), "max-ms")
	if len(polls) > 0 {
		b.ReportMetric(ms(percentile(polls, 50)), "poll-p50-ms")
		b.ReportMetric(ms(percentile(passes, 50)), "pass-p50-ms")
		b.ReportMetric(ms(percentile(passes, 99)), "pass-p99-ms")
	}
	b.ReportMetric(ms(duePollInterval), "floor-poll-interval-ms")
	b.ReportMetric(ms(p99)/ms(duePollInterval), "x-floor")
	b.Logf("floor: the poll interval (%s), the issue's target: a due ticket is broadcast within one poll; heads pushed over the websocket; %d tickets, one due per block, blocks every %s; poll = block visible -> serve's \"new head\" log (%d of %d heads logged), pass = new head -> tx_attempts.sent_at",
		duePollInterval, n, dueBlockInterval, len(polls), n)
}

// signDueTicket signs a winning ticket from dev sender i%2, due at block
// due, for the last initialized round.
func signDueTicket(b testing.TB, c *benchChain, i int, due uint64) (*pb.Ticket, common.Hash) {
	b.Helper()
	ctx := context.Background()
	p := c.Protocol()
	round, err := p.LastInitializedRound(ctx)
	if err != nil {
		b.Fatal(err)
	}
	bh, err := p.BlockHashForRound(ctx, round)
	if err != nil {
		b.Fatal(err)
	}
	senders := c.Senders()
	rr, err := rand.Int(rand.Reader, chain.MaxWinProb)
	if err != nil {
		b.Fatal(err)
	}
	tk := chain.Ticket{
		Recipient:              c.Recipient().Address,
		FaceValue:              big.NewInt(2e15),
		WinProb:                chain.MaxWinProb,
		SenderNonce:            uint32(i + 1),
		CreationRound:          round.Int64(),
		CreationRoundBlockHash: bh,
		ParamsExpirationBlock:  new(big.Int).SetUint64(due),
	}
	m, h, err := rpc.SignTicket(tk, senders[i%len(senders)].Key, rr)
	if err != nil {
		b.Fatal(fmt.Errorf("sign ticket: %w", err))
	}
	return m, h
}

// headLogTimes maps each block number to the time serve logged it as a new
// head (its own clock, the same host's).
func headLogTimes(s *benchServer) map[uint64]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[uint64]time.Time{}
	for _, l := range s.lines {
		if m, _ := l.rec["msg"].(string); m != "new head" {
			continue
		}
		num, ok := l.rec["number"].(float64)
		ts, _ := l.rec["time"].(string)
		at, err := time.Parse(time.RFC3339Nano, ts)
		if !ok || err != nil {
			continue
		}
		if _, dup := out[uint64(num)]; !dup {
			out[uint64(num)] = at
		}
	}
	return out
}
