package main

import (
	"context"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/jackc/pgx/v5/pgxpool"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/queue"
	"redeemer/rpc"
	"redeemer/rpc/pb"
	"redeemer/store"
	"redeemer/store/storetest"
)

// TestOpsAfterRedeemCycle runs the service's parts as `dev` wires them, in
// process: tickets come in over gRPC, the leader redeems one on the
// simulated chain, and then a scrape of /metrics shows every step counted,
// /readyz and the gRPC health service say ready, and reflection lists the
// services.
func TestOpsAfterRedeemCycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service logs:\n%s", logs.String())
		}
	})
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	dc, err := devchain.New(ctx, devchain.Options{Logger: log, RPCAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	st := storetest.NewStore(t)
	recipient := dc.Recipient().Address

	f := serviceFlags{grpcAddr: "127.0.0.1:0", plaintext: true, dataDir: t.TempDir(),
		ethTimeout: 2 * time.Second, dbTimeout: 2 * time.Second, shutdownGrace: time.Second,
		ops: opsFlags{metricsAddr: "127.0.0.1:0", maxHeadLag: time.Hour}}
	rf := redeemFlags{confirmations: 1, maxBatch: 10, repriceAfter: 20, maxFeeGwei: 100,
		pollInterval: 20 * time.Millisecond, leaderCheck: 200 * time.Millisecond, retryBackoff: time.Second, maxAttempts: 5}
	o, err := newOps(log, st, &f)
	if err != nil {
		t.Fatal(err)
	}
	o.interval = 50 * time.Millisecond
	httpAddr, grpcAddr := make(chan string, 1), make(chan string, 1)
	o.onListen = func(a string) { httpAddr <- a }
	node, err := dialNode(ctx, log, &f, dc.RPCURL(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()

	sctx, stop := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(sctx)
	g.Go(func() error {
		return runService(gctx, log, &f, &rf, serviceDeps{st: st, node: node, contracts: dc.Addresses(),
			recipient: recipient, key: dc.Redeemer().Key, chainID: dc.ChainID()}, o,
			func(a string) error { grpcAddr <- a; return nil })
	})
	g.Go(func() error { dc.Mine(gctx, 100*time.Millisecond); return nil })
	defer func() {
		stop()
		if err := g.Wait(); err != nil {
			t.Errorf("service: %v", err)
		}
	}()
	base := "http://" + <-httpAddr
	conn, err := grpc.NewClient(<-grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pb.NewTicketRedeemerClient(conn)

	if code, body := httpGet(t, base+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d %s", code, body)
	}

	head, err := dc.Client().HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	face := big.NewInt(2e15)
	good, hash := devTicket(t, dc, func(tk *chain.Ticket) {
		tk.FaceValue = face
		tk.ParamsExpirationBlock = new(big.Int).Add(head.Number, big.NewInt(2))
	})
	if _, err := client.QueueTicket(ctx, good); err != nil {
		t.Fatalf("valid ticket: %v", err)
	}
	losing, _ := devTicket(t, dc, func(tk *chain.Ticket) { tk.WinProb = big.NewInt(1) })
	if _, err := client.QueueTicket(ctx, losing); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("losing ticket: %v, want InvalidArgument", err)
	}
	foreign, _ := devTicket(t, dc, func(tk *chain.Ticket) { tk.Recipient = dc.Redeemer().Address })
	if _, err := client.QueueTicket(ctx, foreign); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("foreign recipient: %v, want PermissionDenied", err)
	}

	waitFor(t, 30*time.Second, "the ticket redeemed", func() bool {
		tk, err := st.TicketByHash(ctx, hash)
		return err == nil && tk.Status == store.StatusRedeemed
	})
	waitFor(t, 10*time.Second, "/readyz 200", func() bool {
		code, _ := httpGet(t, base+"/readyz")
		return code == http.StatusOK
	})

	m := scrapeMetrics(t, base+"/metrics")
	want := []struct {
		name   string
		labels []string
		value  float64
	}{
		{"redeemer_tickets_received_total", nil, 3},
		{"redeemer_tickets_accepted_total", nil, 1},
		{"redeemer_tickets_rejected_total", []string{"rule", "winning"}, 1},
		{"redeemer_tickets_rejected_total", []string{"rule", "recipient"}, 1},
		{"grpc_server_handled_total", []string{"grpc_method", "QueueTicket", "grpc_code", "OK"}, 1},
		{"grpc_server_handled_total", []string{"grpc_method", "QueueTicket", "grpc_code", "InvalidArgument"}, 1},
		{"grpc_server_handled_total", []string{"grpc_method", "QueueTicket", "grpc_code", "PermissionDenied"}, 1},
		{"grpc_server_handling_seconds", []string{"grpc_method", "QueueTicket"}, 3},
		{"redeemer_tickets_redeemed_total", nil, 1},
		{"redeemer_redeemed_value_wei_total", nil, 2e15},
		{"redeemer_tx_attempts_total", nil, 1},
		{"redeemer_tx_reprices_total", nil, 0},
		{"redeemer_redemptions_settled_total", []string{"status", "confirmed"}, 1},
		{"redeemer_tickets_failed_total", []string{"reason", queue.ReasonUsedElsewhere}, 0},
		{"redeemer_leader", nil, 1},
		{"redeemer_db_stats_up", nil, 1},
		{"redeemer_queue_tickets", []string{"status", "queued"}, 0},
		{"redeemer_queue_tickets", []string{"status", "redeeming"}, 0},
		{"redeemer_redemptions_open", []string{"status", "pending"}, 0},
		{"redeemer_node_up", nil, 1},
	}
	for _, w := range want {
		if got, ok := m.value(w.name, w.labels...); !ok || got != w.value {
			t.Errorf("%s%v = %v (present %v), want %v", w.name, w.labels, got, ok, w.value)
		}
	}
	for _, positive := range []struct {
		name   string
		labels []string
	}{
		{"redeemer_gas_used_total", nil},
		{"redeemer_gas_spent_wei_total", nil},
		{"redeemer_tx_broadcasts_total", []string{"outcome", "ok"}},
		{"redeemer_node_head_number", nil},
		{"redeemer_processed_head_number", nil},
		{"go_goroutines", nil},
		{"process_resident_memory_bytes", nil},
	} {
		if got, ok := m.value(positive.name, positive.labels...); !ok || got <= 0 {
			t.Errorf("%s%v = %v (present %v), want > 0", positive.name, positive.labels, got, ok)
		}
	}
	if _, ok := m.value("redeemer_head_lag_blocks"); !ok {
		t.Error("redeemer_head_lag_blocks missing on the leader")
	}

	hc := healthpb.NewHealthClient(conn)
	for _, svc := range []string{"", pb.TicketRedeemer_ServiceDesc.ServiceName} {
		waitFor(t, 5*time.Second, "gRPC health SERVING for "+svc, func() bool {
			res, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
			return err == nil && res.GetStatus() == healthpb.HealthCheckResponse_SERVING
		})
	}

	services := reflectedServices(t, ctx, conn)
	for _, want := range []string{pb.TicketRedeemer_ServiceDesc.ServiceName, healthpb.Health_ServiceDesc.ServiceName} {
		if !slices.Contains(services, want) {
			t.Errorf("reflection lists %v, want %s among them", services, want)
		}
	}
}

// TestReadyzFollowsDatabase: with the database unreachable /readyz answers
// 503 naming it, gRPC health says NOT_SERVING, /healthz and /metrics still
// answer; once the database is back, all is ready again.
func TestReadyzFollowsDatabase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := storetest.New(t)

	// The service reaches PostgreSQL through a proxy the test can cut, as a
	// network partition or a server restart would.
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCuttableProxy(t, net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port))))
	proxyAddr := proxy.lis.Addr().(*net.TCPAddr)
	cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Fallbacks = proxyAddr.IP.String(), uint16(proxyAddr.Port), nil
	cfg.ConnConfig.ConnectTimeout = time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(pool)
	defer st.Close()

	// Another replica leads, through its own connection: this one is a
	// follower whose state is settled.
	other, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lease, err := other.AcquireLease(ctx, "other replica", time.Minute)
	if err != nil || lease == nil {
		t.Fatalf("leader lease: %v %v", lease, err)
	}
	defer other.ReleaseLease(context.WithoutCancel(ctx), lease.Term)

	f := serviceFlags{ethTimeout: time.Second, dbTimeout: 2 * time.Second,
		ops: opsFlags{metricsAddr: "127.0.0.1:0", maxHeadLag: time.Minute}}
	o, err := newOps(slog.New(slog.DiscardHandler), st, &f)
	if err != nil {
		t.Fatal(err)
	}
	o.setNode(fixedHeads{})
	o.interval = time.Hour // only /readyz evaluates here
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	addr := make(chan string, 1)
	go func() { done <- o.run(rctx, f.ops.metricsAddr, func(a string) { addr <- a }) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("ops server: %v", err)
		}
	}()
	base := "http://" + <-addr
	grpcStatus := func() healthpb.HealthCheckResponse_ServingStatus {
		res, err := o.health.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return res.GetStatus()
	}

	if code, body := httpGet(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz with everything up: %d %s", code, body)
	}
	if s := grpcStatus(); s != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("gRPC health %s while ready", s)
	}

	proxy.cut(true)
	code, body := httpGet(t, base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "database:") {
		t.Fatalf("/readyz without the database: %d %q, want 503 naming the database", code, body)
	}
	if strings.Contains(body, "node:") {
		t.Errorf("/readyz blames the node, which is up: %q", body)
	}
	if s := grpcStatus(); s != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("gRPC health %s without the database, want NOT_SERVING", s)
	}
	if code, body := httpGet(t, base+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz without the database: %d %s (the process is up)", code, body)
	}
	if v, ok := scrapeMetrics(t, base+"/metrics").value("redeemer_db_stats_up"); !ok || v != 0 {
		t.Fatalf("redeemer_db_stats_up = %v (present %v) without the database, want 0", v, ok)
	}

	proxy.cut(false)
	waitFor(t, 15*time.Second, "/readyz 200 after the database returned", func() bool {
		code, _ := httpGet(t, base+"/readyz")
		return code == http.StatusOK
	})
	if s := grpcStatus(); s != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("gRPC health %s after the database returned", s)
	}
}

// TestReadyzNamesStaleSchema: a database one migration behind the binary
// is not ready, and /readyz says why.
func TestReadyzNamesStaleSchema(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := storetest.New(t)
	if err := store.Migrate(ctx, nil, dsn, "down"); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := serviceFlags{ethTimeout: time.Second, dbTimeout: 2 * time.Second}
	o, err := newOps(slog.New(slog.DiscardHandler), st, &f)
	if err != nil {
		t.Fatal(err)
	}
	o.setNode(fixedHeads{})
	failures := o.readiness(ctx)
	if len(failures) == 0 || !strings.Contains(strings.Join(failures, "\n"), "migrations: database schema at version") {
		t.Fatalf("readiness failures %q, want the schema version named", failures)
	}
}

// fixedHeads is a node that always answers with the same head.
type fixedHeads struct{}

func (fixedHeads) LatestHead(context.Context) (chain.Head, error) {
	return chain.Head{Number: 100, L1Number: 100, Time: uint64(time.Now().Unix())}, nil
}

func (fixedHeads) HeadByNumber(_ context.Context, n uint64) (chain.Head, error) {
	return chain.Head{Number: n, L1Number: n}, nil
}

// cuttableProxy forwards TCP connections to target until cut, which closes
// every open connection and refuses new ones until it is lifted.
type cuttableProxy struct {
	lis    net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
}

func newCuttableProxy(t *testing.T, target string) *cuttableProxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cuttableProxy{lis: lis, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() {
		lis.Close()
		p.cut(true)
	})
	return p
}

func (p *cuttableProxy) serve() {
	for {
		c, err := p.lis.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

func (p *cuttableProxy) forward(client net.Conn) {
	if !p.track(client) {
		client.Close()
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(server) {
		client.Close()
		if server != nil {
			server.Close()
		}
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(server, client)
	go pipe(client, server)
	<-done
	client.Close()
	server.Close()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}

// track registers c, or reports false while the proxy is cut.
func (p *cuttableProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *cuttableProxy) cut(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
	}
}

// devTicket signs a winning ticket from the first dev sender to the dev
// recipient in the last initialized round, then lets mutate change it.
func devTicket(t *testing.T, dc *devchain.Chain, mutate func(*chain.Ticket)) (*pb.Ticket, common.Hash) {
	t.Helper()
	ctx := context.Background()
	round, err := dc.Protocol().LastInitializedRound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bh, err := dc.Protocol().BlockHashForRound(ctx, round)
	if err != nil {
		t.Fatal(err)
	}
	tk := chain.Ticket{
		Recipient: dc.Recipient().Address, FaceValue: big.NewInt(1e15), WinProb: chain.MaxWinProb,
		SenderNonce: uint32(time.Now().UnixNano()), CreationRound: round.Int64(), CreationRoundBlockHash: bh,
		ParamsExpirationBlock: big.NewInt(1 << 20),
	}
	if mutate != nil {
		mutate(&tk)
	}
	m, h, err := rpc.SignTicket(tk, dc.Senders()[0].Key, big.NewInt(time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	return m, h
}

func httpGet(t testing.TB, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return res.StatusCode, string(body)
}

// scraped is one scrape, by metric family name.
type scraped map[string]*dto.MetricFamily

func scrapeMetrics(t testing.TB, url string) scraped {
	t.Helper()
	code, body := httpGet(t, url)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("scrape does not parse: %v", err)
	}
	return fams
}

// value is the sample of name whose labels include the given name/value
// pairs; for a histogram, its sample count.
func (s scraped) value(name string, labels ...string) (float64, bool) {
	fam, ok := s[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range fam.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

func reflectedServices(t *testing.T, ctx context.Context, conn *grpc.ClientConn) []string {
	t.Helper()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	res, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	stream.CloseSend()
	var names []string
	for _, s := range res.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	return names
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
