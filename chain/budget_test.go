package chain_test

import (
	"sync"
	"testing"
	"time"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/chain/nodeproxy"
)

// recObserver records what the request budget reports.
type recObserver struct {
	mu      sync.Mutex
	calls   [][]string
	limited int
	waits   map[chain.Priority][]time.Duration
}

func (o *recObserver) NodeCalls(methods []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, append([]string(nil), methods...))
}

func (o *recObserver) NodeRateLimited() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.limited++
}

func (o *recObserver) NodeBudgetWait(p chain.Priority, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.waits == nil {
		o.waits = map[chain.Priority][]time.Duration{}
	}
	o.waits[p] = append(o.waits[p], d)
}

func (o *recObserver) snapshot() (calls [][]string, limited int, waits map[chain.Priority][]time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	waits = map[chain.Priority][]time.Duration{}
	for p, w := range o.waits {
		waits[p] = append([]time.Duration(nil), w...)
	}
	return append([][]string(nil), o.calls...), o.limited, waits
}

// TestBudgetBoundsCallsPerSecond sends more calls than a second's budget,
// singly and in batches, from several goroutines, to a node that refuses
// calls over its rate: the budget spaces them so none is refused, and
// every batch element counts as a call.
func TestBudgetBoundsCallsPerSecond(t *testing.T) {
	e := newNodeEnv(t, devchain.Options{})
	const rps = 100
	obs := &recObserver{}
	// The provider allows the same rate; its larger bucket leaves room for
	// requests that the network delivers closer together than they left.
	p, node := e.proxied(nodeproxy.Options{MaxRPS: rps, Burst: 2 * rps, Refusal: nodeproxy.RefuseRPC},
		chain.NewBudget(rps, obs), chain.NodeOptions{})
	tip, err := e.node.LatestHead(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	nums := make([]uint64, 20)
	for i := range nums {
		nums[i] = uint64(i) % (tip.Number + 1)
	}
	const workers, batches, singles = 5, 2, 10 // per worker: 2×20 + 10 calls
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, workers*(batches*(len(nums)+1)+singles))
	for range workers {
		wg.Go(func() {
			for i := range batches + singles {
				if i%6 == 0 {
					_, herrs, err := node.HeadsByNumber(e.ctx, nums)
					errs <- err
					for _, err := range herrs {
						errs <- err
					}
					continue
				}
				_, err := node.LatestHead(e.ctx)
				errs <- err
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("call through the budget failed: %v (class %s)", err, chain.Classify(err))
		}
	}
	const total = workers * (batches*20 + singles)
	s := p.Stats()
	if s.Calls != total || s.Refused != 0 {
		t.Errorf("proxy saw %d calls, refused %d; want %d calls, none refused", s.Calls, s.Refused, total)
	}
	// The bucket starts full (one second's worth); the rest go at the rate.
	if least := time.Duration(float64(total-rps) / rps * float64(time.Second)); elapsed < least-50*time.Millisecond {
		t.Errorf("%d calls at %d per second took %s, want at least %s", total, rps, elapsed, least)
	}
	calls, limited, _ := obs.snapshot()
	elems, batched := 0, 0
	for _, c := range calls {
		elems += len(c)
		if len(c) == len(nums) {
			batched++
			for _, m := range c {
				if m != "eth_getBlockByNumber" {
					t.Errorf("batch carries %q", m)
				}
			}
		}
	}
	if len(calls) != workers*(batches+singles) || elems != total || batched != workers*batches || limited != 0 {
		t.Errorf("observer saw %d requests carrying %d calls (%d batches), %d rate limits; want %d requests, %d calls, %d batches, 0",
			len(calls), elems, batched, limited, workers*(batches+singles), total, workers*batches)
	}
}

// TestBudgetServesUrgentFirst: when the budget runs short, a critical call
// that arrives while a background call waits goes first, even when the
// background call could have gone earlier on its own: it needs one token,
// the critical batch two.
func TestBudgetServesUrgentFirst(t *testing.T) {
	e := newNodeEnv(t, devchain.Options{})
	tip, err := e.node.LatestHead(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	obs := &recObserver{}
	budget := chain.NewBudget(2, obs)
	_, node := e.proxied(nodeproxy.Options{}, budget, chain.NodeOptions{})
	// Empty the bucket: a token comes every half second.
	if err := budget.Wait(e.ctx, chain.PriorityCritical, 2); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := node.ChainID(chain.WithPriority(e.ctx, chain.PriorityBackground)); err != nil {
			t.Errorf("background call: %v", err)
		}
	})
	time.Sleep(30 * time.Millisecond)
	wg.Go(func() {
		_, _, err := node.HeadsByNumber(chain.WithPriority(e.ctx, chain.PriorityCritical), []uint64{tip.Number, tip.Number - 1})
		if err != nil {
			t.Errorf("critical call: %v", err)
		}
	})
	wg.Wait()
	calls, _, waits := obs.snapshot()
	if len(calls) != 2 || len(calls[0]) != 2 || calls[0][0] != "eth_getBlockByNumber" || calls[1][0] != "eth_chainId" {
		t.Fatalf("calls went out as %v, want the critical head reads before the background chain id", calls)
	}
	// The background call waited for the token after the critical two.
	if w := waits[chain.PriorityBackground]; len(w) != 1 || w[0] < 1400*time.Millisecond {
		t.Errorf("background waits %v, want one of about 1.5s", w)
	}
}

// TestBudgetStandsBackOn429: an HTTP 429 with Retry-After makes every
// caller wait that long before the node hears from them again.
func TestBudgetStandsBackOn429(t *testing.T) {
	e := newNodeEnv(t, devchain.Options{})
	obs := &recObserver{}
	p, node := e.proxied(nodeproxy.Options{MaxRPS: 1, Burst: 1, Refusal: nodeproxy.RefuseHTTP},
		chain.NewBudget(0, obs), chain.NodeOptions{})
	if _, err := node.ChainID(e.ctx); err != nil {
		t.Fatalf("first call: %v", err)
	}
	sent := time.Now()
	_, err := node.ChainID(e.ctx)
	if chain.Classify(err) != chain.ClassRateLimited {
		t.Fatalf("second call: %v, want a 429", err)
	}
	if _, limited, _ := obs.snapshot(); limited != 1 {
		t.Fatalf("observer heard %d rate limits, want 1", limited)
	}
	const callers = 4
	done := make(chan time.Time, callers)
	for range callers {
		go func() {
			_, _ = node.ChainID(e.ctx) // some may be refused again; only their timing matters
			done <- time.Now()
		}()
	}
	// The proxy said Retry-After: 1; nothing may reach it before then.
	time.Sleep(time.Until(sent.Add(900 * time.Millisecond)))
	if s := p.Stats(); s.Requests != 2 {
		t.Fatalf("the node got %d requests within the Retry-After, want the 2 before the refusal", s.Requests)
	}
	for range callers {
		if at := <-done; at.Sub(sent) < time.Second {
			t.Errorf("a caller was answered %s after the refused request was sent, before its Retry-After of 1s", at.Sub(sent))
		}
	}
	if s := p.Stats(); s.Requests != 2+callers {
		t.Errorf("the node got %d requests, want %d", s.Requests, 2+callers)
	}
}

// TestBudgetDetectsRPCRateLimitErrors: a provider that refuses per call
// inside a 200 answer (JSON-RPC -32005) is heard too, batch element by
// element, and the budget stands back.
func TestBudgetDetectsRPCRateLimitErrors(t *testing.T) {
	e := newNodeEnv(t, devchain.Options{})
	obs := &recObserver{}
	p, node := e.proxied(nodeproxy.Options{MaxRPS: 1, Burst: 1, Refusal: nodeproxy.RefuseRPC},
		chain.NewBudget(0, obs), chain.NodeOptions{})
	tip, err := e.node.LatestHead(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	heads, errs, err := node.HeadsByNumber(e.ctx, []uint64{tip.Number, tip.Number - 1, tip.Number - 2})
	if err != nil {
		t.Fatalf("HeadsByNumber: %v", err)
	}
	if errs[0] != nil || heads[0].Hash != tip.Hash {
		t.Errorf("the admitted call: %+v, %v", heads[0], errs[0])
	}
	for i := 1; i < 3; i++ {
		if chain.Classify(errs[i]) != chain.ClassRateLimited {
			t.Errorf("refused call %d: %v (class %s), want rate limited", i, errs[i], chain.Classify(errs[i]))
		}
	}
	calls, limited, _ := obs.snapshot()
	if limited != 1 || len(calls) != 1 || len(calls[0]) != 3 {
		t.Fatalf("observer: %d rate limits, requests %v; want 1 and one request of 3 calls", limited, calls)
	}
	if s := p.Stats(); s.Refused != 2 || s.Forwarded != 1 {
		t.Errorf("proxy refused %d, forwarded %d; want 2 and 1", s.Refused, s.Forwarded)
	}
	// The budget stands back before the next request.
	_, err = node.ChainID(e.ctx)
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("the next call was answered %s after the refused batch was sent, want a pause of at least 250ms", d)
	}
	if chain.Classify(err) == chain.ClassRateLimited {
		if _, limited, _ := obs.snapshot(); limited != 2 {
			t.Errorf("a single refused call was not heard: %d rate limits", limited)
		}
	}
}
