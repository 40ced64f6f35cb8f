package main

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"redeemer/chain"
	"redeemer/chain/contracts"
	"redeemer/chain/nodeproxy"
	"redeemer/rpc/pb"
	"redeemer/store/storetest"
)

// lockedBuffer collects a process's output while tests read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a running redeemer process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	logs   *lockedBuffer
	exited chan struct{}
	err    error
}

func startProc(t testing.TB, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(bin, args...), logs: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("--- %s output:\n%s", p.name, p.logs.String())
		}
	})
	return p
}

func (p *proc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// waitExit waits for the process to end on its own and reports whether
// SIGKILL ended it.
func (p *proc) waitExit(t *testing.T, within time.Duration) bool {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(within):
		t.Fatalf("%s still running after %s", p.name, within)
	}
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

func (p *proc) waitLog(t *testing.T, substr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(p.logs.String(), substr) {
		select {
		case <-p.exited:
			t.Fatalf("%s exited before logging %q: %v", p.name, substr, p.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not log %q within %s", p.name, substr, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// cluster is a dev chain in its own process plus the database that any
// number of `redeemer serve` processes share, as in production.
type cluster struct {
	t    *testing.T
	bin  string
	dsn  string
	info *devInfo
	eth  *ethclient.Client
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	bin := buildBinary(t)
	dir := t.TempDir()
	infoPath := filepath.Join(dir, "chain.json")
	chainProc := startProc(t, "chain", bin, "dev", "--chain-only", "--eth-rpc-addr", "127.0.0.1:0", "--block-time", "100ms",
		"--round-length", "200", "--data-dir", filepath.Join(dir, "chain"), "--info-file", infoPath)
	info := waitInfo(t, chainProc, infoPath)
	eth, err := ethclient.Dial(info.EthRPCURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eth.Close)
	return &cluster{t: t, bin: bin, dsn: storetest.New(t), info: info, eth: eth}
}

// serve starts a replica; it returns the process and its gRPC address.
func (c *cluster) serve(name string, extra ...string) (*proc, string) {
	c.t.Helper()
	addr := freeAddr(c.t)
	args := append([]string{"serve",
		"--database-url", c.dsn, "--migrate",
		"--eth-url", c.info.EthRPCURL, "--controller", c.info.Controller, "--recipient", c.info.Recipient,
		"--keystore", c.info.RedeemerKeystore, "--password-file", c.info.RedeemerPasswordFile,
		"--grpc-addr", addr, "--data-dir", filepath.Join(c.t.TempDir(), "data"),
		"--confirmations", "2", "--poll-interval", "100ms", "--leader-check", "300ms", "--reprice-after", "30",
		"--metrics-addr", "127.0.0.1:0",
	}, extra...)
	p := startProc(c.t, name, c.bin, args...)
	p.waitLog(c.t, "gRPC server listening", 60*time.Second)
	return p, addr
}

// orchestratorAt talks to the replica at grpcAddr.
func (c *cluster) orchestratorAt(grpcAddr string) *orchestrator {
	info := *c.info
	info.GRPCAddr, info.GRPCTLS = grpcAddr, true
	return newOrchestrator(c.t, &info, c.dsn)
}

// queueDueSoon queues n tickets that are due a few blocks from now and
// returns the hashes of those accepted. When dying is given, a refusal
// after that process ended (it was told to crash) ends the queueing early:
// only tickets that got OK count as accepted.
func (c *cluster) queueDueSoon(o *orchestrator, n int, dying ...*proc) []common.Hash {
	c.t.Helper()
	head, err := c.eth.BlockNumber(context.Background())
	if err != nil {
		c.t.Fatal(err)
	}
	var hashes []common.Hash
	for i := 0; i < n; i++ {
		m, h := o.ticket(func(tk *chain.Ticket) { tk.ParamsExpirationBlock = new(big.Int).SetUint64(head + 3) })
		if _, err := o.client.QueueTicket(context.Background(), m); err != nil {
			if len(dying) > 0 {
				select {
				case <-dying[0].exited:
					return hashes
				case <-time.After(5 * time.Second):
				}
			}
			c.t.Fatalf("QueueTicket: %v", err)
		}
		hashes = append(hashes, h)
	}
	return hashes
}

// waitAllFinal waits until no ticket is queued or redeeming.
func (c *cluster) waitAllFinal(o *orchestrator, within time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for o.rows("WHERE status IN ('queued', 'redeeming')") > 0 {
		if time.Now().After(deadline) {
			c.t.Fatalf("%d tickets still not final after %s", o.rows("WHERE status IN ('queued', 'redeeming')"), within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkInvariants proves, with SQL and chain reads, what a crash must never
// break: every accepted ticket redeemed, each exactly once on chain, no
// nonce gap, nothing left in limbo.
func (c *cluster) checkInvariants(o *orchestrator, accepted []common.Hash) {
	c.t.Helper()
	ctx := context.Background()
	// A call cut off by a crash may still have committed its ticket, so
	// more may be stored than were acknowledged; every stored one must end
	// redeemed all the same.
	stored := o.rows("")
	if stored < len(accepted) {
		c.t.Fatalf("%d tickets stored, %d accepted", stored, len(accepted))
	}
	if n := o.rows("WHERE status = 'redeemed'"); n != stored {
		var summary string
		o.db.QueryRow(ctx, `SELECT string_agg(status || ': ' || coalesce(last_error, ''), '; ') FROM tickets WHERE status <> 'redeemed'`).Scan(&summary)
		c.t.Fatalf("%d of %d tickets redeemed; others: %s", n, stored, summary)
	}

	// Each ticket hash has exactly one WinningTicketRedeemed log on chain.
	broker := common.HexToAddress(c.info.TicketBroker)
	logs, err := c.eth.FilterLogs(ctx, ethereum.FilterQuery{
		Addresses: []common.Address{broker},
		Topics:    [][]common.Hash{{crypto.Keccak256Hash([]byte("WinningTicketRedeemed(address,address,uint256,uint256,uint256,uint256,bytes)"))}},
	})
	if err != nil {
		c.t.Fatal(err)
	}
	seen := map[common.Hash]int{}
	for _, l := range logs {
		hashes, err := chain.RedeemedTicketHashes(broker, []*types.Log{&l})
		if err != nil {
			c.t.Fatal(err)
		}
		for h := range hashes {
			seen[h]++
		}
	}
	for _, h := range accepted {
		if seen[h] != 1 {
			c.t.Errorf("ticket %s redeemed %d times on chain, want 1", h, seen[h])
		}
	}

	// Nonces: contiguous from the first, and the chain's nonce is right
	// after the last one the service assigned.
	var count, lo, hi int64
	if err := o.db.QueryRow(ctx, `SELECT count(*), min(nonce), max(nonce) FROM redemptions`).Scan(&count, &lo, &hi); err != nil {
		c.t.Fatal(err)
	}
	if count != hi-lo+1 {
		c.t.Errorf("nonce gap: %d redemptions over nonces %d..%d", count, lo, hi)
	}
	chainNonce, err := c.eth.NonceAt(ctx, common.HexToAddress(c.info.RedeemerAccount), nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if int64(chainNonce) != hi+1 {
		c.t.Errorf("redeemer account nonce on chain %d, want %d (last assigned + 1)", chainNonce, hi+1)
	}
	var limbo string
	if err := o.db.QueryRow(ctx, `SELECT coalesce(sum(amount), 0)::text FROM sender_limbo`).Scan(&limbo); err != nil {
		c.t.Fatal(err)
	}
	if limbo != "0" {
		c.t.Errorf("in limbo after everything settled: %s wei, want 0", limbo)
	}
}

// TestCrashRecovery kills `redeemer serve` with SIGKILL right after a claim
// commits (before broadcast), right after a broadcast (before the receipt),
// and right after a transaction is seen mined (before its tickets settle),
// restarting it each time with tickets still flowing.
func TestCrashRecovery(t *testing.T) {
	c := newCluster(t)
	var accepted []common.Hash
	var o *orchestrator
	for i, point := range []string{"after-claim-commit", "after-broadcast", "after-mined"} {
		p, addr := c.serve(fmt.Sprintf("serve-%d", i), "--test-crash-at", point)
		o = c.orchestratorAt(addr)
		accepted = append(accepted, c.queueDueSoon(o, 3, p)...)
		if !p.waitExit(t, 60*time.Second) {
			t.Fatalf("serve did not die by SIGKILL at %s: %v", point, p.err)
		}
		if !strings.Contains(p.logs.String(), "crash point reached") || !strings.Contains(p.logs.String(), point) {
			t.Fatalf("serve died, but not at crash point %s", point)
		}
	}
	_, addr := c.serve("serve-final")
	o = c.orchestratorAt(addr)
	accepted = append(accepted, c.queueDueSoon(o, 2)...)
	c.waitAllFinal(o, 90*time.Second)
	c.checkInvariants(o, accepted)
}

// TestReplicasOneLeader runs two replicas on one database: both take
// tickets, only the leader broadcasts, and killing it hands the work to the
// other.
func TestReplicasOneLeader(t *testing.T) {
	c := newCluster(t)
	a, addrA := c.serve("replica-a")
	a.waitLog(t, "became leader", 30*time.Second)
	b, addrB := c.serve("replica-b")
	oa, ob := c.orchestratorAt(addrA), c.orchestratorAt(addrB)

	accepted := append(c.queueDueSoon(oa, 2), c.queueDueSoon(ob, 2)...)
	c.waitAllFinal(oa, 60*time.Second)
	if strings.Contains(b.logs.String(), "became leader") || strings.Contains(b.logs.String(), "transaction broadcast") {
		t.Fatal("the follower led or broadcast while the leader was alive")
	}
	if !strings.Contains(a.logs.String(), "transaction broadcast") {
		t.Fatal("the leader broadcast nothing")
	}

	a.kill()
	b.waitLog(t, "became leader", 30*time.Second)
	accepted = append(accepted, c.queueDueSoon(ob, 3)...)
	c.waitAllFinal(ob, 60*time.Second)
	c.checkInvariants(ob, accepted)
}

// TestPausedLeaderIsFenced pauses the leader (SIGSTOP) until the other
// replica has taken over and redeemed tickets, then resumes it: the
// resumed process must write nothing and broadcast nothing, whatever it was
// doing when it was stopped, and every ticket is redeemed once with no
// nonce gap. Each replica reaches the node through its own counting proxy,
// so the test sees which replica sent what.
func TestPausedLeaderIsFenced(t *testing.T) {
	c := newCluster(t)
	proxyFor := func() (*nodeproxy.Proxy, string) {
		p, err := nodeproxy.NewURL(c.info.EthRPCURL, nodeproxy.Options{})
		if err != nil {
			t.Fatal(err)
		}
		url, err := p.Start("")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p, url
	}
	proxyA, urlA := proxyFor()
	proxyB, urlB := proxyFor()
	lease := []string{"--leader-lease", "2s", "--leader-check", "300ms"}
	a, addrA := c.serve("replica-a", append([]string{"--eth-url", urlA}, lease...)...)
	a.waitLog(t, "became leader", 30*time.Second)
	b, addrB := c.serve("replica-b", append([]string{"--eth-url", urlB}, lease...)...)
	oa, ob := c.orchestratorAt(addrA), c.orchestratorAt(addrB)

	// A steady flow, so the leader is busy claiming and tracking when it
	// is stopped.
	accepted := c.queueDueSoon(oa, 3)
	time.Sleep(700 * time.Millisecond)
	accepted = append(accepted, c.queueDueSoon(ob, 3)...)
	if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	b.waitLog(t, "became leader", 30*time.Second)
	t.Logf("replica b took over %s after replica a was stopped", time.Since(stopped).Round(time.Millisecond))
	accepted = append(accepted, c.queueDueSoon(ob, 4)...)
	c.waitAllFinal(ob, 60*time.Second)

	var termA int64
	if err := ob.db.QueryRow(context.Background(), `SELECT max(leader_term) FROM tx_attempts
		WHERE created_at < $1`, stopped).Scan(&termA); err != nil {
		t.Fatal(err)
	}
	sendsBefore := proxyA.Stats().Methods["eth_sendRawTransaction"]
	resumed := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// The resumed replica runs for a while beside the leader; more tickets
	// flow meanwhile.
	accepted = append(accepted, c.queueDueSoon(ob, 2)...)
	a.waitLog(t, "stopped leading", 20*time.Second)
	c.waitAllFinal(ob, 60*time.Second)

	if n := proxyA.Stats().Methods["eth_sendRawTransaction"]; n != sendsBefore {
		t.Errorf("the paused leader broadcast %d transactions after it resumed", n-sendsBefore)
	}
	var staleWrites int
	if err := ob.db.QueryRow(context.Background(), `SELECT
			(SELECT count(*) FROM tx_attempts WHERE leader_term <= $1 AND created_at >= $2) +
			(SELECT count(*) FROM redemptions WHERE leader_term <= $1 AND created_at >= $2) +
			(SELECT count(*) FROM stage_cursors WHERE leader_term <= $1 AND updated_at >= $2)`,
		termA, resumed).Scan(&staleWrites); err != nil {
		t.Fatal(err)
	}
	if staleWrites != 0 {
		t.Errorf("%d rows written for the old term %d after its replica resumed", staleWrites, termA)
	}
	if proxyB.Stats().Methods["eth_sendRawTransaction"] == 0 {
		t.Error("the new leader broadcast nothing")
	}
	c.checkInvariants(ob, accepted)
}

// TestSigtermDrainLosesNothing sends SIGTERM while tickets are being queued:
// the process drains and exits cleanly within its grace period, every
// ticket it acknowledged is stored, and the next start redeems them all.
func TestSigtermDrainLosesNothing(t *testing.T) {
	c := newCluster(t)
	p, addr := c.serve("draining", "--shutdown-grace", "5s")
	p.waitLog(t, "became leader", 30*time.Second)
	o := c.orchestratorAt(addr)

	var (
		mu       sync.Mutex
		accepted []common.Hash
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			head, err := c.eth.BlockNumber(context.Background())
			if err != nil {
				return
			}
			m, h := o.ticket(func(tk *chain.Ticket) { tk.ParamsExpirationBlock = new(big.Int).SetUint64(head + 2) })
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err = o.client.QueueTicket(ctx, m)
			cancel()
			if err != nil {
				return // the server is draining or gone
			}
			mu.Lock()
			accepted = append(accepted, h)
			mu.Unlock()
		}
	}()
	time.Sleep(1500 * time.Millisecond)
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit within 30s of SIGTERM")
	}
	if p.err != nil {
		t.Fatalf("serve exited with %v after SIGTERM, want a clean exit", p.err)
	}
	t.Logf("drained and exited %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	<-done
	mu.Lock()
	got := append([]common.Hash(nil), accepted...)
	mu.Unlock()
	if len(got) == 0 {
		t.Fatal("no ticket was accepted before SIGTERM; the test proves nothing")
	}

	_, addr = c.serve("after-restart")
	o = c.orchestratorAt(addr)
	c.waitAllFinal(o, 90*time.Second)
	c.checkInvariants(o, got)
}

// TestFloatAcrossReplicas: a float change that the leader derives from the
// chain reaches a MonitorMaxFloat stream held on the other replica, through
// PostgreSQL alone.
func TestFloatAcrossReplicas(t *testing.T) {
	c := newCluster(t)
	a, _ := c.serve("replica-a")
	a.waitLog(t, "became leader", 30*time.Second)
	_, addrB := c.serve("replica-b")
	ob := c.orchestratorAt(addrB)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	senderKey := ob.senderKey(0)
	sender := crypto.PubkeyToAddress(senderKey.PublicKey)
	stream, err := ob.client.MonitorMaxFloat(ctx, &pb.MaxFloatReq{Sender: sender.Bytes()})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	before := new(big.Int).SetBytes(first.MaxFloat)

	// The sender adds 1 ETH to its reserve, straight on chain.
	chainID, err := c.eth.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := bind.NewKeyedTransactorWithChainID(senderKey, chainID)
	if err != nil {
		t.Fatal(err)
	}
	auth.Value = big.NewInt(1e18)
	broker, err := contracts.NewTicketBroker(common.HexToAddress(c.info.TicketBroker), c.eth)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := broker.FundReserve(auth); err != nil {
		t.Fatal(err)
	}
	want := new(big.Int).Add(before, big.NewInt(1e18)) // pool size 1: the whole reserve is ours
	for {
		upd, err := stream.Recv()
		if err != nil {
			t.Fatalf("no float update on the follower: %v", err)
		}
		if v := new(big.Int).SetBytes(upd.MaxFloat); v.Cmp(want) == 0 {
			return
		}
	}
}

// TestServeStartupChecks: each setting that is well formed but wrong in
// the world (no database there, no node there, no contract at the
// Controller address, a wrong keystore password) stops serve at start with
// an error that names it.
func TestServeStartupChecks(t *testing.T) {
	c := newCluster(t)
	wrongPW := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrongPW, []byte("not the password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := map[string]string{
		"--database-url": c.dsn, "--eth-url": c.info.EthRPCURL, "--controller": c.info.Controller,
		"--recipient": c.info.Recipient, "--keystore": c.info.RedeemerKeystore,
		"--password-file": c.info.RedeemerPasswordFile, "--grpc-addr": "127.0.0.1:0", "--metrics-addr": "",
		"--data-dir": t.TempDir(), "--eth-timeout": "2s",
	}
	cases := []struct {
		name, flag, value, want string
	}{
		{"no database", "--database-url", "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", "database"},
		{"no node", "--eth-url", "http://127.0.0.1:1", "127.0.0.1:1"},
		{"controller without code", "--controller", c.info.Recipient, "controller"},
		{"wrong password", "--password-file", wrongPW, "cannot decrypt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"serve"}
			for k, v := range good {
				if k == tc.flag {
					v = tc.value
				}
				args = append(args, k, v)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, c.bin, args...).CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("serve kept running with %s %s", tc.flag, tc.value)
			}
			if err == nil {
				t.Fatalf("serve exited 0 with %s %s", tc.flag, tc.value)
			}
			if !strings.Contains(strings.ToLower(string(out)), strings.ToLower(tc.want)) {
				t.Fatalf("error does not name %q:\n%s", tc.want, out)
			}
		})
	}
}
