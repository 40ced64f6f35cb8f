package nodeproxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"redeemer/chain"
	"redeemer/chain/nodeproxy"
)

func TestLatencyAddedToEveryCall(t *testing.T) {
	_, nodeURL := startNode(t)
	const latency = 30 * time.Millisecond
	p, err := nodeproxy.NewURL(nodeURL, nodeproxy.Options{Latency: latency, Jitter: 10 * time.Millisecond, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := dialRPC(t, startProxy(t, p))
	ctx := context.Background()
	for i := range 5 {
		start := time.Now()
		var n hexutil.Uint64
		if err := c.CallContext(ctx, &n, "eth_blockNumber"); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < latency {
			t.Errorf("call %d took %s, want at least the latency %s", i, took, latency)
		}
	}
	start := time.Now()
	batch := []rpc.BatchElem{{Method: "eth_chainId", Result: new(hexutil.Uint64)}, {Method: "eth_blockNumber", Result: new(hexutil.Uint64)}}
	if err := c.BatchCallContext(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// Latency is per round trip, not per call of a batch.
	if took := time.Since(start); took < latency {
		t.Errorf("batch took %s, want at least %s", took, latency)
	}
	if s := p.Stats(); s.Requests != 6 || s.Calls != 7 || s.Forwarded != 7 {
		t.Errorf("stats %+v, want 6 requests carrying 7 calls, all forwarded", s)
	}
}

func TestBatchElementsCountedIndividually(t *testing.T) {
	_, nodeURL := startNode(t)
	p, err := nodeproxy.NewURL(nodeURL, nodeproxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := dialRPC(t, startProxy(t, p))
	ctx := context.Background()
	var elems []rpc.BatchElem
	for range 3 {
		elems = append(elems, rpc.BatchElem{Method: "eth_blockNumber", Result: new(hexutil.Uint64)})
	}
	for range 2 {
		elems = append(elems, rpc.BatchElem{Method: "eth_chainId", Result: new(hexutil.Uint64)})
	}
	elems = append(elems, rpc.BatchElem{Method: "eth_getBlockByNumber", Args: []any{"0x0", false}, Result: new(json.RawMessage)})
	if err := c.BatchCallContext(ctx, elems); err != nil {
		t.Fatal(err)
	}
	for i, e := range elems {
		if e.Error != nil {
			t.Fatalf("element %d (%s): %v", i, e.Method, e.Error)
		}
	}
	if id := *elems[3].Result.(*hexutil.Uint64); id != 1337 {
		t.Errorf("chain id through the proxy %d, want the simulated backend's 1337", id)
	}
	var n hexutil.Uint64
	if err := c.CallContext(ctx, &n, "eth_blockNumber"); err != nil {
		t.Fatal(err)
	}
	s := p.Stats()
	want := map[string]int64{"eth_blockNumber": 4, "eth_chainId": 2, "eth_getBlockByNumber": 1}
	if s.Requests != 2 || s.Batches != 1 || s.Calls != 7 || s.Forwarded != 7 || !equalCounts(s.Methods, want) {
		t.Errorf("stats %+v, want 2 requests, 1 batch, 7 calls by method %v", s, want)
	}
	p.Reset()
	if s := p.Stats(); s.Requests != 0 || s.Calls != 0 || len(s.Methods) != 0 {
		t.Errorf("stats after Reset %+v, want zero", s)
	}
}

func equalCounts[K comparable](got, want map[K]int64) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func TestRateLimitAnswers429(t *testing.T) {
	node := &fakeNode{}
	// Half a token a second: the test makes its calls long before the
	// bucket earns another.
	p, err := nodeproxy.New(node, nodeproxy.Options{MaxRPS: 0.5, Burst: 3, Refusal: nodeproxy.RefuseHTTP})
	if err != nil {
		t.Fatal(err)
	}
	url := startProxy(t, p)
	for i := range 3 {
		if status, _, b := mustPost(t, url, call("eth_blockNumber", i)); status != http.StatusOK {
			t.Fatalf("call %d within the burst: %d %s", i, status, b)
		}
	}
	status, h, b := mustPost(t, url, call("eth_blockNumber", 3))
	if status != http.StatusTooManyRequests {
		t.Fatalf("call over the limit: %d %s, want 429", status, b)
	}
	if ra, err := strconv.Atoi(h.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After %q, want a positive number of seconds", h.Get("Retry-After"))
	}
	var a rpcAnswer
	if err := json.Unmarshal(b, &a); err != nil || a.Error == nil || a.Error.Code != nodeproxy.RateLimitCode || string(a.ID) != "3" {
		t.Errorf("429 body %s, want a JSON-RPC error %d for id 3", b, nodeproxy.RateLimitCode)
	}
	// A batch is refused whole: its calls count one by one.
	if status, _, _ := mustPost(t, url, batch(call("eth_chainId", 4), call("eth_chainId", 5))); status != http.StatusTooManyRequests {
		t.Errorf("batch over the limit: %d, want 429", status)
	}
	// A go-ethereum client sees the status.
	var n hexutil.Uint64
	err = dialRPC(t, url).CallContext(context.Background(), &n, "eth_blockNumber")
	var he rpc.HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusTooManyRequests {
		t.Errorf("rpc client error %v, want an HTTPError 429", err)
	}
	s := p.Stats()
	if s.Calls != 7 || s.Refused != 4 || s.RefusedRequests != 3 || s.Forwarded != 3 || s.Batches != 1 {
		t.Errorf("stats %+v, want 7 calls, 4 of them refused in 3 requests, 3 forwarded", s)
	}
	if calls, _ := node.seen(); calls != 3 {
		t.Errorf("node saw %d calls, want the 3 within the burst", calls)
	}
}

func TestRateLimitAnswersRPCErrorPerCall(t *testing.T) {
	node := &fakeNode{}
	p, err := nodeproxy.New(node, nodeproxy.Options{MaxRPS: 0.5, Burst: 3, Refusal: nodeproxy.RefuseRPC})
	if err != nil {
		t.Fatal(err)
	}
	c := dialRPC(t, startProxy(t, p))
	elems := make([]rpc.BatchElem, 5)
	for i := range elems {
		elems[i] = rpc.BatchElem{Method: "eth_blockNumber", Result: new(hexutil.Uint64)}
	}
	if err := c.BatchCallContext(context.Background(), elems); err != nil {
		t.Fatalf("batch with calls over the limit: %v, want HTTP 200 with errors per call", err)
	}
	refused := 0
	for i, e := range elems {
		var re rpc.Error
		switch {
		case e.Error == nil:
			if got := *e.Result.(*hexutil.Uint64); got != 0x2a {
				t.Errorf("element %d result %d, want the node's 42", i, got)
			}
		case errors.As(e.Error, &re) && re.ErrorCode() == nodeproxy.RateLimitCode:
			refused++
		default:
			t.Errorf("element %d: %v, want a result or a rate limit error", i, e.Error)
		}
	}
	if refused != 2 {
		t.Errorf("%d elements refused, want the 2 beyond the burst of 3", refused)
	}
	// Nothing left in the bucket: a single call gets the error too.
	var n hexutil.Uint64
	err = c.CallContext(context.Background(), &n, "eth_blockNumber")
	var re rpc.Error
	if !errors.As(err, &re) || re.ErrorCode() != nodeproxy.RateLimitCode {
		t.Errorf("single call over the limit: %v, want JSON-RPC error %d", err, nodeproxy.RateLimitCode)
	}
	s := p.Stats()
	if s.Calls != 6 || s.Refused != 3 || s.RefusedRequests != 2 || s.Forwarded != 3 {
		t.Errorf("stats %+v, want 6 calls, 3 refused in 2 requests, 3 forwarded", s)
	}
	if calls, batches := node.seen(); calls != 3 || len(batches) != 1 || batches[0] != 3 {
		t.Errorf("node saw %d calls in batches %v, want one batch of the 3 admitted calls", calls, batches)
	}
}

func TestL1BlockNumberFromANode(t *testing.T) {
	backend, nodeURL := startNode(t)
	for range 3 {
		backend.Commit()
	}
	l1 := func(l2 uint64) uint64 { return 20_000_000 + l2*4 }
	p, err := nodeproxy.NewURL(nodeURL, nodeproxy.Options{L1Number: l1})
	if err != nil {
		t.Fatal(err)
	}
	proxyURL := startProxy(t, p)
	c := dialRPC(t, proxyURL)
	ctx := context.Background()
	heads := chain.NewRPCHeadReader(c)
	latest, err := heads.LatestHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if latest.Number != 3 || latest.L1Number != l1(3) {
		t.Errorf("latest head %d with L1 number %d, want 3 and %d", latest.Number, latest.L1Number, l1(3))
	}
	h2, err := heads.HeadByNumber(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if h2.L1Number != l1(2) {
		t.Errorf("head 2 L1 number %d, want %d", h2.L1Number, l1(2))
	}
	if _, err := heads.HeadByNumber(ctx, 99); !errors.Is(err, chain.ErrHeadNotFound) {
		t.Errorf("head 99: %v, want ErrHeadNotFound (the null result left alone)", err)
	}

	// A batch with both block methods, a missing block and another method:
	// the proxy's answer is the node's with the field added, nothing else.
	req := batch(
		call("eth_getBlockByNumber", 1, `"0x1"`, "false"),
		call("eth_getBlockByHash", 2, `"`+h2.Hash.Hex()+`"`, "true"),
		call("eth_getBlockByNumber", 3, `"0x63"`, "false"),
		call("eth_blockNumber", 4),
	)
	_, _, direct := mustPost(t, nodeURL, req)
	_, _, proxied := mustPost(t, proxyURL, req)
	for _, n := range []uint64{1, 2} {
		field := fmt.Sprintf(`,"l1BlockNumber":"%s"`, hexutil.EncodeUint64(l1(n)))
		if bytes.Count(proxied, []byte(field)) != 1 {
			t.Fatalf("answer lacks %s once for block %d:\n%s", field, n, proxied)
		}
		proxied = bytes.Replace(proxied, []byte(field), nil, 1)
	}
	if !bytes.Equal(proxied, direct) {
		t.Errorf("answer apart from l1BlockNumber differs from the node's:\nproxy %s\nnode  %s", proxied, direct)
	}
	var elems []rpc.BatchElem
	for _, n := range []string{"0x1", "0x2"} {
		elems = append(elems, rpc.BatchElem{Method: "eth_getBlockByNumber", Args: []any{n, false}, Result: new(struct {
			Number        hexutil.Uint64 `json:"number"`
			Hash          common.Hash    `json:"hash"`
			L1BlockNumber hexutil.Uint64 `json:"l1BlockNumber"`
		})})
	}
	if err := c.BatchCallContext(ctx, elems); err != nil {
		t.Fatal(err)
	}
	for _, e := range elems {
		b := e.Result.(*struct {
			Number        hexutil.Uint64 `json:"number"`
			Hash          common.Hash    `json:"hash"`
			L1BlockNumber hexutil.Uint64 `json:"l1BlockNumber"`
		})
		if e.Error != nil || uint64(b.L1BlockNumber) != l1(uint64(b.Number)) || b.Hash == (common.Hash{}) {
			t.Errorf("batched block %+v (%v), want l1BlockNumber %d", b, e.Error, l1(uint64(b.Number)))
		}
	}
}

func TestL1BlockNumberKeepsOtherBytes(t *testing.T) {
	p, err := nodeproxy.New(&fakeNode{}, nodeproxy.Options{L1Number: func(l2 uint64) uint64 { return l2 + 100 }})
	if err != nil {
		t.Fatal(err)
	}
	url := startProxy(t, p)
	// Single: the odd spacing of the node's block stays, the field goes at
	// the end.
	_, _, b := mustPost(t, url, call("eth_getBlockByNumber", 1, `"0x5"`, "false"))
	want := answer(fakeCall{ID: json.RawMessage("1"), Method: "eth_getBlockByNumber", Params: []json.RawMessage{json.RawMessage(`"0x5"`)}})
	want = strings.Replace(want, ` }}`, ` ,"l1BlockNumber":"0x69"}}`, 1) + "\n"
	if string(b) != want {
		t.Errorf("single answer\n%s\nwant\n%s", b, want)
	}
	// Batch: a block with the field already, a null block and a call of
	// another method are untouched; so are the spaces between elements.
	req := batch(call("eth_getBlockByNumber", 1, `"0x6"`), call("eth_getBlockByNumber", 2, `"0x7"`),
		call("eth_chainId", 3), call("eth_getBlockByHash", 4, `"0x5"`))
	_, _, direct := mustPost(t, httpURLOf(t, &fakeNode{}), req)
	_, _, proxied := mustPost(t, url, req)
	if exp := bytes.Replace(direct, []byte(` }}`+"\n]"), []byte(` ,"l1BlockNumber":"0x69"}}`+"\n]"), 1); !bytes.Equal(proxied, exp) {
		t.Errorf("batch answer\n%s\nwant\n%s", proxied, exp)
	}
}

// httpURLOf serves h on a loopback port through a proxy that does nothing,
// so a test can compare an answer with and without a rewrite.
func httpURLOf(t *testing.T, h http.Handler) string {
	t.Helper()
	p, err := nodeproxy.New(h, nodeproxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return startProxy(t, p)
}

// outcome is what a client saw of one faulted request.
func classify(status int, body []byte, err error) string {
	switch {
	case err != nil:
		return "transport-error"
	case status == http.StatusBadGateway:
		return string(nodeproxy.FaultHTTP502)
	case status == http.StatusServiceUnavailable:
		return string(nodeproxy.FaultHTTP503)
	case status != http.StatusOK:
		return "status-" + strconv.Itoa(status)
	}
	var a rpcAnswer
	if json.Unmarshal(body, &a) != nil {
		return string(nodeproxy.FaultTruncate)
	}
	if a.Error != nil && a.Error.Code == nodeproxy.DefaultFaultCode {
		return string(nodeproxy.FaultRPCError)
	}
	return "ok"
}

func TestFaultsAtTheirRatesWithASeed(t *testing.T) {
	// Unequal shares, so that a draw that mixes kinds up shows.
	faults := nodeproxy.Faults{Drop: 0.05, DropAfter: 0.05, Delay: 0.1, HTTP502: 0.1, HTTP503: 0.1, RPCError: 0.15, Truncate: 0.15,
		DelayMin: time.Millisecond, DelayMax: 3 * time.Millisecond}
	const requests = 600
	run := func() (nodeproxy.Stats, map[string]int, int) {
		node := &fakeNode{}
		p, err := nodeproxy.New(node, nodeproxy.Options{Seed: 42, Faults: faults})
		if err != nil {
			t.Fatal(err)
		}
		url := startProxy(t, p)
		client := &http.Client{Timeout: 10 * time.Second}
		seen := map[string]int{}
		for i := range requests {
			status, _, body, err := post(context.Background(), client, url, call("eth_blockNumber", i))
			seen[classify(status, body, err)]++
		}
		calls, _ := node.seen()
		return p.Stats(), seen, calls
	}
	s, seen, nodeCalls := run()
	// The seed fixes the outcome; the bounds, four and a half standard
	// deviations of a binomial count, say whether it is the configured rate.
	within := func(what string, got int64, p float64) {
		t.Helper()
		mean := requests * p
		if tol := 4.5 * math.Sqrt(requests*p*(1-p)); math.Abs(float64(got)-mean) > tol {
			t.Errorf("%s: %d in %d requests, want %.0f ± %.0f", what, got, requests, mean, tol)
		}
	}
	for _, k := range nodeproxy.FaultKinds() {
		within(string(k), s.Faults[k], faults.Probability(k))
	}
	within("all faults", s.FaultTotal(), faults.Rate())
	if seen["transport-error"] != int(s.Faults[nodeproxy.FaultDrop]+s.Faults[nodeproxy.FaultDropAfter]) {
		t.Errorf("%d dropped connections seen, proxy counted %d drops and %d drops after forwarding",
			seen["transport-error"], s.Faults[nodeproxy.FaultDrop], s.Faults[nodeproxy.FaultDropAfter])
	}
	for _, k := range []nodeproxy.Fault{nodeproxy.FaultHTTP502, nodeproxy.FaultHTTP503, nodeproxy.FaultRPCError, nodeproxy.FaultTruncate} {
		if int64(seen[string(k)]) != s.Faults[k] {
			t.Errorf("client saw %s %d times, proxy counted %d", k, seen[string(k)], s.Faults[k])
		}
	}
	if want := requests - s.FaultTotal() + s.Faults[nodeproxy.FaultDelay]; int64(seen["ok"]) != want {
		t.Errorf("%d answers unharmed, want %d (unfaulted and delayed)", seen["ok"], want)
	}
	// Drops after forwarding, delays and truncations reached the node.
	if want := requests - s.Faults[nodeproxy.FaultDrop] - s.Faults[nodeproxy.FaultHTTP502] -
		s.Faults[nodeproxy.FaultHTTP503] - s.Faults[nodeproxy.FaultRPCError]; int64(nodeCalls) != want || s.Forwarded != want {
		t.Errorf("node saw %d calls, proxy forwarded %d, want %d", nodeCalls, s.Forwarded, want)
	}
	// The same seed and the same requests make the same choices.
	s2, seen2, _ := run()
	if !equalCounts(s2.Faults, s.Faults) || fmt.Sprint(seen2) != fmt.Sprint(seen) {
		t.Errorf("second run with the same seed: faults %v seen %v, first %v seen %v", s2.Faults, seen2, s.Faults, seen)
	}
}

func TestPhasesAndMethodFaults(t *testing.T) {
	node := &fakeNode{}
	broken := nodeproxy.Faults{HTTP503: 1}
	p, err := nodeproxy.New(node, nodeproxy.Options{
		Seed: 7,
		// A phase a request: every request draws storm or calm.
		Phases:       []nodeproxy.Phase{{Name: "storm", Weight: 1, Faults: broken}, {Name: "calm", Weight: 3}},
		MethodFaults: map[string]nodeproxy.Faults{"eth_sendRawTransaction": broken},
	})
	if err != nil {
		t.Fatal(err)
	}
	url := startProxy(t, p)
	failed := 0
	for i := range 200 {
		if status, _, _ := mustPost(t, url, call("eth_blockNumber", i)); status != http.StatusOK {
			failed++
		}
	}
	s := p.Stats()
	if s.Phases["storm"]+s.Phases["calm"] != 200 || s.Phases["storm"] < 25 || s.Phases["storm"] > 80 {
		t.Errorf("phases %v over 200 requests, want each request to draw one, about a quarter storms", s.Phases)
	}
	if int64(failed) != s.Phases["storm"] || s.Faults[nodeproxy.FaultHTTP503] != s.Phases["storm"] {
		t.Errorf("%d requests failed, %d faults counted, want one per storm phase (%d)", failed, s.Faults[nodeproxy.FaultHTTP503], s.Phases["storm"])
	}
	p.Reset()
	for i := range 20 {
		req := batch(call("eth_blockNumber", 2*i), call("eth_sendRawTransaction", 2*i+1, `"0x00"`))
		if status, _, _ := mustPost(t, url, req); status != http.StatusServiceUnavailable {
			t.Fatalf("request %d with a broadcast answered %d, want 503 whatever the phase", i, status)
		}
	}
	if s := p.Stats(); s.FaultedMethods["eth_sendRawTransaction"] != 20 || s.FaultedMethods["eth_blockNumber"] != 20 {
		t.Errorf("faulted methods %v, want 20 for each method of the faulted batches", s.FaultedMethods)
	}

	// Method faults on top of others can add up to more than 1: every
	// request is faulted, the kinds in proportion.
	if err := p.SetOptions(nodeproxy.Options{Seed: 7, Faults: nodeproxy.Faults{HTTP502: 0.9},
		MethodFaults: map[string]nodeproxy.Faults{"eth_sendRawTransaction": {HTTP503: 0.9}}}); err != nil {
		t.Fatal(err)
	}
	p.Reset()
	statuses := map[int]int{}
	for i := range 200 {
		status, _, _ := mustPost(t, url, call("eth_sendRawTransaction", i, `"0x00"`))
		statuses[status]++
	}
	if statuses[http.StatusBadGateway]+statuses[http.StatusServiceUnavailable] != 200 ||
		statuses[http.StatusBadGateway] < 75 || statuses[http.StatusBadGateway] > 125 {
		t.Errorf("answers %v to 200 broadcasts, want every one faulted, about half 502 and half 503", statuses)
	}
}

func TestSetOptionsSwitchesMidRun(t *testing.T) {
	node := &fakeNode{}
	p, err := nodeproxy.New(node, nodeproxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	url := startProxy(t, p)
	c := dialRPC(t, url)
	ctx := context.Background()
	blockNumber := func() error {
		var n hexutil.Uint64
		return c.CallContext(ctx, &n, "eth_blockNumber")
	}

	// Readers of the figures run throughout, as a benchmark's reporter does.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				_ = p.Stats()
				_ = p.Options()
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()

	for i := range 5 {
		if err := blockNumber(); err != nil {
			t.Fatalf("call %d with no limits: %v", i, err)
		}
	}
	if err := p.SetOptions(nodeproxy.Options{MaxRPS: 0.5, Burst: 2}); err != nil {
		t.Fatal(err)
	}
	var errs []error
	for range 4 {
		errs = append(errs, blockNumber())
	}
	if errs[0] != nil || errs[1] != nil || errs[2] == nil || errs[3] == nil {
		t.Errorf("with a limit of 2 at once: %v, want two answers then two refusals", errs)
	}
	const latency = 40 * time.Millisecond
	if err := p.SetOptions(nodeproxy.Options{Latency: latency}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := blockNumber(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < latency {
		t.Errorf("call after switching to %s latency took %s", latency, took)
	}
	if err := p.SetOptions(nodeproxy.Options{Faults: nodeproxy.Faults{HTTP502: 1}}); err != nil {
		t.Fatal(err)
	}
	var he rpc.HTTPError
	if err := blockNumber(); !errors.As(err, &he) || he.StatusCode != http.StatusBadGateway {
		t.Errorf("with every request faulted: %v, want 502", err)
	}
	if err := p.SetOptions(nodeproxy.Options{Faults: nodeproxy.Faults{Drop: 2}}); err == nil {
		t.Error("a probability of 2 was accepted")
	}
	if err := blockNumber(); !errors.As(err, &he) || he.StatusCode != http.StatusBadGateway {
		t.Errorf("after refused options: %v, want the previous options still in force", err)
	}
	if err := p.SetOptions(nodeproxy.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := blockNumber(); err != nil {
		t.Errorf("back to no faults: %v", err)
	}
	s := p.Stats()
	if s.Calls != 13 || s.Refused != 2 || s.Faults[nodeproxy.FaultHTTP502] != 2 || s.Forwarded != 9 {
		t.Errorf("stats %+v, want 13 calls, 2 refused, 2 faulted, 9 forwarded", s)
	}
}

func TestConcurrentCountsAreExact(t *testing.T) {
	node := &fakeNode{}
	p, err := nodeproxy.New(node, nodeproxy.Options{Latency: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c := dialRPC(t, startProxy(t, p))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				elems := []rpc.BatchElem{{Method: "eth_chainId", Result: new(hexutil.Uint64)}, {Method: "eth_blockNumber", Result: new(hexutil.Uint64)}}
				if err := c.BatchCallContext(context.Background(), elems); err != nil {
					t.Errorf("goroutine %d batch %d: %v", g, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	s := p.Stats()
	if s.Requests != 200 || s.Batches != 200 || s.Calls != 400 || s.Methods["eth_chainId"] != 200 || s.Forwarded != 400 {
		t.Errorf("stats %+v, want 200 batches of 2 calls", s)
	}
	if calls, _ := node.seen(); calls != 400 {
		t.Errorf("node saw %d calls, want 400", calls)
	}
}

func TestPassThroughAndWebSocket(t *testing.T) {
	node := &fakeNode{}
	p, err := nodeproxy.New(node, nodeproxy.Options{Latency: 20 * time.Millisecond, MaxRPS: 0.5, Burst: 1})
	if err != nil {
		t.Fatal(err)
	}
	url := startProxy(t, p)
	start := time.Now()
	res, err := http.Get(url + "/health/check?x=1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if took := time.Since(start); took < 20*time.Millisecond {
		t.Errorf("GET took %s, want the latency too", took)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("X-Fake") != "passed" {
		t.Errorf("GET answered %d with headers %v, want the node's answer", res.StatusCode, res.Header)
	}
	if paths := node.seenPaths(); len(paths) != 1 || paths[0] != "GET /health/check?x=1" {
		t.Errorf("node saw %q, want the path and query unchanged", paths)
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotImplemented {
		t.Errorf("websocket upgrade answered %d, want 501", res.StatusCode)
	}
	if s := p.Stats(); s.Requests != 2 || s.Calls != 0 || s.Refused != 0 {
		t.Errorf("stats %+v, want 2 requests and no calls", s)
	}
	if _, err := nodeproxy.NewURL("ws://127.0.0.1:8546", nodeproxy.Options{}); !errors.Is(err, nodeproxy.ErrWebSocket) {
		t.Errorf("ws upstream: %v, want ErrWebSocket", err)
	}
}

func TestUpstreamURLPathsAndBlocks(t *testing.T) {
	backend, nodeURL := startNode(t)
	backend.Commit()
	p, err := nodeproxy.NewURL(nodeURL+"/", nodeproxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := dialRPC(t, startProxy(t, p))
	var head struct {
		Number hexutil.Big `json:"number"`
	}
	if err := c.CallContext(context.Background(), &head, "eth_getBlockByNumber", "latest", false); err != nil {
		t.Fatal(err)
	}
	if head.Number.ToInt().Cmp(big.NewInt(1)) != 0 {
		t.Errorf("head %s, want 1", head.Number.ToInt())
	}
	other, err := nodeproxy.NewURL(nodeURL, nodeproxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if url, err := other.Start("0.0.0.0:0"); err == nil {
		other.Close()
		t.Errorf("Start on a non-loopback address was accepted (%s)", url)
	}
}

func TestCloseEndsWaits(t *testing.T) {
	p, err := nodeproxy.New(&fakeNode{}, nodeproxy.Options{Latency: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	// Served by a server of the test's own, as a handler.
	srv := httptest.NewServer(p)
	defer srv.Close()
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		status, _, _, err := post(context.Background(), http.DefaultClient, srv.URL, call("eth_blockNumber", 1))
		done <- result{status, err}
	}()
	for p.Stats().Requests == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || r.status != http.StatusServiceUnavailable {
			t.Errorf("request waiting out the latency when the proxy closed: %d, %v; want 503", r.status, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close left a request waiting out its latency")
	}
}
