//go:build chaos

package rpc

import (
	"os"
	"testing"
	"time"
)

// The flood tests at production scale. The bounded run (the default) keeps
// both under about a minute on a small machine; REDEEMER_CHAOS_LONG=1 makes
// the floods larger and longer.

func chaosLong() bool { return os.Getenv("REDEEMER_CHAOS_LONG") == "1" }

// TestFloodStreamsChaos floods a server with the production caps (10,000
// streams per process, 1,000 per connection) from more connections than
// the process cap allows, each asking for more than its own cap.
func TestFloodStreamsChaos(t *testing.T) {
	o := streamFlood{conns: 11, perConn: 1100, inflight: 16, within: 2 * time.Second}
	if chaosLong() {
		o.conns, o.perConn = 24, 1500
	}
	runStreamFlood(t, o)
}

// TestFloodGarbageChaos sends bad requests from many goroutines while a
// well-behaved client works.
func TestFloodGarbageChaos(t *testing.T) {
	o := garbageFlood{workers: 64, conns: 16, d: 20 * time.Second, slowest: 10 * time.Second}
	if chaosLong() {
		o.workers, o.conns, o.d = 256, 64, 2*time.Minute
	}
	runGarbageFlood(t, o)
}
