package queue

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
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
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/chain/nodeproxy"
	"redeemer/pipeline"
	"redeemer/store"
)

// Liveness (docs/design.md, "Failure isolation" and invariant 8): what
// one ticket, one sender, one stage or the node does wrong never stops the
// redemption of the others. Each test below also redeems a genuine ticket
// of another sender, due at the same block, within 5 blocks of its due
// block (or of the end of a wait that holds every ticket back), while the
// pipeline's heads keep moving.

// liveChain is the dev chain of liveness tests: rounds long enough that a
// test's tickets stay valid however long the machine takes.
var liveChain = devchain.Options{RoundLength: 50}

// liveWait bounds each wait of a liveness test: generous, for a loaded
// machine.
const liveWait = 60 * time.Second

// ticketEvents are a ticket's recorded transitions, oldest first.
func (e *env) ticketEvents(nt store.NewTicket) []string {
	e.t.Helper()
	rows, err := e.st.Pool().Query(e.ctx, `SELECT coalesce(from_status, '') || '>' || to_status || ': ' || reason
		FROM ticket_events WHERE ticket_id = (SELECT id FROM tickets WHERE ticket_hash = $1) ORDER BY id`, nt.TicketHash[:])
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// revertingNode serves JSON-RPC in front of the dev chain and answers the
// eth_estimateGas of a call whose input carries a poisoned signature the
// way nodes answer a revert without data (code 3, "execution reverted",
// no data field); every other call, and every other element of a batch,
// gets the chain's own answer.
type revertingNode struct {
	mu       sync.Mutex
	markers  []string
	answered int
}

func (n *revertingNode) poison(sig []byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.markers = append(n.markers, hex.EncodeToString(sig))
}

func (n *revertingNode) reverts() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.answered
}

func (n *revertingNode) poisoned(call rpcCall) bool {
	if call.Method != "eth_estimateGas" {
		return false
	}
	params := strings.ToLower(string(call.Params))
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, m := range n.markers {
		if strings.Contains(params, m) {
			return true
		}
	}
	return false
}

type rpcCall struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

func (n *revertingNode) serve(t *testing.T, upstream string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, upstream, bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		answer, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(n.rewrite(body, answer))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// rewrite replaces the answers to poisoned calls.
func (n *revertingNode) rewrite(body, answer []byte) []byte {
	batch := len(bytes.TrimSpace(body)) > 0 && bytes.TrimSpace(body)[0] == '['
	var calls []rpcCall
	if batch {
		if json.Unmarshal(body, &calls) != nil {
			return answer
		}
	} else {
		var c rpcCall
		if json.Unmarshal(body, &c) != nil {
			return answer
		}
		calls = []rpcCall{c}
	}
	ids := map[string]bool{}
	for _, c := range calls {
		if n.poisoned(c) {
			ids[string(c.ID)] = true
		}
	}
	if len(ids) == 0 {
		return answer
	}
	var answers []map[string]json.RawMessage
	if batch {
		if json.Unmarshal(answer, &answers) != nil {
			return answer
		}
	} else {
		var a map[string]json.RawMessage
		if json.Unmarshal(answer, &a) != nil {
			return answer
		}
		answers = []map[string]json.RawMessage{a}
	}
	for _, a := range answers {
		if ids[string(a["id"])] {
			delete(a, "result")
			a["error"] = json.RawMessage(`{"code":3,"message":"execution reverted"}`)
			n.mu.Lock()
			n.answered++
			n.mu.Unlock()
		}
	}
	var out []byte
	var err error
	if batch {
		out, err = json.Marshal(answers)
	} else {
		out, err = json.Marshal(answers[0])
	}
	if err != nil {
		return answer
	}
	return out
}

// TestLivenessRevertWithoutReason: a ticket whose estimate reverts with no
// data is the ticket's own failure, not the node's: it is postponed with an
// attempt counted and the reason recorded, fails at MaxAttempts with a
// reason whose count agrees with its attempts column, and holds back no
// other ticket.
func TestLivenessRevertWithoutReason(t *testing.T) {
	rn := &revertingNode{}
	const maxAttempts = 3
	e := newEnv(t, envOpts{chain: liveChain, upstream: rn.serve,
		cfg: Config{MaxAttempts: maxAttempts, RetryBackoff: 200 * time.Millisecond, MaxBackoff: time.Second}})
	e.prepare()
	a, b := e.dc.Senders()[0], e.dc.Senders()[1]
	due := e.head().Number + 4
	poison := e.ticket(a.Key, face, due, nil)
	rn.poison(poison.Sig)
	genuine := e.ticket(b.Key, face, due, nil)
	e.insert(poison, genuine)
	p := e.run(pipeOpts{})

	e.waitRedeemed(genuine, liveWait)
	e.eventually(liveWait, "the poisoned ticket to fail", func() bool { return e.get(poison).Status == store.StatusFailed })
	got := e.get(poison)
	if got.Attempts != maxAttempts {
		t.Fatalf("poisoned ticket failed after %d attempts, want %d (%s)", got.Attempts, maxAttempts, got.LastError)
	}
	if want := fmt.Sprintf("reverted without a reason (after %d attempts)", got.Attempts); !strings.Contains(got.LastError, want) {
		t.Fatalf("poisoned ticket failed with %q, want %q", got.LastError, want)
	}
	var postponed int
	for _, ev := range e.ticketEvents(poison) {
		if strings.HasPrefix(ev, "queued>queued: postponed") {
			if !strings.Contains(ev, "reverted without a reason") {
				t.Fatalf("postponement %q does not give the reason", ev)
			}
			postponed++
		}
	}
	if postponed != maxAttempts-1 {
		t.Fatalf("%d postponements before the failure, want %d: %v", postponed, maxAttempts-1, e.ticketEvents(poison))
	}
	if n := rn.reverts(); n != maxAttempts {
		t.Fatalf("the node refused the poisoned estimate %d times, want %d (one per attempt)", n, maxAttempts)
	}
	e.headsMoving(p)
	e.checkAmountsInvariant()
}

// TestLivenessReserveUnderflow: the pool grows mid-round after the
// recipient drew more from a sender's reserve than its new share, so the
// contract's claimableReserve for that sender reverts. The allocation is
// computed from stored state and clamped at zero: that sender's ticket
// waits, uncharged, and nothing else stops.
func TestLivenessReserveUnderflow(t *testing.T) {
	// Rounds long enough that the claims made this round stand for the
	// whole test (a new round resets them).
	e := newEnv(t, envOpts{chain: devchain.Options{RoundLength: 200}})
	reserveOnly := e.newSender("reserve only", new(big.Int), times(face, 4))
	e.prepare()
	e.trackSenders(reserveOnly.Address)
	recipient := e.dc.Recipient().Address
	pool, err := e.dc.Protocol().TranscoderPoolSize(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := e.run(pipeOpts{})

	// The recipient draws three quarters of the reserve, all of its share
	// while it is alone in the pool...
	first := e.queue(reserveOnly.Key, times(face, 3), e.head().Number+2)
	e.waitRedeemed(first, liveWait)
	// ...and then the pool doubles: its share is half of what it drew.
	e.dc.SetPoolSize(2 * pool.Int64())
	if _, err := e.dc.Protocol().ClaimableReserve(e.ctx, reserveOnly.Address, recipient); err == nil {
		t.Fatal("test setup: claimableReserve does not revert after the pool grew")
	}
	e.eventually(liveWait, "the new pool size stored", func() bool {
		ps, err := e.st.StoredProtocolState(e.ctx)
		return err == nil && ps != nil && ps.PoolSize.Cmp(big.NewInt(2*pool.Int64())) == 0
	})

	due := e.head().Number + 3
	stuck := e.queue(reserveOnly.Key, face, due)
	genuine := e.queue(e.dc.Senders()[1].Key, face, due)
	e.waitRedeemed(genuine, liveWait)
	e.eventually(liveWait, "five blocks past due", func() bool { return e.head().Number >= due+5 })
	got := e.get(stuck)
	if got.Status != store.StatusQueued || got.Attempts != 0 || !strings.Contains(got.LastError, "sender can pay nothing now") {
		t.Fatalf("ticket of the sender whose allocation underflows: %s after %d attempts (%s); want queued, uncharged, "+
			"waiting for its sender", got.Status, got.Attempts, got.LastError)
	}
	for _, stage := range []string{"senders", "reread", "claim", "track"} {
		if st := p.Status()[stage]; st.Failures > 0 {
			t.Fatalf("%s stage failing: %s", stage, st.LastErr)
		}
	}
	e.headsMoving(p)
	e.checkAmountsInvariant()
}

// TestLivenessRoundNotInitialized: a round left uninitialized for longer
// than MaxAttempts backoffs makes claims wait without charging anyone;
// once it is initialized, the tickets are redeemed with no attempt counted.
func TestLivenessRoundNotInitialized(t *testing.T) {
	const (
		maxAttempts = 3
		backoff     = 200 * time.Millisecond
	)
	e := newEnv(t, envOpts{chain: devchain.Options{RoundLength: 40},
		cfg: Config{MaxAttempts: maxAttempts, RetryBackoff: backoff, MaxBackoff: backoff}})
	e.prepare()
	e.dc.SetRoundKeeping(false)
	length := e.dc.RoundLength()
	next := (e.head().L1Number/length + 1) * length
	// Close to the next round, so the test does not wait most of one.
	for e.head().L1Number+4 < next {
		e.dc.Commit()
	}
	a, b := e.dc.Senders()[0], e.dc.Senders()[1]
	ta, tb := e.queue(a.Key, face, next), e.queue(b.Key, face, next)
	p := e.run(pipeOpts{})

	// Uninitialized for well over MaxAttempts backoffs.
	e.eventually(liveWait, "the next round", func() bool { return e.head().L1Number >= next })
	time.Sleep(3 * maxAttempts * backoff)
	for _, nt := range []store.NewTicket{ta, tb} {
		if got := e.get(nt); got.Status != store.StatusQueued || got.Attempts != 0 {
			t.Fatalf("ticket %s after %d attempts (%s) while the round is not initialized: want queued, uncharged",
				got.Status, got.Attempts, got.LastError)
		}
	}
	round, err := e.dc.Chain.InitializeRound(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	initialized := e.head().Number
	for _, nt := range []store.NewTicket{ta, tb} {
		e.eventually(liveWait, "ticket redeemed", func() bool { return e.get(nt).Status == store.StatusRedeemed })
		if _, mined, _ := e.redemptionOf(nt); mined > initialized+5 {
			t.Fatalf("ticket redeemed in block %d, more than 5 blocks after round %s was initialized in block %d",
				mined, round, initialized)
		}
		if got := e.get(nt); got.Attempts != 0 {
			t.Fatalf("ticket redeemed after %d attempts, want none charged", got.Attempts)
		}
	}
	// The wait may start from the chain's refusal, before the senders
	// stage stored the new round, and go on from the stored round: a line
	// each, not one per pass.
	waits := e.logs.logged(slog.LevelWarn, "claims wait; no ticket is charged an attempt")
	if len(waits) == 0 || len(waits) > 2 {
		t.Fatalf("claims wait logged %d times, want once or twice (the chain's refusal, then the stored round)", len(waits))
	}
	for _, w := range waits {
		if !strings.Contains(w["reason"], "round is not initialized") {
			t.Fatalf("claims waited for %q, want the round", w["reason"])
		}
	}
	if resumed := e.logs.logged(slog.LevelInfo, "claims resume"); len(resumed) != 1 {
		t.Fatalf("claims resume logged %d times, want once", len(resumed))
	}
	e.headsMoving(p)
	e.checkAmountsInvariant()
}

// TestLivenessSlowSenderReads: every contract read (eth_call) the node
// answers only after the senders stage's deadline, so sender state stops
// following the chain; claims and tracking need no such read and go on
// from the stored state.
func TestLivenessSlowSenderReads(t *testing.T) {
	e := newEnv(t, envOpts{chain: liveChain, proxy: &nodeproxy.Options{}})
	e.prepare()
	const sendersTimeout = time.Second
	slow := nodeproxy.Options{
		Faults:       nodeproxy.Faults{DelayMin: 3 * sendersTimeout, DelayMax: 3 * sendersTimeout},
		MethodFaults: map[string]nodeproxy.Faults{"eth_call": {Delay: 1}},
	}
	if err := e.proxy.SetOptions(slow); err != nil {
		t.Fatal(err)
	}
	p := e.run(pipeOpts{sendersTimeout: sendersTimeout})
	a, b := e.dc.Senders()[0], e.dc.Senders()[1]
	for round := 0; round < 2; round++ {
		// The first redemptions' logs name both senders: from then on the
		// senders stage must read them, and cannot.
		due := e.head().Number + 3
		ta, tb := e.queue(a.Key, face, due), e.queue(b.Key, face, due)
		e.waitRedeemed(ta, liveWait)
		e.waitRedeemed(tb, liveWait)
	}
	st := p.Status()["senders"]
	if st.Failures == 0 || !strings.Contains(st.LastErr, "deadline") {
		t.Fatalf("senders stage status %+v: want it failing on its deadline, or the test slowed nothing", st)
	}
	if n := e.proxy.Stats().Faults[nodeproxy.FaultDelay]; n == 0 {
		t.Fatal("no contract read was slowed")
	}
	e.headsMoving(p)
	e.checkAmountsInvariant()
}

// TestLivenessPartialPayout: a sender whose deposit covers half a ticket,
// with no reserve, can pay half of it now; that half is worth the gas, so
// the ticket is redeemed, and what it was expected to pay and what it paid
// (its WinningTicketTransfer) are recorded and agree.
func TestLivenessPartialPayout(t *testing.T) {
	e := newEnv(t, envOpts{chain: liveChain})
	half := face
	c := e.newSender("half-funded", half, new(big.Int))
	e.prepare()
	e.trackSenders(c.Address)
	b := e.dc.Senders()[1]
	due := e.head().Number + 3
	partial := e.queue(c.Key, times(half, 2), due)
	genuine := e.queue(b.Key, face, due)
	p := e.run(pipeOpts{})

	e.waitRedeemed(genuine, liveWait)
	e.waitRedeemed(partial, liveWait)
	for _, x := range []struct {
		nt   store.NewTicket
		want *big.Int
	}{{partial, half}, {genuine, face}} {
		expected, paid := e.paid(x.nt)
		if expected == nil || paid == nil || expected.Cmp(x.want) != 0 || paid.Cmp(x.want) != 0 {
			t.Fatalf("ticket of face value %s: expected payout %v, paid %v; want both %s", x.nt.FaceValue, expected, paid, x.want)
		}
	}
	if got := e.transferred(partial); got.Cmp(half) != 0 {
		t.Fatalf("WinningTicketTransfer of the partly paid ticket's sender says %s, want %s", got, half)
	}
	e.headsMoving(p)
	e.checkAmountsInvariant()
}

// transferred is the amount of the WinningTicketTransfer log of nt's sender
// in the transaction that redeemed it, read straight from the receipt.
func (e *env) transferred(nt store.NewTicket) *big.Int {
	e.t.Helper()
	var txHash []byte
	if err := e.st.Pool().QueryRow(e.ctx, `SELECT r.mined_tx_hash FROM tickets t JOIN redemptions r ON r.id = t.redemption_id
		WHERE t.ticket_hash = $1`, nt.TicketHash[:]).Scan(&txHash); err != nil {
		e.t.Fatal(err)
	}
	rc, err := e.dc.Client().TransactionReceipt(e.ctx, common.BytesToHash(txHash))
	if err != nil {
		e.t.Fatal(err)
	}
	topic := crypto.Keccak256Hash([]byte("WinningTicketTransfer(address,address,uint256)"))
	sum := new(big.Int)
	for _, l := range rc.Logs {
		if len(l.Topics) == 3 && l.Topics[0] == topic && common.BytesToAddress(l.Topics[1][:]) == common.Address(nt.Sender) {
			sum.Add(sum, new(big.Int).SetBytes(l.Data[:32]))
		}
	}
	return sum
}

// watchedStage runs a stage and then after, with the run it ran.
type watchedStage struct {
	pipeline.Stage
	after func(pipeline.Run)
}

func (w watchedStage) Run(ctx context.Context, r pipeline.Run) (pipeline.Result, error) {
	res, err := w.Stage.Run(ctx, r)
	w.after(r)
	return res, err
}

// TestLivenessFairness: a sender that floods the queue with 200 due
// tickets, all due before everyone else's, does not push back another
// sender's one ticket: claims go round-robin across senders, and it is
// claimed in the first or second pass.
func TestLivenessFairness(t *testing.T) {
	e := newEnv(t, envOpts{chain: liveChain, cfg: Config{MaxBatch: 10}})
	e.prepare()
	a, b := e.dc.Senders()[0], e.dc.Senders()[1]
	due := e.head().Number + 2
	var flood []store.NewTicket
	for i := 0; i < 200; i++ {
		flood = append(flood, e.ticket(a.Key, face, 1+uint64(i)%(due-1), nil))
	}
	e.insert(flood...)
	lone := e.queue(b.Key, face, due)
	// Every ticket is due when the first pass runs.
	for e.head().Number < due {
		e.dc.Commit()
	}
	var (
		mu        sync.Mutex
		passes    int
		claimedIn int
	)
	p := e.run(pipeOpts{wrapClaim: func(s pipeline.Stage) pipeline.Stage {
		return watchedStage{Stage: s, after: func(pipeline.Run) {
			mu.Lock()
			defer mu.Unlock()
			passes++
			// Not e.get: this runs on the pipeline's goroutine, where a
			// test must not stop.
			if tk, err := e.st.TicketByHash(e.ctx, lone.TicketHash); err == nil && claimedIn == 0 && tk.Status != store.StatusQueued {
				claimedIn = passes
			}
		}}
	}})
	e.eventually(liveWait, "the lone ticket claimed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return claimedIn > 0
	})
	mu.Lock()
	if claimedIn > 2 {
		t.Fatalf("the lone ticket was claimed in pass %d, want the first or second", claimedIn)
	}
	mu.Unlock()
	e.waitRedeemed(lone, liveWait)
	e.headsMoving(p)
}

// TestLivenessUnfundedAccount: while the redemption account cannot pay for
// a redemption, claims wait without touching any ticket, logged once when
// the wait starts and once when it ends, not on every pass; funded again,
// the tickets are redeemed at once.
func TestLivenessUnfundedAccount(t *testing.T) {
	key, err := crypto.ToECDSA(crypto.Keccak256([]byte("a redemption account nobody funded")))
	if err != nil {
		t.Fatal(err)
	}
	account := crypto.PubkeyToAddress(key.PublicKey)
	e := newEnv(t, envOpts{chain: liveChain, signer: key})
	e.prepare()
	a, b := e.dc.Senders()[0], e.dc.Senders()[1]
	due := e.head().Number + 3
	ta, tb := e.queue(a.Key, face, due), e.queue(b.Key, face, due)
	p := e.run(pipeOpts{})

	e.eventually(liveWait, "five blocks past due", func() bool { return e.head().Number >= due+5 })
	for _, nt := range []store.NewTicket{ta, tb} {
		if got := e.get(nt); got.Status != store.StatusQueued || got.Attempts != 0 {
			t.Fatalf("ticket %s after %d attempts (%s) while the account cannot pay: want queued, untouched",
				got.Status, got.Attempts, got.LastError)
		}
	}
	var redemptions int
	if err := e.st.Pool().QueryRow(e.ctx, `SELECT count(*) FROM redemptions`).Scan(&redemptions); err != nil {
		t.Fatal(err)
	}
	if redemptions != 0 {
		t.Fatalf("%d redemptions claimed by an account that cannot pay", redemptions)
	}

	rc := e.fundAccount(account, new(big.Int).Mul(big.NewInt(10), devchain.Ether))
	fundedAt := rc.BlockNumber.Uint64()
	for _, nt := range []store.NewTicket{ta, tb} {
		e.eventually(liveWait, "ticket redeemed", func() bool { return e.get(nt).Status == store.StatusRedeemed })
		if _, mined, _ := e.redemptionOf(nt); mined > fundedAt+5 {
			t.Fatalf("ticket redeemed in block %d, more than 5 blocks after the account was funded in block %d", mined, fundedAt)
		}
		if got := e.get(nt); got.Attempts != 0 {
			t.Fatalf("ticket redeemed after %d attempts, want none charged", got.Attempts)
		}
	}
	waits := e.logs.logged(slog.LevelWarn, "claims wait; no ticket is charged an attempt")
	if len(waits) != 1 || !strings.Contains(waits[0]["reason"], "cannot pay") {
		first := map[string]string{}
		if len(waits) > 0 {
			first = waits[0]
		}
		t.Fatalf("claims wait logged %d times (first: %v), want once, for the account", len(waits), first)
	}
	if resumed := e.logs.logged(slog.LevelInfo, "claims resume"); len(resumed) != 1 {
		t.Fatalf("claims resume logged %d times, want once", len(resumed))
	}
	e.headsMoving(p)
	e.checkAmountsInvariant()
}

// fundAccount sends amount to account from the dev chain's owner and
// returns the receipt.
func (e *env) fundAccount(account common.Address, amount *big.Int) *types.Receipt {
	e.t.Helper()
	c := e.dc.Client()
	owner := e.dc.Owner()
	nonce, err := c.PendingNonceAt(e.ctx, owner.Address)
	if err != nil {
		e.t.Fatal(err)
	}
	tip, feeCap, err := chain.SuggestFees(e.ctx, c, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	tx, err := types.SignNewTx(owner.Key, types.LatestSignerForChainID(e.dc.ChainID()), &types.DynamicFeeTx{
		ChainID: e.dc.ChainID(), Nonce: nonce, To: &account, Value: amount, Gas: 21_000, GasTipCap: tip, GasFeeCap: feeCap,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := c.SendTransaction(e.ctx, tx); err != nil {
		e.t.Fatal(err)
	}
	return e.waitMined(tx.Hash())
}

// TestReceiptReorgedOutBeforeItsHeadWasRecorded: the track stage finds a
// redemption's receipt at the node's latest block and marks it mined; that
// block is then reorged out before any head of it was recorded anywhere.
// At depth the receipt is checked again, found gone, and the redemption
// goes back to pending; its tickets end redeemed once, on the final chain.
func TestReceiptReorgedOutBeforeItsHeadWasRecorded(t *testing.T) {
	e := newEnv(t, envOpts{cfg: Config{Confirmations: 2}})
	a, b := e.dc.Senders()[0], e.dc.Senders()[1]
	due := e.head().Number + 1
	x, y := e.queue(a.Key, face, due), e.queue(b.Key, face, due)
	claimHead := e.step()
	if s := e.get(x).Status; s != store.StatusRedeeming {
		t.Fatalf("ticket %s at its due block, want claimed", s)
	}
	e.dc.Commit()
	minedHead := e.head()
	e.mustRun(e.track, minedHead)
	if status, _, hash := e.redemptionOf(x); status != string(store.RedemptionMined) || hash != minedHead.Hash {
		t.Fatalf("redemption %s in %s, want mined in %s", status, hash, minedHead.Hash)
	}
	e.dc.Commit()
	stale := e.head()

	// The node switches to a branch without the redemption's block; the
	// stage still works at the tip it was given, which is gone too.
	if err := e.dc.Backend().Fork(claimHead.Hash); err != nil {
		t.Fatal(err)
	}
	e.mustRun(e.track, stale)
	if status, _, _ := e.redemptionOf(x); status != string(store.RedemptionPending) {
		t.Fatalf("redemption %s after its block was reorged out, want pending", status)
	}
	var heads int
	if err := e.st.Pool().QueryRow(e.ctx, `SELECT count(*) FROM chain_heads`).Scan(&heads); err != nil {
		t.Fatal(err)
	}
	if heads != 0 {
		t.Fatalf("%d heads recorded: the test must not have told anyone of the reorg", heads)
	}

	for i := 0; i < 8 && (e.get(x).Status != store.StatusRedeemed || e.get(y).Status != store.StatusRedeemed); i++ {
		e.step()
	}
	for _, nt := range []store.NewTicket{x, y} {
		got := e.get(nt)
		if got.Status != store.StatusRedeemed {
			t.Fatalf("ticket %s (%s) after the reorg, want redeemed", got.Status, got.LastError)
		}
		status, block, hash := e.redemptionOf(nt)
		if status != string(store.RedemptionConfirmed) || hash == minedHead.Hash {
			t.Fatalf("redemption %s in block %d (%s): want confirmed on the new branch", status, block, hash)
		}
		if canonical := e.dc.HeadAt(new(big.Int).SetUint64(block)); canonical.Hash != hash {
			t.Fatalf("redemption recorded in block %s, the canonical block %d is %s", hash, block, canonical.Hash)
		}
		if block > due+5 {
			t.Fatalf("ticket due at block %d redeemed in block %d", due, block)
		}
		if n := e.redeemedLogs(nt); n != 1 {
			t.Fatalf("%d WinningTicketRedeemed logs of the ticket on the final chain, want 1", n)
		}
	}
	e.checkAmountsInvariant()
}

// TestDroppedOnlyAfterConfirmations: a redemption's nonce taken by another
// transaction of the account is not called dropped on one read: a run whose
// receipt lookups fail fails, and a nonce seen used with no receipt of ours
// is watched for Confirmations blocks first. Its ticket then goes back to
// the queue uncharged and is redeemed; the other sender's ticket, in the
// next nonce, is redeemed meanwhile.
func TestDroppedOnlyAfterConfirmations(t *testing.T) {
	const confirmations = 3
	const backoff = time.Hour // a drop is not the ticket's fault: no backoff applies
	e := newEnv(t, envOpts{cfg: Config{Confirmations: confirmations, MaxBatch: 1, RetryBackoff: backoff},
		proxy: &nodeproxy.Options{}})
	a, b := e.dc.Senders()[0], e.dc.Senders()[1]
	due := e.head().Number + 1
	x, y := e.queue(a.Key, face, due), e.queue(b.Key, face, due)
	e.step()
	type claim struct {
		id    int64
		nonce uint64
		fee   string
		tip   string
	}
	var claims []claim
	rows, err := e.st.Pool().Query(e.ctx, `SELECT r.id, r.nonce, a.max_fee_per_gas::text, a.max_priority_fee_per_gas::text
		FROM redemptions r JOIN tx_attempts a ON a.redemption_id = r.id ORDER BY r.nonce`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c claim
		if err := rows.Scan(&c.id, &c.nonce, &c.fee, &c.tip); err != nil {
			t.Fatal(err)
		}
		claims = append(claims, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(claims) != 2 {
		t.Fatalf("%d redemptions, want one per ticket", len(claims))
	}
	victim, other := x, y
	if e.get(y).RedemptionID == claims[0].id {
		victim, other = y, x
	}

	// Another transaction of the redemption account takes the victim's
	// nonce: it replaces the redemption in the node's pool.
	redeemer := e.dc.Redeemer()
	to := redeemer.Address
	tx, err := types.SignNewTx(redeemer.Key, types.LatestSignerForChainID(e.dc.ChainID()), &types.DynamicFeeTx{
		ChainID: e.dc.ChainID(), Nonce: claims[0].nonce, To: &to, Gas: 21_000,
		GasTipCap: times(bigOrNil(t, &claims[0].tip), 2), GasFeeCap: times(bigOrNil(t, &claims[0].fee), 2),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.dc.Client().SendTransaction(e.ctx, tx); err != nil {
		t.Fatal(err)
	}
	rc := e.waitMined(tx.Hash())
	seen := e.head()
	if seen.Number != rc.BlockNumber.Uint64() {
		t.Fatalf("test setup: head %d, the other transaction mined in %d", seen.Number, rc.BlockNumber)
	}

	// A node that fails every receipt lookup: the run fails and drops
	// nothing.
	if err := e.proxy.SetOptions(nodeproxy.Options{
		MethodFaults: map[string]nodeproxy.Faults{"eth_getTransactionReceipt": {RPCError: 1}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.runStage(e.track, seen, false); err == nil {
		t.Fatal("the track stage ran without receipts and reported success")
	}
	if status, _, _ := e.redemptionOf(victim); status != string(store.RedemptionPending) {
		t.Fatalf("redemption %s after a run without receipts, want pending", status)
	}
	if err := e.proxy.SetOptions(nodeproxy.Options{}); err != nil {
		t.Fatal(err)
	}

	// The nonce is used and no receipt of the victim's exists: dropped
	// only once that held for Confirmations blocks.
	e.mustRun(e.track, seen)
	victimRedemption := claims[0].id
	for {
		// The victim's first redemption by id: once dropped, its ticket
		// is claimed again at once, by a new one.
		var status string
		if err := e.st.Pool().QueryRow(e.ctx, `SELECT status FROM redemptions WHERE id = $1`, victimRedemption).Scan(&status); err != nil {
			t.Fatal(err)
		}
		h := e.head()
		if h.Number < seen.Number+confirmations {
			if status != string(store.RedemptionPending) {
				t.Fatalf("redemption %s at block %d, %d blocks after its nonce was seen used; want pending for %d",
					status, h.Number, h.Number-seen.Number, confirmations)
			}
		} else {
			if status != string(store.RedemptionDropped) {
				t.Fatalf("redemption %s at block %d, %d blocks after its nonce was seen used; want dropped",
					status, h.Number, h.Number-seen.Number)
			}
			break
		}
		e.step()
	}
	got := e.get(victim)
	if got.Status != store.StatusQueued && got.Status != store.StatusRedeeming {
		t.Fatalf("dropped redemption's ticket %s (%s), want back in the queue", got.Status, got.LastError)
	}
	if got.Attempts != 0 || !strings.Contains(strings.Join(e.ticketEvents(victim), "\n"), "was used by another transaction") {
		t.Fatalf("dropped redemption's ticket after %d attempts, events %v: want uncharged, with the reason",
			got.Attempts, e.ticketEvents(victim))
	}
	for i := 0; i < 3 && e.get(victim).Status != store.StatusRedeemed; i++ {
		// Back in the queue, claimable at once: the drop was not its
		// fault, so it waits no backoff (no sleep here).
		e.step()
	}
	if got := e.get(victim); got.Status != store.StatusRedeemed {
		t.Fatalf("ticket %s (%s), want redeemed by a new redemption", got.Status, got.LastError)
	}
	if got := e.get(other); got.Status != store.StatusRedeemed {
		t.Fatalf("other ticket %s (%s), want redeemed", got.Status, got.LastError)
	}
	if _, mined, _ := e.redemptionOf(other); mined > due+5 {
		t.Fatalf("other ticket due at block %d redeemed in block %d", due, mined)
	}
	for _, nt := range []store.NewTicket{victim, other} {
		if n := e.redeemedLogs(nt); n != 1 {
			t.Fatalf("%d WinningTicketRedeemed logs of a ticket, want 1", n)
		}
	}
	e.checkAmountsInvariant()
}
