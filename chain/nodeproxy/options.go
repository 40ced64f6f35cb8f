package nodeproxy

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"time"
)

// Refusal is how the proxy turns away calls over the rate limit. Hosted
// providers do either, and clients must cope with both.
type Refusal int

const (
	// RefuseHTTP answers the whole HTTP request 429 Too Many Requests, with a
	// Retry-After header and a JSON-RPC error body, when the bucket lacks a
	// token for every call in it.
	RefuseHTTP Refusal = iota
	// RefuseRPC answers HTTP 200 and gives each call that found no token a
	// JSON-RPC error of code RateLimitCode; the calls of a batch that did
	// find one are forwarded.
	RefuseRPC
)

func (r Refusal) String() string {
	switch r {
	case RefuseHTTP:
		return "http-429"
	case RefuseRPC:
		return "rpc-error"
	}
	return fmt.Sprintf("Refusal(%d)", int(r))
}

// RateLimitCode and RateLimitMessage are the JSON-RPC error of a call
// refused by the rate limit, in either refusal mode: what Infura and
// others send, and what clients that retry on rate limits look for.
const (
	RateLimitCode    = -32005
	RateLimitMessage = "request rate exceeded"
)

// Default JSON-RPC error of FaultRPCError when Options leave it unset: the
// generic server error nodes answer for failures of their own.
const (
	DefaultFaultCode    = -32000
	DefaultFaultMessage = "injected node fault: internal error"
)

// Fault is a kind of fault the proxy injects into an HTTP request.
type Fault string

const (
	// FaultDrop closes the client's connection before forwarding: the node
	// never sees the request.
	FaultDrop Fault = "drop"
	// FaultDropAfter forwards the request, then closes the client's
	// connection: the node did the work (a transaction may be in its pool)
	// but the client sees only an error.
	FaultDropAfter Fault = "drop-after"
	// FaultDelay holds the request for a duration drawn from
	// [Faults.DelayMin, Faults.DelayMax), then forwards it.
	FaultDelay Fault = "delay"
	// FaultHTTP502 answers 502 Bad Gateway, as a load balancer in front of a
	// node does, without forwarding.
	FaultHTTP502 Fault = "http-502"
	// FaultHTTP503 answers 503 Service Unavailable without forwarding.
	FaultHTTP503 Fault = "http-503"
	// FaultRPCError answers every call with a JSON-RPC error
	// (Options.FaultCode) and HTTP 200, without forwarding.
	FaultRPCError Fault = "rpc-error"
	// FaultTruncate forwards the request and cuts the answer's body in half:
	// valid HTTP, broken JSON.
	FaultTruncate Fault = "truncate"
)

// FaultKinds is every Fault, in the order a draw walks them.
func FaultKinds() []Fault {
	k := faultKinds()
	return k[:]
}

func faultKinds() [7]Fault {
	return [...]Fault{FaultDrop, FaultDropAfter, FaultDelay, FaultHTTP502, FaultHTTP503, FaultRPCError, FaultTruncate}
}

// Faults are the probabilities, per JSON-RPC HTTP request, of each fault.
// At most one fault hits a request, so the probabilities add up to the
// share of requests faulted and must not exceed 1 together.
type Faults struct {
	Drop      float64
	DropAfter float64
	Delay     float64
	HTTP502   float64
	HTTP503   float64
	RPCError  float64
	Truncate  float64
	// DelayMin and DelayMax bound the hold of FaultDelay.
	DelayMin, DelayMax time.Duration
}

// Spread faults rate of the requests, sharing it among kinds in proportion
// to weights: the shape of a fault mix is often easier to state this way.
// Kinds without a weight get none; the delay range is left for the caller.
func Spread(rate float64, weights map[Fault]float64) Faults {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	var f Faults
	if total <= 0 {
		return f
	}
	for k, w := range weights {
		if p := f.ptr(k); p != nil {
			*p = rate * w / total
		}
	}
	return f
}

// Probability is the chance that a request gets kind.
func (f Faults) Probability(kind Fault) float64 {
	if p := f.ptr(kind); p != nil {
		return *p
	}
	return 0
}

// Rate is the share of requests faulted.
func (f Faults) Rate() float64 {
	total := 0.0
	for _, k := range faultKinds() {
		total += f.Probability(k)
	}
	return total
}

func (f *Faults) ptr(kind Fault) *float64 {
	switch kind {
	case FaultDrop:
		return &f.Drop
	case FaultDropAfter:
		return &f.DropAfter
	case FaultDelay:
		return &f.Delay
	case FaultHTTP502:
		return &f.HTTP502
	case FaultHTTP503:
		return &f.HTTP503
	case FaultRPCError:
		return &f.RPCError
	case FaultTruncate:
		return &f.Truncate
	}
	return nil
}

// atLeast raises each probability of f to that of g: a request that
// carries a method with faults of its own gets the worse of the two.
func (f Faults) atLeast(g Faults) Faults {
	for _, k := range faultKinds() {
		if p := f.ptr(k); *p < g.Probability(k) {
			*p = g.Probability(k)
		}
	}
	return f
}

func (f Faults) validate() error {
	for _, k := range faultKinds() {
		if p := f.Probability(k); math.IsNaN(p) || p < 0 || p > 1 {
			return fmt.Errorf("probability of %s is %v, want within [0, 1]", k, p)
		}
	}
	if r := f.Rate(); r > 1+1e-9 {
		return fmt.Errorf("fault probabilities add up to %v, more than 1", r)
	}
	if f.DelayMin < 0 || f.DelayMax < f.DelayMin {
		return fmt.Errorf("delay range [%s, %s) is empty or negative", f.DelayMin, f.DelayMax)
	}
	return nil
}

// Phase is one fault regime of a cycle, such as a storm that faults nearly
// every request or a flaky spell that faults a few.
type Phase struct {
	// Name keys Stats.Phases.
	Name string
	// Weight is the phase's share of the draws that start a phase.
	Weight float64
	Faults Faults
}

// Options set how unkind the proxy is. The zero value forwards everything
// at once, unchanged, and only counts.
type Options struct {
	// Latency is added to every HTTP request's round trip, half before
	// forwarding and half after, as the network to a remote endpoint does;
	// answers the proxy makes itself (refusals, injected errors) take it
	// too.
	Latency time.Duration
	// Jitter adds a further random [0, Jitter) to each round trip, so
	// Latency is a lower bound.
	Jitter time.Duration

	// MaxRPS is the JSON-RPC calls per second the rate limit lets through
	// on average, each element of a batch one call as providers bill them;
	// 0 leaves calls unlimited.
	MaxRPS float64
	// Burst is the token bucket's size: how many calls may come at once
	// after a quiet spell. 0 means one second's worth (MaxRPS, at least 1).
	// In RefuseHTTP mode a batch larger than Burst is always refused.
	Burst int
	// Refusal is how calls over the limit are answered.
	Refusal Refusal

	// Seed seeds the draws of faults, phases and jitter, so that a run with
	// the same requests in the same order makes the same choices. Changing
	// it through SetOptions reseeds; keeping it continues the sequence.
	Seed int64
	// Faults apply to every JSON-RPC request while Phases is empty.
	Faults Faults
	// Phases, when set, replace Faults with one phase at a time, drawn by
	// weight, each lasting a random [PhaseMin, PhaseMax). SetOptions starts
	// a new phase at the next request.
	Phases             []Phase
	PhaseMin, PhaseMax time.Duration
	// MethodFaults raise the fault probabilities of any request carrying a
	// call of the method (eth_sendRawTransaction, say) to at least these,
	// kind by kind; where the result adds up to more than 1 it is scaled
	// down to 1. Their delay range is not used.
	MethodFaults map[string]Faults
	// FaultCode and FaultMessage make the JSON-RPC error of FaultRPCError;
	// zero means DefaultFaultCode and DefaultFaultMessage.
	FaultCode    int
	FaultMessage string

	// L1Number, when set, adds "l1BlockNumber" to every block object that
	// eth_getBlockByNumber and eth_getBlockByHash return, computed from the
	// block's number, as Arbitrum's JSON-RPC serves it.
	L1Number func(l2 uint64) uint64

	// Logger receives faults and refusals at debug level and upstream
	// failures at warn; nil discards them.
	Logger *slog.Logger
}

// ErrInvalidOptions wraps every reason New, NewURL and SetOptions refuse
// options for.
var ErrInvalidOptions = errors.New("nodeproxy: invalid options")

func (o Options) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
	}
	if o.Latency < 0 || o.Jitter < 0 {
		return bad("latency %s and jitter %s must not be negative", o.Latency, o.Jitter)
	}
	if math.IsNaN(o.MaxRPS) || math.IsInf(o.MaxRPS, 0) || o.MaxRPS < 0 {
		return bad("MaxRPS %v must be finite and not negative", o.MaxRPS)
	}
	if o.Burst < 0 {
		return bad("Burst %d is negative", o.Burst)
	}
	if o.Refusal != RefuseHTTP && o.Refusal != RefuseRPC {
		return bad("unknown refusal %s", o.Refusal)
	}
	if err := o.Faults.validate(); err != nil {
		return bad("Faults: %w", err)
	}
	if len(o.Phases) > 0 {
		total := 0.0
		for _, ph := range o.Phases {
			if math.IsNaN(ph.Weight) || ph.Weight < 0 {
				return bad("phase %q weight %v is negative", ph.Name, ph.Weight)
			}
			if err := ph.Faults.validate(); err != nil {
				return bad("phase %q: %w", ph.Name, err)
			}
			total += ph.Weight
		}
		if total <= 0 {
			return bad("no phase has a positive weight")
		}
		if o.PhaseMin < 0 || o.PhaseMax < o.PhaseMin {
			return bad("phase range [%s, %s) is empty or negative", o.PhaseMin, o.PhaseMax)
		}
	}
	for m, f := range o.MethodFaults {
		for _, k := range faultKinds() {
			if p := f.Probability(k); math.IsNaN(p) || p < 0 || p > 1 {
				return bad("MethodFaults[%q]: probability of %s is %v, want within [0, 1]", m, k, p)
			}
		}
	}
	return nil
}

// clone copies what a caller could mutate after handing Options over.
func (o Options) clone() Options {
	o.Phases = slices.Clone(o.Phases)
	o.MethodFaults = maps.Clone(o.MethodFaults)
	return o
}

func (o Options) burst() float64 {
	if o.Burst > 0 {
		return float64(o.Burst)
	}
	return max(1, math.Ceil(o.MaxRPS))
}

func (o Options) faultError() (int, string) {
	code, msg := o.FaultCode, o.FaultMessage
	if code == 0 {
		code = DefaultFaultCode
	}
	if msg == "" {
		msg = DefaultFaultMessage
	}
	return code, msg
}
