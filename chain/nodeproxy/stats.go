package nodeproxy

import "maps"

// Stats count what went through the proxy since it started or was Reset.
type Stats struct {
	// Requests is every HTTP request received, JSON-RPC or not.
	Requests int64
	// Batches is the JSON-RPC batch requests among them.
	Batches int64
	// Calls is the JSON-RPC calls received, each element of a batch one
	// call, whatever became of them; Methods splits them by method.
	Calls   int64
	Methods map[string]int64
	// Forwarded is the calls sent on to the node.
	Forwarded int64
	// Refused is the calls the rate limit turned away, RefusedRequests the
	// HTTP requests with at least one of them.
	Refused         int64
	RefusedRequests int64
	// Faults is the HTTP requests faulted, by kind.
	Faults map[Fault]int64
	// FaultedMethods is the faulted HTTP requests that carried at least one
	// call of the method.
	FaultedMethods map[string]int64
	// Phases is the fault phases started, by name.
	Phases map[string]int64
}

func newStats() Stats {
	return Stats{Methods: map[string]int64{}, Faults: map[Fault]int64{},
		FaultedMethods: map[string]int64{}, Phases: map[string]int64{}}
}

func (s Stats) clone() Stats {
	s.Methods = maps.Clone(s.Methods)
	s.Faults = maps.Clone(s.Faults)
	s.FaultedMethods = maps.Clone(s.FaultedMethods)
	s.Phases = maps.Clone(s.Phases)
	return s
}

// FaultTotal is the HTTP requests faulted, of any kind.
func (s Stats) FaultTotal() int64 {
	var n int64
	for _, v := range s.Faults {
		n += v
	}
	return n
}
