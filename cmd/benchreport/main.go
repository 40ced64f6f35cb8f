// Command benchreport turns `go test -bench` output into BENCHMARKS.md: the
// machine, the date, every figure with its floor and ratio, and a verdict
// for each target the project set. `make bench` runs it; it reads the test
// output on stdin (or -in) and exits non-zero when the output holds a
// failure or no benchmark at all, so a broken run never overwrites the
// figures with an empty report.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	in := fs.String("in", "", "go test -bench output (default: stdin)")
	out := fs.String("out", "BENCHMARKS.md", "report to write (- for stdout)")
	command := fs.String("command", "make bench", "the command that produced the output, for the report")
	if err := fs.Parse(args); err != nil {
		return err
	}
	r := stdin
	if *in != "" {
		f, err := os.Open(*in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	res, err := parse(r)
	if err != nil {
		return err
	}
	if len(res.failures) > 0 {
		return fmt.Errorf("the benchmark run failed:\n%s", strings.Join(res.failures, "\n"))
	}
	if len(res.benchmarks) == 0 {
		return errors.New("no benchmark results in the input")
	}
	doc := render(res, machineFacts(res.cpu), *command, time.Now().UTC())
	if *out == "-" {
		_, err := io.WriteString(stdout, doc)
		return err
	}
	return os.WriteFile(*out, []byte(doc), 0o644)
}

// metric is one reported figure.
type metric struct {
	value float64
	unit  string
}

// benchmark is one result line and the log lines the run printed for it.
type benchmark struct {
	name    string // without the -GOMAXPROCS suffix
	pkg     string
	metrics []metric
	notes   []string
}

func (b *benchmark) get(unit string) (float64, bool) {
	for _, m := range b.metrics {
		if m.unit == unit {
			return m.value, true
		}
	}
	return 0, false
}

type results struct {
	cpu        string
	benchmarks []*benchmark
	failures   []string
}

// parse reads go test's text output: "pkg:" and "cpu:" headers, result
// lines ("BenchmarkX/sub-2  1  3.1 p50-ms ..."), the "--- BENCH:" blocks
// holding b.Log output, and failures.
func parse(r io.Reader) (*results, error) {
	res := &results{}
	byName := map[string]*benchmark{}
	var pkg string
	var logFor *benchmark
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "pkg: "):
			pkg = strings.TrimPrefix(line, "pkg: ")
			logFor = nil
		case strings.HasPrefix(line, "cpu: "):
			res.cpu = strings.TrimPrefix(line, "cpu: ")
		case strings.HasPrefix(line, "--- FAIL"), strings.HasPrefix(line, "FAIL"), strings.HasPrefix(line, "panic:"):
			res.failures = append(res.failures, line)
			logFor = nil
		case strings.HasPrefix(line, "--- BENCH: "):
			name := stripProcs(strings.TrimPrefix(line, "--- BENCH: "))
			logFor = byName[name]
			if logFor == nil {
				logFor = &benchmark{name: name, pkg: pkg}
				byName[name] = logFor
			}
		case strings.HasPrefix(line, "Benchmark"):
			b, ok := parseResult(line)
			if !ok {
				logFor = nil
				continue
			}
			b.pkg = pkg
			if prev := byName[b.name]; prev != nil {
				// Log lines printed before the result (a parent's) stay.
				b.notes = prev.notes
			}
			byName[b.name] = b
			res.benchmarks = append(res.benchmarks, b)
			logFor = nil
		case logFor != nil && strings.HasPrefix(line, "    ") && trimmed != "":
			logFor.notes = append(logFor.notes, stripSource(trimmed))
		default:
			logFor = nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	// Notes printed for a benchmark after its result line belong to it too.
	for _, b := range res.benchmarks {
		if n := byName[b.name]; n != b {
			b.notes = append(b.notes, n.notes...)
		}
	}
	return res, nil
}

// parseResult reads "BenchmarkX/sub-2 <tab> 1 <tab> 3.1 p50-ms <tab> ...".
func parseResult(line string) (*benchmark, bool) {
	f := strings.Fields(line)
	if len(f) < 2 || len(f)%2 != 0 {
		return nil, false
	}
	if _, err := strconv.Atoi(f[1]); err != nil {
		return nil, false
	}
	b := &benchmark{name: stripProcs(f[0])}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return nil, false
		}
		b.metrics = append(b.metrics, metric{v, f[i+1]})
	}
	// Every benchmark here runs once and reports its own figures; go test's
	// ns/op is then the length of that one run, which means nothing.
	if len(b.metrics) > 1 {
		b.metrics = slices.DeleteFunc(b.metrics, func(m metric) bool { return m.unit == "ns/op" })
	}
	return b, true
}

// stripProcs drops the "-2" GOMAXPROCS suffix go test adds.
func stripProcs(name string) string {
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i]
		}
	}
	return name
}

// stripSource drops the "file_test.go:123: " prefix of a b.Log line.
func stripSource(s string) string {
	if i := strings.Index(s, ".go:"); i > 0 && !strings.Contains(s[:i], " ") {
		rest := s[i+len(".go:"):]
		if j := strings.Index(rest, ": "); j >= 0 {
			if _, err := strconv.Atoi(rest[:j]); err == nil {
				return rest[j+2:]
			}
		}
	}
	return s
}

// machine is what the report says about where it ran.
type machine struct {
	cpu, cpus, memory, kernel, goVersion, postgres, commit string
}

func machineFacts(cpu string) machine {
	m := machine{cpu: cpu, cpus: strconv.Itoa(runtime.NumCPU()), goVersion: runtime.Version()}
	if blob, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(blob), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
					m.memory = fmt.Sprintf("%.1f GiB", kb/(1<<20))
				}
			}
		}
	}
	m.kernel = command("uname", "-sr")
	m.postgres = command("psql", "-XAtc", "SHOW server_version", os.Getenv("TEST_DATABASE_URL"))
	m.commit = command("git", "describe", "--always", "--dirty")
	return m
}

func command(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
