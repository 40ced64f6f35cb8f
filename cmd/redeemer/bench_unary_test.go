package main

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"redeemer/rpc/pb"
	"redeemer/store/storetest"
)

const unaryClients = 16

// BenchmarkMaxFloatUnary measures the unary MaxFloat through the real
// binary at 16 concurrent clients, each on its own TLS connection (16
// orchestrators), over 16 senders the service already tracks, so each call
// is what a cache miss in go-livepeer's client costs: decode, one database
// read of the sender's stored state, the float formula, the reply. Every
// reply is checked against the formula.
//
// The floor is the standard gRPC health Check on the same server, same
// connections, same concurrency: the same TLS, HTTP/2 and gRPC path with no
// work behind it, so x-floor (MaxFloat req/s over health req/s) is the
// share of the transport's rate left once the service does its own work.
// A raw pgx SELECT of the same row (senders joined with the in-limbo amount
// and the protocol values) at 16 clients is reported beside it as pgx-req/s:
// it bounds the database side alone. The three phases alternate, so a
// burst of load from elsewhere hits all of them alike.
func BenchmarkMaxFloatUnary(b *testing.B) {
	ctx := context.Background()
	secs := max(benchSeconds(b)/3, 1)
	bin := buildBinary(b)
	c := newBenchChain(b, unaryClients, 1000)
	dsn := storetest.New(b)
	pprofOn := serveHasFlag(b, bin, "pprof")
	extra := []string{"--max-head-lag", "0"}
	if pprofOn {
		extra = append(extra, "--pprof")
	}
	srv := startBenchServer(b, bin, serveArgs(b, c, dsn, "127.0.0.1:0", extra...))
	grpcAddr := srv.addr(b, "gRPC server listening")
	srv.waitMsg(b, "became leader: this replica redeems tickets", 90*time.Second)
	prof := &serverMemory{srv: srv, metrics: srv.metricsURL(b), pprof: pprofOn}

	var floats []pb.TicketRedeemerClient
	var health []healthpb.HealthClient
	for range unaryClients {
		conn := dialTLS(b, grpcAddr)
		floats = append(floats, pb.NewTicketRedeemerClient(conn))
		health = append(health, healthpb.NewHealthClient(conn))
	}
	senders := c.Senders()
	// Pool size 1 and no claims: each sender's float is its whole reserve.
	want := ether(10).Bytes()
	reqs := make([]*pb.MaxFloatReq, len(senders))
	for i, s := range senders {
		reqs[i] = &pb.MaxFloatReq{Sender: s.Address.Bytes()}
		// A stream makes the service track the sender, as an
		// orchestrator's client does; unary calls then read its stored
		// state (a sender nobody tracks is answered from chain instead).
		sctx, cancel := context.WithCancel(ctx)
		stream, err := floats[i].MonitorMaxFloat(sctx, reqs[i])
		if err != nil {
			b.Fatal(err)
		}
		first, err := stream.Recv()
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		if !bytes.Equal(first.MaxFloat, want) {
			b.Fatalf("MaxFloat(%s) = %x, want %x", s.Address, first.MaxFloat, want)
		}
	}

	poolCfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	poolCfg.MaxConns = unaryClients
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)

	maxFloat := func(ctx context.Context, i int) error {
		m, err := floats[i].MaxFloat(ctx, reqs[i])
		if err != nil {
			return err
		}
		if !bytes.Equal(m.MaxFloat, want) {
			return fmt.Errorf("MaxFloat(%x) = %x, want %x", reqs[i].Sender, m.MaxFloat, want)
		}
		return nil
	}
	check := func(ctx context.Context, i int) error {
		_, err := health[i].Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}
	selectRow := func(ctx context.Context, i int) error {
		var (
			n     [6]pgtype.Numeric
			block pgtype.Int8
			limbo pgtype.Numeric
			p     [3]pgtype.Numeric
		)
		return pool.QueryRow(ctx, `
			SELECT s.deposit, s.withdraw_round, s.reserve_funds_remaining, s.reserve_claimed_in_round,
				s.claimed_by_recipient, s.state_round, s.state_block, coalesce(l.amount, 0),
				p.pool_size, p.current_round, p.last_initialized_round
			FROM senders s
			LEFT JOIN sender_limbo l ON l.sender = s.sender
			CROSS JOIN protocol_state p
			WHERE s.sender = $1`, reqs[i].Sender).
			Scan(&n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &block, &limbo, &p[0], &p[1], &p[2])
	}
	// Warm every path (connections, prepared statements) before timing.
	for _, f := range []func(context.Context, int) error{maxFloat, check, selectRow} {
		callFor(b, unaryClients, time.Second, f)
	}

	var mf, hc, pg []callRun
	const alternations = 3
	for i := range alternations {
		d := time.Duration(secs) * time.Second / alternations
		if i == alternations-1 {
			// The profile outlasts the phase: the phase is the busy part.
			stop := prof.startProfile(b, "maxfloat-unary")
			snap := prof.snapshotGoroutines(b, "maxfloat-unary", 5, d/6)
			mf = append(mf, callFor(b, unaryClients, d, maxFloat))
			snap()
			stop()
		} else {
			mf = append(mf, callFor(b, unaryClients, d, maxFloat))
		}
		hc = append(hc, callFor(b, unaryClients, d, check))
		pg = append(pg, callFor(b, unaryClients, d, selectRow))
	}
	m, h, p := mergeRuns(mf), mergeRuns(hc), mergeRuns(pg)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(m.rate(), "req/s")
	b.ReportMetric(ms(percentile(m.latencies, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(m.latencies, 99)), "p99-ms")
	b.ReportMetric(h.rate(), "floor-req/s")
	b.ReportMetric(ms(percentile(h.latencies, 99)), "floor-p99-ms")
	b.ReportMetric(m.rate()/h.rate(), "x-floor")
	b.ReportMetric(p.rate(), "pgx-req/s")
	b.ReportMetric(ms(percentile(p.latencies, 99)), "pgx-p99-ms")
	b.Logf("floor: grpc.health.v1 Check on the same server and connections at %d clients: %.0f req/s (p99 %s); MaxFloat %.0f req/s (p99 %s) = %.2fx; raw pgx SELECT of the same row, %d clients: %.0f req/s (p99 %s); %ds per path in %d alternations",
		unaryClients, h.rate(), fmtMS(percentile(h.latencies, 99)), m.rate(), fmtMS(percentile(m.latencies, 99)), m.rate()/h.rate(),
		unaryClients, p.rate(), fmtMS(percentile(p.latencies, 99)), secs, alternations)
}
