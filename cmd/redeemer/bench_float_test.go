package main

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"golang.org/x/sync/errgroup"

	"redeemer/rpc/pb"
	"redeemer/store"
	"redeemer/store/storetest"
)

// Fan-out shape from the issue: 1,000 senders watched by 10 orchestrators,
// each on its own connection, 10,000 streams in all: exactly the server's
// default caps (1,000 streams per connection, 10,000 per process).
const (
	fanoutSenders = 1000
	fanoutClients = 10
	// fanoutRoundLength is short so that reaching the next round boundary
	// takes few filler blocks.
	fanoutRoundLength = 20
)

// benchRepsEnv changes the number of single-sender changes measured.
const benchRepsEnv = "REDEEMER_BENCH_REPS"

// benchProfileEnv names a directory: the float benchmarks then save the
// server's CPU profile of their slowest phase there.
const benchProfileEnv = "REDEEMER_BENCH_PROFILE"

// fanStream is one client's MonitorMaxFloat stream and the last value it
// received, stamped on arrival.
type fanStream struct {
	sender common.Address
	mu     sync.Mutex
	val    *big.Int
	at     time.Time
	n      int
}

func (s *fanStream) last() (*big.Int, time.Time, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.val, s.at, s.n
}

// BenchmarkFloatFanout measures max float delivery through the real binary:
// `redeemer serve` (TLS gRPC, PostgreSQL LISTEN/NOTIFY, leader following an
// in-process dev chain over JSON-RPC) with 10,000 MonitorMaxFloat streams
// open from 10 client connections.
//
//   - memory: the server's heap, goroutine stacks, goroutines and RSS per
//     open stream (after minus before opening them).
//   - round: a new round whose first block resizes the transcoder pool, so
//     every sender's float changes. last-update-ms runs from the commit of
//     the new sender state (the first max_float notification of that
//     commit, as a separate LISTEN session in the benchmark receives it) to
//     the moment the last of the 10,000 streams received its new value;
//     block-to-last-ms runs from the block being visible at the node, so it
//     adds the poll interval and the leader's protocol read; the leader
//     announces the new round's protocol values first and re-reads the
//     1,000 senders after (senders-reread-ms, from the block), so the
//     fan-out runs while that re-read is under way.
//   - one-sender: the stored state of one sender changes, committed by the
//     same store call the monitor makes after a ReserveFunded log; latency
//     runs from the start of that call to each of the sender's 10 streams
//     receiving the new value (one sample per stream).
//
// The floor of both is a raw NOTIFY→LISTEN round trip: one autocommit
// statement that updates a row and notifies, until a LISTEN session on the
// same server has it (see notifyFloor).
func BenchmarkFloatFanout(b *testing.B) {
	ctx := context.Background()
	bin := buildBinary(b)
	c := newBenchChain(b, fanoutSenders, fanoutRoundLength)
	dsn := storetest.New(b)
	pprofOn := serveHasFlag(b, bin, "pprof")
	extra := []string{}
	if pprofOn {
		extra = append(extra, "--pprof")
	}
	srv := startBenchServer(b, bin, serveArgs(b, c, dsn, "127.0.0.1:0", extra...))
	grpcAddr := srv.addr(b, "gRPC server listening")
	srv.waitMsg(b, "became leader: this replica redeems tickets", 90*time.Second)
	mem := &serverMemory{srv: srv, metrics: srv.metricsURL(b), pprof: pprofOn}
	floor := newNotifyFloor(b)
	watch := newFloatWatch(b, dsn)
	st, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(st.Close)

	senders := make([]common.Address, 0, fanoutSenders)
	for _, s := range c.Senders() {
		senders = append(senders, s.Address)
	}
	pool := int64(1)
	wantFloat := func(funds *big.Int) *big.Int { return new(big.Int).Quo(funds, big.NewInt(pool)) }

	// The server's baseline is taken once it leads and serves, before any
	// stream: the per-stream figures are the difference.
	before := mem.read(b)
	streams, bySender := openFanout(b, grpcAddr, senders)
	waitStreams(b, streams, 5*time.Minute, "a first value", func(s *fanStream) bool { v, _, _ := s.last(); return v != nil })
	if got := mem.streamsOpen(b); got != float64(len(streams)) {
		b.Fatalf("server reports %v open streams, want %d", got, len(streams))
	}
	// Tracking 1,000 senders leaves garbage behind; let it settle so the
	// difference is what the streams hold.
	time.Sleep(2 * time.Second)
	after := mem.read(b)

	b.Run("memory", func(b *testing.B) {
		n := float64(len(streams))
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(n, "streams")
		b.ReportMetric((after.heap-before.heap)/n, "heap-bytes/stream")
		b.ReportMetric((after.stack-before.stack)/n, "stack-bytes/stream")
		b.ReportMetric((after.goroutines-before.goroutines)/n, "goroutines/stream")
		b.ReportMetric((after.rss-before.rss)/n, "rss-bytes/stream")
		heapNote := "live heap after a forced GC"
		if !pprofOn {
			heapNote = "heap in use as the Go collector reports it (no --pprof to force a GC, so garbage may count)"
		}
		b.Logf("memory: no floor; server-side cost of one open stream = (after - before) / %d streams: %s, stacks, goroutines, and RSS from /proc", len(streams), heapNote)
	})

	b.Run("round", func(b *testing.B) {
		floorSamples := floor.sample(b, 200)
		// Each round halves or doubles every float.
		pools := []int64{2, 1, 2}
		rounds := len(pools)
		var fromNotify, fromBlock, firsts, rereads []time.Duration
		for r := range rounds {
			pool = pools[r]
			want := wantFloat(ether(10))
			var stopProfile func()
			if r == rounds-1 {
				stopProfile = mem.startProfile(b, "fanout-round")
			}
			block, blockAt := c.newRoundWithPool(b, pool, 2*time.Second)
			waitStreams(b, streams, 2*time.Minute, "the new round's float", func(s *fanStream) bool {
				v, at, _ := s.last()
				return v != nil && v.Cmp(want) == 0 && at.After(blockAt)
			})
			if stopProfile != nil {
				stopProfile()
			}
			note := watch.first(b, blockAt, 10*time.Second)
			// The leader's reread stage reads every sender again after a
			// new round; the next step starts once it is done, so no
			// measurement overlaps the previous round's work.
			reread := srv.waitLine(b, "senders re-read", 2*time.Minute, func(rec map[string]any) bool {
				n, _ := rec["before_block"].(float64)
				return uint64(n) >= block
			})
			rereads = append(rereads, logTime(b, reread).Sub(blockAt))
			var first, last time.Time
			for _, s := range streams {
				_, at, _ := s.last()
				if at.After(last) {
					last = at
				}
				if first.IsZero() || at.Before(first) {
					first = at
				}
			}
			firsts = append(firsts, first.Sub(note.at))
			fromNotify = append(fromNotify, last.Sub(note.at))
			fromBlock = append(fromBlock, last.Sub(blockAt))
			b.Logf("round %d (pool %d): block visible -> commit notified %s, notified -> first stream %s, -> last of %d streams %s; block visible -> %d senders re-read and stored %s",
				r+1, pool, fmtMS(note.at.Sub(blockAt)), fmtMS(first.Sub(note.at)), len(streams), fmtMS(last.Sub(note.at)),
				len(senders), fmtMS(rereads[len(rereads)-1]))
		}
		slices.Sort(fromNotify)
		slices.Sort(fromBlock)
		slices.Sort(firsts)
		slices.Sort(rereads)
		med := fromNotify[len(fromNotify)/2]
		fp99 := percentile(floorSamples, 99)
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(ms(med), "last-update-ms")
		b.ReportMetric(ms(fromNotify[len(fromNotify)-1]), "last-update-max-ms")
		b.ReportMetric(ms(firsts[len(firsts)/2]), "first-update-ms")
		b.ReportMetric(ms(fromBlock[len(fromBlock)/2]), "block-to-last-ms")
		b.ReportMetric(ms(rereads[len(rereads)/2]), "senders-reread-ms")
		b.ReportMetric(ms(fp99), "floor-p99-ms")
		b.ReportMetric(ms(med)/ms(fp99), "x-floor")
		b.Logf("floor: raw NOTIFY->LISTEN round trip (autocommit UPDATE+pg_notify, received by a LISTEN session), p99 of %d in this run: %s; figure: median of %d rounds, commit notified -> last of %d streams updated",
			len(floorSamples), fmtMS(fp99), rounds, len(streams))
	})

	b.Run("one-sender", func(b *testing.B) {
		reps := benchReps(b, 200)
		var lat, fromNote, floorSamples []time.Duration
		for i := range reps {
			sender := senders[i%len(senders)]
			fs, err := st.FloatState(ctx, sender)
			if err != nil || fs.State == nil {
				b.Fatalf("stored state of %s: %v", sender, err)
			}
			next := *fs.State
			// As a ReserveFunded log would: more reserve, read at the
			// same block, so the store's block guard lets it through.
			next.FundsRemaining = new(big.Int).Add(next.FundsRemaining, new(big.Int).Mul(big.NewInt(pool), big.NewInt(1e9)))
			want := wantFloat(next.FundsRemaining)
			t0 := time.Now()
			res, err := st.SaveChainState(ctx, store.ChainState{Senders: []store.SenderState{next}})
			if err != nil {
				b.Fatal(err)
			}
			if len(res.SendersChanged) != 1 {
				b.Fatalf("the change of %s was not announced: %+v", sender, res)
			}
			ss := bySender[sender]
			waitStreams(b, ss, 30*time.Second, "the sender's new float", func(s *fanStream) bool {
				v, _, _ := s.last()
				return v != nil && v.Cmp(want) == 0
			})
			note := watch.first(b, t0, 10*time.Second, store.FloatPayload(sender))
			for _, s := range ss {
				_, at, _ := s.last()
				lat = append(lat, at.Sub(t0))
				fromNote = append(fromNote, at.Sub(note.at))
			}
			floorSamples = append(floorSamples, floor.roundTrip(b))
		}
		slices.Sort(lat)
		slices.Sort(fromNote)
		slices.Sort(floorSamples)
		p99, fp99 := percentile(lat, 99), percentile(floorSamples, 99)
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(ms(percentile(lat, 50)), "p50-ms")
		b.ReportMetric(ms(p99), "p99-ms")
		b.ReportMetric(ms(percentile(fromNote, 99)), "notified-to-stream-p99-ms")
		b.ReportMetric(ms(percentile(floorSamples, 50)), "floor-p50-ms")
		b.ReportMetric(ms(fp99), "floor-p99-ms")
		b.ReportMetric(ms(p99)/ms(fp99), "x-floor")
		b.Logf("floor: raw NOTIFY->LISTEN round trip (autocommit UPDATE+pg_notify, received by a LISTEN session), one after each of the %d changes: p99 %s; figure: p99 over %d deliveries (%d changes x %d streams) from the committing call's start to the stream's receipt",
			reps, fmtMS(fp99), len(lat), reps, fanoutClients)
	})

	// Every stream must still be open: a stream that ended would have
	// stopped counting without failing a wait above only by luck.
	if got := mem.streamsOpen(b); got != float64(len(streams)) {
		b.Fatalf("server reports %v open streams at the end, want %d", got, len(streams))
	}
}

// openFanout opens fanoutClients connections and, on each, one stream per
// sender. Receivers stamp every value as it arrives.
func openFanout(b *testing.B, addr string, senders []common.Address) ([]*fanStream, map[common.Address][]*fanStream) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	b.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	var all []*fanStream
	bySender := map[common.Address][]*fanStream{}
	g := new(errgroup.Group)
	// The first stream of a sender makes the server read it from the chain;
	// a few at a time keeps that from timing out on a busy machine.
	g.SetLimit(32)
	var mu sync.Mutex
	for range fanoutClients {
		client := pb.NewTicketRedeemerClient(dialTLS(b, addr))
		for _, sender := range senders {
			s := &fanStream{sender: sender}
			all = append(all, s)
			bySender[sender] = append(bySender[sender], s)
			g.Go(func() error {
				stream, err := client.MonitorMaxFloat(ctx, &pb.MaxFloatReq{Sender: sender.Bytes()})
				if err != nil {
					return fmt.Errorf("open stream for %s: %w", sender, err)
				}
				// The first value proves the stream is open on the server
				// before the next one is opened.
				m, err := stream.Recv()
				if err != nil {
					return fmt.Errorf("first value for %s: %w", sender, err)
				}
				s.mu.Lock()
				s.val, s.at, s.n = new(big.Int).SetBytes(m.MaxFloat), time.Now(), 1
				s.mu.Unlock()
				mu.Lock()
				wg.Add(1)
				mu.Unlock()
				go func() {
					defer wg.Done()
					for {
						m, err := stream.Recv()
						if err != nil {
							if ctx.Err() == nil {
								err = fmt.Errorf("stream for %s ended: %w", sender, err)
								failed.CompareAndSwap(nil, &err)
							}
							return
						}
						now := time.Now()
						s.mu.Lock()
						s.val, s.at = new(big.Int).SetBytes(m.MaxFloat), now
						s.n++
						s.mu.Unlock()
					}
				}()
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if p := failed.Load(); p != nil && ctx.Err() == nil {
			b.Errorf("%v", *p)
		}
	})
	return all, bySender
}

// waitStreams waits until cond holds for every stream.
func waitStreams(b testing.TB, streams []*fanStream, within time.Duration, what string, cond func(*fanStream) bool) {
	b.Helper()
	deadline := time.Now().Add(within)
	i := 0
	for i < len(streams) {
		if cond(streams[i]) {
			i++
			continue
		}
		if time.Now().After(deadline) {
			v, at, n := streams[i].last()
			b.Fatalf("stream %d (sender %s) has no %s within %s: last value %v at %s after %d values",
				i, streams[i].sender, what, within, v, at.Format(time.StampMicro), n)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

func benchReps(b testing.TB, def int) int { return positiveEnv(b, benchRepsEnv, def) }

// serveHasFlag reports whether the binary's serve takes --name.
func serveHasFlag(b testing.TB, bin, name string) bool {
	b.Helper()
	out, _ := exec.Command(bin, "serve", "--help").CombinedOutput()
	return strings.Contains(string(out), "-"+name+" ") || strings.Contains(string(out), "-"+name+"\n")
}

// serverMemory reads a serve process's memory from its metrics, /proc and,
// when it serves pprof, a heap profile that forces a GC first.
type serverMemory struct {
	srv     *benchServer
	metrics string
	pprof   bool
}

type memReading struct{ heap, stack, goroutines, rss float64 }

func (m *serverMemory) read(b testing.TB) memReading {
	b.Helper()
	heapName := "go_memstats_heap_inuse_bytes"
	if m.pprof {
		// The heap profile's gc=1 collects before it reports, so the
		// scrape right after sees the live heap.
		m.get(b, "/debug/pprof/heap?gc=1")
		heapName = "go_memstats_heap_alloc_bytes"
	}
	fams := m.scrape(b)
	return memReading{
		heap:       metricValue(b, fams, heapName),
		stack:      metricValue(b, fams, "go_memstats_stack_inuse_bytes"),
		goroutines: metricValue(b, fams, "go_goroutines"),
		rss:        m.srv.rssBytes(b),
	}
}

func (m *serverMemory) streamsOpen(b testing.TB) float64 {
	return metricValue(b, m.scrape(b), "redeemer_float_streams_open")
}

func (m *serverMemory) get(b testing.TB, path string) []byte {
	b.Helper()
	body, err := m.fetch(path)
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func (m *serverMemory) fetch(path string) ([]byte, error) {
	resp, err := http.Get(strings.TrimSuffix(m.metrics, "/metrics") + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return body, nil
}

// metricSample matches an unlabelled sample line of the text format.
var metricSample = regexp.MustCompile(`(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*) ([-+0-9.eE]+|NaN)$`)

func (m *serverMemory) scrape(b testing.TB) map[string]float64 {
	b.Helper()
	out := map[string]float64{}
	for _, s := range metricSample.FindAllStringSubmatch(string(m.get(b, "/metrics")), -1) {
		v, err := strconv.ParseFloat(s[2], 64)
		if err == nil {
			out[s[1]] = v
		}
	}
	return out
}

func metricValue(b testing.TB, fams map[string]float64, name string) float64 {
	b.Helper()
	v, ok := fams[name]
	if !ok {
		b.Fatalf("metric %s not exported", name)
	}
	return v
}

// snapshotGoroutines saves, when benchProfileEnv names a directory and the
// server serves pprof, n dumps of the server's goroutines taken every gap:
// where a latency-bound path waits shows there, not in a CPU profile.
func (m *serverMemory) snapshotGoroutines(b testing.TB, name string, n int, gap time.Duration) func() {
	dir := os.Getenv(benchProfileEnv)
	if dir == "" || !m.pprof {
		return func() {}
	}
	done := make(chan error, 1)
	go func() {
		var all []byte
		for i := range n {
			time.Sleep(gap)
			dump, err := m.fetch("/debug/pprof/goroutine?debug=1")
			if err != nil {
				done <- err
				return
			}
			all = append(all, fmt.Sprintf("=== snapshot %d\n", i+1)...)
			all = append(all, dump...)
		}
		done <- os.WriteFile(filepath.Join(dir, name+".goroutines.txt"), all, 0o644)
	}()
	return func() {
		if err := <-done; err != nil {
			b.Errorf("goroutine snapshots: %v", err)
		}
	}
}

// startProfile starts a 10 s CPU profile of the server when benchProfileEnv
// names a directory and the server serves pprof; the returned func waits
// for it and saves it as name.pprof.
func (m *serverMemory) startProfile(b testing.TB, name string) func() {
	dir := os.Getenv(benchProfileEnv)
	if dir == "" {
		return func() {}
	}
	if !m.pprof {
		b.Logf("%s set, but serve has no --pprof: no profile", benchProfileEnv)
		return func() {}
	}
	type result struct {
		prof []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		prof, err := m.fetch("/debug/pprof/profile?seconds=10")
		done <- result{prof, err}
	}()
	return func() {
		r := <-done
		if r.err != nil {
			b.Errorf("CPU profile: %v", r.err)
			return
		}
		prof := r.prof
		path := filepath.Join(dir, name+".pprof")
		if err := os.WriteFile(path, prof, 0o644); err != nil {
			b.Errorf("save profile: %v", err)
			return
		}
		b.Logf("server CPU profile: %s", path)
	}
}
