package main

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/jackc/pgx/v5"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/chain/nodeproxy"
	"redeemer/rpc"
	"redeemer/rpc/pb"
	"redeemer/store/storetest"
)

// remoteRun is one run of `redeemer serve` against the dev chain through a
// proxy that behaves like a hosted Arbitrum endpoint: every request takes a
// round trip of latency, calls above a rate are refused with HTTP 429, four
// blocks a second, and the L1 number advancing once every ratio blocks.
type remoteRun struct {
	Latency  time.Duration
	MaxRPS   float64
	Block    time.Duration
	L1Ratio  uint64
	Idle     time.Duration
	Load     time.Duration
	PerSec   int           // tickets queued per second under load
	DueIn    uint64        // L1 blocks from queueing to due
	Drain    time.Duration // most time for the load's tickets to settle
	ServeRPS float64       // the service's own --eth-max-rps
}

// remoteResult is what a remote run measured.
type remoteResult struct {
	blocksIdle          uint64
	callsIdle           int64
	callsPerBlockIdle   float64
	maxLagIdle          int64
	maxLagLoad          int64
	queued, redeemed    int
	worstDueToMined     int64 // blocks from the due block to the block that mined it
	queueP50, queueP99  time.Duration
	queueMax            time.Duration
	refused429          int64
	callsLoad           int64
	blocksLoad          uint64
	methodsIdle         map[string]int64
	unavailableRefusals int
}

func (r remoteResult) String() string {
	return fmt.Sprintf("idle: %d calls over %d blocks (%.2f per block), max head lag %d blocks; "+
		"load: %d tickets queued, %d redeemed, worst due->mined %d blocks, max head lag %d blocks, "+
		"QueueTicket p50 %s p99 %s max %s, %d calls over %d blocks, %d refused by the node's rate limit, %d tickets answered Unavailable; idle calls by method %v",
		r.callsIdle, r.blocksIdle, r.callsPerBlockIdle, r.maxLagIdle, r.queued, r.redeemed, r.worstDueToMined, r.maxLagLoad,
		r.queueP50.Round(time.Millisecond), r.queueP99.Round(time.Millisecond), r.queueMax.Round(time.Millisecond),
		r.callsLoad, r.blocksLoad, r.refused429, r.unavailableRefusals, r.methodsIdle)
}

// run starts the chain, the proxy and serve, then measures the idle phase
// and the load phase.
func (rr remoteRun) run(t testing.TB) remoteResult {
	t.Helper()
	ctx := context.Background()
	dc, err := devchain.New(ctx, devchain.Options{RPCAddr: "127.0.0.1:0", Senders: 4, RoundLength: 600, L1Ratio: rr.L1Ratio})
	if err != nil {
		t.Fatalf("dev chain: %v", err)
	}
	t.Cleanup(func() { _ = dc.Close() })
	ks, pw, err := writeDevKeystore(t.TempDir(), dc.Redeemer().Key)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := nodeproxy.NewURL(dc.RPCURL(), nodeproxy.Options{Latency: rr.Latency, MaxRPS: rr.MaxRPS,
		Refusal: nodeproxy.RefuseHTTP})
	if err != nil {
		t.Fatal(err)
	}
	proxyURL, err := proxy.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	mctx, stopMining := context.WithCancel(ctx)
	t.Cleanup(stopMining)
	go dc.Mine(mctx, rr.Block)

	bin := buildBinary(t)
	dsn := storetest.New(t)
	grpcAddr := freeLoopbackAddr(t)
	srv := startBenchServer(t, bin, []string{"serve",
		"--database-url", dsn,
		"--eth-url", proxyURL, "--controller", dc.Addresses().Controller.Hex(),
		"--recipient", dc.Recipient().Address.Hex(),
		"--keystore", ks, "--password-file", pw,
		"--grpc-addr", grpcAddr, "--data-dir", t.TempDir(),
		"--metrics-addr", "127.0.0.1:0", "--log-format", "json",
		"--eth-max-rps", fmt.Sprint(rr.ServeRPS), "--eth-timeout", "5s",
		"--confirmations", "3",
	})
	srv.waitMsg(t, "became leader: this replica redeems tickets", 60*time.Second)
	srv.waitMsg(t, "gRPC server listening", 60*time.Second)
	metrics := srv.metricsURL(t)
	// The first head, sender state and the caches settle before measuring.
	time.Sleep(5 * time.Second)

	lag := func(until time.Time) int64 {
		var worst int64
		for time.Now().Before(until) {
			if v, ok := scrapeMetrics(t, metrics).value("redeemer_head_lag_blocks"); ok {
				worst = max(worst, int64(v))
			}
			time.Sleep(time.Second)
		}
		return worst
	}
	eth, err := ethclient.Dial(dc.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer eth.Close()
	blockNow := func() uint64 {
		n, err := eth.BlockNumber(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	var res remoteResult
	// Idle: nothing queued; what does following the chain cost?
	proxy.Reset()
	from := blockNow()
	res.maxLagIdle = lag(time.Now().Add(rr.Idle))
	idle := proxy.Stats()
	res.blocksIdle = blockNow() - from
	res.callsIdle = idle.Calls
	res.methodsIdle = idle.Methods
	res.callsPerBlockIdle = float64(idle.Calls) / float64(max(res.blocksIdle, 1))

	// Load: PerSec tickets a second, each due DueIn L1 blocks on.
	proxy.Reset()
	from = blockNow()
	conn := dialTLS(t, grpcAddr)
	client := pb.NewTicketRedeemerClient(conn)
	var (
		mu        sync.Mutex
		latencies []time.Duration
		hashes    []common.Hash
		wg        sync.WaitGroup
	)
	loadEnd := time.Now().Add(rr.Load)
	wg.Go(func() { res.maxLagLoad = lag(loadEnd) })
	round, err := dc.Protocol().LastInitializedRound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(time.Second / time.Duration(rr.PerSec))
	var seq uint32
	for time.Now().Before(loadEnd) {
		<-tick.C
		l2 := blockNow()
		if r, err := dc.Protocol().LastInitializedRound(ctx); err == nil {
			round = r
		}
		bh, err := dc.Protocol().BlockHashForRound(ctx, round)
		if err != nil {
			t.Fatal(err)
		}
		seq++
		tk := chain.Ticket{Recipient: dc.Recipient().Address, FaceValue: big.NewInt(1e15), WinProb: chain.MaxWinProb,
			SenderNonce: seq, CreationRound: round.Int64(), CreationRoundBlockHash: bh,
			ParamsExpirationBlock: new(big.Int).SetUint64(dc.L1Number(l2) + rr.DueIn)}
		m, h, err := rpc.SignTicket(tk, dc.Senders()[int(seq)%len(dc.Senders())].Key, big.NewInt(time.Now().UnixNano()))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, 8*time.Second) // go-livepeer's single attempt
			defer cancel()
			start := time.Now()
			_, err := client.QueueTicket(cctx, m)
			d := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			latencies = append(latencies, d)
			if err != nil {
				res.unavailableRefusals++
				return
			}
			hashes = append(hashes, h)
		})
	}
	tick.Stop()
	wg.Wait()
	res.queued = len(hashes)
	slices.Sort(latencies)
	res.queueP50, res.queueP99, res.queueMax = percentile(latencies, 50), percentile(latencies, 99), latencies[len(latencies)-1]

	// Drain: every queued ticket settled.
	o := &orchestrator{t: t, db: connectDB(t, dsn)}
	deadline := time.Now().Add(rr.Drain)
	for o.rows("WHERE status IN ('queued', 'redeeming')") > 0 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	load := proxy.Stats()
	res.callsLoad, res.blocksLoad, res.refused429 = load.Calls, blockNow()-from, load.Refused
	res.redeemed = o.rows("WHERE status = 'redeemed'")
	// The due block is the first block whose L1 number reaches the
	// ticket's expiration block.
	if err := o.db.QueryRow(ctx, `SELECT coalesce(max(r.mined_block - t.params_expiration_block * $1), 0)
		FROM tickets t JOIN redemptions r ON r.id = t.redemption_id WHERE t.status = 'redeemed'`,
		int64(rr.L1Ratio)).Scan(&res.worstDueToMined); err != nil {
		t.Fatal(err)
	}
	return res
}

// connectDB is a plain connection to the service's database, closed with
// the test.
func connectDB(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	db, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return db
}

// BenchmarkRemoteNode measures the service against a remote, rate-limited
// node: 150 ms round trips, 25 calls a second (HTTP 429 above), 250 ms
// blocks, the L1 number advancing every fourth block. Idle for two minutes
// then five tickets a second for two minutes: node calls per block idle
// (target ≤ 0.5), the leader's head lag (≤ 8 blocks), every ticket mined
// within 10 blocks of due, and QueueTicket's p99 (≤ 1 s).
func BenchmarkRemoteNode(b *testing.B) {
	phase := time.Duration(positiveEnv(b, "REDEEMER_BENCH_REMOTE_SECONDS", 120)) * time.Second
	rr := remoteRun{Latency: 150 * time.Millisecond, MaxRPS: 25, Block: 250 * time.Millisecond, L1Ratio: 4,
		Idle: phase, Load: phase, PerSec: 5, DueIn: 2, Drain: 2 * time.Minute, ServeRPS: 20}
	b.ResetTimer()
	for range b.N {
		res := rr.run(b)
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(res.callsPerBlockIdle, "idle-calls-per-block")
		b.ReportMetric(float64(res.maxLagIdle), "idle-max-lag-blocks")
		b.ReportMetric(float64(res.maxLagLoad), "load-max-lag-blocks")
		b.ReportMetric(float64(res.worstDueToMined), "due-to-mined-max-blocks")
		b.ReportMetric(ms(res.queueP50), "queue-p50-ms")
		b.ReportMetric(ms(res.queueP99), "queue-p99-ms")
		b.ReportMetric(float64(res.queued), "tickets")
		b.ReportMetric(float64(res.redeemed), "redeemed")
		b.ReportMetric(float64(res.callsLoad)/float64(max(res.blocksLoad, 1)), "load-calls-per-block")
		b.ReportMetric(float64(res.refused429), "refused-429")
		b.Logf("remote node (150 ms RTT, 25 calls/s, 250 ms blocks, L1 every 4 blocks): %s", res)
	}
}
