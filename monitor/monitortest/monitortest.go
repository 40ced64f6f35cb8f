// Package monitortest drives the dev chain the way broadcasters, the
// redeemer and governance change sender state, one block per action, for
// tests of max float tracking.
package monitortest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/store"
)

// Chain is a dev chain with actions. Every action mines its transaction in
// a block of its own and fails the test unless asked to report a revert.
type Chain struct {
	*devchain.Chain
	t     testing.TB
	nonce atomic.Uint32
}

// NewChain starts a dev chain that is closed when the test ends.
func NewChain(t testing.TB, opts devchain.Options) *Chain {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dc, err := devchain.New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	return &Chain{Chain: dc, t: t}
}

// ErrReverted marks an action the contract refused.
var ErrReverted = errors.New("transaction reverted")

// send mines the transaction built by tx as from and returns its block's
// hash, or an error wrapping ErrReverted when the contract refuses it.
func (c *Chain) send(from devchain.Account, value *big.Int, tx func(*bind.TransactOpts) (*types.Transaction, error)) (common.Hash, error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	auth := c.Transactor(from)
	auth.Context = ctx
	auth.Value = value
	t, err := tx(auth)
	if err != nil {
		// The binding estimates gas first; a call that would revert fails
		// here and never reaches the chain.
		return common.Hash{}, fmt.Errorf("%w: %v", ErrReverted, err)
	}
	block := c.Commit()
	r, err := c.Client().TransactionReceipt(ctx, t.Hash())
	if err != nil {
		c.t.Fatalf("receipt of %s: %v", t.Hash(), err)
	}
	if r.Status != types.ReceiptStatusSuccessful {
		return block, fmt.Errorf("%w in block %s", ErrReverted, r.BlockNumber)
	}
	return block, nil
}

func (c *Chain) must(block common.Hash, err error) common.Hash {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
	return block
}

// FundDeposit adds amount to sender's deposit.
func (c *Chain) FundDeposit(sender devchain.Account, amount *big.Int) common.Hash {
	c.t.Helper()
	return c.must(c.send(sender, amount, c.Protocol().TicketBroker().FundDeposit))
}

// FundReserve adds amount to sender's reserve.
func (c *Chain) FundReserve(sender devchain.Account, amount *big.Int) common.Hash {
	c.t.Helper()
	return c.must(c.send(sender, amount, c.Protocol().TicketBroker().FundReserve))
}

// Unlock starts sender's unlock period.
func (c *Chain) Unlock(sender devchain.Account) error {
	c.t.Helper()
	_, err := c.send(sender, nil, c.Protocol().TicketBroker().Unlock)
	return err
}

// CancelUnlock ends sender's unlock period.
func (c *Chain) CancelUnlock(sender devchain.Account) error {
	c.t.Helper()
	_, err := c.send(sender, nil, c.Protocol().TicketBroker().CancelUnlock)
	return err
}

// Withdraw takes sender's deposit and reserve out once its unlock ended.
func (c *Chain) Withdraw(sender devchain.Account) error {
	c.t.Helper()
	_, err := c.send(sender, nil, c.Protocol().TicketBroker().Withdraw)
	return err
}

// SetPoolSize overrides the transcoder pool size.
func (c *Chain) SetPoolSize(n int64) common.Hash {
	c.t.Helper()
	return c.must(c.send(c.Owner(), nil, func(o *bind.TransactOpts) (*types.Transaction, error) {
		return c.Protocol().BondingManager().SetTranscoderPoolSize(o, big.NewInt(n))
	}))
}

// SetActive activates or deactivates a transcoder (which moves the pool
// size by one).
func (c *Chain) SetActive(a common.Address, active bool) common.Hash {
	c.t.Helper()
	return c.must(c.send(c.Owner(), nil, func(o *bind.TransactOpts) (*types.Transaction, error) {
		return c.Protocol().BondingManager().SetActiveTranscoder(o, a, active)
	}))
}

// InitializeRound initializes the current round if it is not yet, as an
// orchestrator would; redemptions revert until it is.
func (c *Chain) InitializeRound() {
	c.t.Helper()
	ok, err := c.Protocol().CurrentRoundInitialized(context.Background())
	if err != nil {
		c.t.Fatal(err)
	}
	if ok {
		return
	}
	c.must(c.send(c.Owner(), nil, c.Protocol().RoundsManager().InitializeRound))
}

// Redeem has the redeemer account redeem a winning ticket of faceValue from
// sender to recipient, created in the current round.
func (c *Chain) Redeem(sender devchain.Account, recipient common.Address, faceValue *big.Int) error {
	c.t.Helper()
	_, err := c.RedeemTicket(sender, recipient, faceValue)
	return err
}

// RedeemTicket is Redeem that also returns the ticket's hash, the key under
// which the service records tickets redeemed on chain.
func (c *Chain) RedeemTicket(sender devchain.Account, recipient common.Address, faceValue *big.Int) (common.Hash, error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := c.Protocol()
	round, err := p.CurrentRound(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	bh, err := p.BlockHashForRound(ctx, round)
	if err != nil {
		c.t.Fatal(err)
	}
	n := c.nonce.Add(1)
	rand := new(big.Int).SetBytes(crypto.Keccak256([]byte(c.t.Name()), big.NewInt(int64(n)).Bytes()))
	tk := chain.Ticket{
		Recipient: recipient, Sender: sender.Address, FaceValue: faceValue, WinProb: chain.MaxWinProb,
		SenderNonce: n, RecipientRandHash: chain.RandHash(rand), CreationRound: round.Int64(),
		CreationRoundBlockHash: bh,
	}
	sig, err := chain.Sign(tk.Hash(), sender.Key)
	if err != nil {
		c.t.Fatal(err)
	}
	_, err = c.send(c.Redeemer(), nil, func(o *bind.TransactOpts) (*types.Transaction, error) {
		return p.TicketBroker().RedeemWinningTicket(o, chain.BrokerTicket(&tk), sig, rand)
	})
	return tk.Hash(), err
}

// Head returns the latest block as the poller would deliver it (the dev
// chain's L1 number is its block number).
func (c *Chain) Head() chain.Head {
	c.t.Helper()
	return c.HeadAt(nil)
}

// HeadAt returns the canonical block at number (nil: the latest).
func (c *Chain) HeadAt(number *big.Int) chain.Head {
	c.t.Helper()
	h, err := c.Client().HeaderByNumber(context.Background(), number)
	if err != nil {
		c.t.Fatal(err)
	}
	return chain.Head{Number: h.Number.Uint64(), Hash: h.Hash(), ParentHash: h.ParentHash, L1Number: h.Number.Uint64(), Time: h.Time}
}

// Ether returns n ether in wei.
func Ether(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), devchain.Ether) }

// Milli returns n thousandths of an ether in wei.
func Milli(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e15)) }

// InsertTicket stores a ticket of faceValue from sender as intake would
// (the signature is not checked here), which makes the sender tracked.
func InsertTicket(t testing.TB, ctx context.Context, st *store.Store, sender, recipient common.Address, faceValue *big.Int) *store.Ticket {
	t.Helper()
	var rnd [32]byte
	rand.Read(rnd[:])
	return InsertTicketHash(t, ctx, st, crypto.Keccak256Hash(sender[:], rnd[:]), sender, recipient, faceValue)
}

// InsertTicketHash is InsertTicket under a given ticket hash: a copy of a
// ticket the chain knows by that hash.
func InsertTicketHash(t testing.TB, ctx context.Context, st *store.Store, hash common.Hash, sender, recipient common.Address,
	faceValue *big.Int) *store.Ticket {
	t.Helper()
	var rnd [32]byte
	rand.Read(rnd[:])
	nt := store.NewTicket{
		TicketHash: hash, Sender: sender, Recipient: recipient, FaceValue: faceValue, WinProb: chain.MaxWinProb,
		RecipientRand: rnd, RecipientRandHash: chain.RandHash(new(big.Int).SetBytes(rnd[:])),
		Sig: make([]byte, chain.SigLength), CreationRound: 1, CreationRoundBlockHash: hash, ParamsExpirationBlock: 1,
	}
	if _, err := st.InsertTicket(ctx, nt); err != nil {
		t.Fatal(err)
	}
	tk, err := st.TicketByHash(ctx, hash)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// Claimed is a redemption Claim made: its ids and tickets.
type Claimed struct {
	store.Claimed
	Tickets []store.Ticket
	TxHash  [32]byte
}

// Claim moves tickets into limbo the way the claim stage does (locking
// them, taking a nonce and inserting the redemption with a stand-in signed
// transaction, in one transaction), which announces their senders' float
// changes.
func Claim(t testing.TB, ctx context.Context, st *store.Store, tickets ...*store.Ticket) *Claimed {
	t.Helper()
	ids := make([]int64, len(tickets))
	for i, tk := range tickets {
		ids[i] = tk.ID
	}
	var out Claimed
	err := st.InTx(ctx, func(q store.Q) error {
		locked, err := q.LockQueuedTickets(ctx, ids)
		if err != nil {
			return err
		}
		nonce, err := q.TakeNonce(ctx, devchain.DevAccount("redeemer").Address, 0)
		if err != nil {
			return err
		}
		var a store.AttemptTx
		rand.Read(a.TxHash[:])
		a.Raw, a.GasLimit, a.FeeCap, a.TipCap = []byte{1}, 100_000, big.NewInt(2), big.NewInt(1)
		cts := make([]store.ClaimedTicket, len(locked))
		for i, tk := range locked {
			cts[i] = store.ClaimedTicket{ID: tk.ID, Sender: tk.Sender, FaceValue: tk.FaceValue, ExpectedPayout: tk.FaceValue}
		}
		out.Claimed, err = q.InsertRedemption(ctx, store.NewRedemption{Account: devchain.DevAccount("redeemer").Address,
			Nonce: nonce, HeadNumber: 1, Tx: a, Tickets: cts})
		out.Tickets, out.TxHash = locked, a.TxHash
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tickets) != len(tickets) {
		t.Fatalf("claimed %d tickets, want all %d", len(out.Tickets), len(tickets))
	}
	return &out
}

// Settle records a claimed redemption as mined and confirmed with every
// ticket redeemed, which takes them out of limbo.
func Settle(t testing.TB, ctx context.Context, st *store.Store, c *Claimed) {
	t.Helper()
	outcomes := make([]store.TicketOutcome, len(c.Tickets))
	for i, tk := range c.Tickets {
		outcomes[i] = store.TicketOutcome{TicketID: tk.ID, Status: store.StatusRedeemed, Reason: "redeemed", Paid: tk.FaceValue}
	}
	mined := store.Mined{TxHash: c.TxHash, Block: 2, ReceiptStatus: 1, GasUsed: 100_000, EffectiveGasPrice: big.NewInt(1)}
	rand.Read(mined.BlockHash[:])
	err := st.InTx(ctx, func(q store.Q) error {
		if err := q.MarkMined(ctx, c.RedemptionID, mined); err != nil {
			return err
		}
		return q.Settle(ctx, store.Settlement{RedemptionID: c.RedemptionID, Status: store.RedemptionConfirmed,
			FinalBlock: 2, Outcome: "confirmed", Tickets: outcomes})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TerminateListeners ends every LISTEN session of the service on st's
// database, as a network fault or a DBA would, and waits until they are
// gone. A subscriber may get its first value before its listener session is
// up (the first value is read directly), so it first waits for a session.
func TerminateListeners(t testing.TB, ctx context.Context, st *store.Store) {
	t.Helper()
	sessions := func(q string) int {
		var n int
		if err := st.Pool().QueryRow(ctx, q, store.ListenerApplicationName).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const where = ` FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`
	for deadline := time.Now().Add(10 * time.Second); sessions(`SELECT count(pg_terminate_backend(pid))`+where) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no listener session to terminate")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for deadline := time.Now().Add(5 * time.Second); sessions(`SELECT count(*)`+where) > 0; {
		if time.Now().After(deadline) {
			t.Fatal("listener sessions survived pg_terminate_backend")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
