package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"redeemer/chain/contracts"
	"redeemer/chain/devchain"
)

// benchChain is a dev chain inside the benchmark process, serving JSON-RPC
// on loopback to `redeemer serve` processes as a node would. Keeping it
// here (rather than in a `redeemer dev --chain-only` process) gives the
// benchmark what the chain process does not expose: any number of funded
// senders, the contract owner (to change the pool size) and control over
// when each block is mined, with the wall time it became visible.
type benchChain struct {
	*devchain.Chain
	keystore, password string

	mu       sync.Mutex
	minedAt  map[uint64]time.Time
	bonding  *contracts.BondingManager
	ownerKey *devchain.Account
}

func newBenchChain(b testing.TB, senders int, roundLength uint64) *benchChain {
	b.Helper()
	ctx := context.Background()
	c, err := devchain.New(ctx, devchain.Options{RPCAddr: "127.0.0.1:0", Senders: senders, RoundLength: roundLength})
	if err != nil {
		b.Fatalf("dev chain: %v", err)
	}
	b.Cleanup(func() { _ = c.Close() })
	ks, pw, err := writeDevKeystore(b.TempDir(), c.Redeemer().Key)
	if err != nil {
		b.Fatal(err)
	}
	bonding, err := contracts.NewBondingManager(c.Addresses().BondingManager, c.Client())
	if err != nil {
		b.Fatal(err)
	}
	owner := c.Owner()
	return &benchChain{Chain: c, keystore: ks, password: pw, minedAt: map[uint64]time.Time{}, bonding: bonding, ownerKey: &owner}
}

// mine mines one block, initializing the round it starts if it starts one
// (as redeemer dev's miner does), and returns its number and the moment it
// was visible to the node's clients.
func (c *benchChain) mine(b testing.TB) (uint64, time.Time) {
	b.Helper()
	n, at, err := c.tryMine()
	if err != nil {
		b.Fatal(err)
	}
	return n, at
}

func (c *benchChain) tryMine() (uint64, time.Time, error) {
	ctx := context.Background()
	latest, err := c.Client().BlockNumber(ctx)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("block number: %w", err)
	}
	if (latest+1)%c.RoundLength() == 0 {
		if _, err := c.AdvanceRound(ctx); err != nil {
			return 0, time.Time{}, fmt.Errorf("advance round: %w", err)
		}
	} else {
		c.Commit()
	}
	at := time.Now()
	c.mu.Lock()
	c.minedAt[latest+1] = at
	c.mu.Unlock()
	return latest + 1, at, nil
}

// mineEvery mines a block every interval until ctx ends. It runs on its
// own goroutine, so a failure is reported and ends the mining only; the
// benchmark's wait for what the blocks should bring then fails it.
func (c *benchChain) mineEvery(ctx context.Context, b testing.TB, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, _, err := c.tryMine(); err != nil {
				b.Errorf("mining stopped: %v", err)
				return
			}
		}
	}
}

// blockTime is when block n was mined by mine, if it was.
func (c *benchChain) blockTime(n uint64) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.minedAt[n]
	return at, ok
}

// newRoundWithPool mines up to the block before the next round, then mines
// the round's first block with the round initialized and the transcoder
// pool resized in it, so every sender's reserve allocation changes at the
// round boundary. It returns when that block is visible.
func (c *benchChain) newRoundWithPool(b testing.TB, pool int64, settle time.Duration) (uint64, time.Time) {
	b.Helper()
	ctx := context.Background()
	for {
		latest, err := c.Client().BlockNumber(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if (latest+1)%c.RoundLength() == 0 {
			break
		}
		c.mine(b)
	}
	// Let the service finish with the filler blocks, so the round is
	// measured on a quiet service.
	time.Sleep(settle)
	auth := c.Transactor(*c.ownerKey)
	auth.Context = ctx
	if _, err := c.bonding.SetTranscoderPoolSize(auth, big.NewInt(pool)); err != nil {
		b.Fatalf("set pool size: %v", err)
	}
	n, at := c.mine(b)
	if n%c.RoundLength() != 0 {
		b.Fatalf("block %d does not start a round of %d blocks", n, c.RoundLength())
	}
	got, err := c.bonding.GetTranscoderPoolSize(nil)
	if err != nil || got.Int64() != pool {
		b.Fatalf("pool size after the round's first block: %v %v, want %d", got, err, pool)
	}
	return n, at
}

// benchServer is a `redeemer serve` process with JSON logs, each line
// stamped with the time it arrived.
type benchServer struct {
	cmd     *exec.Cmd
	started time.Time
	exited  chan struct{}
	err     error

	mu    sync.Mutex
	lines []benchLogLine
	raw   bytes.Buffer
}

type benchLogLine struct {
	at  time.Time
	rec map[string]any
}

func (s *benchServer) Write(p []byte) (int, error) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw.Write(p)
	for {
		line, err := s.raw.ReadBytes('\n')
		if err != nil {
			// An incomplete line waits for the rest.
			s.raw.Reset()
			s.raw.Write(line)
			return len(p), nil
		}
		var rec map[string]any
		if json.Unmarshal(line, &rec) != nil {
			rec = map[string]any{"msg": strings.TrimSpace(string(line))}
		}
		s.lines = append(s.lines, benchLogLine{at: now, rec: rec})
	}
}

// serveArgs are the flags every benchmark's replica gets; extra add to or
// override them (flag parsing keeps the last value). dsn names a database
// storetest.New migrated already.
func serveArgs(b testing.TB, c *benchChain, dsn, grpcAddr string, extra ...string) []string {
	return append([]string{"serve",
		"--database-url", dsn,
		"--eth-url", c.RPCURL(), "--controller", c.Addresses().Controller.Hex(),
		"--recipient", c.Recipient().Address.Hex(),
		"--keystore", c.keystore, "--password-file", c.password,
		"--grpc-addr", grpcAddr, "--data-dir", filepath.Join(b.TempDir(), "data"),
		"--metrics-addr", "127.0.0.1:0", "--log-format", "json",
	}, extra...)
}

func startBenchServer(b testing.TB, bin string, args []string) *benchServer {
	b.Helper()
	s := &benchServer{cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	s.cmd.Stdout, s.cmd.Stderr = s, s
	s.started = time.Now()
	if err := s.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.exited) }()
	b.Cleanup(func() {
		s.stop()
		if b.Failed() {
			b.Logf("--- serve output:\n%s", s.output())
		}
	})
	return s
}

func (s *benchServer) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sb strings.Builder
	for _, l := range s.lines {
		blob, _ := json.Marshal(l.rec)
		sb.Write(blob)
		sb.WriteByte('\n')
	}
	sb.Write(s.raw.Bytes())
	return sb.String()
}

func (s *benchServer) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// kill ends the process with SIGKILL, as a crash would.
func (s *benchServer) kill(b testing.TB) {
	b.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		b.Fatalf("SIGKILL: %v", err)
	}
	<-s.exited
}

// find returns the first log line with message msg, if any.
func (s *benchServer) find(msg string) (benchLogLine, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lines {
		if m, _ := l.rec["msg"].(string); m == msg {
			return l, true
		}
	}
	return benchLogLine{}, false
}

// waitLine waits for a log line with message msg for which match holds.
func (s *benchServer) waitLine(b testing.TB, msg string, within time.Duration, match func(map[string]any) bool) benchLogLine {
	b.Helper()
	deadline := time.Now().Add(within)
	for {
		s.mu.Lock()
		for _, l := range s.lines {
			if m, _ := l.rec["msg"].(string); m == msg && match(l.rec) {
				s.mu.Unlock()
				return l
			}
		}
		s.mu.Unlock()
		select {
		case <-s.exited:
			b.Fatalf("serve exited before logging %q: %v", msg, s.err)
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("serve did not log a matching %q within %s", msg, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitMsg waits for a log line with message msg.
func (s *benchServer) waitMsg(b testing.TB, msg string, within time.Duration) benchLogLine {
	b.Helper()
	deadline := time.Now().Add(within)
	for {
		if l, ok := s.find(msg); ok {
			return l
		}
		select {
		case <-s.exited:
			b.Fatalf("serve exited before logging %q: %v", msg, s.err)
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("serve did not log %q within %s", msg, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// addr is the "addr" attribute of the first line with message msg.
func (s *benchServer) addr(b testing.TB, msg string) string {
	b.Helper()
	l := s.waitMsg(b, msg, 90*time.Second)
	a, _ := l.rec["addr"].(string)
	if a == "" {
		b.Fatalf("log line %q has no addr", msg)
	}
	return a
}

func (s *benchServer) metricsURL(b testing.TB) string {
	return "http://" + s.addr(b, "metrics and health endpoints listening") + "/metrics"
}

// rssBytes is the process's resident set from /proc.
func (s *benchServer) rssBytes(b testing.TB) float64 {
	b.Helper()
	blob, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		b.Fatalf("read RSS: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(blob))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err != nil {
				b.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kb * 1024
		}
	}
	b.Fatal("no VmRSS in /proc status")
	return 0
}

// freeLoopbackAddr reserves nothing: it names a port that was free a moment
// ago, for a process that must keep one address across restarts.
func freeLoopbackAddr(b testing.TB) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// dialTLS connects as go-livepeer's client does: TLS without verifying the
// server. Each call is its own connection.
func dialTLS(b testing.TB, addr string) *grpc.ClientConn {
	b.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return conn
}

// ether is n ETH in wei.
func ether(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), devchain.Ether) }

type callRun struct {
	latencies []time.Duration
	elapsed   time.Duration
}

func (r callRun) rate() float64 { return float64(len(r.latencies)) / r.elapsed.Seconds() }

func mergeRuns(runs []callRun) callRun {
	var out callRun
	for _, r := range runs {
		out.latencies = append(out.latencies, r.latencies...)
		out.elapsed += r.elapsed
	}
	slices.Sort(out.latencies)
	return out
}

// errStopCalling from f ends that client's calls without failing the
// benchmark (its work ran out).
var errStopCalling = errors.New("no more work")

// callFor has clients goroutines call f back to back for d; any other error
// ends the benchmark.
func callFor(b testing.TB, clients int, d time.Duration, f func(context.Context, int) error) callRun {
	b.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	per := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for c := range clients {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t0 := time.Now()
				if err := f(ctx, c); err != nil {
					if !errors.Is(err, errStopCalling) {
						cancel(err)
					}
					return
				}
				per[c] = append(per[c], time.Since(t0))
			}
		})
	}
	wg.Wait()
	r := callRun{elapsed: time.Since(start)}
	if err := context.Cause(ctx); err != nil {
		b.Fatal(err)
	}
	for _, l := range per {
		r.latencies = append(r.latencies, l...)
	}
	if len(r.latencies) == 0 {
		b.Fatal("no call completed")
	}
	slices.Sort(r.latencies)
	return r
}
