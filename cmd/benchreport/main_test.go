package main

import (
	"strings"
	"testing"
	"time"
)

const sample = `goos: linux
goarch: amd64
pkg: redeemer/cmd/redeemer
cpu: Test CPU
BenchmarkIntake/clients=1-2         	       1	         3.119 p50-ms	        13.71 p99-ms	       590.4 floor-tps	       270.4 tickets/s	         0.4579 x-floor
--- BENCH: BenchmarkIntake/clients=1-2
    bench_intake_test.go:108: clients=1: 270 tickets/s vs pgbench 590 tps: 0.46x
BenchmarkIntake/clients=16-2        	       1	         0 ns/op	        28.95 p50-ms	      2956 floor-tps	       3100 tickets/s	         1.05 x-floor
BenchmarkRecovery-2   	1	5595024 ns/op	4100 ready-ms	900 floor-ready-ms	4.5 x-floor
--- BENCH: BenchmarkRecovery-2
    bench_recovery_test.go:70: median of 3 restarts
PASS
ok  	redeemer/cmd/redeemer	90.836s
`

func TestReportSaysWhichTargetsAreMet(t *testing.T) {
	res, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.failures) != 0 || len(res.benchmarks) != 3 {
		t.Fatalf("parsed %d benchmarks, failures %v", len(res.benchmarks), res.failures)
	}
	doc := render(res, machineFacts(res.cpu), "make bench", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	for _, want := range []string{
		"Test CPU",
		"| QueueTicket at 16 clients ≥ 1.0× pgbench single-row inserts | `Intake/clients=16` x-floor | 1.05 | 2,956 tps | 1.05× | yes |",
		"| SIGKILL with 100k queued, 1k in limbo: correct floats ≤ 3 s after restart | `Recovery` ready-ms | 4,100 | 900 | 4.50× | **no** |",
		"`FloatFanout/round` last-update-ms | not run",
		"- clients=1: 270 tickets/s vs pgbench 590 tps: 0.46x",
		"- median of 3 restarts",
		"| clients=16 | tickets/s | 3,100 |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "ns/op") {
		t.Errorf("suppressed ns/op shown:\n%s", doc)
	}
}

func TestFailedRunWritesNoReport(t *testing.T) {
	bad := sample + "--- FAIL: BenchmarkFloatFanout\n    bench_float_test.go:10: boom\nFAIL\n"
	dir := t.TempDir()
	out := dir + "/B.md"
	err := run([]string{"-out", out}, strings.NewReader(bad), nil)
	if err == nil || !strings.Contains(err.Error(), "BenchmarkFloatFanout") {
		t.Fatalf("run on a failed benchmark output: %v", err)
	}
	if err := run([]string{"-out", out}, strings.NewReader("PASS\n"), nil); err == nil {
		t.Fatal("output without benchmarks was accepted")
	}
}
