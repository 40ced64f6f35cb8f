package chain_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rpc"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/store"
	"redeemer/store/storetest"
)

func TestMain(m *testing.M) {
	storetest.Main(m)
}

// pollEnv is a dev chain, a fresh database and a poller's event stream.
type pollEnv struct {
	t      *testing.T
	ctx    context.Context
	dc     *devchain.Chain
	st     *store.Store
	reader chain.HeadReader
}

func newPollEnv(t *testing.T, devOpts devchain.Options) *pollEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	st := storetest.NewStore(t)
	devOpts.Logger = testLogger(t)
	dc, err := devchain.New(ctx, devOpts)
	if err != nil {
		t.Fatalf("devchain.New: %v", err)
	}
	t.Cleanup(func() { _ = dc.Close() })
	return &pollEnv{t: t, ctx: ctx, dc: dc, st: st, reader: chain.NewHeaderHeadReader(dc.Client())}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fastOptions keep the tests quick: poll often, back off briefly.
func fastOptions(t *testing.T) chain.PollerOptions {
	return chain.PollerOptions{
		Interval:    5 * time.Millisecond,
		CallTimeout: 2 * time.Second,
		MaxBackoff:  80 * time.Millisecond,
		Logger:      testLogger(t),
	}
}

// running is a poller's Run in a goroutine.
type running struct {
	p      *chain.Poller
	events chan chain.HeadEvent
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// start runs a poller whose handler first calls before (which may fail the
// head) and then queues the event. The poller stops at the end of the test
// at the latest, before the chain and database go away.
func (e *pollEnv) start(r chain.HeadReader, st chain.HeadStore, opts chain.PollerOptions,
	before func(ctx context.Context, ev chain.HeadEvent) error) *running {
	e.t.Helper()
	ctx, cancel := context.WithCancel(e.ctx)
	run := &running{
		p:      chain.NewPoller(r, st, opts),
		events: make(chan chain.HeadEvent, 1000),
		cancel: cancel,
		done:   make(chan error, 1),
	}
	go func() {
		run.done <- run.p.Run(ctx, func(ctx context.Context, ev chain.HeadEvent) error {
			if before != nil {
				if err := before(ctx, ev); err != nil {
					return err
				}
			}
			run.events <- ev
			return nil
		})
	}()
	e.t.Cleanup(func() { run.stop(e.t) })
	return run
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run returned %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
}

func (r *running) next(t *testing.T) chain.HeadEvent {
	t.Helper()
	select {
	case ev := <-r.events:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no head event within 5s")
		return chain.HeadEvent{}
	}
}

// quiet fails if an event arrives within a few poll intervals.
func (r *running) quiet(t *testing.T) {
	t.Helper()
	select {
	case ev := <-r.events:
		t.Fatalf("unexpected event: head %d (removed %d)", ev.Head.Number, len(ev.Removed))
	case <-time.After(100 * time.Millisecond):
	}
}

// head reads the canonical head at n (latest when n < 0) from the node.
func (e *pollEnv) head(n int64) chain.Head {
	e.t.Helper()
	var (
		h   chain.Head
		err error
	)
	if n < 0 {
		h, err = e.reader.LatestHead(e.ctx)
	} else {
		h, err = e.reader.HeadByNumber(e.ctx, uint64(n))
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// mine commits n blocks and returns their heads.
func (e *pollEnv) mine(n int) []chain.Head {
	e.t.Helper()
	heads := make([]chain.Head, n)
	for i := range heads {
		hash := e.dc.Commit()
		heads[i] = e.head(-1)
		if heads[i].Hash != hash {
			e.t.Fatalf("latest head %s is not the block just committed %s", heads[i].Hash, hash)
		}
	}
	return heads
}

// expectHeads reads len(want) events and checks they are exactly want, in
// order, with no Removed.
func (r *running) expectHeads(t *testing.T, want []chain.Head) {
	t.Helper()
	for _, w := range want {
		ev := r.next(t)
		if ev.Head != w {
			t.Fatalf("event head = %+v, want %+v", ev.Head, w)
		}
		if len(ev.Removed) != 0 {
			t.Fatalf("head %d carries %d removed heads, want none", w.Number, len(ev.Removed))
		}
	}
}

// recorded waits until the poller has recorded h: the handler sees a head
// before the store does.
func (r *running) recorded(t *testing.T, h chain.Head) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got, ok := r.p.Latest(); ok && got == h {
			return
		}
		if time.Now().After(deadline) {
			got, _ := r.p.Latest()
			t.Fatalf("head %d %s not recorded within 5s; Latest = %+v", h.Number, h.Hash, got)
		}
		time.Sleep(time.Millisecond)
	}
}

// expectHeadsAtLeastOnce is expectHeads for tests whose short CallTimeout
// may also time out a store write under load: the head is then delivered
// again, which the poller promises and handlers tolerate.
func (r *running) expectHeadsAtLeastOnce(t *testing.T, want []chain.Head) {
	t.Helper()
	var last *chain.Head
	for i := 0; i < len(want); {
		ev := r.next(t)
		if last != nil && ev.Head == *last {
			continue
		}
		if ev.Head != want[i] || len(ev.Removed) != 0 {
			t.Fatalf("event head = %+v (removed %d), want %+v", ev.Head, len(ev.Removed), want[i])
		}
		last = &want[i]
		i++
	}
}

// assertStoreMatchesChain checks that the stored heads are linked by parent
// hash, end at cursor, and are the node's canonical blocks.
func (e *pollEnv) assertStoreMatchesChain(cursor chain.Head, minRows int) {
	e.t.Helper()
	stored, err := e.st.RecentHeads(e.ctx, 10_000)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(stored) < minRows {
		e.t.Fatalf("%d stored heads, want at least %d", len(stored), minRows)
	}
	if stored[0].Number != cursor.Number || common.Hash(stored[0].Hash) != cursor.Hash {
		e.t.Fatalf("stored cursor %d %x, want %d %s", stored[0].Number, stored[0].Hash, cursor.Number, cursor.Hash)
	}
	for i, s := range stored {
		c := e.head(int64(s.Number))
		if common.Hash(s.Hash) != c.Hash || common.Hash(s.ParentHash) != c.ParentHash ||
			s.L1Number != c.L1Number || uint64(s.Time.Unix()) != c.Time {
			e.t.Errorf("stored head %d = %+v, chain has %+v", s.Number, s, c)
		}
		if i > 0 && (stored[i-1].Number != s.Number+1 || stored[i-1].ParentHash != s.Hash) {
			e.t.Errorf("stored head %d does not link to %d", stored[i-1].Number, s.Number)
		}
	}
}

func TestPollerDeliversHeadsInOrderAndResumes(t *testing.T) {
	t.Parallel()
	e := newPollEnv(t, devchain.Options{})
	if _, ok := chain.NewPoller(e.reader, e.st, fastOptions(t)).Latest(); ok {
		t.Fatal("Latest reports a head before the first poll")
	}

	first := e.start(e.reader, e.st, fastOptions(t), nil)
	// An empty store starts at the node's latest head, not at genesis.
	start := e.head(-1)
	first.expectHeads(t, []chain.Head{start})

	var mined []chain.Head
	for range 5 {
		h := e.mine(1)
		first.expectHeads(t, h)
		mined = append(mined, h...)
	}
	prev := start
	for _, h := range mined {
		if h.Number != prev.Number+1 || h.ParentHash != prev.Hash || h.L1Number != h.Number {
			t.Fatalf("head %+v does not follow %+v", h, prev)
		}
		prev = h
	}
	first.quiet(t)
	if got, ok := first.p.Latest(); !ok || got != prev {
		t.Errorf("Latest = %+v, %v; want %+v", got, ok, prev)
	}
	first.recorded(t, prev)
	first.stop(t)
	e.assertStoreMatchesChain(prev, 6)

	// Blocks mined while no poller runs are delivered after a restart, once
	// each, even across several polls.
	missed := e.mine(5)
	opts := fastOptions(t)
	opts.MaxCatchUp = 2
	second := e.start(e.reader, e.st, opts, nil)
	second.expectHeads(t, missed)
	more := e.mine(1)
	second.expectHeads(t, more)
	second.quiet(t)
	second.recorded(t, more[0])
	e.assertStoreMatchesChain(more[0], 12)
}

func TestPollerRedeliversHeadUntilHandlerSucceeds(t *testing.T) {
	t.Parallel()
	e := newPollEnv(t, devchain.Options{})
	var (
		mu         sync.Mutex
		firstTries []chain.Head // every attempt at the very first head
		failing    uint64       // a later head number to fail, 0 for none
		attempts   int
		cursors    []uint64 // the stored cursor seen by each failed attempt
	)
	run := e.start(e.reader, e.st, fastOptions(t), func(ctx context.Context, ev chain.HeadEvent) error {
		mu.Lock()
		defer mu.Unlock()
		if len(firstTries) < 2 {
			// Fail the first head twice, with a new block mined in
			// between: the retry must be the same head, not the new one.
			firstTries = append(firstTries, ev.Head)
			e.dc.Commit()
			return errors.New("first head: handler not ready")
		}
		if ev.Head.Number != failing {
			return nil
		}
		attempts++
		if attempts > 3 {
			return nil
		}
		recent, err := e.st.RecentHeads(ctx, 1)
		if err != nil {
			return err
		}
		cursors = append(cursors, recent[0].Number)
		return fmt.Errorf("attempt %d: handler not ready", attempts)
	})
	start := run.next(t).Head
	mu.Lock()
	if len(firstTries) != 2 || firstTries[0] != start || firstTries[1] != start {
		t.Fatalf("first head attempts %+v, then delivered %+v; want the same head every time", firstTries, start)
	}
	mu.Unlock()
	// The two blocks mined during the failures follow, none skipped.
	run.expectHeads(t, []chain.Head{e.head(int64(start.Number) + 1), e.head(int64(start.Number) + 2)})
	run.quiet(t)

	latest := e.head(-1)
	mu.Lock()
	failing = latest.Number + 1
	mu.Unlock()
	heads := e.mine(2)
	// The failed head comes back until it succeeds, and nothing after it
	// is delivered before it.
	run.expectHeads(t, heads)
	run.quiet(t)

	mu.Lock()
	defer mu.Unlock()
	if attempts != 4 {
		t.Errorf("head %d handled %d times, want 3 failures and 1 success", failing, attempts)
	}
	for i, c := range cursors {
		if c != latest.Number {
			t.Errorf("failed attempt %d saw cursor %d, want %d: a head was recorded before its handler succeeded", i+1, c, latest.Number)
		}
	}
	run.recorded(t, heads[1])
	e.assertStoreMatchesChain(heads[1], 5)
}

func TestPollerReportsReorg(t *testing.T) {
	t.Parallel()
	e := newPollEnv(t, devchain.Options{})
	run := e.start(e.reader, e.st, fastOptions(t), nil)
	base := e.head(-1)
	run.expectHeads(t, []chain.Head{base})
	old := e.mine(4) // base+1 .. base+4
	run.expectHeads(t, old)

	// Fork after old[0]: the simulated backend rewinds its head to the
	// parent at once and builds on it; the side chain wins once it is the
	// longer one. While it is shorter the poller sees a node behind its
	// cursor and waits.
	if err := e.dc.Backend().Fork(old[0].Hash); err != nil {
		t.Fatal(err)
	}
	side := e.mine(5) // base+2 .. base+6
	if side[0].Number != old[1].Number || side[0].Hash == old[1].Hash {
		t.Fatalf("side chain starts at %d %s; want a new block at %d", side[0].Number, side[0].Hash, old[1].Number)
	}

	ev := run.next(t)
	if ev.Head != side[0] {
		t.Fatalf("first head after the reorg = %+v, want the side chain's first block %+v", ev.Head, side[0])
	}
	wantRemoved := []chain.Head{old[3], old[2], old[1]}
	if len(ev.Removed) != len(wantRemoved) {
		t.Fatalf("removed %d heads, want %d", len(ev.Removed), len(wantRemoved))
	}
	for i := range wantRemoved {
		if ev.Removed[i] != wantRemoved[i] {
			t.Errorf("removed[%d] = %+v, want %+v", i, ev.Removed[i], wantRemoved[i])
		}
	}
	run.expectHeads(t, side[1:])
	run.quiet(t)
	run.recorded(t, side[4])
	e.assertStoreMatchesChain(side[4], 7)
}

func TestPollerReorgDeeperThanStoredHeads(t *testing.T) {
	t.Parallel()
	e := newPollEnv(t, devchain.Options{})
	opts := fastOptions(t)
	opts.Keep = 3
	run := e.start(e.reader, e.st, opts, nil)
	run.expectHeads(t, []chain.Head{e.head(-1)})
	old := e.mine(6)
	run.expectHeads(t, old)

	// The fork point old[0] is below the three stored heads (old[3..5]).
	if err := e.dc.Backend().Fork(old[0].Hash); err != nil {
		t.Fatal(err)
	}
	side := e.mine(7) // old[1].Number ..
	ev := run.next(t)
	// The poller cannot know the fork point, so it reports every head it
	// still remembers and restarts at the oldest remembered number.
	if want := side[2]; ev.Head != want {
		t.Fatalf("first head after the deep reorg = %+v, want %+v", ev.Head, want)
	}
	if want := []chain.Head{old[5], old[4], old[3]}; fmt.Sprint(ev.Removed) != fmt.Sprint(want) {
		t.Fatalf("removed %+v, want %+v", ev.Removed, want)
	}
	run.expectHeads(t, side[3:])
	run.quiet(t)
	run.recorded(t, side[6])
	e.assertStoreMatchesChain(side[6], 3)
}

// faultyReader wraps a real reader and fails or hangs the calls it is told to.
type faultyReader struct {
	chain.HeadReader

	mu       sync.Mutex
	fail     int             // fail this many next calls
	hang     int             // then hang this many until their context ends
	failedAt []time.Time     // when each injected failure happened
	hangFor  []time.Duration // how long each hung call waited
}

var errInjected = errors.New("injected node failure")

func (f *faultyReader) fault(ctx context.Context) error {
	f.mu.Lock()
	switch {
	case f.fail > 0:
		f.fail--
		f.failedAt = append(f.failedAt, time.Now())
		f.mu.Unlock()
		return errInjected
	case f.hang > 0:
		f.hang--
		f.mu.Unlock()
		began := time.Now()
		// A real node that stops answering: only the caller's deadline
		// ends the call.
		<-ctx.Done()
		f.mu.Lock()
		f.hangFor = append(f.hangFor, time.Since(began))
		f.mu.Unlock()
		return ctx.Err()
	}
	f.mu.Unlock()
	return nil
}

func (f *faultyReader) LatestHead(ctx context.Context) (chain.Head, error) {
	if err := f.fault(ctx); err != nil {
		return chain.Head{}, err
	}
	return f.HeadReader.LatestHead(ctx)
}

func (f *faultyReader) HeadByNumber(ctx context.Context, n uint64) (chain.Head, error) {
	if err := f.fault(ctx); err != nil {
		return chain.Head{}, err
	}
	return f.HeadReader.HeadByNumber(ctx, n)
}

func TestPollerBacksOffOnNodeErrors(t *testing.T) {
	t.Parallel()
	e := newPollEnv(t, devchain.Options{})
	fr := &faultyReader{HeadReader: e.reader}
	opts := fastOptions(t)
	opts.Interval = 10 * time.Millisecond
	opts.MaxBackoff = 40 * time.Millisecond
	opts.CallTimeout = 300 * time.Millisecond
	run := e.start(fr, e.st, opts, nil)
	run.expectHeads(t, []chain.Head{e.head(-1)})

	t.Run("failures", func(t *testing.T) {
		fr.mu.Lock()
		fr.fail = 5
		fr.mu.Unlock()
		heads := e.mine(2)
		run.expectHeadsAtLeastOnce(t, heads)

		fr.mu.Lock()
		defer fr.mu.Unlock()
		if fr.fail != 0 || len(fr.failedAt) != 5 {
			t.Fatalf("%d failures injected, %d left; want all 5 used", len(fr.failedAt), fr.fail)
		}
		// Each failed call ends a poll; the next comes after a backoff
		// that doubles from Interval and stops at MaxBackoff.
		for i, want := range []time.Duration{10, 20, 40, 40} {
			want *= time.Millisecond
			if gap := fr.failedAt[i+1].Sub(fr.failedAt[i]); gap < want {
				t.Errorf("retry %d came %v after failure %d, want a backoff of at least %v", i+2, gap, i+1, want)
			}
		}
	})

	t.Run("hangs", func(t *testing.T) {
		fr.mu.Lock()
		fr.hang = 2
		fr.mu.Unlock()
		began := time.Now()
		heads := e.mine(1)
		run.expectHeadsAtLeastOnce(t, heads)
		elapsed := time.Since(began)

		fr.mu.Lock()
		defer fr.mu.Unlock()
		if len(fr.hangFor) != 2 {
			t.Fatalf("%d calls hung, want 2", len(fr.hangFor))
		}
		for i, d := range fr.hangFor {
			// The fake starts its clock after the caller has set the
			// deadline, so it may see a little less than CallTimeout.
			if d < opts.CallTimeout-50*time.Millisecond || d > opts.CallTimeout+time.Second {
				t.Errorf("hung call %d was abandoned after %v, want about CallTimeout %v", i+1, d, opts.CallTimeout)
			}
		}
		if elapsed > 5*time.Second {
			t.Errorf("recovery took %v", elapsed)
		}
	})
	run.quiet(t)
	run.recorded(t, e.head(-1))
	e.assertStoreMatchesChain(e.head(-1), 4)
}

// faultyStore fails AdvanceHeads the given number of times.
type faultyStore struct {
	*store.Store
	mu       sync.Mutex
	fail     int
	failures int
}

func (f *faultyStore) AdvanceHeads(ctx context.Context, removeFrom *uint64, heads []store.Head, keep int) error {
	f.mu.Lock()
	if f.fail > 0 {
		f.fail--
		f.failures++
		f.mu.Unlock()
		return errors.New("injected store failure")
	}
	f.mu.Unlock()
	return f.Store.AdvanceHeads(ctx, removeFrom, heads, keep)
}

func TestPollerRetriesStoreErrors(t *testing.T) {
	t.Parallel()
	e := newPollEnv(t, devchain.Options{})
	fs := &faultyStore{Store: e.st}
	run := e.start(e.reader, fs, fastOptions(t), nil)
	start := e.head(-1)
	run.expectHeads(t, []chain.Head{start})
	// Arm the fault only once start is recorded, or start's own write
	// would take it.
	run.recorded(t, start)

	fs.mu.Lock()
	fs.fail = 2
	fs.mu.Unlock()
	h := e.mine(1)
	// The handler succeeded each time but the cursor did not move, so the
	// head is delivered again: the reason handlers must be idempotent.
	run.expectHeads(t, []chain.Head{h[0], h[0], h[0]})
	run.quiet(t)
	fs.mu.Lock()
	if fs.failures != 2 {
		t.Errorf("%d store failures injected, want 2", fs.failures)
	}
	fs.mu.Unlock()
	run.recorded(t, h[0])
	e.assertStoreMatchesChain(h[0], 2)
}

func TestRPCHeadReaderAgainstDevChain(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dc, err := devchain.New(ctx, devchain.Options{RPCAddr: "127.0.0.1:0", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	c, err := rpc.DialContext(ctx, dc.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := chain.NewRPCHeadReader(c)
	ref := chain.NewHeaderHeadReader(dc.Client())

	dc.Commit()
	latest, err := r.LatestHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ref.LatestHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if latest != want || latest.L1Number != latest.Number || latest.Time == 0 {
		t.Fatalf("RPC latest = %+v, header reader has %+v", latest, want)
	}
	parent, err := r.HeadByNumber(ctx, latest.Number-1)
	if err != nil {
		t.Fatal(err)
	}
	if parent.Hash != latest.ParentHash || parent.Number != latest.Number-1 {
		t.Errorf("head %d = %+v, not the parent of %+v", latest.Number-1, parent, latest)
	}
	for _, reader := range []chain.HeadReader{r, ref} {
		if _, err := reader.HeadByNumber(ctx, latest.Number+100); !errors.Is(err, chain.ErrHeadNotFound) {
			t.Errorf("head past the tip: err = %v, want ErrHeadNotFound", err)
		}
	}
}

// arbitrumBlock is eth_getBlockByNumber's result as an Arbitrum Nitro node
// returns it (fields trimmed to the header's), with number n.
func arbitrumBlock(n uint64) string {
	return fmt.Sprintf(`{
		"baseFeePerGas": "0x989680",
		"difficulty": "0x1",
		"extraData": "0x6e9c3a1f4f1a0a0b2d3b5e8f5b0c9f0d0e1a2b3c4d5e6f708192a3b4c5d6e7f8",
		"gasLimit": "0x4000000000000",
		"gasUsed": "0x3c6a9",
		"hash": "0x%064x",
		"l1BlockNumber": "0x1345a2c",
		"logsBloom": "0x%0512x",
		"miner": "0xa4b000000000000000000073657175656e636572",
		"mixHash": "0x0000000000016c1c00000000012d6d2600000000000000140000000000000000",
		"nonce": "0x00000000001b8e6f",
		"number": "0x%x",
		"parentHash": "0x%064x",
		"receiptsRoot": "0x6f8d1b0c2a3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccdd",
		"sendCount": "0x1b8e6f",
		"sendRoot": "0x3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b",
		"sha3Uncles": "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
		"size": "0x44a",
		"stateRoot": "0x9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0",
		"timestamp": "0x6745d2a1",
		"totalDifficulty": "0x0",
		"transactions": ["0x%064x"],
		"transactionsRoot": "0x7a8b9cadbecfd0e1f2031425364758697a8b9cadbecfd0e1f203142536475869",
		"uncles": []
	}`, 0xb10c000+n, 0, n, 0xb10c000+n-1, n)
}

func TestRPCHeadReaderDecodesArbitrumL1BlockNumber(t *testing.T) {
	t.Parallel()
	const tip = 279_000_123
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var call struct {
			ID     json.RawMessage   `json:"id"`
			Method string            `json:"method"`
			Params []json.RawMessage `json:"params"`
		}
		body, _ := io.ReadAll(req.Body)
		if err := json.Unmarshal(body, &call); err != nil || call.Method != "eth_getBlockByNumber" ||
			len(call.Params) != 2 || string(call.Params[1]) != "false" {
			http.Error(w, "unexpected request: "+string(body), http.StatusBadRequest)
			return
		}
		var result string
		switch tag := strings.Trim(string(call.Params[0]), `"`); tag {
		case "latest":
			result = arbitrumBlock(tip)
		case fmt.Sprintf("0x%x", tip-1):
			result = arbitrumBlock(tip - 1)
		case fmt.Sprintf("0x%x", tip-2):
			// A misbehaving node answering with another block.
			result = arbitrumBlock(tip - 3)
		case fmt.Sprintf("0x%x", tip-4):
			// A block without its hash.
			result = strings.Replace(arbitrumBlock(tip-4), `"hash"`, `"notHash"`, 1)
		case fmt.Sprintf("0x%x", tip-5):
			// A plain (non-Arbitrum) header: no l1BlockNumber.
			result = strings.Replace(arbitrumBlock(tip-5), `"l1BlockNumber": "0x1345a2c",`, "", 1)
		default:
			result = "null"
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":%s}`, call.ID, result)
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rpc.DialContext(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := chain.NewRPCHeadReader(c)

	hashOf := func(n uint64) common.Hash { return common.BigToHash(new(big.Int).SetUint64(0xb10c000 + n)) }
	latest, err := r.LatestHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := chain.Head{Number: tip, Hash: hashOf(tip), ParentHash: hashOf(tip - 1), L1Number: 0x1345a2c, Time: 0x6745d2a1}
	if latest != want {
		t.Errorf("latest = %+v, want %+v", latest, want)
	}
	byNumber, err := r.HeadByNumber(ctx, tip-1)
	if err != nil {
		t.Fatal(err)
	}
	if byNumber.Number != tip-1 || byNumber.Hash != latest.ParentHash || byNumber.L1Number != 0x1345a2c {
		t.Errorf("head %d = %+v", tip-1, byNumber)
	}
	plain, err := r.HeadByNumber(ctx, tip-5)
	if err != nil {
		t.Fatal(err)
	}
	if plain.L1Number != plain.Number {
		t.Errorf("without l1BlockNumber, L1Number = %d, want the block number %d", plain.L1Number, plain.Number)
	}
	if _, err := r.HeadByNumber(ctx, tip+1); !errors.Is(err, chain.ErrHeadNotFound) {
		t.Errorf("null block: err = %v, want ErrHeadNotFound", err)
	}
	if _, err := r.HeadByNumber(ctx, tip-2); err == nil || errors.Is(err, chain.ErrHeadNotFound) {
		t.Errorf("wrong block number in the answer: err = %v, want a mismatch error", err)
	}
	if _, err := r.HeadByNumber(ctx, tip-4); err == nil {
		t.Error("a block without hash was accepted")
	}
}
