//go:build chaos

package main

import (
	"testing"
	"time"
)

// TestChaosRemoteNode is BenchmarkRemoteNode's bounded run with its targets
// as assertions: 150 ms round trips, 25 calls a second with HTTP 429 above,
// 250 ms blocks, the L1 number every fourth block; idle, then five tickets
// a second.
func TestChaosRemoteNode(t *testing.T) {
	phase := 30 * time.Second
	if chaosLong() {
		phase = 2 * time.Minute
	}
	res := remoteRun{Latency: 150 * time.Millisecond, MaxRPS: 25, Block: 250 * time.Millisecond, L1Ratio: 4,
		Idle: phase, Load: phase, PerSec: 5, DueIn: 2, Drain: time.Minute, ServeRPS: 20}.run(t)
	t.Logf("remote node: %s", res)
	if res.callsPerBlockIdle > 0.5 {
		t.Errorf("idle: %.2f node calls per block, want at most 0.5", res.callsPerBlockIdle)
	}
	if res.maxLagIdle > 8 || res.maxLagLoad > 8 {
		t.Errorf("head lag reached %d blocks idle and %d under load, want at most 8", res.maxLagIdle, res.maxLagLoad)
	}
	if res.queued == 0 || res.redeemed != res.queued {
		t.Errorf("%d of %d tickets redeemed", res.redeemed, res.queued)
	}
	if res.unavailableRefusals > 0 {
		t.Errorf("%d tickets refused while the node was slow", res.unavailableRefusals)
	}
	if res.worstDueToMined > 10 {
		t.Errorf("a ticket was mined %d blocks after it was due, want at most 10", res.worstDueToMined)
	}
	if res.queueP99 > time.Second {
		t.Errorf("QueueTicket p99 %s, want at most 1s", res.queueP99)
	}
}
