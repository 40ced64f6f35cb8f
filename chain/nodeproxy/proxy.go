// Package nodeproxy puts a less kind JSON-RPC node in front of a kind one.
// Tests and benchmarks run against an in-process chain that answers at
// once, without limit and without fail; the service runs against a hosted
// Arbitrum endpoint that takes tens of milliseconds a call, bills and
// rate-limits calls, and fails now and then. The proxy adds that latency,
// rate limit and those faults, serves Arbitrum's l1BlockNumber, and counts
// every call, so that a benchmark can report node calls per block.
//
// The proxy forwards JSON-RPC over HTTP POST, single and batch, and passes
// other methods and paths through with the latency only. The rate limit
// and the faults apply to JSON-RPC requests alone. Dropped connections
// need a server to hang up on: serve the proxy with Start or an
// httptest.Server. It refuses
// websocket upgrades with 501 Not Implemented (and NewURL refuses ws and
// wss upstreams with ErrWebSocket) rather than pass them through: calls on
// a websocket would escape the counters and the rate limit.
package nodeproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Proxy is an http.Handler that forwards JSON-RPC to a node, less kindly.
// Its methods are safe for concurrent use.
type Proxy struct {
	up      upstream
	closing chan struct{}
	closed  sync.Once
	now     func() time.Time

	mu        sync.Mutex
	opts      Options
	log       *slog.Logger
	faultRnd  *rand.Rand
	jitterRnd *rand.Rand
	tokens    float64
	refilled  time.Time
	phase     int
	phaseEnd  time.Time
	stats     Stats

	srvMu sync.Mutex
	srv   *http.Server
}

// New returns a proxy in front of an in-process handler, such as a node's
// RPC handler or an httptest JSON-RPC server's.
func New(target http.Handler, opts Options) (*Proxy, error) {
	if target == nil {
		return nil, errors.New("nodeproxy: nil target handler")
	}
	return newProxy(handlerUpstream{h: target}, opts)
}

// NewURL returns a proxy in front of the node at an http or https URL.
// A ws or wss URL is refused with ErrWebSocket.
func NewURL(upstreamURL string, opts Options) (*Proxy, error) {
	up, err := newURLUpstream(upstreamURL)
	if err != nil {
		return nil, err
	}
	return newProxy(up, opts)
}

func newProxy(up upstream, opts Options) (*Proxy, error) {
	p := &Proxy{up: up, closing: make(chan struct{}), now: time.Now, stats: newStats()}
	if err := p.SetOptions(opts); err != nil {
		return nil, err
	}
	return p, nil
}

// SetOptions replaces the options from the next request on; requests in
// flight finish under the ones they started with. The token bucket keeps
// its tokens (up to the new Burst), or starts full when the limit was off;
// the draws continue their sequence unless Seed changes. Invalid options
// are refused and the old ones kept.
func (p *Proxy) SetOptions(opts Options) error {
	if err := opts.validate(); err != nil {
		return err
	}
	opts = opts.clone()
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.faultRnd == nil || opts.Seed != p.opts.Seed {
		s := uint64(opts.Seed)
		// Two streams, so that jitter draws do not shift the fault choices.
		p.faultRnd = rand.New(rand.NewPCG(s, 0x9e3779b97f4a7c15))
		p.jitterRnd = rand.New(rand.NewPCG(s, 0xbf58476d1ce4e5b9))
	}
	if opts.MaxRPS > 0 {
		if p.opts.MaxRPS > 0 {
			p.refill(now)
			p.tokens = min(p.tokens, opts.burst())
		} else {
			p.tokens = opts.burst()
		}
		p.refilled = now
	}
	p.phaseEnd = time.Time{}
	p.opts = opts
	p.log = opts.Logger
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Options returns the options in force.
func (p *Proxy) Options() Options {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.opts.clone()
}

// Stats returns a snapshot of the counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats.clone()
}

// Reset zeroes the counters. The token bucket, the fault phase and the
// draws' sequence go on as they were.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats = newStats()
}

// Start serves the proxy on addr, a loopback address ("" means
// 127.0.0.1:0, a free port), and returns its http:// URL.
func (p *Proxy) Start(addr string) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("nodeproxy: address %q: %w", addr, err)
	}
	// The proxy forwards anything to the node without authentication; it
	// is a test tool and must not be reachable from elsewhere.
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("nodeproxy: address %q is not loopback", addr)
	}
	p.srvMu.Lock()
	defer p.srvMu.Unlock()
	if p.srv != nil {
		return "", errors.New("nodeproxy: already started")
	}
	select {
	case <-p.closing:
		return "", errors.New("nodeproxy: closed")
	default:
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("nodeproxy: listen on %s: %w", addr, err)
	}
	p.mu.Lock()
	log := p.log
	p.mu.Unlock()
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	p.srv = srv
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("node proxy stopped serving", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the server Start started, ends the waits of requests in
// flight and lets go of idle upstream connections.
func (p *Proxy) Close() error {
	p.closed.Do(func() { close(p.closing) })
	p.srvMu.Lock()
	srv := p.srv
	p.srvMu.Unlock()
	var err error
	if srv != nil {
		if err = srv.Close(); err != nil {
			err = fmt.Errorf("nodeproxy: close server: %w", err)
		}
	}
	p.up.close()
	return err
}

// plan is what the proxy does with one request, decided as it arrives.
type plan struct {
	opts          Options
	log           *slog.Logger
	before, after time.Duration
	// refused marks the calls the rate limit turned away; all is set when
	// none is left to forward.
	refused    []bool
	refusedAll bool
	retryAfter time.Duration
	fault      Fault
	delay      time.Duration
}

// decide counts the request and settles its latency, rate limit and fault,
// all under one lock so that counts and draws follow one order.
func (p *Proxy) decide(req *rpcRequest) plan {
	p.mu.Lock()
	defer p.mu.Unlock()
	o := p.opts
	pl := plan{opts: o, log: p.log}
	rtt := o.Latency
	if o.Jitter > 0 {
		rtt += time.Duration(p.jitterRnd.Int64N(int64(o.Jitter)))
	}
	pl.before = rtt / 2
	pl.after = rtt - pl.before
	p.stats.Requests++
	if req == nil {
		return pl
	}
	if req.batch {
		p.stats.Batches++
	}
	for _, c := range req.calls {
		p.stats.Calls++
		p.stats.Methods[c.method]++
	}
	now := p.now()
	if n := len(req.calls); o.MaxRPS > 0 && n > 0 {
		p.refill(now)
		admit := n
		switch o.Refusal {
		case RefuseHTTP:
			if p.tokens < float64(n) {
				admit = 0
				wait := (float64(n) - p.tokens) / o.MaxRPS
				pl.retryAfter = time.Duration(math.Ceil(wait)) * time.Second
			}
		case RefuseRPC:
			admit = min(n, int(p.tokens))
		}
		p.tokens -= float64(admit)
		if admit < n {
			pl.refused = make([]bool, n)
			for i := admit; i < n; i++ {
				pl.refused[i] = true
			}
			pl.refusedAll = admit == 0
			p.stats.Refused += int64(n - admit)
			p.stats.RefusedRequests++
		}
	}
	if pl.refusedAll {
		return pl
	}
	f := p.faultsFor(now, req)
	pl.fault, pl.delay = p.draw(f)
	if pl.fault != "" {
		p.stats.Faults[pl.fault]++
		seen := map[string]bool{}
		for _, c := range req.calls {
			if !seen[c.method] {
				seen[c.method] = true
				p.stats.FaultedMethods[c.method]++
			}
		}
	}
	return pl
}

// refill adds the tokens earned since the last refill. Callers hold mu.
func (p *Proxy) refill(now time.Time) {
	if el := now.Sub(p.refilled); el > 0 {
		p.tokens = min(p.opts.burst(), p.tokens+el.Seconds()*p.opts.MaxRPS)
	}
	p.refilled = now
}

// faultsFor is the fault mix for req: the current phase's, or Faults,
// raised by the MethodFaults of its calls. Callers hold mu.
func (p *Proxy) faultsFor(now time.Time, req *rpcRequest) Faults {
	o := p.opts
	f := o.Faults
	if len(o.Phases) > 0 {
		if p.phaseEnd.IsZero() || !now.Before(p.phaseEnd) {
			p.phase = p.pickPhase()
			span := o.PhaseMin
			if o.PhaseMax > o.PhaseMin {
				span += time.Duration(p.faultRnd.Int64N(int64(o.PhaseMax - o.PhaseMin)))
			}
			p.phaseEnd = now.Add(span)
			p.stats.Phases[o.Phases[p.phase].Name]++
		}
		f = o.Phases[p.phase].Faults
	}
	for _, c := range req.calls {
		if mf, ok := o.MethodFaults[c.method]; ok {
			f = f.atLeast(mf)
		}
	}
	return f
}

func (p *Proxy) pickPhase() int {
	total := 0.0
	for _, ph := range p.opts.Phases {
		total += ph.Weight
	}
	u := p.faultRnd.Float64() * total
	last := 0
	for i, ph := range p.opts.Phases {
		if ph.Weight <= 0 {
			continue
		}
		if u < ph.Weight {
			return i
		}
		u -= ph.Weight
		last = i
	}
	return last
}

// draw picks at most one fault by f's probabilities; a mix adding up to
// more than 1 is scaled to 1. A mix of none draws nothing, so fault-free
// stretches leave the sequence where it was. Callers hold mu.
func (p *Proxy) draw(f Faults) (Fault, time.Duration) {
	rate := f.Rate()
	if rate <= 0 {
		return "", 0
	}
	scale := 1.0
	if rate > 1 {
		scale = 1 / rate
	}
	u := p.faultRnd.Float64()
	var kind, lastPositive Fault
	acc := 0.0
	for _, k := range faultKinds() {
		pk := f.Probability(k) * scale
		if pk <= 0 {
			continue
		}
		lastPositive = k
		acc += pk
		if u < acc {
			kind = k
			break
		}
	}
	if kind == "" && rate >= 1 {
		// Rounding must not let a request through a mix that faults all.
		kind = lastPositive
	}
	var d time.Duration
	if kind == FaultDelay {
		d = f.DelayMin
		if f.DelayMax > f.DelayMin {
			d += time.Duration(p.faultRnd.Int64N(int64(f.DelayMax - f.DelayMin)))
		}
	}
	return kind, d
}

// ServeHTTP forwards r to the node under the options in force when it
// arrived.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isWebSocket(r) {
		p.decide(nil)
		http.Error(w, ErrWebSocket.Error(), http.StatusNotImplemented)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, fmt.Sprintf("nodeproxy: read request: %v", err), http.StatusBadRequest)
		return
	}
	var req *rpcRequest
	if r.Method == http.MethodPost {
		if q, ok := parseRPC(body); ok {
			req = &q
		}
	}
	pl := p.decide(req)
	ctx := r.Context()
	if !p.wait(ctx, w, pl.before) {
		return
	}
	if req == nil {
		res, err := p.up.roundTrip(ctx, r, body)
		if err != nil {
			p.upstreamFailed(w, r, pl, err)
			return
		}
		if p.wait(ctx, w, pl.after) {
			writeResponse(w, res)
		}
		return
	}
	p.serveRPC(w, r, *req, body, pl)
}

func (p *Proxy) serveRPC(w http.ResponseWriter, r *http.Request, req rpcRequest, body []byte, pl plan) {
	ctx := r.Context()
	if pl.refusedAll && pl.opts.Refusal == RefuseHTTP {
		pl.log.Debug("node proxy refused a request over the rate limit", "calls", len(req.calls), "retry_after", pl.retryAfter)
		if !p.wait(ctx, w, pl.after) {
			return
		}
		id := json.RawMessage("null")
		if !req.batch {
			id = req.calls[0].rawID()
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(pl.retryAfter/time.Second))))
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write(errorObject(id, RateLimitCode, RateLimitMessage))
		return
	}
	var admitted []rpcCall
	var rejected [][]byte
	for i, c := range req.calls {
		if pl.refused != nil && pl.refused[i] {
			rejected = append(rejected, errorObject(c.rawID(), RateLimitCode, RateLimitMessage))
			continue
		}
		admitted = append(admitted, c)
	}
	if len(rejected) > 0 {
		pl.log.Debug("node proxy refused calls over the rate limit", "refused", len(rejected), "calls", len(req.calls))
	}
	if pl.fault != "" {
		pl.log.Debug("node proxy injected a fault", "fault", string(pl.fault), "calls", len(req.calls), "delay", pl.delay)
	}

	var res *response
	switch pl.fault {
	case FaultDrop:
		hangUp(w)
		return
	case FaultHTTP502, FaultHTTP503:
		if p.wait(ctx, w, pl.after) {
			status := http.StatusBadGateway
			if pl.fault == FaultHTTP503 {
				status = http.StatusServiceUnavailable
			}
			http.Error(w, http.StatusText(status), status)
		}
		return
	case FaultRPCError:
		code, msg := pl.opts.faultError()
		res = rpcErrors(req.batch, admitted, code, msg)
	case FaultDelay:
		if !p.wait(ctx, w, pl.delay) {
			return
		}
	}
	if res == nil && len(admitted) > 0 {
		fwd := body
		if len(admitted) < len(req.calls) {
			raws := make([][]byte, len(admitted))
			for i, c := range admitted {
				raws[i] = c.raw
			}
			fwd = joinArray(raws)
		}
		p.mu.Lock()
		p.stats.Forwarded += int64(len(admitted))
		p.mu.Unlock()
		var err error
		if res, err = p.up.roundTrip(ctx, r, fwd); err != nil {
			p.upstreamFailed(w, r, pl, err)
			return
		}
	}
	if pl.fault == FaultDropAfter {
		hangUp(w)
		return
	}
	res = withRejected(res, req.batch, rejected)
	if pl.opts.L1Number != nil && res.status == http.StatusOK {
		res.body = addL1Numbers(res.body, req, pl.opts.L1Number)
	}
	if pl.fault == FaultTruncate {
		res.body = res.body[:len(res.body)/2]
	}
	if p.wait(ctx, w, pl.after) {
		writeResponse(w, res)
	}
}

// rpcErrors answers every call with the same JSON-RPC error.
func rpcErrors(batch bool, calls []rpcCall, code int, msg string) *response {
	res := &response{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}}
	if !batch {
		res.body = errorObject(calls[0].rawID(), code, msg)
		return res
	}
	elems := make([][]byte, len(calls))
	for i, c := range calls {
		elems[i] = errorObject(c.rawID(), code, msg)
	}
	res.body = joinArray(elems)
	return res
}

// withRejected adds the rate limit's errors to the answer for the calls
// that were let through. A failed or malformed upstream answer is passed on
// as it is: it says what happened to the forwarded calls, and a client
// treats the whole batch as failed either way.
func withRejected(res *response, batch bool, rejected [][]byte) *response {
	if len(rejected) == 0 {
		return res
	}
	if res == nil {
		out := &response{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}}
		if batch {
			out.body = joinArray(rejected)
		} else {
			out.body = rejected[0]
		}
		return out
	}
	if res.status != http.StatusOK {
		return res
	}
	elems, ok := arrayElements(res.body)
	if !ok {
		return res
	}
	return &response{status: res.status, header: res.header, body: joinArray(append(elems, rejected...))}
}

func (p *Proxy) upstreamFailed(w http.ResponseWriter, r *http.Request, pl plan, err error) {
	if r.Context().Err() != nil {
		return // the client gave up; nobody is left to answer
	}
	pl.log.Warn("node proxy could not reach the node", "err", err)
	http.Error(w, err.Error(), http.StatusBadGateway)
}

func writeResponse(w http.ResponseWriter, res *response) {
	copyHeader(w.Header(), res.header)
	w.WriteHeader(res.status)
	w.Write(res.body)
}

// wait waits d, or less if the client leaves or the proxy closes; it
// reports whether the request should go on. A request cut short by Close
// is answered 503, so that a client still there does not take the missing
// answer for an empty success.
func (p *Proxy) wait(ctx context.Context, w http.ResponseWriter, d time.Duration) bool {
	select {
	case <-p.closing:
		http.Error(w, "nodeproxy: closed", http.StatusServiceUnavailable)
		return false
	default:
	}
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-p.closing:
		http.Error(w, "nodeproxy: closed", http.StatusServiceUnavailable)
		return false
	}
}

// hangUp closes the client's connection without an answer. Where the
// connection cannot be taken over (HTTP/2, or a ResponseWriter without a
// server), http.ErrAbortHandler makes the server reset it instead.
func hangUp(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}
