package queue

import (
	"context"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/store"
)

// face is a face value comfortably above the gas cost of a redemption on
// the dev chain.
var face = new(big.Int).Mul(big.NewInt(10), big.NewInt(1e15))

func times(v *big.Int, n int64) *big.Int { return new(big.Int).Mul(v, big.NewInt(n)) }

// swallowingNode is the real node with one fault a test can turn on:
// reporting broadcasts as accepted without sending them, as a node that
// drops a transaction from its pool does. It keeps what it was asked to
// send.
type swallowingNode struct {
	*chain.Node
	mu      sync.Mutex
	swallow int
	sent    []*types.Transaction
}

func (n *swallowingNode) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	n.mu.Lock()
	n.sent = append(n.sent, tx)
	if n.swallow > 0 {
		n.swallow--
		n.mu.Unlock()
		return nil
	}
	n.mu.Unlock()
	return n.Node.SendTransaction(ctx, tx)
}

func swallowing(s **swallowingNode) func(*chain.Node) Node {
	return func(n *chain.Node) Node {
		*s = &swallowingNode{Node: n}
		return *s
	}
}

func TestRedeemsExactlyWhenDue(t *testing.T) {
	e := newEnv(t, envOpts{})
	sender := e.dc.Senders()[0]
	recipient := e.dc.Recipient().Address
	before := e.fees(recipient)

	now := e.head().Number
	first := e.queue(sender.Key, face, now+2)
	second := e.queue(sender.Key, times(face, 3), now+4)

	e.step() // now+1: nothing due
	if s := e.get(first).Status; s != store.StatusQueued {
		t.Fatalf("first ticket %s one block before it is due", s)
	}
	e.step() // now+2: first is due and claimed
	if s := e.get(first).Status; s != store.StatusRedeeming {
		t.Fatalf("first ticket %s when due, want redeeming (%s)", s, e.get(first).LastError)
	}
	if got := e.limbo(sender.Address); got.Cmp(face) != 0 {
		t.Fatalf("in limbo %s while the first ticket is pending, want %s", got, face)
	}
	e.checkAmountsInvariant()
	e.step() // now+3: mined in this block, 1 confirmation: settled
	if s := e.get(first).Status; s != store.StatusRedeemed {
		t.Fatalf("first ticket %s after its transaction mined, want redeemed (%s)", s, e.get(first).LastError)
	}
	if s := e.get(second).Status; s != store.StatusQueued {
		t.Fatalf("second ticket %s before it is due", s)
	}
	if got := e.limbo(sender.Address); got.Sign() != 0 {
		t.Fatalf("in limbo %s after settlement, want 0", got)
	}
	e.step() // now+4: second due
	e.step()
	if s := e.get(second).Status; s != store.StatusRedeemed {
		t.Fatalf("second ticket %s, want redeemed (%s)", s, e.get(second).LastError)
	}
	gain := new(big.Int).Sub(e.fees(recipient), before)
	if want := times(face, 4); gain.Cmp(want) != 0 {
		t.Fatalf("recipient was paid %s, want the face values %s", gain, want)
	}
	for _, nt := range []store.NewTicket{first, second} {
		used, err := e.dc.Protocol().IsTicketUsed(e.ctx, nt.TicketHash)
		if err != nil || !used {
			t.Fatalf("ticket %x not used on chain: %v", nt.TicketHash, err)
		}
		expected, paid := e.paid(nt)
		if expected == nil || paid == nil || expected.Cmp(nt.FaceValue) != 0 || paid.Cmp(nt.FaceValue) != 0 {
			t.Fatalf("ticket %x: expected payout %v, paid %v, want both the face value %s", nt.TicketHash, expected, paid, nt.FaceValue)
		}
	}
	e.checkAmountsInvariant()
}

func TestBatchRedemption(t *testing.T) {
	e := newEnv(t, envOpts{cfg: Config{MaxBatch: 10}})
	now := e.head().Number
	var tickets []store.NewTicket
	for i := 0; i < 4; i++ {
		tickets = append(tickets, e.queue(e.dc.Senders()[i%2].Key, face, now+1))
	}
	e.step()
	var redemptions, count int
	if err := e.st.Pool().QueryRow(e.ctx, `SELECT count(*), max(ticket_count) FROM redemptions`).Scan(&redemptions, &count); err != nil {
		t.Fatal(err)
	}
	if redemptions != 1 || count != 4 {
		t.Fatalf("%d redemptions with up to %d tickets, want one batch of 4", redemptions, count)
	}
	e.step()
	for _, nt := range tickets {
		if tk := e.get(nt); tk.Status != store.StatusRedeemed {
			t.Fatalf("ticket %d %s, want redeemed (%s)", tk.ID, tk.Status, tk.LastError)
		}
		if n := e.redeemedLogs(nt); n != 1 {
			t.Fatalf("ticket %x has %d WinningTicketRedeemed logs, want 1", nt.TicketHash, n)
		}
	}
	e.checkAmountsInvariant()
}

// TestBatchFitsTheGasCap: a batch whose summed estimates would pass the
// per-transaction gas cap, or the block's gas limit where that is lower (a
// fresh geth --dev chain starts at 11,500,000), is cut to fit, and the rest
// go in the next redemptions at once. A transaction above either is
// refused at broadcast, however often it is sent, and every later nonce
// waits behind it: every redemption here is sent without a refusal, none
// passes the limit, and every ticket is redeemed.
func TestBatchFitsTheGasCap(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    envOpts
		limit   uint64
		tickets int
	}{
		{"cap", envOpts{cfg: Config{MaxBatch: 10, MaxTxGas: 1_500_000}}, 1_500_000, 6},
		{"block gas limit", envOpts{cfg: Config{MaxBatch: 20}, chain: devchain.Options{BlockGasLimit: 3_000_000}}, 3_000_000, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts)
			now := e.head().Number
			var tickets []store.NewTicket
			for i := 0; i < tc.tickets; i++ {
				tickets = append(tickets, e.queue(e.dc.Senders()[i%2].Key, face, now+1))
			}
			for i := 0; i < 6; i++ {
				e.step()
			}
			var redemptions, refused int
			var biggest uint64
			if err := e.st.Pool().QueryRow(e.ctx,
				`SELECT count(DISTINCT redemption_id), max(gas_limit), count(*) FILTER (WHERE send_error IS NOT NULL) FROM tx_attempts`).
				Scan(&redemptions, &biggest, &refused); err != nil {
				t.Fatal(err)
			}
			if biggest > tc.limit {
				t.Fatalf("a redemption with gas limit %d, above the limit %d", biggest, tc.limit)
			}
			if redemptions < 2 || refused > 0 {
				t.Fatalf("%d redemptions for %d tickets, %d sends refused, under a %d gas limit; the batch was not cut",
					redemptions, tc.tickets, refused, tc.limit)
			}
			for _, nt := range tickets {
				if tk := e.get(nt); tk.Status != store.StatusRedeemed {
					t.Fatalf("ticket %d %s, want redeemed (%s)", tk.ID, tk.Status, tk.LastError)
				}
			}
			e.checkAmountsInvariant()
		})
	}
}

// TestUnpaidTicketsEndWithReasons: a claim pass sorts the due tickets it
// cannot redeem by the chain's answer, each with its reason: uneconomic
// waits, a ticket used by someone else fails, a refused one fails at
// MaxAttempts, and a sender with nothing makes its ticket wait uncharged.
func TestUnpaidTicketsEndWithReasons(t *testing.T) {
	e := newEnv(t, envOpts{cfg: Config{MaxAttempts: 1, RetryBackoff: time.Hour}})
	now := e.head().Number
	sender := e.dc.Senders()[0]

	uneconomic := e.queue(sender.Key, big.NewInt(1), now+1)
	used := e.queue(sender.Key, face, now+1)
	// Signed by a key that is not the sender's: the chain refuses it.
	other, err := crypto.ToECDSA(crypto.Keccak256([]byte("not the sender")))
	if err != nil {
		t.Fatal(err)
	}
	forged := e.ticket(sender.Key, face, now+1, other)
	e.insert(forged)
	// A sender with neither deposit nor reserve.
	broke, err := crypto.ToECDSA(crypto.Keccak256([]byte("a sender with nothing")))
	if err != nil {
		t.Fatal(err)
	}
	poor := e.queue(broke, face, now+1)
	e.sync(e.head())

	// Someone else redeems one of them first.
	st := SignedTicket(e.get(used))
	tx, err := e.dc.Protocol().TicketBroker().RedeemWinningTicket(e.dc.Transactor(e.dc.Owner()),
		chain.BrokerTicket(&st.Ticket), st.Sig, st.RecipientRand)
	if err != nil {
		t.Fatal(err)
	}
	e.waitMined(tx.Hash())
	// The claim runs before the senders stage has seen that log: the
	// chain's answer alone must sort it.
	e.claimUntilDone(e.head())

	checks := []struct {
		nt       store.NewTicket
		status   store.TicketStatus
		reason   string
		attempts int
	}{
		{uneconomic, store.StatusQueued, "uneconomic", 0},
		{used, store.StatusFailed, "redeemed on chain by another transaction", 0},
		{forged, store.StatusFailed, "would revert: invalid signature over ticket hash (after 1 attempts)", 1},
		{poor, store.StatusQueued, "sender can pay nothing now", 0},
	}
	for _, c := range checks {
		got := e.get(c.nt)
		if got.Status != c.status || !strings.Contains(got.LastError, c.reason) || got.Attempts != c.attempts {
			t.Errorf("ticket %d: %s %q after %d attempts, want %s with %q after %d", got.ID, got.Status, got.LastError,
				got.Attempts, c.status, c.reason, c.attempts)
		}
	}
	for _, nt := range []store.NewTicket{uneconomic, poor} {
		if e.get(nt).NextAttemptAt == nil {
			t.Errorf("ticket %x waits with no retry time", nt.TicketHash)
		}
	}
	var redemptions int
	if err := e.st.Pool().QueryRow(e.ctx, `SELECT count(*) FROM redemptions`).Scan(&redemptions); err != nil {
		t.Fatal(err)
	}
	if redemptions != 0 {
		t.Fatalf("%d redemptions claimed, want none", redemptions)
	}
	e.checkAmountsInvariant()
}

// TestUnlockedSenderFailsAtOnce: a sender whose unlock period ended can
// never pay: its ticket fails on the first refusal, while another sender's
// ticket of the same pass is redeemed.
func TestUnlockedSenderFailsAtOnce(t *testing.T) {
	e := newEnv(t, envOpts{chain: devchain.Options{UnlockPeriod: 1}})
	a, b := e.dc.Senders()[0], e.dc.Senders()[1]
	if err := e.dc.Unlock(a); err != nil {
		t.Fatal(err)
	}
	due := e.head().Number + 1
	ta, tb := e.queue(a.Key, face, due), e.queue(b.Key, face, due)
	e.sync(e.head())
	if _, err := e.dc.AdvanceRound(e.ctx); err != nil {
		t.Fatal(err)
	}
	h := e.head()
	e.sync(h)
	e.mustRun(e.track, h)
	e.claimUntilDone(h)
	got := e.get(ta)
	if got.Status != store.StatusFailed || got.Attempts != 1 || !strings.Contains(got.LastError, "sender is unlocked") {
		t.Fatalf("unlocked sender's ticket %s after %d attempts (%s); want failed on the first refusal",
			got.Status, got.Attempts, got.LastError)
	}
	e.step()
	if got := e.get(tb); got.Status != store.StatusRedeemed {
		t.Fatalf("other sender's ticket %s (%s), want redeemed", got.Status, got.LastError)
	}
	e.checkAmountsInvariant()
}
func TestExpiredTicketsEnd(t *testing.T) {
	e := newEnv(t, envOpts{})
	nt := e.queue(e.dc.Senders()[0].Key, face, e.head().Number+1000)
	e.sync(e.head())
	for i := 0; i < 2; i++ {
		if _, err := e.dc.AdvanceRound(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	h := e.head()
	e.sync(h)
	e.mustRun(e.expire, h)
	got := e.get(nt)
	if got.Status != store.StatusExpired || !strings.Contains(got.LastError, "validity period") {
		t.Fatalf("ticket %s %q, want expired past the validity period", got.Status, got.LastError)
	}
	e.checkAmountsInvariant()
}

// TestStuckTransactionIsRepriced: the node drops the first broadcast; after
// RepriceAfter blocks a replacement with higher fees at the same nonce is
// committed, sent and mined.
func TestStuckTransactionIsRepriced(t *testing.T) {
	var node *swallowingNode
	e := newEnv(t, envOpts{cfg: Config{RepriceAfter: 3}, wrap: swallowing(&node)})
	node.swallow = 1
	nt := e.queue(e.dc.Senders()[0].Key, face, e.head().Number+1)
	e.step()
	for i := 0; i < 3; i++ {
		if s := e.get(nt).Status; s != store.StatusRedeeming {
			t.Fatalf("ticket %s while its transaction is stuck", s)
		}
		e.step()
	}
	e.step()
	got := e.get(nt)
	if got.Status != store.StatusRedeemed {
		t.Fatalf("ticket %s (%s), want redeemed by the re-priced transaction", got.Status, got.LastError)
	}
	rows, err := e.st.Pool().Query(e.ctx, `SELECT r.nonce, a.max_fee_per_gas::text, a.max_priority_fee_per_gas::text, a.tx_hash = r.mined_tx_hash
		FROM tx_attempts a JOIN redemptions r ON r.id = a.redemption_id ORDER BY a.id`)
	if err != nil {
		t.Fatal(err)
	}
	type att struct {
		nonce    int64
		fee, tip string
		wasMined bool
	}
	var atts []att
	for rows.Next() {
		var a att
		if err := rows.Scan(&a.nonce, &a.fee, &a.tip, &a.wasMined); err != nil {
			t.Fatal(err)
		}
		atts = append(atts, a)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(atts) != 2 {
		t.Fatalf("%d attempts, want the original and one replacement", len(atts))
	}
	if atts[0].nonce != atts[1].nonce || atts[0].wasMined || !atts[1].wasMined {
		t.Fatalf("attempts %+v: want the same nonce, the replacement mined", atts)
	}
	if bigOrNil(t, &atts[1].fee).Cmp(bigOrNil(t, &atts[0].fee)) <= 0 || bigOrNil(t, &atts[1].tip).Cmp(bigOrNil(t, &atts[0].tip)) <= 0 {
		t.Fatalf("replacement fees did not rise: %+v", atts)
	}
	e.checkAmountsInvariant()
}

// TestReorgOfRedemptionBlock: the block holding a redemption is replaced by
// a longer branch; the redemption ends redeemed once, in the new chain.
func TestReorgOfRedemptionBlock(t *testing.T) {
	e := newEnv(t, envOpts{cfg: Config{Confirmations: 3}})
	nt := e.queue(e.dc.Senders()[0].Key, face, e.head().Number+1)
	claimHead := e.step()
	minedHead := e.step()
	if _, _, h := e.redemptionOf(nt); h != minedHead.Hash {
		t.Fatalf("redemption recorded in %s, want block %s", h, minedHead.Hash)
	}

	// Replace the block that mined it with a longer branch.
	if err := e.dc.Backend().Fork(claimHead.Hash); err != nil {
		t.Fatal(err)
	}
	e.dc.Commit()
	for i := 0; i < 8 && e.get(nt).Status != store.StatusRedeemed; i++ {
		e.step()
	}
	got := e.get(nt)
	if got.Status != store.StatusRedeemed {
		t.Fatalf("ticket %s (%s) after the reorg, want redeemed", got.Status, got.LastError)
	}
	status, block, hash := e.redemptionOf(nt)
	if status != string(store.RedemptionConfirmed) || hash == minedHead.Hash {
		t.Fatalf("redemption %s in block %d (%s): want confirmed in the new branch", status, block, hash)
	}
	if canonical := e.dc.HeadAt(new(big.Int).SetUint64(block)); canonical.Hash != hash {
		t.Fatalf("redemption recorded in block %s, the canonical block %d is %s", hash, block, canonical.Hash)
	}
	if n := e.redeemedLogs(nt); n != 1 {
		t.Fatalf("%d WinningTicketRedeemed logs of the ticket on the final chain, want 1", n)
	}
	e.checkAmountsInvariant()
}

// TestRecoverRebroadcastsCommittedTransaction: a claim committed but never
// broadcast (the process died in between) reaches the chain, byte for byte,
// after Recover at the start of the next term; Recover also rebuilds the
// stored amounts from the tickets.
func TestRecoverRebroadcastsCommittedTransaction(t *testing.T) {
	var node *swallowingNode
	e := newEnv(t, envOpts{wrap: swallowing(&node)})
	node.swallow = 1 // the broadcast "never happened"
	nt := e.queue(e.dc.Senders()[0].Key, face, e.head().Number+1)
	e.step()
	if s := e.get(nt).Status; s != store.StatusRedeeming {
		t.Fatalf("ticket %s, want claimed", s)
	}
	// Corrupt the stored amounts, as if a bug had; Recover must rebuild
	// them from the tickets.
	if _, err := e.st.Pool().Exec(e.ctx, `UPDATE sender_limbo SET amount = amount + 7, queued_amount = queued_amount + 3`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Pool().Exec(e.ctx, `UPDATE tx_attempts SET sent_at = NULL`); err != nil {
		t.Fatal(err)
	}
	r2, err := New(e.cfg, e.st, node)
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Recover(e.ctx, e.lease); err != nil {
		t.Fatal(err)
	}
	e.checkAmountsInvariant()
	var raw []byte
	if err := e.st.Pool().QueryRow(e.ctx, `SELECT raw_tx FROM tx_attempts`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	node.mu.Lock()
	if len(node.sent) != 2 {
		t.Fatalf("%d broadcasts, want the swallowed one and the recovery's", len(node.sent))
	}
	again, err := node.sent[1].MarshalBinary()
	node.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(raw) {
		t.Fatal("recovery broadcast other bytes than the committed transaction")
	}
	e.r, e.claim, e.track = r2, r2.ClaimStage(), r2.TrackStage()
	e.step()
	if got := e.get(nt); got.Status != store.StatusRedeemed {
		t.Fatalf("ticket %s (%s), want redeemed after recovery", got.Status, got.LastError)
	}
	var attempts int
	if err := e.st.Pool().QueryRow(e.ctx, `SELECT count(*) FROM tx_attempts`).Scan(&attempts); err != nil {
		t.Fatal(err)
	}
	if attempts != 1 {
		t.Fatalf("%d attempts: recovery must re-send the stored bytes, not sign anew", attempts)
	}
	_, _, hash := e.redemptionOf(nt)
	if hash == (common.Hash{}) {
		t.Fatal("redemption not recorded as mined")
	}
}

// TestReorgAfterSettle: a redemption settled at its confirmations whose
// block then leaves the chain before the finalized block covers it is
// noticed, counted once in reorgs_after_settle and logged at error, and
// followed to the block where its transaction lands on the new branch; its
// ticket is paid once on the final chain and the amounts stay exact.
func TestReorgAfterSettle(t *testing.T) {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOpts{cfg: Config{Confirmations: 1, Metrics: m}})
	nt := e.queue(e.dc.Senders()[0].Key, face, e.head().Number+1)
	claimHead := e.step()
	for i := 0; i < 6 && e.get(nt).Status != store.StatusRedeemed; i++ {
		e.step()
	}
	status, block, settledIn := e.redemptionOf(nt)
	if e.get(nt).Status != store.StatusRedeemed || status != string(store.RedemptionConfirmed) {
		t.Fatalf("ticket %s, redemption %s: want settled before the reorg", e.get(nt).Status, status)
	}
	var finalized *int64
	if err := e.st.Pool().QueryRow(e.ctx, `SELECT finalized_block FROM tickets t JOIN redemptions r ON r.id = t.redemption_id
		WHERE t.ticket_hash = $1`, nt.TicketHash[:]).Scan(&finalized); err != nil {
		t.Fatal(err)
	}
	if finalized != nil {
		t.Fatalf("redemption finalized at %d already; the test needs it settled and not yet final", *finalized)
	}

	// A longer branch from before the block that settled it.
	old := e.head()
	if err := e.dc.Backend().Fork(claimHead.Hash); err != nil {
		t.Fatal(err)
	}
	for range old.Number - claimHead.Number + 1 {
		e.dc.Commit()
	}
	if h := e.dc.HeadAt(new(big.Int).SetUint64(block)); h.Hash == settledIn {
		t.Fatal("test setup: the settling block is still canonical")
	}
	for i := 0; i < 10; i++ {
		e.step()
		if s, _, h := e.redemptionOf(nt); s == string(store.RedemptionConfirmed) && h != settledIn &&
			e.get(nt).Status == store.StatusRedeemed {
			break
		}
	}
	status, block, hash := e.redemptionOf(nt)
	if got := e.get(nt); got.Status != store.StatusRedeemed || status != string(store.RedemptionConfirmed) || hash == settledIn {
		t.Fatalf("ticket %s (%s), redemption %s in %s: want redeemed, confirmed on the new branch", got.Status, got.LastError, status, hash)
	}
	if canonical := e.dc.HeadAt(new(big.Int).SetUint64(block)); canonical.Hash != hash {
		t.Fatalf("redemption recorded in block %s, the canonical block %d is %s", hash, block, canonical.Hash)
	}
	if n := testutil.ToFloat64(m.ReorgsAfterSettle); n != 1 {
		t.Fatalf("reorgs_after_settle %v, want 1", n)
	}
	moved := len(e.logs.logged(slog.LevelError, "settled redemption moved to another block before it was finalized"))
	reopened := len(e.logs.logged(slog.LevelError, "settled redemption re-opened after a reorg"))
	if moved+reopened == 0 {
		t.Fatal("the lost settling block was not logged at error")
	}
	if n := e.redeemedLogs(nt); n != 1 {
		t.Fatalf("%d WinningTicketRedeemed logs of the ticket on the final chain, want 1", n)
	}
	e.checkAmountsInvariant()
}
