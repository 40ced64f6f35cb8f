//go:build chaos

package main

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"redeemer/chain"
	"redeemer/chain/contracts"
	"redeemer/chain/nodeproxy"
	"redeemer/rpc"
	"redeemer/rpc/client"
	"redeemer/rpc/pb"
	"redeemer/store/storetest"
)

// chaosFaultsLong reports whether the long fault run was asked for
// (REDEEMER_CHAOS_LONG=1); the default is the bounded run CI affords.
func chaosFaultsLong() bool { return os.Getenv("REDEEMER_CHAOS_LONG") == "1" }

// newClusterOn is newCluster on a given database, with rounds of
// roundLength blocks: the fault tests use a private PostgreSQL server, and
// rounds long enough that no ticket outlives its validity period while
// faults hold redemption back.
func newClusterOnDSN(t *testing.T, dsn string, blockTime time.Duration, roundLength int) *cluster {
	t.Helper()
	bin := buildBinary(t)
	dir := t.TempDir()
	infoPath := filepath.Join(dir, "chain.json")
	chainProc := startProc(t, "chain", bin, "dev", "--chain-only", "--eth-rpc-addr", "127.0.0.1:0", "--block-time", blockTime.String(),
		"--round-length", strconv.Itoa(roundLength), "--data-dir", filepath.Join(dir, "chain"), "--info-file", infoPath)
	info := waitInfo(t, chainProc, infoPath)
	eth, err := ethclient.Dial(info.EthRPCURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eth.Close)
	return &cluster{t: t, bin: bin, dsn: dsn, info: info, eth: eth}
}

// metricsBase is the http://host:port of a serve process's metrics and
// health endpoints, read from its log (it binds port 0).
func metricsBaseOf(t *testing.T, p *proc) string {
	t.Helper()
	p.waitLog(t, "metrics and health endpoints listening", 30*time.Second)
	m := regexp.MustCompile(`metrics and health endpoints listening.* addr=(\S+)`).FindStringSubmatch(p.logs.String())
	if m == nil {
		t.Fatal("no metrics address in the log")
	}
	return "http://" + m[1]
}

// readyz is the status of GET /readyz, 0 when the request fails.
func readyzStatus(base string) int {
	c := http.Client{Timeout: 20 * time.Second}
	res, err := c.Get(base + "/readyz")
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// reconnect replaces the orchestrator's SQL connection, which a database
// restart ended.
func (o *orchestrator) reconnectDB(dsn string) {
	o.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		o.t.Fatal(err)
	}
	o.db.Close(ctx)
	o.db = db
	o.t.Cleanup(func() { db.Close(context.Background()) })
}

// count runs a query that returns one integer.
func (o *orchestrator) count(sql string) int {
	o.t.Helper()
	var n int
	if err := o.db.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		o.t.Fatal(err)
	}
	return n
}

// storedTicketHashes is every ticket hash in the database.
func (o *orchestrator) storedTicketHashes() map[common.Hash]bool {
	o.t.Helper()
	rows, err := o.db.Query(context.Background(), "SELECT ticket_hash FROM tickets")
	if err != nil {
		o.t.Fatal(err)
	}
	defer rows.Close()
	out := map[common.Hash]bool{}
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			o.t.Fatal(err)
		}
		out[common.BytesToHash(h)] = true
	}
	if err := rows.Err(); err != nil {
		o.t.Fatal(err)
	}
	return out
}

// chaosLoad queues tickets due a few blocks ahead, round robin over
// replicas, until stopped, recording each call's outcome. It signs tickets
// itself rather than through orchestrator.ticket, whose failures would end
// a goroutine that is not the test's.
type chaosLoad struct {
	c      *cluster
	mu     sync.Mutex
	ok     []common.Hash
	failed map[codes.Code][]common.Hash
	errs   map[codes.Code]string // one message per code, for reports
	stop   chan struct{}
	done   chan struct{}
}

func (c *cluster) startChaosLoad(targets []*orchestrator, pause time.Duration) *chaosLoad {
	l := &chaosLoad{c: c, failed: map[codes.Code][]common.Hash{}, errs: map[codes.Code]string{},
		stop: make(chan struct{}), done: make(chan struct{})}
	key := targets[0].senderKey(0)
	go func() {
		defer close(l.done)
		for i := 0; ; i++ {
			select {
			case <-l.stop:
				return
			case <-time.After(pause):
			}
			m, h, err := c.chaosDueTicket(targets[0], key)
			if err != nil {
				continue // the test's own read of the chain; try again
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			_, err = targets[i%len(targets)].client.QueueTicket(ctx, m)
			cancel()
			l.mu.Lock()
			if err == nil {
				l.ok = append(l.ok, h)
			} else {
				code := status.Code(err)
				l.failed[code] = append(l.failed[code], h)
				l.errs[code] = err.Error()
			}
			l.mu.Unlock()
		}
	}()
	return l
}

// chaosDueTicket signs a winning ticket from key to the recipient, created in
// the last initialized round and due three blocks from now.
func (c *cluster) chaosDueTicket(o *orchestrator, key *ecdsa.PrivateKey) (*pb.Ticket, common.Hash, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	head, err := c.eth.BlockNumber(ctx)
	if err != nil {
		return nil, common.Hash{}, err
	}
	round, err := o.protocol.LastInitializedRound(ctx)
	if err != nil {
		return nil, common.Hash{}, err
	}
	bh, err := o.protocol.BlockHashForRound(ctx, round)
	if err != nil {
		return nil, common.Hash{}, err
	}
	tk := chain.Ticket{
		Recipient: common.HexToAddress(c.info.Recipient), FaceValue: big.NewInt(2e15), WinProb: chain.MaxWinProb,
		SenderNonce: uint32(time.Now().UnixNano()), CreationRound: round.Int64(), CreationRoundBlockHash: bh,
		ParamsExpirationBlock: new(big.Int).SetUint64(head + 3),
	}
	return rpc.SignTicket(tk, key, big.NewInt(time.Now().UnixNano()))
}

func (l *chaosLoad) end() {
	close(l.stop)
	<-l.done
}

// counts is the number of accepted calls and of refusals with code.
func (l *chaosLoad) counts(code codes.Code) (accepted, refused int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ok), len(l.failed[code])
}

func (l *chaosLoad) accepted() []common.Hash {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ok)
}

// check fails the test for any refusal other than Unavailable, and for a
// refused ticket that was stored all the same. It returns the number of
// Unavailable refusals.
func (l *chaosLoad) check(t *testing.T, stored map[common.Hash]bool) int {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for code, hashes := range l.failed {
		if code != codes.Unavailable {
			t.Errorf("%d QueueTicket calls answered %s, want only OK or Unavailable; e.g. %s", len(hashes), code, l.errs[code])
		}
		for _, h := range hashes {
			if stored[h] {
				t.Errorf("ticket %s was refused (%s) but is stored", h, code)
			}
		}
	}
	return len(l.failed[codes.Unavailable])
}

// chaosStream follows one MonitorMaxFloat stream, keeping its last value.
type chaosStream struct {
	name    string
	mu      sync.Mutex
	last    *big.Int
	updates int
	err     error
}

func watchChaosStream(t *testing.T, ctx context.Context, o *orchestrator, name string, sender common.Address) *chaosStream {
	t.Helper()
	stream, err := o.client.MonitorMaxFloat(ctx, &pb.MaxFloatReq{Sender: sender.Bytes()})
	if err != nil {
		t.Fatalf("%s: MonitorMaxFloat: %v", name, err)
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatalf("%s: first float: %v", name, err)
	}
	w := &chaosStream{name: name, last: new(big.Int).SetBytes(first.MaxFloat), updates: 1}
	go func() {
		for {
			m, err := stream.Recv()
			w.mu.Lock()
			if err != nil {
				w.err = err
				w.mu.Unlock()
				return
			}
			w.last, w.updates = new(big.Int).SetBytes(m.MaxFloat), w.updates+1
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *chaosStream) value() (*big.Int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return new(big.Int).Set(w.last), w.err
}

// waitValue waits until the stream's last value is want. The stream must
// stay open: an orchestrator's stream outlives the database outage.
func (w *chaosStream) waitValue(t *testing.T, want *big.Int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		v, err := w.value()
		if v.Cmp(want) == 0 {
			return
		}
		if err != nil {
			t.Fatalf("%s: stream ended (%v) with %s, want %s", w.name, err, v, want)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: stream float %s after %s, want %s", w.name, v, within, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fundReserve adds amount to the sender's reserve on chain and waits for
// the transaction to mine.
func (c *cluster) fundReserveMined(key *ecdsa.PrivateKey, amount *big.Int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	chainID, err := c.eth.ChainID(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	auth, err := bind.NewKeyedTransactorWithChainID(key, chainID)
	if err != nil {
		c.t.Fatal(err)
	}
	auth.Value = amount
	broker, err := contracts.NewTicketBroker(common.HexToAddress(c.info.TicketBroker), c.eth)
	if err != nil {
		c.t.Fatal(err)
	}
	tx, err := broker.FundReserve(auth)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := bind.WaitMined(ctx, c.eth, tx); err != nil {
		c.t.Fatal(err)
	}
}

// claimableFloat is the sender's max float by PROTOCOL.md's formula for a
// sender with nothing in limbo: its reserve allocation for the recipient,
// which the TicketBroker computes as claimableReserve.
func (c *cluster) claimableFloat(sender common.Address) *big.Int {
	c.t.Helper()
	broker, err := contracts.NewTicketBroker(common.HexToAddress(c.info.TicketBroker), c.eth)
	if err != nil {
		c.t.Fatal(err)
	}
	v, err := broker.ClaimableReserve(&bind.CallOpts{}, sender, common.HexToAddress(c.info.Recipient))
	if err != nil {
		c.t.Fatal(err)
	}
	return v
}

// alive fails the test for a replica that exited: the service must ride
// out the fault by itself.
func stillRunning(t *testing.T, ps ...*proc) {
	t.Helper()
	for _, p := range ps {
		select {
		case <-p.exited:
			t.Fatalf("%s exited during the fault (%v); it must recover without a restart", p.name, p.err)
		default:
		}
	}
}

// TestChaosPostgresRestart restarts PostgreSQL (fast shutdown, a few
// seconds down) under two replicas while tickets flow and float streams are
// open on both. During the outage /readyz says 503 and intake refuses with
// Unavailable, storing nothing; afterwards both replicas reconnect on their
// own, become ready, take tickets, and the streams opened before the
// outage deliver a float change made after it, equal to the formula; every
// acknowledged ticket is redeemed exactly once.
func TestChaosPostgresRestart(t *testing.T) {
	pg := storetest.NewPrivate(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- private PostgreSQL log:\n%s", pg.Log())
		}
	})
	c := newClusterOnDSN(t, pg.NewDatabase(t), 100*time.Millisecond, 2000)
	a, addrA := c.serve("replica-a")
	a.waitLog(t, "became leader", 30*time.Second)
	b, addrB := c.serve("replica-b")
	bases := []string{metricsBaseOf(t, a), metricsBaseOf(t, b)}
	oa, ob := c.orchestratorAt(addrA), c.orchestratorAt(addrB)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ticketSender := crypto.PubkeyToAddress(oa.senderKey(0).PublicKey)
	fundedKey := oa.senderKey(1)
	funded := crypto.PubkeyToAddress(fundedKey.PublicKey)
	watches := []*chaosStream{
		watchChaosStream(t, ctx, oa, "replica-a stream of the funded sender", funded),
		watchChaosStream(t, ctx, ob, "replica-b stream of the funded sender", funded),
		watchChaosStream(t, ctx, oa, "replica-a stream of the ticket sender", ticketSender),
		watchChaosStream(t, ctx, ob, "replica-b stream of the ticket sender", ticketSender),
	}
	// The client library on replica b caches the funded sender's float,
	// kept current by its own stream.
	lib, err := client.Dial(addrB, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	if _, err := lib.MaxFloat(ctx, funded); err != nil {
		t.Fatal(err)
	}

	load := c.startChaosLoad([]*orchestrator{oa, ob}, 100*time.Millisecond)
	defer func() {
		select {
		case <-load.stop:
		default:
			load.end()
		}
	}()
	waitFor(t, 60*time.Second, "tickets redeemed before the outage", func() bool {
		return oa.rows("WHERE status = 'redeemed'") >= 5
	})

	restarts := 1
	if chaosFaultsLong() {
		restarts = 4
	}
	for r := 1; r <= restarts; r++ {
		acceptedBefore, unavailBefore := load.counts(codes.Unavailable)
		stopped := time.Now()
		if err := pg.Stop(); err != nil {
			t.Fatal(err)
		}
		t.Logf("restart %d: PostgreSQL stopped (fast) with %d tickets acknowledged", r, acceptedBefore)
		for i, base := range bases {
			waitFor(t, 30*time.Second, fmt.Sprintf("/readyz 503 on replica %d during the outage", i), func() bool {
				return readyzStatus(base) == http.StatusServiceUnavailable
			})
		}
		waitFor(t, 60*time.Second, "an Unavailable intake refusal during the outage", func() bool {
			_, n := load.counts(codes.Unavailable)
			return n > unavailBefore
		})
		time.Sleep(time.Until(stopped.Add(4 * time.Second)))
		if err := pg.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		down := time.Since(stopped)
		oa.reconnectDB(c.dsn)
		ob.reconnectDB(c.dsn)
		started := time.Now()
		for i, base := range bases {
			waitFor(t, 90*time.Second, fmt.Sprintf("/readyz 200 on replica %d after the restart", i), func() bool {
				return readyzStatus(base) == http.StatusOK
			})
		}
		readyAfter := time.Since(started)
		acceptedAt, _ := load.counts(codes.Unavailable)
		waitFor(t, 60*time.Second, "intake taking tickets again after the restart", func() bool {
			n, _ := load.counts(codes.Unavailable)
			return n >= acceptedAt+10
		})
		stillRunning(t, a, b)
		_, unavail := load.counts(codes.Unavailable)
		t.Logf("restart %d: down %s, %d Unavailable refusals, both replicas ready %s after the start",
			r, down.Round(time.Millisecond), unavail-unavailBefore, readyAfter.Round(time.Millisecond))
	}

	// A float change made on chain after the outage reaches the streams
	// opened before it, on both replicas, and the library's cache.
	before, err := watches[0].value()
	if err != nil {
		t.Fatalf("stream ended: %v", err)
	}
	c.fundReserveMined(fundedKey, big.NewInt(1e18))
	want := c.claimableFloat(funded)
	if exp := new(big.Int).Add(before, big.NewInt(1e18)); want.Cmp(exp) != 0 {
		t.Fatalf("claimable reserve on chain %s, want %s (the float before plus 1 ETH, pool size 1)", want, exp)
	}
	for _, w := range watches[:2] {
		w.waitValue(t, want, 60*time.Second)
	}
	waitFor(t, 60*time.Second, "the client library's float after the change", func() bool {
		v, err := lib.MaxFloat(ctx, funded)
		return err == nil && v.Cmp(want) == 0
	})

	load.end()
	accepted := load.accepted()
	c.waitAllFinal(oa, 120*time.Second)
	stillRunning(t, a, b)
	c.checkInvariants(oa, accepted)
	if n := load.check(t, oa.storedTicketHashes()); n == 0 {
		t.Fatal("no intake call was refused during the outage; the test proves nothing about refusals")
	}
	// With nothing left in limbo, the ticket sender's streams settle on the
	// formula too.
	wantSender := c.claimableFloat(ticketSender)
	for _, w := range watches[2:] {
		w.waitValue(t, wantSender, 60*time.Second)
	}
	t.Logf("%d tickets acknowledged and redeemed once each across %d restart(s)", len(accepted), restarts)
}

// TestChaosNodeFaults puts a faulty loopback proxy between two replicas and
// the node: for a minute it drops, delays, fails and truncates JSON-RPC
// calls at random while tickets are queued and come due. Afterwards every
// acknowledged ticket is redeemed exactly once with no nonce gap and
// nothing in limbo, every refusal was Unavailable, intake kept accepting
// most tickets (it asks the node nothing for them), and redemption resumes
// within a bounded time once the node behaves.
func TestChaosNodeFaults(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("REDEEMER_CHAOS_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("REDEEMER_CHAOS_SEED=%q: %v", s, err)
		}
	}
	t.Logf("node fault seed %d (REDEEMER_CHAOS_SEED=%d replays the same choices; their order follows request timing)", seed, seed)
	window := 60 * time.Second
	rounds := 1
	if chaosFaultsLong() {
		rounds = 3
	}

	pg := storetest.NewPrivate(t)
	// Blocks every 250 ms, as on Arbitrum: after the faults the leader
	// catches up on every block it missed, one by one.
	c := newClusterOnDSN(t, pg.NewDatabase(t), 250*time.Millisecond, 1000)
	proxy, err := nodeproxy.NewURL(c.info.EthRPCURL, nodeproxy.Options{Seed: int64(seed)})
	if err != nil {
		t.Fatal(err)
	}
	proxyURL, err := proxy.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	// The replicas reach the node only through the proxy; the test's own
	// reads go to the node directly.
	viaProxy := *c
	info := *c.info
	info.EthRPCURL = proxyURL
	viaProxy.info = &info
	a, addrA := viaProxy.serve("replica-a", "--eth-timeout", "2s")
	a.waitLog(t, "became leader", 30*time.Second)
	b, addrB := viaProxy.serve("replica-b", "--eth-timeout", "2s")
	oa, ob := c.orchestratorAt(addrA), c.orchestratorAt(addrB)

	// A ticket every few hundred milliseconds keeps redemptions due all
	// the time; more would only lengthen the catch-up after the faults,
	// as every due ticket costs the leader node calls of its own.
	const loadPause = 300 * time.Millisecond
	load := c.startChaosLoad([]*orchestrator{oa, ob}, loadPause)
	defer func() {
		select {
		case <-load.stop:
		default:
			load.end()
		}
	}()
	var late []common.Hash // queued once the faults stopped
	var okDuring, unavailDuring int
	for r := 1; r <= rounds; r++ {
		if r > 1 {
			load = c.continueChaosLoad(load, []*orchestrator{oa, ob}, loadPause)
		}
		acc0, unavail0 := load.counts(codes.Unavailable)
		red0 := oa.count("SELECT count(*) FROM redemptions")
		// Each window counts its faults afresh.
		proxy.Reset()
		if err := proxy.SetOptions(nodeFaultOptions(seed)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(window)
		if err := proxy.SetOptions(nodeproxy.Options{Seed: int64(seed)}); err != nil {
			t.Fatal(err)
		}
		calm := time.Now()
		acc1, unavail1 := load.counts(codes.Unavailable)
		red1 := oa.count("SELECT count(*) FROM redemptions")
		t.Logf("round %d: %s of faults: %s; intake %d OK, %d Unavailable; %d redemption transactions signed meanwhile",
			r, window, nodeFaultSummary(proxy.Stats()), acc1-acc0, unavail1-unavail0, red1-red0)
		okDuring += acc1 - acc0
		unavailDuring += unavail1 - unavail0
		stillRunning(t, a, b)

		// Tickets queued after the faults stop need a new redemption: its
		// first broadcast shows the worker is back, and then everything
		// queued before settles too.
		load.end()
		late = append(late, c.queueDueSoon(oa, 3)...)
		late = append(late, c.queueDueSoon(ob, 3)...)
		redCalm := oa.count("SELECT count(*) FROM redemptions")
		waitFor(t, 90*time.Second, "a redemption after the faults stopped", func() bool {
			return oa.count("SELECT count(*) FROM redemptions") > redCalm
		})
		resumed := time.Since(calm)
		c.waitAllFinal(oa, 3*time.Minute)
		t.Logf("round %d: after the faults stopped, redemption resumed within %s and every ticket was final within %s",
			r, resumed.Round(time.Millisecond), time.Since(calm).Round(time.Millisecond))
	}
	accepted := append(load.accepted(), late...)
	stillRunning(t, a, b)
	c.checkInvariants(oa, accepted)
	load.check(t, oa.storedTicketHashes())
	// Intake judges tickets of tracked senders by the state the leader
	// stores: a failing node reaches only the few tickets that need a
	// fresh read (a round the leader has not stored yet), never most.
	if okDuring == 0 || unavailDuring >= okDuring {
		t.Errorf("while the node failed intake accepted %d tickets and answered %d Unavailable; want most accepted",
			okDuring, unavailDuring)
	}
	injected := proxy.Stats().Faults
	for kind := range nodeFaultWeights() {
		if injected[kind] == 0 {
			t.Errorf("fault %q never injected; raise the window or check the proxy", kind)
		}
	}
	t.Logf("%d tickets acknowledged and redeemed once each", len(accepted))
}

// continueChaosLoad starts a new load that carries the outcomes of prev.
func (c *cluster) continueChaosLoad(prev *chaosLoad, targets []*orchestrator, pause time.Duration) *chaosLoad {
	l := c.startChaosLoad(targets, pause)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ok = append(slices.Clone(prev.ok), l.ok...)
	for code, hs := range prev.failed {
		l.failed[code] = append(slices.Clone(hs), l.failed[code]...)
		l.errs[code] = prev.errs[code]
	}
	return l
}

// nodeFaultWeights are what the proxy does to a request it faults, with
// their weights.
func nodeFaultWeights() map[nodeproxy.Fault]float64 {
	return map[nodeproxy.Fault]float64{
		nodeproxy.FaultDelay:     20, // 0.2–5 s, then forwarded; the replicas give up after 2 s
		nodeproxy.FaultDrop:      15, // connection closed before the node sees the request
		nodeproxy.FaultDropAfter: 15, // forwarded, then the connection closed: applied, but unanswered
		nodeproxy.FaultHTTP502:   10, // Bad Gateway from a load balancer in front of the node
		nodeproxy.FaultHTTP503:   10, // Service Unavailable
		nodeproxy.FaultRPCError:  15, // a JSON-RPC error object for every call in the request
		nodeproxy.FaultTruncate:  15, // forwarded, answer cut in half (valid HTTP, broken JSON)
	}
}

// Faults come in phases of 1–4 s: a storm faults nearly every request, a
// flaky phase a few. A per-head pass makes a dozen node calls and fails as a
// whole, so only the flaky phases let the leader get through passes, claim
// and broadcast; there, transaction broadcasts are faulted far more often
// than other calls, so that faults meet redemptions in the middle (a
// broadcast that reached the node but whose answer was lost) rather than
// only before them.
const (
	stormShare         = 0.3
	stormFaultRate     = 0.9
	flakyFaultRate     = 0.05
	broadcastRate      = 0.5
	minPhase           = time.Second
	maxPhaseSpread     = 3 * time.Second
	minInjectedWait    = 200 * time.Millisecond
	injectedWaitSpread = 4800 * time.Millisecond
)

// nodeFaultOptions are the proxy's options during a fault window. The seed
// stays that of the calm spells, so the draws go on from where the last
// window left them.
func nodeFaultOptions(seed uint64) nodeproxy.Options {
	mix := func(rate float64) nodeproxy.Faults {
		f := nodeproxy.Spread(rate, nodeFaultWeights())
		f.DelayMin, f.DelayMax = minInjectedWait, minInjectedWait+injectedWaitSpread
		return f
	}
	return nodeproxy.Options{
		Seed: int64(seed),
		Phases: []nodeproxy.Phase{
			{Name: "flaky", Weight: 1 - stormShare, Faults: mix(flakyFaultRate)},
			{Name: "storm", Weight: stormShare, Faults: mix(stormFaultRate)},
		},
		PhaseMin: minPhase,
		PhaseMax: minPhase + maxPhaseSpread,
		// A broadcast's request is faulted at least at broadcastRate, kind
		// by kind in the same proportions.
		MethodFaults: map[string]nodeproxy.Faults{"eth_sendRawTransaction": mix(broadcastRate)},
		// An internal error, as this test has always injected, rather than
		// the -32000 the node itself answers refusals such as "nonce too
		// low" with.
		FaultCode:    -32603,
		FaultMessage: "injected node fault: internal error",
	}
}

// nodeFaultSummary lists a window's requests and faults, by kind.
func nodeFaultSummary(s nodeproxy.Stats) string {
	parts := []string{fmt.Sprintf("pass=%d", s.Requests-s.FaultTotal())}
	for k, n := range s.Faults {
		parts = append(parts, fmt.Sprintf("%s=%d", k, n))
	}
	for name, n := range s.Phases {
		parts = append(parts, fmt.Sprintf("phase-%s=%d", name, n))
	}
	parts = append(parts, fmt.Sprintf("on-broadcast=%d", s.FaultedMethods["eth_sendRawTransaction"]))
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
