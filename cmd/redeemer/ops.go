package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"redeemer/chain"
	"redeemer/pipeline"
	"redeemer/queue"
	"redeemer/rpc"
	"redeemer/rpc/pb"
	"redeemer/store"
)

// opsFlags configure the operations endpoints of `serve` and `dev`.
type opsFlags struct {
	metricsAddr string
	maxHeadLag  time.Duration
	pprof       bool
}

func (f *opsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.metricsAddr, "metrics-addr", "127.0.0.1:9102",
		"address of the HTTP server for /metrics, /healthz and /readyz (empty: none; port 0 picks a free one)")
	fs.DurationVar(&f.maxHeadLag, "max-head-lag", 2*time.Minute,
		"the leader reports not ready while its pipeline is this far behind the heads it owes, by block time (0: no limit)")
	fs.BoolVar(&f.pprof, "pprof", false,
		"also serve Go's profiler under /debug/pprof/ on --metrics-addr (keep that address private)")
}

func (f *opsFlags) validate() error {
	if f.metricsAddr == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(f.metricsAddr); err != nil {
		return fmt.Errorf("--metrics-addr %q: %w", f.metricsAddr, err)
	}
	return nil
}

// Timing of the operations side. Kept out of the flags: nothing an operator
// tunes, and the probes' own periods govern how fast a change is seen.
const (
	// readyInterval is how often readiness is re-evaluated for the gRPC
	// health service (HTTP /readyz evaluates on every request).
	readyInterval = 5 * time.Second
	// opsListenRetry is the wait before binding the HTTP address again. The
	// endpoints are not worth stopping ticket intake for: a taken port (an
	// old process still draining, a second replica on one host) is logged
	// and retried instead.
	opsListenRetry = 10 * time.Second
)

// ops is the operations side of a running service: the Prometheus registry
// and every collector in it, readiness as /readyz and the gRPC health
// service report it, and the leader state both need.
type ops struct {
	log        *slog.Logger
	st         *store.Store
	heads      chain.HeadReader
	dbTimeout  time.Duration
	ethTimeout time.Duration
	maxHeadLag time.Duration
	pprof      bool
	// interval is readyInterval; tests shorten it.
	interval time.Duration
	// onListen, when set, gets the HTTP address once bound (tests).
	onListen func(addr string)

	reg    *prometheus.Registry
	grpc   *grpcprom.ServerMetrics
	queue  *queue.Metrics
	intake intakeMetrics
	health *health.Server

	node  nodeMetrics
	stage stageMetrics

	mu        sync.Mutex
	leader    bool
	pipe      *pipeline.Pipeline // the leader's pipeline; its state counts while leader
	lastReady *bool              // for logging changes only
}

// intakeMetrics count QueueTicket calls by result. gRPC's own counters say
// which code a call got; these say which rule a rejected ticket broke.
type intakeMetrics struct {
	received prometheus.Counter
	accepted prometheus.Counter
	rejected *prometheus.CounterVec // rule
}

// newOps builds the registry with the Go runtime, process, gRPC, intake,
// worker, node and database collectors. setNode gives it the node.
func newOps(log *slog.Logger, st *store.Store, f *serviceFlags) (*ops, error) {
	if err := f.ops.validate(); err != nil {
		return nil, err
	}
	o := &ops{
		log: log.With("component", "ops"), st: st,
		dbTimeout: f.dbTimeout, ethTimeout: f.ethTimeout, maxHeadLag: f.ops.maxHeadLag, pprof: f.ops.pprof, interval: readyInterval,
		reg:    prometheus.NewRegistry(),
		grpc:   grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram()),
		health: health.NewServer(),
		intake: intakeMetrics{
			received: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "redeemer", Name: "tickets_received_total",
				Help: "QueueTicket calls that reached the service."}),
			accepted: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "redeemer", Name: "tickets_accepted_total",
				Help: "QueueTicket calls answered OK: the ticket is committed (a repeat of a stored ticket counts again)."}),
			rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "redeemer", Name: "tickets_rejected_total",
				Help: "Tickets refused as invalid (InvalidArgument or PermissionDenied), by the rule they break."}, []string{"rule"}),
		},
	}
	// Until the first readiness check passes, load balancers must not send
	// work here.
	o.setServing(false)
	var err error
	if o.queue, err = queue.NewMetrics(o.reg); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if err := o.node.register(o.reg); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if err := o.stage.register(o.reg); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		o.grpc, o.intake.received, o.intake.accepted, o.intake.rejected,
		newOpsCollector(o),
	} {
		if err := o.reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return o, nil
}

// grpcOptions are the interceptors NewGRPCServer takes for metrics.
func (o *ops) grpcOptions() []grpc.ServerOption {
	if o == nil {
		return nil
	}
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(o.grpc.UnaryServerInterceptor(), o.intakeInterceptor),
		grpc.ChainStreamInterceptor(o.grpc.StreamServerInterceptor()),
	}
}

// registerGRPC adds the health and reflection services to srv, so load
// balancers and grpcurl work, and starts every method's series at zero.
func (o *ops) registerGRPC(srv *grpc.Server) {
	if o == nil {
		return
	}
	healthpb.RegisterHealthServer(srv, o.health)
	reflection.Register(srv)
	o.grpc.InitializeMetrics(srv)
}

// stopServing tells gRPC health clients to go elsewhere, for good: the
// server is draining.
func (o *ops) stopServing() {
	if o != nil {
		o.health.Shutdown()
	}
}

func (o *ops) intakeInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	if info.FullMethod != pb.TicketRedeemer_QueueTicket_FullMethodName {
		return resp, err
	}
	o.intake.received.Inc()
	if err == nil {
		o.intake.accepted.Inc()
	} else if rule, ok := rpc.RejectedRule(err); ok {
		o.intake.rejected.WithLabelValues(rule).Inc()
	}
	return resp, err
}

// queueMetrics are the worker's collectors (nil without ops: none).
func (o *ops) queueMetrics() *queue.Metrics {
	if o == nil {
		return nil
	}
	return o.queue
}

// setNode makes node the source of the node's head for readiness and
// scrapes on a follower.
func (o *ops) setNode(node chain.HeadReader) {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.heads = node
}

// setLeader is the leader loop's OnChange.
func (o *ops) setLeader(leader bool) {
	if o == nil {
		return
	}
	o.queue.SetLeader(leader)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.leader = leader
}

// setPipeline makes p the source of the leader's processed head.
func (o *ops) setPipeline(p *pipeline.Pipeline) {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pipe = p
}

func (o *ops) leaderState() (bool, *pipeline.Pipeline) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.leader, o.pipe
}

func (o *ops) setServing(ok bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if ok {
		st = healthpb.HealthCheckResponse_SERVING
	}
	// "" is the whole server, as clients that name no service ask.
	o.health.SetServingStatus("", st)
	o.health.SetServingStatus(pb.TicketRedeemer_ServiceDesc.ServiceName, st)
}

// run serves the HTTP endpoints on addr (none when empty) and keeps the
// gRPC health status current, until ctx ends. onListen, if set, gets the
// bound address.
func (o *ops) run(ctx context.Context, addr string, onListen func(addr string)) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	// Cancelled first on the way out, so the watcher ends even when the
	// HTTP server fails on its own.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() { o.watchReadiness(ctx) })
	if addr == "" {
		<-ctx.Done()
		return nil
	}
	lis, err := o.listen(ctx, addr)
	if lis == nil {
		return err
	}
	srv := &http.Server{
		Handler:           o.handler(),
		ReadHeaderTimeout: 5 * time.Second,
		// A scrape or readiness check waits at most for its timeouts.
		WriteTimeout: 2*max(o.dbTimeout, o.ethTimeout) + 5*time.Second,
		ErrorLog:     slog.NewLogLogger(o.log.Handler(), slog.LevelWarn),
	}
	o.log.Info("metrics and health endpoints listening", "addr", lis.Addr().String())
	if onListen != nil {
		onListen(lis.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err := <-errc:
		return fmt.Errorf("metrics server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics server: %w", err)
	}
	return nil
}

// listen binds addr, retrying while it is taken; it returns nil once ctx
// ends first.
func (o *ops) listen(ctx context.Context, addr string) (net.Listener, error) {
	for {
		lis, err := net.Listen("tcp", addr)
		if err == nil {
			return lis, nil
		}
		o.log.Error("metrics and health endpoints unavailable; retrying", "addr", addr, "err", err, "retry_in", opsListenRetry)
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(opsListenRetry):
		}
	}
}

func (o *ops) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(o.log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      o.reg,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		failures := o.refreshReadiness(r.Context())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if len(failures) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready:\n%s\n", strings.Join(failures, "\n"))
			return
		}
		fmt.Fprintln(w, "ready")
	})
	if o.pprof {
		// Opt-in: profiles expose internals and cost CPU while taken.
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// watchReadiness re-evaluates readiness for the gRPC health service: every
// interval while ready, and every second while not, so that a replica
// starting up (before its first leader election) serves soon after it can.
func (o *ops) watchReadiness(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		wait := o.interval
		if len(o.refreshReadiness(ctx)) > 0 {
			wait = min(wait, time.Second)
		}
		t.Reset(wait)
	}
}

// refreshReadiness evaluates readiness, publishes it to gRPC health clients
// and logs when it changes.
func (o *ops) refreshReadiness(ctx context.Context) []string {
	failures := o.readiness(ctx)
	if ctx.Err() != nil {
		// A cancelled check proves nothing either way.
		return failures
	}
	ready := len(failures) == 0
	o.setServing(ready)
	o.mu.Lock()
	first := o.lastReady == nil
	changed := first || *o.lastReady != ready
	o.lastReady = &ready
	o.mu.Unlock()
	switch {
	case !changed:
	case ready:
		o.log.Info("ready")
	case first:
		// Expected at start, until a leader is elected.
		o.log.Info("not ready yet", "failing", strings.Join(failures, "; "))
	default:
		o.log.Warn("not ready", "failing", strings.Join(failures, "; "))
	}
	return failures
}

// readiness runs every check, concurrently, and returns the failing ones as
// "check: why". Ready means: the database answers and has this binary's
// schema, the node answers, leadership is settled (this replica leads, or
// another one does), and a leader is not far behind the chain.
func (o *ops) readiness(ctx context.Context) []string {
	leader, pipe := o.leaderState()
	var (
		wg                        sync.WaitGroup
		dbErr, schemaErr, elecErr error
		nodeErr                   error
	)
	wg.Go(func() { dbErr = o.withDB(ctx, o.st.Ping) })
	wg.Go(func() { schemaErr = o.withDB(ctx, o.checkSchema) })
	if !leader {
		wg.Go(func() { elecErr = o.withDB(ctx, o.checkElected) })
		// The leader reads the node's head on every poll; a follower asks.
		wg.Go(func() { _, nodeErr = o.nodeHead(ctx) })
	}
	wg.Wait()

	var failures []string
	add := func(check string, err error) {
		if err != nil {
			failures = append(failures, check+": "+err.Error())
		}
	}
	add("database", dbErr)
	// Without the database these fail for the same reason; one line says it.
	if dbErr == nil {
		add("migrations", schemaErr)
		add("leader election", elecErr)
	}
	add("node", nodeErr)
	if leader {
		add("pipeline", o.checkPipeline(pipe))
	}
	return failures
}

func (o *ops) withDB(ctx context.Context, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, o.dbTimeout)
	defer cancel()
	return f(ctx)
}

func (o *ops) checkSchema(ctx context.Context) error {
	current, latest, err := o.st.MigrationVersions(ctx)
	if err != nil {
		return err
	}
	if current != latest {
		return fmt.Errorf("database schema at version %d, this binary's is %d", current, latest)
	}
	return nil
}

// checkElected settles a follower's state: some replica must hold the
// leader lock, or no one redeems tickets. Right after a leader leaves this
// fails until a replica (maybe this one) takes the lock, within --leader-check.
func (o *ops) checkElected(ctx context.Context) error {
	held, err := o.st.LeaderElected(ctx)
	if err != nil {
		return err
	}
	if !held {
		return errors.New("no replica holds the leader lock")
	}
	return nil
}

func (o *ops) nodeHead(ctx context.Context) (chain.Head, error) {
	o.mu.Lock()
	heads := o.heads
	o.mu.Unlock()
	if heads == nil {
		return chain.Head{}, errors.New("not connected yet")
	}
	ctx, cancel := context.WithTimeout(chain.WithPriority(ctx, chain.PriorityBackground), o.ethTimeout)
	defer cancel()
	h, err := heads.LatestHead(ctx)
	if err != nil {
		return chain.Head{}, fmt.Errorf("latest head: %w", err)
	}
	return h, nil
}

// lagStages are the stages whose progress makes up the leader's processed
// head: following heads, sender state and redemptions in flight. Claims and
// expiry move with the L1 number, housekeeping with the clock.
var lagStages = []string{"heads", "senders", "track"}

// progress is how far the leader's pipeline has come.
type progress struct {
	// tip is the newest head seen; done the oldest head a lag stage has
	// done (its processed head).
	tip, done chain.Head
	// lagBlocks and lag are how far the slowest lag stage is behind the
	// head it owes (pipeline.Owed): a stage paced to run every few seconds
	// (sender state, --logs-interval) is behind the tip by that much by
	// design, which is not lag; a stage that fails or runs slow is.
	lagBlocks uint64
	lag       time.Duration
}

// processed reads the leader's progress; false before every lag stage has
// done a head.
func processed(pipe *pipeline.Pipeline, now time.Time) (progress, bool) {
	var pr progress
	if pipe == nil {
		return pr, false
	}
	tip, ok := pipe.Tip()
	if !ok {
		return pr, false
	}
	pr.tip, pr.done = tip, tip
	status := pipe.Status()
	for _, name := range lagStages {
		s, found := status[name]
		if !found || s.Done.Hash == (common.Hash{}) {
			return pr, false
		}
		if s.Done.Number < pr.done.Number {
			pr.done = s.Done
		}
		owed, ok := pipe.Owed(name, now)
		if !ok {
			continue
		}
		if owed.Number > s.Done.Number {
			pr.lagBlocks = max(pr.lagBlocks, owed.Number-s.Done.Number)
		}
		if owed.Time > s.Done.Time {
			pr.lag = max(pr.lag, time.Duration(owed.Time-s.Done.Time)*time.Second)
		}
	}
	return pr, true
}

// checkPipeline reports a leader that follows no head yet, whose head
// reads fail, or whose processed head is too far behind.
func (o *ops) checkPipeline(pipe *pipeline.Pipeline) error {
	if pipe == nil {
		return errors.New("this replica leads but runs no pipeline yet")
	}
	if s := pipe.Status()["heads"]; s.Failures > 0 {
		return fmt.Errorf("node: head reads failing (%d in a row): %s", s.Failures, s.LastErr)
	}
	pr, ok := processed(pipe, time.Now())
	if !ok {
		return errors.New("this replica leads but has processed no head yet")
	}
	if o.maxHeadLag > 0 && pr.lag > o.maxHeadLag {
		return fmt.Errorf("pipeline: %d blocks (%s) behind the heads it owes (processed head %d, node's head %d); limit %s",
			pr.lagBlocks, pr.lag, pr.done.Number, pr.tip.Number, o.maxHeadLag)
	}
	return nil
}

// opsCollector reads, at scrape time, what lives outside the process: the
// queue in the database and the node's head.
type opsCollector struct {
	o                                                   *ops
	statsUp, tickets, postponed, oldest, redemptions    *prometheus.Desc
	limbo, nodeUp, nodeHead, processed, lagBlocks, lagS *prometheus.Desc
}

func newOpsCollector(o *ops) *opsCollector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("redeemer_"+name, help, labels, nil)
	}
	return &opsCollector{
		o: o,
		statsUp: desc("db_stats_up",
			"1 when the last scrape read the queue figures from the database, 0 when it failed or timed out."),
		tickets: desc("queue_tickets", "Tickets not yet final, by status (queued or redeeming).", "status"),
		postponed: desc("queue_postponed_tickets",
			"Queued tickets held back until a retry time (uneconomic, sender short of funds, refused attempt)."),
		oldest: desc("queue_oldest_queued_seconds", "Age of the oldest queued ticket since intake (0 when none is queued)."),
		redemptions: desc("redemptions_open",
			"Redemption transactions not yet final, by status (pending or mined).", "status"),
		limbo: desc("sender_limbo_wei",
			"Face value of a sender's tickets in redemptions not yet final, in wei (approximate: float).", "sender"),
		nodeUp:   desc("node_up", "1 when the Ethereum node answered the last scrape's head request, 0 otherwise."),
		nodeHead: desc("node_head_number", "The Ethereum node's latest block number."),
		processed: desc("processed_head_number",
			"The leader's processed head: the oldest last-done head of the heads, senders and track stages (leader only)."),
		lagBlocks: desc("head_lag_blocks",
			"Blocks the slowest of the heads, senders and track stages is behind the head it owes: the tip seen its pace ago (--logs-interval for senders, 1s for track; leader only)."),
		lagS: desc("head_lag_seconds",
			"Block time the slowest of the heads, senders and track stages is behind the head it owes (leader only)."),
	}
}

func (c *opsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.statsUp, c.tickets, c.postponed, c.oldest, c.redemptions,
		c.limbo, c.nodeUp, c.nodeHead, c.processed, c.lagBlocks, c.lagS} {
		ch <- d
	}
}

func (c *opsCollector) Collect(ch chan<- prometheus.Metric) {
	o := c.o
	// Collect gets no context; the timeouts bound a scrape instead.
	ctx := context.Background()
	var (
		wg       sync.WaitGroup
		stats    *store.Stats
		statsErr error
		node     chain.Head
		nodeErr  error
	)
	wg.Go(func() {
		statsErr = o.withDB(ctx, func(ctx context.Context) (err error) {
			stats, err = o.st.Stats(ctx)
			return err
		})
	})
	leader, pipe := o.leaderState()
	pr, ok := processed(pipe, time.Now())
	if leader && ok {
		// The leader knows the node's head from its own reads: a scrape
		// costs the node nothing.
		node = pr.tip
	} else {
		wg.Go(func() { node, nodeErr = o.nodeHead(ctx) })
	}
	wg.Wait()

	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if statsErr != nil {
		o.log.Warn("queue figures for metrics unavailable", "err", statsErr)
		gauge(c.statsUp, 0)
	} else {
		gauge(c.statsUp, 1)
		gauge(c.tickets, float64(stats.Queued), string(store.StatusQueued))
		gauge(c.tickets, float64(stats.Redeeming), string(store.StatusRedeeming))
		gauge(c.postponed, float64(stats.Postponed))
		gauge(c.oldest, stats.OldestQueued.Seconds())
		gauge(c.redemptions, float64(stats.PendingRedemptions), string(store.RedemptionPending))
		gauge(c.redemptions, float64(stats.MinedRedemptions), string(store.RedemptionMined))
		for sender, amount := range stats.Limbo {
			f, _ := amount.Float64()
			gauge(c.limbo, f, common.Address(sender).Hex())
		}
	}
	if nodeErr != nil {
		gauge(c.nodeUp, 0)
	} else {
		gauge(c.nodeUp, 1)
		gauge(c.nodeHead, float64(node.Number))
	}
	if !leader || !ok {
		return
	}
	gauge(c.processed, float64(pr.done.Number))
	gauge(c.lagBlocks, float64(pr.lagBlocks))
	gauge(c.lagS, pr.lag.Seconds())
}
