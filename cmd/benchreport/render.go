package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// target is a figure the project promises, as the benchmarks issue set it.
type target struct {
	bench, unit string
	atMost      bool // the figure must be ≤ value (else ≥ value)
	value       float64
	text        string
}

var targets = []target{
	{"BenchmarkIntake/clients=16", "x-floor", false, 1.0, "QueueTicket at 16 clients ≥ 1.0× pgbench single-row inserts"},
	{"BenchmarkFloatFanout/round", "last-update-ms", true, 250, "new round: last of 10,000 streams updated ≤ 250 ms"},
	{"BenchmarkFloatFanout/one-sender", "p99-ms", true, 5, "one sender's change reaches its stream, p99 ≤ 5 ms"},
	{"BenchmarkDueToBroadcast", "x-floor", true, 1.0, "due ticket broadcast within one poll interval (p99)"},
	{"BenchmarkRecovery", "ready-ms", true, 3000, "SIGKILL with 100k queued, 1k in limbo: correct floats ≤ 3 s after restart"},
	{"BenchmarkRemoteNode", "idle-calls-per-block", true, 0.5, "remote node, idle: node calls per L2 block ≤ 0.5"},
	{"BenchmarkRemoteNode", "idle-max-lag-blocks", true, 8, "remote node, idle: the leader's head lag ≤ 8 blocks"},
	{"BenchmarkRemoteNode", "load-max-lag-blocks", true, 8, "remote node, 5 tickets/s: the leader's head lag ≤ 8 blocks"},
	{"BenchmarkRemoteNode", "due-to-mined-max-blocks", true, 10, "remote node, 5 tickets/s: every ticket mined ≤ 10 blocks after due"},
	{"BenchmarkRemoteNode", "queue-p99-ms", true, 1000, "remote node, 5 tickets/s: QueueTicket p99 ≤ 1 s"},
}

// about says what each benchmark measures and what its floor is.
var about = map[string]string{
	"BenchmarkIntake": "QueueTicket over TLS through the real binary (`redeemer dev`), full validation " +
		"(decode, signature recovery, round, sender and used-ness judged from the state the leader stores, " +
		"no node call, the committed insert with the exposure cap), at 1 and 16 concurrent callers for a " +
		"fixed time. Floor: pgbench committing a single-row upsert into a table shaped like `tickets`, same " +
		"server, same concurrency, measured right after. `cpu-%-*`: each part's cumulative share of the " +
		"service's CPU in a profile of the 16-client phase (the dev process: service and simulated chain).",
	"BenchmarkFloatFanout": "10,000 MonitorMaxFloat streams (1,000 senders × 10 client connections) on " +
		"`redeemer serve`. `round`: a new round that resizes the transcoder pool changes every float; " +
		"time from the commit of the new state until the last stream has its value. `one-sender`: one " +
		"sender's stored state changes; time until each of its streams has the value. `memory`: server " +
		"heap, stack, goroutines and RSS per open stream. Floor: a raw NOTIFY→LISTEN round trip on the " +
		"same database in the same run.",
	"BenchmarkMaxFloatUnary": "Unary MaxFloat at 16 concurrent clients (one TLS connection each) through " +
		"the real binary; every answer is checked against the formula. Floor: the gRPC health Check on " +
		"the same server and connections (transport with no work behind it); a raw pgx SELECT of the " +
		"same row at 16 clients is shown beside it.",
	"BenchmarkDueToBroadcast": "Wall time from a ticket's due block being visible at the node to its " +
		"redemption transaction being accepted by the node (`tx_attempts.sent_at`), with the pipeline as " +
		"`serve` runs it on heads pushed over the node's websocket (`--eth-ws-url`). Floor: the poll " +
		"interval (250 ms), which is also the target.",
	"BenchmarkRemoteNode": "`redeemer serve` against the dev chain through the project's node proxy " +
		"acting as a hosted Arbitrum endpoint: 150 ms per request, 25 requests a second (HTTP 429 above), " +
		"250 ms blocks with the L1 number advancing every fourth, `--eth-max-rps 20`. Two minutes idle, " +
		"then two minutes of 5 winning tickets a second from 4 senders (each due 2 L1 blocks after it is " +
		"queued), then up to two minutes to settle. Calls are counted at the proxy (each element of a " +
		"batch counts); lag is the leader's `redeemer_head_lag_blocks`, sampled every second; due-to-mined " +
		"is the block that mined a ticket less its due block. No floor: the targets are absolute.",
	"BenchmarkRecovery": "`redeemer serve` killed with SIGKILL over a database holding 100,000 queued and " +
		"1,000 in-limbo tickets, then started again: time until MaxFloat answers the correct value (in-limbo " +
		"amounts subtracted) for every sender. Floor: the same restart over a database with no tickets.",
	"BenchmarkRedeemGas": "Gas per ticket on the dev chain, whose contracts are held near the deployed " +
		"contracts' receipts: a round's first `redeemWinningTicket`, one drawing on the reserve, one later " +
		"in the round, and `batchRedeemWinningTickets` of 15, each receipt checked.",
}

func render(res *results, m machine, command string, now time.Time) string {
	var w strings.Builder
	fmt.Fprintf(&w, "# Benchmarks\n\n")
	fmt.Fprintf(&w, "Written by `%s` (every benchmark once, `-benchtime 1x`, then `go run ./cmd/benchreport`) "+
		"on %s at commit `%s`. Do not edit by hand: run `make bench` again.\n\n", command, now.Format("2006-01-02 15:04 MST"), m.commit)
	fmt.Fprintf(&w, "Machine: %s, %s CPUs, %s RAM, %s; %s; PostgreSQL %s on the same machine, default settings "+
		"(fsync and synchronous_commit on). The benchmark clients, the service, the dev chain and PostgreSQL share "+
		"these CPUs, which is why each figure is set beside a floor measured in the same run.\n\n",
		m.cpu, m.cpus, m.memory, m.kernel, m.goVersion, m.postgres)

	fmt.Fprintf(&w, "## Targets\n\n| target | figure | measured | floor | ratio | met |\n|---|---|---:|---:|---:|:---:|\n")
	byName := map[string]*benchmark{}
	for _, b := range res.benchmarks {
		byName[b.name] = b
	}
	for _, t := range targets {
		b := byName[t.bench]
		if b == nil {
			fmt.Fprintf(&w, "| %s | `%s` %s | not run | | | **no** |\n", t.text, short(t.bench), t.unit)
			continue
		}
		v, ok := b.get(t.unit)
		if !ok {
			fmt.Fprintf(&w, "| %s | `%s` %s | not reported | | | **no** |\n", t.text, short(t.bench), t.unit)
			continue
		}
		met := v >= t.value
		if t.atMost {
			met = v <= t.value
		}
		floor, ratio := "", ""
		if f, ok := floorOf(b, t.unit); ok {
			floor = f
		}
		if r, ok := b.get("x-floor"); ok {
			ratio = fmt.Sprintf("%s×", num(r))
		}
		fmt.Fprintf(&w, "| %s | `%s` %s | %s | %s | %s | %s |\n", t.text, short(t.bench), t.unit, num(v), floor, ratio, yesNo(met))
	}
	w.WriteString("\n")

	// One section per top-level benchmark, in the order they ran.
	var order []string
	groups := map[string][]*benchmark{}
	for _, b := range res.benchmarks {
		top, _, _ := strings.Cut(b.name, "/")
		if _, seen := groups[top]; !seen {
			order = append(order, top)
		}
		groups[top] = append(groups[top], b)
	}
	for _, top := range order {
		bs := groups[top]
		fmt.Fprintf(&w, "## %s\n\n", strings.TrimPrefix(top, "Benchmark"))
		if a := about[top]; a != "" {
			fmt.Fprintf(&w, "%s\n\n", a)
		}
		fmt.Fprintf(&w, "Package `%s`; alone: `go test -run '^$' -bench '^%s$' -benchtime 1x ./%s/`\n\n",
			bs[0].pkg, top, strings.TrimPrefix(strings.TrimPrefix(bs[0].pkg, "redeemer"), "/"))
		w.WriteString("| run | figure | value |\n|---|---|---:|\n")
		for _, b := range bs {
			run := "–"
			if _, sub, ok := strings.Cut(b.name, "/"); ok {
				run = sub
			}
			for _, mt := range b.metrics {
				fmt.Fprintf(&w, "| %s | %s | %s |\n", run, mt.unit, num(mt.value))
			}
		}
		var notes []string
		for _, b := range bs {
			notes = append(notes, b.notes...)
		}
		if len(notes) > 0 {
			w.WriteString("\nFrom the run:\n\n")
			for _, n := range notes {
				fmt.Fprintf(&w, "- %s\n", n)
			}
		}
		w.WriteString("\n")
	}
	w.WriteString("Units: `-ms` milliseconds; `x-floor` the figure divided by its floor (for a rate, higher is better; " +
		"for a time, lower is); `floor-` the floor's own figure.\n")
	return w.String()
}

// floorOf finds the floor figure matching unit ("floor-"+unit, or any
// "floor-" figure when there is exactly one).
func floorOf(b *benchmark, unit string) (string, bool) {
	if v, ok := b.get("floor-" + unit); ok {
		return num(v), true
	}
	var found []metric
	for _, m := range b.metrics {
		if strings.HasPrefix(m.unit, "floor-") {
			found = append(found, m)
		}
	}
	if len(found) == 1 {
		return fmt.Sprintf("%s %s", num(found[0].value), strings.TrimPrefix(found[0].unit, "floor-")), true
	}
	return "", false
}

func short(name string) string { return strings.TrimPrefix(name, "Benchmark") }

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// num prints a figure with the precision it deserves.
func num(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1000:
		return groupThousands(fmt.Sprintf("%.0f", v))
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func groupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
