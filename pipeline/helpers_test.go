package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"redeemer/chain"
	"redeemer/pipeline"
	"redeemer/store"
	"redeemer/store/storetest"
)

func TestMain(m *testing.M) {
	storetest.Main(m)
}

// headHash names the head at number n on fork f.
func headHash(n uint64, fork byte) common.Hash {
	return crypto.Keccak256Hash([]byte(fmt.Sprintf("head %d fork %d", n, fork)))
}

// mkHead is head n of fork 0 (or of fork, when given) with L1 number l1.
func mkHead(n, l1 uint64, fork ...byte) chain.Head {
	var f byte
	if len(fork) > 0 {
		f = fork[0]
	}
	return chain.Head{Number: n, Hash: headHash(n, f), ParentHash: headHash(n-1, 0), L1Number: l1,
		Time: 1_700_000_000 + n}
}

// heads is a head source whose answers the test sets: the pipeline's node
// for runner tests, where what matters is which heads come when.
type heads struct {
	mu         sync.Mutex
	cur        chain.Head
	err        error
	reads      []time.Time
	priorities map[chain.Priority]int
}

func (h *heads) LatestHead(ctx context.Context) (chain.Head, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reads = append(h.reads, time.Now())
	if h.priorities == nil {
		h.priorities = map[chain.Priority]int{}
	}
	h.priorities[chain.PriorityOf(ctx)]++
	if h.err != nil {
		return chain.Head{}, h.err
	}
	if h.cur.Number == 0 {
		return chain.Head{}, errors.New("test node has no head yet")
	}
	return h.cur, nil
}

func (h *heads) set(head chain.Head) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cur, h.err = head, nil
}

func (h *heads) fail(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.err = err
}

// readPriorities counts head reads by the request budget priority they
// asked for.
func (h *heads) readPriorities() map[chain.Priority]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.priorities)
}

// readsSince counts head reads at or after t.
func (h *heads) readsSince(t time.Time) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.reads {
		if !r.Before(t) {
			n++
		}
	}
	return n
}

// runRec is one run of a test stage.
type runRec struct {
	start, end time.Time
	tip        chain.Head
	first      bool
	err        error
}

// stage is a test stage that records its runs and does what fn says.
type stage struct {
	name string
	fn   func(ctx context.Context, r pipeline.Run, n int) (pipeline.Result, error)

	mu   sync.Mutex
	runs []runRec
}

func newStage(name string, fn func(ctx context.Context, r pipeline.Run, n int) (pipeline.Result, error)) *stage {
	if fn == nil {
		fn = func(context.Context, pipeline.Run, int) (pipeline.Result, error) { return pipeline.Result{}, nil }
	}
	return &stage{name: name, fn: fn}
}

func (s *stage) Name() string { return s.name }

func (s *stage) Run(ctx context.Context, r pipeline.Run) (pipeline.Result, error) {
	s.mu.Lock()
	n := len(s.runs)
	s.runs = append(s.runs, runRec{start: time.Now(), tip: r.Tip, first: r.First})
	s.mu.Unlock()
	res, err := s.fn(ctx, r, n)
	s.mu.Lock()
	s.runs[n].end, s.runs[n].err = time.Now(), err
	s.mu.Unlock()
	return res, err
}

func (s *stage) snapshot() []runRec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]runRec(nil), s.runs...)
}

func (s *stage) count() int { return len(s.snapshot()) }

// ranAt reports whether a finished run worked at tip.
func (s *stage) ranAt(tip chain.Head) bool {
	for _, r := range s.snapshot() {
		if r.tip.Hash == tip.Hash && !r.end.IsZero() {
			return true
		}
	}
	return false
}

// eventually polls cond until it holds or timeout passes. Timeouts are
// generous: they only bound how long a broken pipeline makes a test hang.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// logBuffer collects the pipeline's logs; a failed test prints them.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// count counts log lines containing all of parts.
func (b *logBuffer) count(parts ...string) int {
	n := 0
	for _, line := range strings.Split(b.String(), "\n") {
		all := line != ""
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

func newLogger(t *testing.T) (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pipeline logs:\n%s", b.String())
		}
	})
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// observer records what the pipeline reports.
type observer struct {
	mu    sync.Mutex
	ran   map[string][]error
	heads []chain.Head
}

func (o *observer) StageRan(stage string, _ time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ran == nil {
		o.ran = map[string][]error{}
	}
	o.ran[stage] = append(o.ran[stage], err)
}

func (o *observer) StageProgress(string, chain.Head) {}

func (o *observer) Head(h chain.Head) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.heads = append(o.heads, h)
}

func (o *observer) runs(stage string) (ok, failed int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, err := range o.ran[stage] {
		if err == nil {
			ok++
		} else {
			failed++
		}
	}
	return ok, failed
}

func (o *observer) headCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.heads)
}

// term is a pipeline running one term on a real database with a test
// lease, fed by a head source the test controls.
type term struct {
	t      *testing.T
	ctx    context.Context
	st     *store.Store
	src    *heads
	p      *pipeline.Pipeline
	lease  *pipeline.Lease
	logs   *logBuffer
	obs    *observer
	start  time.Time
	cancel context.CancelFunc
	done   chan error
}

// startTerm runs cfg's pipeline for one term. cfg.Store, Heads, Logger and
// Observer are filled in; the first head (number 1) is set unless the
// source already has one.
func startTerm(t *testing.T, cfg pipeline.Config, src *heads) *term {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	if cfg.Store == nil {
		cfg.Store = storetest.NewStore(t)
	}
	if src == nil {
		src = &heads{}
	}
	if src.cur.Number == 0 && src.err == nil {
		src.set(mkHead(1, 1))
	}
	cfg.Heads = src
	log, logs := newLogger(t)
	cfg.Logger = log
	obs := &observer{}
	if cfg.Observer == nil {
		cfg.Observer = obs
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 5 * time.Millisecond
	}
	p, err := pipeline.New(cfg)
	if err != nil {
		t.Fatalf("pipeline.New: %v", err)
	}
	lease, err := pipeline.NewTestLease(ctx, cfg.Store, time.Hour)
	if err != nil {
		t.Fatalf("NewTestLease: %v", err)
	}
	tctx, tcancel := context.WithCancel(ctx)
	tm := &term{t: t, ctx: ctx, st: cfg.Store, src: src, p: p, lease: lease, logs: logs, obs: obs,
		start: time.Now(), cancel: tcancel, done: make(chan error, 1)}
	go func() { tm.done <- p.RunTerm(tctx, lease) }()
	t.Cleanup(func() { tm.stop() })
	return tm
}

// stop ends the term and returns what RunTerm returned.
func (tm *term) stop() error {
	tm.cancel()
	select {
	case err := <-tm.done:
		tm.done <- err
		return err
	case <-time.After(30 * time.Second):
		tm.t.Errorf("RunTerm did not return within 30s of its context ending")
		return nil
	}
}

// advance makes h the node's head and waits until the pipeline follows it.
func (tm *term) advance(h chain.Head) {
	tm.t.Helper()
	tm.src.set(h)
	eventually(tm.t, 10*time.Second, fmt.Sprintf("the pipeline to follow head %d", h.Number), func() bool {
		tip, ok := tm.p.Tip()
		return ok && tip.Hash == h.Hash
	})
}

// recorded is chain_heads, highest first.
func (tm *term) recorded() []store.Head {
	tm.t.Helper()
	hs, err := tm.st.RecentHeads(tm.ctx, 10_000)
	if err != nil {
		tm.t.Fatal(err)
	}
	return hs
}

// maxRuns is how many runs a stage failing from its first run can make
// within elapsed under backoff b: each retry waits at least its Delay after
// the previous run started.
func maxRuns(b chain.Backoff, elapsed time.Duration) int {
	runs, at := 1, time.Duration(0)
	for {
		at += b.Delay(runs)
		if at > elapsed {
			return runs
		}
		runs++
	}
}

// tcpProxy forwards TCP to a server until it is cut: then it closes every
// forwarded connection and accepts new ones without ever answering, as a
// network partition does.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns = append(p.conns, c)
		cut := p.cut
		p.mu.Unlock()
		if cut {
			continue // held open, never answered
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

// partition cuts every connection and answers no new one.
func (p *tcpProxy) partition() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		c.Close()
	}
}

func (p *tcpProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// dsnVia is dsn with its server replaced by addr.
func dsnVia(t *testing.T, dsn, addr string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse %q: %v", dsn, err)
	}
	u.Host = addr
	return u.String()
}

// serverAddr is the host:port of a postgres:// DSN.
func serverAddr(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse %q: %v", dsn, err)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "5432")
	}
	return u.Host
}
