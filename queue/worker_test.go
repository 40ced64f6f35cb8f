package queue

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/jackc/pgx/v5/pgtype"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/store"
	"redeemer/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// env is a worker on a fresh dev chain and database. Heads are handed to the
// worker by the test, one per mined block, so every step is deterministic.
type env struct {
	t       *testing.T
	ctx     context.Context
	dc      *devchain.Chain
	st      *store.Store
	w       *Worker
	backend *faultyBackend
	nonce   uint32
}

type envOpts struct {
	cfg   Config
	chain devchain.Options
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	ctx := context.Background()
	dc, err := devchain.New(ctx, o.chain)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	st := storetest.NewStore(t)
	cfg := o.cfg
	cfg.Recipient = dc.Recipient().Address
	cfg.Signer = chain.NewTxSigner(dc.Redeemer().Key, dc.ChainID())
	if cfg.Confirmations == 0 {
		cfg.Confirmations = 1
	}
	backend := &faultyBackend{Backend: dc.Client()}
	w, err := New(cfg, st, backend, dc.Protocol())
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: ctx, dc: dc, st: st, w: w, backend: backend}
}

// faultyBackend is the real chain client with one fault a test can turn on:
// swallowing broadcasts, as a node that drops a transaction from its pool.
type faultyBackend struct {
	Backend
	mu      sync.Mutex
	swallow int
}

func (f *faultyBackend) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	f.mu.Lock()
	if f.swallow > 0 {
		f.swallow--
		f.mu.Unlock()
		return nil
	}
	f.mu.Unlock()
	return f.Backend.SendTransaction(ctx, tx)
}

// head returns the latest block as the poller would deliver it.
func (e *env) head() chain.Head {
	e.t.Helper()
	h, err := e.dc.Client().HeaderByNumber(e.ctx, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return chain.Head{Number: h.Number.Uint64(), Hash: h.Hash(), ParentHash: h.ParentHash, L1Number: h.Number.Uint64(), Time: h.Time}
}

// step mines a block and hands it to the worker.
func (e *env) step() chain.Head {
	e.t.Helper()
	e.dc.Commit()
	h := e.head()
	if err := e.w.HandleHead(e.ctx, chain.HeadEvent{Head: h}); err != nil {
		e.t.Fatalf("HandleHead(%d): %v", h.Number, err)
	}
	return h
}

// queue stores a winning ticket from key, due at block dueAt, in the
// current round, exactly as intake would after validating it.
func (e *env) queue(key *ecdsa.PrivateKey, face *big.Int, dueAt uint64) store.NewTicket {
	e.t.Helper()
	p := e.dc.Protocol()
	round, err := p.CurrentRound(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	bh, err := p.BlockHashForRound(e.ctx, round)
	if err != nil {
		e.t.Fatal(err)
	}
	e.nonce++
	rand := new(big.Int).SetBytes(crypto.Keccak256([]byte(e.t.Name()), big.NewInt(int64(e.nonce)).Bytes()))
	tk := chain.Ticket{
		Recipient: e.dc.Recipient().Address, Sender: crypto.PubkeyToAddress(key.PublicKey),
		FaceValue: face, WinProb: chain.MaxWinProb, SenderNonce: e.nonce,
		RecipientRandHash: chain.RandHash(rand), CreationRound: round.Int64(), CreationRoundBlockHash: bh,
		ParamsExpirationBlock: new(big.Int).SetUint64(dueAt),
	}
	hash := tk.Hash()
	sig, err := chain.Sign(hash, key)
	if err != nil {
		e.t.Fatal(err)
	}
	nt := store.NewTicket{
		TicketHash: hash, Sender: tk.Sender, Recipient: tk.Recipient, FaceValue: face, WinProb: tk.WinProb,
		SenderNonce: tk.SenderNonce, RecipientRand: chain.Word32(rand), RecipientRandHash: tk.RecipientRandHash,
		Sig: sig, CreationRound: tk.CreationRound, CreationRoundBlockHash: bh, ParamsExpirationBlock: int64(dueAt),
	}
	if _, err := e.st.InsertTicket(e.ctx, nt); err != nil {
		e.t.Fatal(err)
	}
	return nt
}

func (e *env) ticket(nt store.NewTicket) *store.Ticket {
	e.t.Helper()
	t, err := e.st.TicketByHash(e.ctx, nt.TicketHash)
	if err != nil {
		e.t.Fatal(err)
	}
	return t
}

func (e *env) limbo(sender common.Address) *big.Int {
	e.t.Helper()
	v, err := e.st.SenderLimbo(e.ctx, sender)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

// fees is a's fee pool in BondingManager, where winning tickets are paid.
func (e *env) fees(a common.Address) *big.Int {
	e.t.Helper()
	v, err := e.dc.Protocol().PendingFees(e.ctx, a)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func (e *env) balance(a common.Address) *big.Int {
	e.t.Helper()
	b, err := e.dc.Client().BalanceAt(e.ctx, a, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// checkLimboInvariant: every sender's stored in-limbo amount equals the sum
// of its redeeming tickets (DESIGN.md invariant 2).
func (e *env) checkLimboInvariant() {
	e.t.Helper()
	var bad int
	err := e.st.Pool().QueryRow(e.ctx, `
		SELECT count(*) FROM (
			SELECT coalesce(l.sender, t.sender) AS sender, coalesce(l.amount, 0) AS stored, coalesce(t.sum, 0) AS actual
			FROM sender_limbo l
			FULL JOIN (SELECT sender, sum(face_value) FROM tickets WHERE status = 'redeeming' GROUP BY sender) t
			  ON t.sender = l.sender) x
		WHERE stored <> actual`).Scan(&bad)
	if err != nil {
		e.t.Fatal(err)
	}
	if bad != 0 {
		e.t.Fatalf("%d senders have a stored in-limbo amount that differs from their redeeming tickets", bad)
	}
}

var milliEther = big.NewInt(1e15)

func TestRedeemsExactlyWhenDue(t *testing.T) {
	e := newEnv(t, envOpts{})
	sender := e.dc.Senders()[0]
	recipient := e.dc.Recipient().Address
	before := e.fees(recipient)

	now := e.head().Number
	first := e.queue(sender.Key, milliEther, now+2)
	second := e.queue(sender.Key, new(big.Int).Mul(milliEther, big.NewInt(3)), now+4)

	e.step() // now+1: nothing due
	if s := e.ticket(first).Status; s != store.StatusQueued {
		t.Fatalf("first ticket %s one block before it is due", s)
	}
	e.step() // now+2: first is due and claimed
	if s := e.ticket(first).Status; s != store.StatusRedeeming {
		t.Fatalf("first ticket %s when due, want redeeming", s)
	}
	if got := e.limbo(sender.Address); got.Cmp(milliEther) != 0 {
		t.Fatalf("in limbo %s while the first ticket is pending, want %s", got, milliEther)
	}
	e.checkLimboInvariant()
	e.step() // now+3: mined in this block, 1 confirmation: settled
	if s := e.ticket(first).Status; s != store.StatusRedeemed {
		t.Fatalf("first ticket %s after its transaction mined, want redeemed (%s)", s, e.ticket(first).LastError)
	}
	if s := e.ticket(second).Status; s != store.StatusQueued {
		t.Fatalf("second ticket %s before it is due", s)
	}
	if got := e.limbo(sender.Address); got.Sign() != 0 {
		t.Fatalf("in limbo %s after settlement, want 0", got)
	}
	e.step() // now+4: second due
	e.step()
	if s := e.ticket(second).Status; s != store.StatusRedeemed {
		t.Fatalf("second ticket %s, want redeemed (%s)", s, e.ticket(second).LastError)
	}
	gain := new(big.Int).Sub(e.fees(recipient), before)
	if want := new(big.Int).Mul(milliEther, big.NewInt(4)); gain.Cmp(want) != 0 {
		t.Fatalf("recipient fees rose by %s, want the face values %s", gain, want)
	}
	for _, nt := range []store.NewTicket{first, second} {
		used, err := e.dc.Protocol().IsTicketUsed(e.ctx, nt.TicketHash)
		if err != nil || !used {
			t.Fatalf("ticket %x not used on chain: %v", nt.TicketHash, err)
		}
	}
	e.checkLimboInvariant()
}

func TestBatchRedemption(t *testing.T) {
	e := newEnv(t, envOpts{cfg: Config{MaxBatch: 10}})
	now := e.head().Number
	var tickets []store.NewTicket
	for i := 0; i < 4; i++ {
		tickets = append(tickets, e.queue(e.dc.Senders()[i%2].Key, milliEther, now+1))
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
		if tk := e.ticket(nt); tk.Status != store.StatusRedeemed {
			t.Fatalf("ticket %d %s, want redeemed (%s)", tk.ID, tk.Status, tk.LastError)
		}
	}
	e.checkLimboInvariant()
}

func TestUnpaidTicketsEndWithReasons(t *testing.T) {
	e := newEnv(t, envOpts{cfg: Config{MaxAttempts: 1, RetryBackoff: time.Hour}})
	now := e.head().Number
	sender := e.dc.Senders()[0]

	uneconomic := e.queue(sender.Key, big.NewInt(1), now+1)

	// A ticket someone else already redeemed.
	used := e.queue(sender.Key, milliEther, now+1)
	tk := e.ticket(used)
	st := SignedTicket(tk)
	if _, err := e.dc.Protocol().TicketBroker().RedeemWinningTicket(e.dc.Transactor(e.dc.Owner()),
		chain.BrokerTicket(&st.Ticket), st.Sig, st.RecipientRand); err != nil {
		t.Fatal(err)
	}

	// A ticket whose redemption reverts: its sender has no funds at all.
	broke, err := crypto.ToECDSA(crypto.Keccak256([]byte("a sender with nothing")))
	if err != nil {
		t.Fatal(err)
	}
	reverting := e.queue(broke, milliEther, now+1)

	e.step()
	checks := []struct {
		nt     store.NewTicket
		status string
		reason string
	}{
		{uneconomic, store.StatusQueued, "uneconomic"},
		{used, store.StatusFailed, "already used on chain"},
		{reverting, store.StatusFailed, "would revert"},
	}
	for _, c := range checks {
		got := e.ticket(c.nt)
		if got.Status != c.status || !strings.Contains(got.LastError, c.reason) {
			t.Errorf("ticket %d: %s %q, want %s with %q", got.ID, got.Status, got.LastError, c.status, c.reason)
		}
	}
	if e.ticket(uneconomic).NextAttemptAt == nil {
		t.Error("an uneconomic ticket must be scheduled for a retry")
	}
}

func TestExpiredTicketsEnd(t *testing.T) {
	e := newEnv(t, envOpts{})
	nt := e.queue(e.dc.Senders()[0].Key, milliEther, e.head().Number+1000)
	for i := 0; i < 2; i++ {
		if _, err := e.dc.AdvanceRound(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	e.step()
	got := e.ticket(nt)
	if got.Status != store.StatusExpired || !strings.Contains(got.LastError, "validity period") {
		t.Fatalf("ticket %s %q, want expired past the validity period", got.Status, got.LastError)
	}
}

// TestStuckTransactionIsRepriced: the node drops the first broadcast; after
// RepriceAfter blocks a replacement with higher fees at the same nonce is
// committed, sent and mined.
func TestStuckTransactionIsRepriced(t *testing.T) {
	e := newEnv(t, envOpts{cfg: Config{RepriceAfter: 3}})
	e.backend.swallow = 1
	nt := e.queue(e.dc.Senders()[0].Key, milliEther, e.head().Number+1)
	e.step()
	for i := 0; i < 3; i++ {
		if s := e.ticket(nt).Status; s != store.StatusRedeeming {
			t.Fatalf("ticket %s while its transaction is stuck", s)
		}
		e.step()
	}
	e.step()
	got := e.ticket(nt)
	if got.Status != store.StatusRedeemed {
		t.Fatalf("ticket %s (%s), want redeemed by the re-priced transaction", got.Status, got.LastError)
	}
	rows, err := e.st.Pool().Query(e.ctx, `SELECT r.nonce, a.max_fee_per_gas, a.max_priority_fee_per_gas, a.tx_hash = r.mined_tx_hash
		FROM tx_attempts a JOIN redemptions r ON r.id = a.redemption_id ORDER BY a.id`)
	if err != nil {
		t.Fatal(err)
	}
	type att struct {
		nonce    int64
		fee, tip pgtype.Numeric
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
	if len(atts) != 2 {
		t.Fatalf("%d attempts, want the original and one replacement", len(atts))
	}
	if atts[0].nonce != atts[1].nonce || atts[0].wasMined || !atts[1].wasMined {
		t.Fatalf("attempts %+v: want the same nonce, the replacement mined", atts)
	}
	if atts[1].fee.Int.Cmp(atts[0].fee.Int) <= 0 || atts[1].tip.Int.Cmp(atts[0].tip.Int) <= 0 {
		t.Fatalf("replacement fees did not rise: %+v", atts)
	}
	e.checkLimboInvariant()
}

// TestReorgOfRedemptionBlock: the block holding a redemption is replaced by
// a longer branch; the redemption goes back to pending and ends redeemed
// once, in the new chain.
func TestReorgOfRedemptionBlock(t *testing.T) {
	e := newEnv(t, envOpts{cfg: Config{Confirmations: 3}})
	nt := e.queue(e.dc.Senders()[0].Key, milliEther, e.head().Number+1)
	claimHead := e.step()
	minedHead := e.step()
	var minedHash []byte
	if err := e.st.Pool().QueryRow(e.ctx, `SELECT mined_block_hash FROM redemptions`).Scan(&minedHash); err != nil {
		t.Fatal(err)
	}
	if common.BytesToHash(minedHash) != minedHead.Hash {
		t.Fatalf("redemption recorded in %x, want block %s", minedHash, minedHead.Hash)
	}

	// Replace the block that mined it with a longer branch.
	if err := e.dc.Backend().Fork(claimHead.Hash); err != nil {
		t.Fatal(err)
	}
	e.dc.Commit()
	e.dc.Commit()
	h := e.head()
	if err := e.w.HandleHead(e.ctx, chain.HeadEvent{Head: h, Removed: []chain.Head{minedHead}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8 && e.ticket(nt).Status != store.StatusRedeemed; i++ {
		e.step()
	}
	got := e.ticket(nt)
	if got.Status != store.StatusRedeemed {
		t.Fatalf("ticket %s (%s) after the reorg, want redeemed", got.Status, got.LastError)
	}
	var finalHash []byte
	if err := e.st.Pool().QueryRow(e.ctx, `SELECT mined_block_hash FROM redemptions WHERE status = 'confirmed'`).Scan(&finalHash); err != nil {
		t.Fatal(err)
	}
	if common.BytesToHash(finalHash) == minedHead.Hash {
		t.Fatal("the redemption is still recorded in the block the reorg removed")
	}
	e.checkLimboInvariant()
}

// TestRecoverRebroadcastsCommittedTransaction: a claim committed but never
// broadcast (the process died in between) reaches the chain after Recover.
func TestRecoverRebroadcastsCommittedTransaction(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.backend.swallow = 1 // the broadcast "never happened"
	nt := e.queue(e.dc.Senders()[0].Key, milliEther, e.head().Number+1)
	e.step()
	// Corrupt the stored in-limbo amount, as if a bug had; Recover must
	// rebuild it from the tickets.
	if _, err := e.st.Pool().Exec(e.ctx, `UPDATE sender_limbo SET amount = amount + 7`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Pool().Exec(e.ctx, `UPDATE tx_attempts SET sent_at = NULL`); err != nil {
		t.Fatal(err)
	}
	w2, err := New(e.w.cfg, e.st, e.dc.Client(), e.dc.Protocol())
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Recover(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.checkLimboInvariant()
	e.w = w2
	e.step()
	if got := e.ticket(nt); got.Status != store.StatusRedeemed {
		t.Fatalf("ticket %s (%s), want redeemed after recovery", got.Status, got.LastError)
	}
	var attempts int
	if err := e.st.Pool().QueryRow(e.ctx, `SELECT count(*) FROM tx_attempts`).Scan(&attempts); err != nil {
		t.Fatal(err)
	}
	if attempts != 1 {
		t.Fatalf("%d attempts: recovery must re-send the stored bytes, not sign anew", attempts)
	}
}
