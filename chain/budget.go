package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Priority orders node calls when the request budget runs short: a call
// waits while any call of a more urgent priority waits, so claims,
// broadcasts and receipts go out before float re-reads.
type Priority int

// The priorities, most urgent first.
const (
	// PriorityCritical: heads, claims, broadcasts, receipts.
	PriorityCritical Priority = iota
	// PriorityNormal: sender state that logs named, intake's confirmations.
	PriorityNormal
	// PriorityBackground: full re-reads, floats for senders nobody
	// tracks, housekeeping.
	PriorityBackground
	numPriorities
)

func (p Priority) String() string {
	switch p {
	case PriorityCritical:
		return "critical"
	case PriorityNormal:
		return "normal"
	default:
		return "background"
	}
}

type priorityKey struct{}

// WithPriority makes the node calls made with ctx wait in p's place.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

// PriorityOf is ctx's priority, PriorityNormal when none was set.
func PriorityOf(ctx context.Context) Priority {
	if p, ok := ctx.Value(priorityKey{}).(Priority); ok && p >= 0 && p < numPriorities {
		return p
	}
	return PriorityNormal
}

// Observer receives what the budget sees; metrics implement it. Methods are
// called from many goroutines.
type Observer interface {
	// NodeCalls is called once per HTTP request with the JSON-RPC methods
	// it carries (a batch carries several).
	NodeCalls(methods []string)
	// NodeRateLimited is called when the node refuses for our rate.
	NodeRateLimited()
	// NodeBudgetWait is how long a request waited for the budget.
	NodeBudgetWait(p Priority, d time.Duration)
}

// Budget is the service's request budget at the node: a token bucket of
// JSON-RPC calls per second shared by every caller, which also stands back
// whenever the node says it is over its limit (HTTP 429 or a rate-limit
// error), for the node's Retry-After or a doubling pause.
type Budget struct {
	rate  float64 // calls per second; 0: no limit
	burst float64
	obs   Observer
	now   func() time.Time

	mu       sync.Mutex
	tokens   float64
	last     time.Time
	waiting  [numPriorities]int
	pauseTil time.Time
	backoff  time.Duration
}

// Pause after a rate-limit answer that names no Retry-After: it doubles
// per refusal in a row, so a node that keeps refusing is asked less and
// less, and resets on the first answer that is not a refusal.
const (
	minRateLimitPause = 250 * time.Millisecond
	maxRateLimitPause = 30 * time.Second
)

// NewBudget allows rps calls per second with a burst of one second's worth
// (at least one call); rps 0 means no limit but still stands back on 429s.
// obs may be nil.
func NewBudget(rps float64, obs Observer) *Budget {
	b := &Budget{rate: rps, burst: max(rps, 1), obs: obs, now: time.Now}
	b.tokens = b.burst
	b.last = b.now()
	return b
}

// Wait blocks until n calls at priority p may go to the node, or ctx ends.
func (b *Budget) Wait(ctx context.Context, p Priority, n int) error {
	start := b.now()
	b.mu.Lock()
	b.waiting[p]++
	defer func() {
		b.waiting[p]--
		b.mu.Unlock()
		if b.obs != nil {
			b.obs.NodeBudgetWait(p, b.now().Sub(start))
		}
	}()
	for {
		now := b.now()
		wait := b.pauseTil.Sub(now)
		if wait <= 0 && b.rate > 0 {
			b.refill(now)
			need := min(float64(n), b.burst)
			switch {
			case b.urgentWaiting(p):
				wait = time.Duration(float64(time.Second) / b.rate)
			case b.tokens >= need:
				b.tokens -= float64(n) // a call larger than the burst borrows
				return nil
			default:
				wait = time.Duration((need - b.tokens) / b.rate * float64(time.Second))
			}
		}
		if wait <= 0 {
			return nil
		}
		// Sleep in short steps so a more urgent call that arrives meanwhile
		// is noticed, and a pause that is lifted early takes effect.
		wait = min(wait, 50*time.Millisecond)
		b.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			b.mu.Lock()
			return ctx.Err()
		case <-t.C:
		}
		b.mu.Lock()
	}
}

func (b *Budget) refill(now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(b.burst, b.tokens+d.Seconds()*b.rate)
		b.last = now
	}
}

func (b *Budget) urgentWaiting(p Priority) bool {
	for q := Priority(0); q < p; q++ {
		if b.waiting[q] > 0 {
			return true
		}
	}
	return false
}

// RateLimited records a refusal for our rate: every caller stands back for
// retryAfter, or for a pause that doubles per refusal in a row.
func (b *Budget) RateLimited(retryAfter time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if retryAfter <= 0 {
		b.backoff = min(max(2*b.backoff, minRateLimitPause), maxRateLimitPause)
		retryAfter = b.backoff
	}
	if until := b.now().Add(retryAfter); until.After(b.pauseTil) {
		b.pauseTil = until
	}
	// The bucket starts empty after a pause, so calls resume at the rate,
	// not in a burst that would be refused again.
	b.tokens = 0
	if b.obs != nil {
		b.obs.NodeRateLimited()
	}
}

// answered resets the doubling pause after an answer that was no refusal.
func (b *Budget) answered() {
	b.mu.Lock()
	b.backoff = 0
	b.mu.Unlock()
}

// Transport is an http.RoundTripper for the node's JSON-RPC client that
// makes every request wait for the budget (at the priority of the request's
// context), counts its calls, and notices rate-limit answers.
type Transport struct {
	// Base sends the requests; http.DefaultTransport when nil.
	Base   http.RoundTripper
	Budget *Budget
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if req.Body == nil || req.Method != http.MethodPost {
		return base.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("chain: read request body: %w", err)
	}
	methods := jsonRPCMethods(body)
	ctx := req.Context()
	if err := t.Budget.Wait(ctx, PriorityOf(ctx), max(len(methods), 1)); err != nil {
		return nil, err
	}
	if t.Budget.obs != nil {
		t.Budget.obs.NodeCalls(methods)
	}
	out := req.Clone(ctx)
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	resp, err := base.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		t.Budget.RateLimited(retryAfter(resp.Header.Get("Retry-After")))
		return resp, nil
	}
	if resp.StatusCode != http.StatusOK {
		return resp, nil
	}
	// A provider may refuse per call inside a 200 answer; the body is read
	// here and handed on unchanged.
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("chain: read response body: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if bytes.Contains(data, []byte(`"error"`)) && rateLimitedAnswer(data) {
		t.Budget.RateLimited(0)
	} else {
		t.Budget.answered()
	}
	return resp, nil
}

// retryAfter reads a Retry-After header given in seconds (the form
// providers use); anything else is 0, which lets the budget choose.
func retryAfter(h string) time.Duration {
	if s, err := strconv.Atoi(h); err == nil && s > 0 {
		return time.Duration(min(s, 60)) * time.Second
	}
	return 0
}

// jsonRPCMethods lists the methods of a JSON-RPC request or batch; a body
// it cannot read counts as one unnamed call.
func jsonRPCMethods(body []byte) []string {
	type call struct {
		Method string `json:"method"`
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var calls []call
		if json.Unmarshal(body, &calls) == nil {
			out := make([]string, len(calls))
			for i, c := range calls {
				out[i] = c.Method
			}
			return out
		}
	}
	var c call
	if json.Unmarshal(body, &c) != nil {
		return []string{""}
	}
	return []string{c.Method}
}

// rateLimitedAnswer reports whether any answer in a JSON-RPC response (or
// batch) is a rate-limit error.
func rateLimitedAnswer(body []byte) bool {
	type answer struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	var answers []answer
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		if json.Unmarshal(body, &answers) != nil {
			return false
		}
	} else {
		var a answer
		if json.Unmarshal(body, &a) != nil {
			return false
		}
		answers = []answer{a}
	}
	for _, a := range answers {
		if a.Error != nil && (rateLimitCodes[a.Error.Code] || rateLimitMessage(a.Error.Message)) {
			return true
		}
	}
	return false
}
