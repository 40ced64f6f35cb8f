package chain_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"math/big"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"redeemer/chain"
	"redeemer/chain/contracts"
	"redeemer/chain/devchain"
)

func eth(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), devchain.Ether) }

type env struct {
	t      *testing.T
	ctx    context.Context
	c      *devchain.Chain
	p      *chain.Protocol
	broker *contracts.TicketBroker
	nonce  uint32
}

func newEnv(t *testing.T, opts devchain.Options) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	c, err := devchain.New(ctx, opts)
	if err != nil {
		t.Fatalf("devchain.New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &env{t: t, ctx: ctx, c: c, p: c.Protocol(), broker: c.Protocol().TicketBroker()}
}

func (e *env) transactor(a devchain.Account) *bind.TransactOpts {
	auth := e.c.Transactor(a)
	auth.Context = e.ctx
	return auth
}

// ticket builds a winning ticket from sender to the chain's recipient in the
// current round. It returns the ticket, its signature and recipientRand.
func (e *env) ticket(sender devchain.Account, faceValue *big.Int) (*chain.Ticket, []byte, *big.Int) {
	e.t.Helper()
	round, err := e.p.CurrentRound(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	hash, err := e.p.BlockHashForRound(e.ctx, round)
	if err != nil {
		e.t.Fatal(err)
	}
	recipientRand := randWord(e.t)
	e.nonce++
	tk := &chain.Ticket{
		Recipient:              e.c.Recipient().Address,
		Sender:                 sender.Address,
		FaceValue:              new(big.Int).Set(faceValue),
		WinProb:                new(big.Int).Set(chain.MaxWinProb),
		SenderNonce:            e.nonce,
		RecipientRandHash:      chain.RandHash(recipientRand),
		CreationRound:          round.Int64(),
		CreationRoundBlockHash: hash,
	}
	return tk, e.sign(tk, sender.Key), recipientRand
}

func (e *env) sign(tk *chain.Ticket, key *ecdsa.PrivateKey) []byte {
	e.t.Helper()
	sig, err := chain.Sign(tk.Hash(), key)
	if err != nil {
		e.t.Fatal(err)
	}
	return sig
}

// redeem submits the ticket as the redeemer account and mines it. A revert
// surfaces either as the gas estimation error (with the reason) or as a
// failed receipt.
func (e *env) redeem(tk *chain.Ticket, sig []byte, recipientRand *big.Int) (*types.Receipt, error) {
	e.t.Helper()
	tx, err := e.broker.RedeemWinningTicket(e.transactor(e.c.Redeemer()), chain.BrokerTicket(tk), sig, recipientRand)
	if err != nil {
		return nil, err
	}
	return e.mine(tx)
}

func (e *env) mine(tx *types.Transaction) (*types.Receipt, error) {
	e.t.Helper()
	e.c.Commit()
	r, err := e.c.Client().TransactionReceipt(e.ctx, tx.Hash())
	if err != nil {
		e.t.Fatalf("receipt %s: %v", tx.Hash(), err)
	}
	if r.Status != types.ReceiptStatusSuccessful {
		return r, errors.New("transaction reverted")
	}
	return r, nil
}

func (e *env) mustMine(what string, tx *types.Transaction, err error) *types.Receipt {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
	r, err := e.mine(tx)
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
	return r
}

func (e *env) balance(a common.Address) *big.Int {
	e.t.Helper()
	b, err := e.c.Client().BalanceAt(e.ctx, a, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// fees is the recipient's fee pool in BondingManager, where winning tickets
// are paid.
func (e *env) fees(a common.Address) *big.Int {
	e.t.Helper()
	v, err := e.p.PendingFees(e.ctx, a)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func (e *env) senderInfo(a common.Address) chain.SenderInfo {
	e.t.Helper()
	info, err := e.p.SenderInfo(e.ctx, a)
	if err != nil {
		e.t.Fatal(err)
	}
	return info
}

func (e *env) claimable(holder, claimant common.Address) *big.Int {
	e.t.Helper()
	v, err := e.p.ClaimableReserve(e.ctx, holder, claimant)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func (e *env) claimed(holder, claimant common.Address) *big.Int {
	e.t.Helper()
	v, err := e.p.ClaimedReserve(e.ctx, holder, claimant)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func (e *env) used(tk *chain.Ticket) bool {
	e.t.Helper()
	u, err := e.p.IsTicketUsed(e.ctx, tk.Hash())
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) setPoolSize(n int64) {
	e.t.Helper()
	tx, err := e.p.BondingManager().SetTranscoderPoolSize(e.transactor(e.c.Owner()), big.NewInt(n))
	e.mustMine("set pool size", tx, err)
}

func (e *env) setActive(a common.Address, active bool) {
	e.t.Helper()
	tx, err := e.p.BondingManager().SetActiveTranscoder(e.transactor(e.c.Owner()), a, active)
	e.mustMine("set active transcoder", tx, err)
}

func wantRevert(t *testing.T, err error, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no revert, want %q", reason)
	}
	if !strings.Contains(err.Error(), reason) {
		t.Fatalf("revert %q, want reason containing %q", err, reason)
	}
}

func wantEq(t *testing.T, what string, got, want *big.Int) {
	t.Helper()
	if got.Cmp(want) != 0 {
		t.Fatalf("%s = %s, want %s", what, got, want)
	}
}

func randWord(t testing.TB) *big.Int {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return new(big.Int).SetBytes(b[:])
}

// livepeerAllocation is go-livepeer's reserve allocation computed from the
// sender info, the pool size and claimedReserve; the contract's
// claimableReserve must agree with it for an active recipient.
func (e *env) livepeerAllocation(holder, claimant common.Address) *big.Int {
	e.t.Helper()
	info := e.senderInfo(holder)
	pool, err := e.p.TranscoderPoolSize(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if pool.Sign() == 0 {
		return new(big.Int)
	}
	alloc := new(big.Int).Add(info.FundsRemaining, info.ClaimedInCurrentRound)
	alloc.Div(alloc, pool)
	alloc.Sub(alloc, e.claimed(holder, claimant))
	if alloc.Sign() < 0 {
		return new(big.Int)
	}
	return alloc
}

type receiptEvents struct {
	transfers []*contracts.TicketBrokerWinningTicketTransfer
	redeemed  []*contracts.TicketBrokerWinningTicketRedeemed
	claims    []*contracts.TicketBrokerReserveClaimed
	unlocks   []*contracts.TicketBrokerUnlock
	cancels   []*contracts.TicketBrokerUnlockCancelled
	withdraws []*contracts.TicketBrokerWithdrawal
	deposits  []*contracts.TicketBrokerDepositFunded
	reserves  []*contracts.TicketBrokerReserveFunded
}

func (e *env) events(r *types.Receipt) receiptEvents {
	var ev receiptEvents
	f := e.broker.TicketBrokerFilterer
	for _, l := range r.Logs {
		if l.Address != e.p.Addresses().TicketBroker {
			continue
		}
		if x, err := f.ParseWinningTicketTransfer(*l); err == nil {
			ev.transfers = append(ev.transfers, x)
		} else if x, err := f.ParseWinningTicketRedeemed(*l); err == nil {
			ev.redeemed = append(ev.redeemed, x)
		} else if x, err := f.ParseReserveClaimed(*l); err == nil {
			ev.claims = append(ev.claims, x)
		} else if x, err := f.ParseUnlock(*l); err == nil {
			ev.unlocks = append(ev.unlocks, x)
		} else if x, err := f.ParseUnlockCancelled(*l); err == nil {
			ev.cancels = append(ev.cancels, x)
		} else if x, err := f.ParseWithdrawal(*l); err == nil {
			ev.withdraws = append(ev.withdraws, x)
		} else if x, err := f.ParseDepositFunded(*l); err == nil {
			ev.deposits = append(ev.deposits, x)
		} else if x, err := f.ParseReserveFunded(*l); err == nil {
			ev.reserves = append(ev.reserves, x)
		} else {
			e.t.Fatalf("unknown TicketBroker log topic %s", l.Topics[0])
		}
	}
	return ev
}

// eventNames names the receipt's logs in order, by the ABI of the contract
// that emitted each: the dev contracts and BondingManager's.
func (e *env) eventNames(r *types.Receipt) []string {
	e.t.Helper()
	var names []string
	for _, l := range r.Logs {
		md := map[common.Address]*bind.MetaData{
			e.p.Addresses().TicketBroker:   contracts.TicketBrokerMetaData,
			e.p.Addresses().BondingManager: contracts.BondingManagerMetaData,
			e.p.Addresses().RoundsManager:  contracts.RoundsManagerMetaData,
		}[l.Address]
		if md == nil {
			e.t.Fatalf("log from unknown contract %s", l.Address)
		}
		a, err := md.GetAbi()
		if err != nil {
			e.t.Fatal(err)
		}
		ev, err := a.EventByID(l.Topics[0])
		if err != nil {
			e.t.Fatalf("log topic %s of %s: %v", l.Topics[0], l.Address, err)
		}
		names = append(names, ev.Name)
	}
	return names
}

func TestTicketHashMatchesContract(t *testing.T) {
	e := newEnv(t, devchain.Options{})
	rng := mrand.New(mrand.NewPCG(1, 2))
	randInt := func(bits int) *big.Int {
		switch rng.IntN(4) {
		case 0:
			return new(big.Int)
		case 1:
			return new(big.Int).Set(chain.MaxWinProb)
		}
		v := randWord(t)
		return v.Rsh(v, uint(256-rng.IntN(bits+1)))
	}
	randAddr := func() common.Address {
		var a common.Address
		for i := range a {
			a[i] = byte(rng.UintN(256))
		}
		return a
	}
	for i := range 300 {
		tk := &chain.Ticket{
			Recipient:   randAddr(),
			Sender:      randAddr(),
			FaceValue:   randInt(256),
			WinProb:     randInt(256),
			SenderNonce: rng.Uint32(),
		}
		tk.RecipientRandHash = chain.RandHash(randWord(t))
		// Every third ticket has no creation round, to cover empty auxData.
		if i%3 != 0 {
			tk.CreationRound = rng.Int64N(1 << 40)
			tk.CreationRoundBlockHash = common.Hash(randWord(t).FillBytes(make([]byte, 32)))
		}
		got, err := e.broker.GetTicketHash(&bind.CallOpts{Context: e.ctx}, chain.BrokerTicket(tk))
		if err != nil {
			t.Fatal(err)
		}
		if common.Hash(got) != tk.Hash() {
			t.Fatalf("ticket %d %+v: getTicketHash %x, Ticket.Hash %s", i, tk, got, tk.Hash())
		}
	}
}

func TestRedeemWinningTicket(t *testing.T) {
	e := newEnv(t, devchain.Options{})
	sender := e.c.Senders()[0]
	recipient := e.c.Recipient().Address
	face := eth(1)
	tk, sig, rnd := e.ticket(sender, face)

	balBefore := e.balance(recipient)
	feesBefore := e.fees(recipient)
	infoBefore := e.senderInfo(sender.Address)
	r, err := e.redeem(tk, sig, rnd)
	if err != nil {
		t.Fatalf("redeem: %v", err)
	}
	wantEq(t, "recipient fees rise", new(big.Int).Sub(e.fees(recipient), feesBefore), face)
	// The money goes to the fee pool, not to the recipient's account.
	wantEq(t, "recipient balance", e.balance(recipient), balBefore)
	infoAfter := e.senderInfo(sender.Address)
	wantEq(t, "deposit", infoAfter.Deposit, new(big.Int).Sub(infoBefore.Deposit, face))
	wantEq(t, "reserve", infoAfter.FundsRemaining, infoBefore.FundsRemaining)
	if !e.used(tk) {
		t.Fatal("usedTickets false after redemption")
	}

	ev := e.events(r)
	if len(ev.transfers) != 1 || len(ev.redeemed) != 1 || len(ev.claims) != 0 {
		t.Fatalf("events: %d transfers, %d redeemed, %d claims", len(ev.transfers), len(ev.redeemed), len(ev.claims))
	}
	tr := ev.transfers[0]
	if tr.Sender != sender.Address || tr.Recipient != recipient || tr.Amount.Cmp(face) != 0 {
		t.Fatalf("WinningTicketTransfer %+v", tr)
	}
	rd := ev.redeemed[0]
	if rd.Sender != sender.Address || rd.Recipient != recipient || rd.FaceValue.Cmp(face) != 0 ||
		rd.WinProb.Cmp(tk.WinProb) != 0 || rd.SenderNonce.Uint64() != uint64(tk.SenderNonce) ||
		rd.RecipientRand.Cmp(rnd) != 0 || string(rd.AuxData) != string(tk.AuxData()) {
		t.Fatalf("WinningTicketRedeemed %+v", rd)
	}

	_, err = e.redeem(tk, sig, rnd)
	wantRevert(t, err, "ticket is used")

	// Two submissions of one ticket in the same block: the second must
	// revert on chain, not just in gas estimation.
	tk2, sig2, rnd2 := e.ticket(sender, face)
	var txs []*types.Transaction
	for range 2 {
		auth := e.transactor(e.c.Redeemer())
		auth.GasLimit = 1_000_000
		if len(txs) == 1 {
			auth.Nonce = new(big.Int).SetUint64(txs[0].Nonce() + 1)
		}
		tx, err := e.broker.RedeemWinningTicket(auth, chain.BrokerTicket(tk2), sig2, rnd2)
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
	}
	// The pool promotes the second transaction in the background; mined
	// before that, the block would hold only the first.
	redeemer := e.c.Redeemer().Address
	for deadline := time.Now().Add(10 * time.Second); ; {
		n, err := e.c.Client().PendingNonceAt(e.ctx, redeemer)
		if err != nil {
			t.Fatal(err)
		}
		if n > txs[1].Nonce() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending nonce %d: the pool did not take in both submissions", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.c.Commit()
	for i, tx := range txs {
		r, err := e.c.Client().TransactionReceipt(e.ctx, tx.Hash())
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(1 - i); r.Status != want {
			t.Fatalf("submission %d status %d, want %d", i, r.Status, want)
		}
	}
}

func TestRedeemRejectsInvalidTickets(t *testing.T) {
	e := newEnv(t, devchain.Options{})
	sender := e.c.Senders()[0]
	other, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	halfN := new(big.Int).Rsh(crypto.S256().Params().N, 1)

	cases := []struct {
		name   string
		mutate func(tk *chain.Ticket, sig []byte, rnd *big.Int) (*chain.Ticket, []byte, *big.Int)
		reason string
	}{
		{"signed by another key", func(tk *chain.Ticket, _ []byte, rnd *big.Int) (*chain.Ticket, []byte, *big.Int) {
			return tk, e.sign(tk, other), rnd
		}, "invalid signature over ticket hash"},
		{"high s", func(tk *chain.Ticket, sig []byte, rnd *big.Int) (*chain.Ticket, []byte, *big.Int) {
			// (r, N-s, v^1) recovers the same signer; only the low-s rule
			// rejects it.
			s := new(big.Int).SetBytes(sig[32:64])
			hs := new(big.Int).Sub(crypto.S256().Params().N, s)
			if hs.Cmp(halfN) <= 0 {
				e.t.Fatal("flipped s is not high")
			}
			out := append([]byte(nil), sig...)
			hs.FillBytes(out[32:64])
			out[64] = 55 - sig[64]
			return tk, out, rnd
		}, "ECDSA: invalid signature 's' value"},
		{"v not 27 or 28", func(tk *chain.Ticket, sig []byte, rnd *big.Int) (*chain.Ticket, []byte, *big.Int) {
			out := append([]byte(nil), sig...)
			out[64] -= 27
			return tk, out, rnd
		}, "ECDSA: invalid signature 'v' value"},
		{"short signature", func(tk *chain.Ticket, sig []byte, rnd *big.Int) (*chain.Ticket, []byte, *big.Int) {
			return tk, sig[:64], rnd
		}, "INVALID_SIGNATURE_LENGTH"},
		{"r not on the curve", func(tk *chain.Ticket, sig []byte, rnd *big.Int) (*chain.Ticket, []byte, *big.Int) {
			// ecrecover finds no signer for r = 0.
			out := append([]byte(nil), sig...)
			clear(out[:32])
			return tk, out, rnd
		}, "ECDSA: invalid signature"},
		{"wrong recipientRand", func(tk *chain.Ticket, sig []byte, rnd *big.Int) (*chain.Ticket, []byte, *big.Int) {
			return tk, sig, new(big.Int).Add(rnd, big.NewInt(1))
		}, "recipientRand does not match recipientRandHash"},
		{"losing ticket", func(tk *chain.Ticket, _ []byte, rnd *big.Int) (*chain.Ticket, []byte, *big.Int) {
			tk.WinProb = big.NewInt(1)
			sig := e.sign(tk, sender.Key)
			if chain.Wins(sig, rnd, tk.WinProb) {
				e.t.Skip("ticket won at probability 2^-256")
			}
			return tk, sig, rnd
		}, "ticket did not win"},
		{"wrong creation round block hash", func(tk *chain.Ticket, _ []byte, rnd *big.Int) (*chain.Ticket, []byte, *big.Int) {
			tk.CreationRoundBlockHash[0] ^= 0xff
			return tk, e.sign(tk, sender.Key), rnd
		}, "ticket creationRoundBlockHash invalid for creationRound"},
		{"creation round not initialized", func(tk *chain.Ticket, _ []byte, rnd *big.Int) (*chain.Ticket, []byte, *big.Int) {
			tk.CreationRound++
			return tk, e.sign(tk, sender.Key), rnd
		}, "ticket creationRound does not have a block hash"},
		{"empty auxData", func(tk *chain.Ticket, _ []byte, rnd *big.Int) (*chain.Ticket, []byte, *big.Int) {
			tk.CreationRound, tk.CreationRoundBlockHash = 0, common.Hash{}
			return tk, e.sign(tk, sender.Key), rnd
		}, "invalid length for ticket auxData: must be 64 bytes"},
		{"unregistered recipient", func(tk *chain.Ticket, _ []byte, rnd *big.Int) (*chain.Ticket, []byte, *big.Int) {
			// Refused by BondingManager when the deposit is credited to a
			// fee pool the recipient does not have.
			tk.Recipient = e.c.Redeemer().Address
			return tk, e.sign(tk, sender.Key), rnd
		}, "transcoder must be registered"},
		{"zero recipient", func(tk *chain.Ticket, _ []byte, rnd *big.Int) (*chain.Ticket, []byte, *big.Int) {
			tk.Recipient = common.Address{}
			return tk, e.sign(tk, sender.Key), rnd
		}, "ticket recipient is null address"},
		{"zero sender", func(tk *chain.Ticket, _ []byte, rnd *big.Int) (*chain.Ticket, []byte, *big.Int) {
			tk.Sender = common.Address{}
			return tk, e.sign(tk, sender.Key), rnd
		}, "ticket sender is null address"},
		{"unfunded sender", func(tk *chain.Ticket, _ []byte, rnd *big.Int) (*chain.Ticket, []byte, *big.Int) {
			tk.Sender = crypto.PubkeyToAddress(other.PublicKey)
			return tk, e.sign(tk, other), rnd
		}, "sender deposit and reserve are zero"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			tk, sig, rnd := tc.mutate(e.ticket(sender, eth(1)))
			_, err := e.redeem(tk, sig, rnd)
			wantRevert(t, err, tc.reason)
			if e.used(tk) {
				t.Fatal("rejected ticket marked used")
			}
		})
	}
}

func TestRedeemValidityPeriod(t *testing.T) {
	e := newEnv(t, devchain.Options{RoundLength: 5})
	sender := e.c.Senders()[0]
	validity, err := e.p.TicketValidityPeriod(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if validity.Int64() != 2 {
		t.Fatalf("default ticketValidityPeriod %s, want 2", validity)
	}
	fresh, freshSig, freshRand := e.ticket(sender, eth(1))
	stale, staleSig, staleRand := e.ticket(sender, eth(1))

	// creationRound + 1: still valid.
	if _, err := e.c.AdvanceRound(e.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.redeem(fresh, freshSig, freshRand); err != nil {
		t.Fatalf("ticket one round old: %v", err)
	}
	// creationRound + validity: expired.
	if _, err := e.c.AdvanceRound(e.ctx); err != nil {
		t.Fatal(err)
	}
	_, err = e.redeem(stale, staleSig, staleRand)
	wantRevert(t, err, "ticket is expired")
}

func TestRedeemRequiresInitializedRound(t *testing.T) {
	e := newEnv(t, devchain.Options{RoundLength: 5})
	tk, sig, rnd := e.ticket(e.c.Senders()[0], eth(1))
	for range 5 {
		e.c.Commit()
	}
	if ok, err := e.p.CurrentRoundInitialized(e.ctx); err != nil || ok {
		t.Fatalf("round initialized = %v, %v after mining past the boundary", ok, err)
	}
	_, err := e.redeem(tk, sig, rnd)
	wantRevert(t, err, "current round is not initialized")

	tx, err := e.p.RoundsManager().InitializeRound(e.transactor(e.c.Redeemer()))
	r := e.mustMine("initializeRound", tx, err)
	if len(r.Logs) != 1 {
		t.Fatalf("initializeRound logs: %d", len(r.Logs))
	}
	nr, err := e.p.RoundsManager().ParseNewRound(*r.Logs[0])
	if err != nil {
		t.Fatal(err)
	}
	round, _ := e.p.CurrentRound(e.ctx)
	if h, _ := e.p.BlockHashForRound(e.ctx, round); nr.Round.Cmp(round) != 0 || nr.BlockHash != h || h == (common.Hash{}) {
		t.Fatalf("NewRound %+v, current round %s hash %s", nr, round, h)
	}
	_, err = e.p.RoundsManager().InitializeRound(e.transactor(e.c.Redeemer()))
	wantRevert(t, err, "round already initialized")

	if _, err := e.redeem(tk, sig, rnd); err != nil {
		t.Fatalf("redeem after initializing: %v", err)
	}
}

func TestReserveAllocation(t *testing.T) {
	e := newEnv(t, devchain.Options{Deposit: eth(10), Reserve: eth(10)})
	sender := e.c.Senders()[0].Address
	recipient := e.c.Recipient().Address
	check := func(deposit, reserve, claimedRound, claimedByRecipient, claimable *big.Int) {
		t.Helper()
		info := e.senderInfo(sender)
		wantEq(t, "deposit", info.Deposit, deposit)
		wantEq(t, "fundsRemaining", info.FundsRemaining, reserve)
		wantEq(t, "claimedInCurrentRound", info.ClaimedInCurrentRound, claimedRound)
		wantEq(t, "claimedReserve", e.claimed(sender, recipient), claimedByRecipient)
		wantEq(t, "claimableReserve", e.claimable(sender, recipient), claimable)
		wantEq(t, "go-livepeer allocation", e.livepeerAllocation(sender, recipient), claimable)
	}
	check(eth(10), eth(10), eth(0), eth(0), eth(10))

	// Face value above the deposit: the rest comes from the reserve.
	tk, sig, rnd := e.ticket(e.c.Senders()[0], eth(12))
	fees := e.fees(recipient)
	r, err := e.redeem(tk, sig, rnd)
	if err != nil {
		t.Fatal(err)
	}
	wantEq(t, "recipient fees rise", new(big.Int).Sub(e.fees(recipient), fees), eth(12))
	ev := e.events(r)
	if len(ev.claims) != 1 || ev.claims[0].ReserveHolder != sender || ev.claims[0].Claimant != recipient || ev.claims[0].Amount.Cmp(eth(2)) != 0 {
		t.Fatalf("ReserveClaimed %+v", ev.claims)
	}
	if len(ev.transfers) != 1 || ev.transfers[0].Amount.Cmp(eth(12)) != 0 {
		t.Fatalf("WinningTicketTransfer %+v", ev.transfers)
	}
	check(eth(0), eth(8), eth(2), eth(2), eth(8))

	// A larger pool shrinks the allocation: (8 + 2) / 2 - 2 = 3.
	e.setPoolSize(2)
	check(eth(0), eth(8), eth(2), eth(2), eth(3))

	// The face value exceeds the allocation: only the allocation is paid.
	tk, sig, rnd = e.ticket(e.c.Senders()[0], eth(5))
	fees = e.fees(recipient)
	r, err = e.redeem(tk, sig, rnd)
	if err != nil {
		t.Fatal(err)
	}
	wantEq(t, "recipient fees rise", new(big.Int).Sub(e.fees(recipient), fees), eth(3))
	ev = e.events(r)
	if len(ev.transfers) != 1 || ev.transfers[0].Amount.Cmp(eth(3)) != 0 || len(ev.redeemed) != 1 || ev.redeemed[0].FaceValue.Cmp(eth(5)) != 0 {
		t.Fatalf("transfers %+v redeemed %+v", ev.transfers, ev.redeemed)
	}
	check(eth(0), eth(5), eth(5), eth(5), eth(0))

	// Claims reset at the next round.
	if _, err := e.c.AdvanceRound(e.ctx); err != nil {
		t.Fatal(err)
	}
	check(eth(0), eth(5), eth(0), eth(0), new(big.Int).Div(eth(5), big.NewInt(2)))

	// No allocation for an empty pool or an inactive claimant.
	e.setPoolSize(0)
	check(eth(0), eth(5), eth(0), eth(0), eth(0))
	e.setPoolSize(1)
	check(eth(0), eth(5), eth(0), eth(0), eth(5))
	e.setActive(recipient, false)
	wantEq(t, "claimableReserve of inactive", e.claimable(sender, recipient), eth(0))
}

func TestBatchRedeemSkipsBadTickets(t *testing.T) {
	e := newEnv(t, devchain.Options{})
	sender := e.c.Senders()[0]
	recipient := e.c.Recipient().Address

	usedTk, usedSig, usedRand := e.ticket(sender, eth(1))
	if _, err := e.redeem(usedTk, usedSig, usedRand); err != nil {
		t.Fatal(err)
	}
	good1, sig1, rand1 := e.ticket(sender, eth(1))
	bad, badSig, badRand := e.ticket(sender, eth(1))
	badSig = append([]byte(nil), badSig...)
	badSig[5] ^= 0x01
	good2, sig2, rand2 := e.ticket(e.c.Senders()[1], eth(2))

	tickets := []contracts.TicketBrokerTicket{chain.BrokerTicket(good1), chain.BrokerTicket(bad), chain.BrokerTicket(usedTk), chain.BrokerTicket(good2)}
	sigs := [][]byte{sig1, badSig, usedSig, sig2}
	rands := []*big.Int{rand1, badRand, usedRand, rand2}

	fees := e.fees(recipient)
	// The bare estimate can leave the last ticket too little gas, which
	// the batch would skip like any failing ticket.
	auth := e.transactor(e.c.Redeemer())
	auth.GasLimit = 5_000_000
	tx, err := e.broker.BatchRedeemWinningTickets(auth, tickets, sigs, rands)
	r := e.mustMine("batch redeem", tx, err)
	wantEq(t, "recipient fees rise", new(big.Int).Sub(e.fees(recipient), fees), eth(3))
	if !e.used(good1) || !e.used(good2) || e.used(bad) {
		t.Fatalf("used: good1 %v good2 %v bad %v", e.used(good1), e.used(good2), e.used(bad))
	}
	if ev := e.events(r); len(ev.redeemed) != 2 || len(ev.transfers) != 2 {
		t.Fatalf("batch events: %d redeemed, %d transfers", len(ev.redeemed), len(ev.transfers))
	}

	// Arrays of different lengths are not checked: fewer signatures than
	// tickets fail on the first missing one.
	_, err = e.broker.BatchRedeemWinningTickets(e.transactor(e.c.Redeemer()), tickets, sigs[:2], rands)
	wantRevert(t, err, "out-of-bounds access of an array")
}

func TestFundingUnlockAndWithdraw(t *testing.T) {
	e := newEnv(t, devchain.Options{RoundLength: 5})
	s := e.c.Senders()[1]
	addr := s.Address

	auth := e.transactor(s)
	auth.Value = eth(1)
	tx, err := e.broker.FundDeposit(auth)
	ev := e.events(e.mustMine("fundDeposit", tx, err))
	if len(ev.deposits) != 1 || ev.deposits[0].Sender != addr || ev.deposits[0].Amount.Cmp(eth(1)) != 0 {
		t.Fatalf("DepositFunded %+v", ev.deposits)
	}
	auth = e.transactor(s)
	auth.Value = eth(2)
	tx, err = e.broker.FundReserve(auth)
	ev = e.events(e.mustMine("fundReserve", tx, err))
	if len(ev.reserves) != 1 || ev.reserves[0].ReserveHolder != addr || ev.reserves[0].Amount.Cmp(eth(2)) != 0 {
		t.Fatalf("ReserveFunded %+v", ev.reserves)
	}
	auth = e.transactor(s)
	auth.Value = eth(3)
	_, err = e.broker.FundDepositAndReserve(auth, eth(1), eth(1))
	wantRevert(t, err, "msg.value does not equal sum of deposit amount and reserve amount")
	info := e.senderInfo(addr)
	wantEq(t, "deposit", info.Deposit, eth(11))
	wantEq(t, "reserve", info.FundsRemaining, eth(12))

	_, err = e.broker.CancelUnlock(e.transactor(s))
	wantRevert(t, err, "no unlock request in progress")

	round, _ := e.p.CurrentRound(e.ctx)
	period, _ := e.p.UnlockPeriod(e.ctx)
	tx, err = e.broker.Unlock(e.transactor(s))
	ev = e.events(e.mustMine("unlock", tx, err))
	end := new(big.Int).Add(round, period)
	if len(ev.unlocks) != 1 || ev.unlocks[0].Sender != addr || ev.unlocks[0].StartRound.Cmp(round) != 0 || ev.unlocks[0].EndRound.Cmp(end) != 0 {
		t.Fatalf("Unlock %+v, want start %s end %s", ev.unlocks, round, end)
	}
	if ok, _ := e.p.IsUnlockInProgress(e.ctx, addr); !ok {
		t.Fatal("unlock not in progress")
	}
	wantEq(t, "withdrawRound", e.senderInfo(addr).WithdrawRound, end)
	_, err = e.broker.Unlock(e.transactor(s))
	wantRevert(t, err, "unlock already initiated")

	tx, err = e.broker.CancelUnlock(e.transactor(s))
	ev = e.events(e.mustMine("cancelUnlock", tx, err))
	if len(ev.cancels) != 1 || ev.cancels[0].Sender != addr {
		t.Fatalf("UnlockCancelled %+v", ev.cancels)
	}
	if ok, _ := e.p.IsUnlockInProgress(e.ctx, addr); ok {
		t.Fatal("unlock still in progress after cancel")
	}

	tx, err = e.broker.Unlock(e.transactor(s))
	e.mustMine("unlock again", tx, err)
	_, err = e.broker.Withdraw(e.transactor(s))
	wantRevert(t, err, "account is locked")

	for range period.Int64() {
		if _, err := e.c.AdvanceRound(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	bal := e.balance(addr)
	tx, err = e.broker.Withdraw(e.transactor(s))
	r := e.mustMine("withdraw", tx, err)
	ev = e.events(r)
	if len(ev.withdraws) != 1 || ev.withdraws[0].Sender != addr || ev.withdraws[0].Deposit.Cmp(eth(11)) != 0 || ev.withdraws[0].Reserve.Cmp(eth(12)) != 0 {
		t.Fatalf("Withdrawal %+v", ev.withdraws)
	}
	gas := new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
	wantEq(t, "sender balance rise", new(big.Int).Sub(e.balance(addr), bal), new(big.Int).Sub(eth(23), gas))
	// The withdraw round stays: the sender remains unlocked until it funds
	// itself again.
	info = e.senderInfo(addr)
	if info.Deposit.Sign() != 0 || info.FundsRemaining.Sign() != 0 || info.WithdrawRound.Cmp(end) <= 0 {
		t.Fatalf("sender info after withdraw %+v", info)
	}
	if ok, _ := e.p.IsUnlockInProgress(e.ctx, addr); !ok {
		t.Fatal("unlock no longer in progress after withdraw")
	}
	_, err = e.broker.Withdraw(e.transactor(s))
	wantRevert(t, err, "sender deposit and reserve are zero")

	// Funding by someone else leaves the unlock alone; the sender's own
	// funding cancels it, before the funding events.
	auth = e.transactor(e.c.Senders()[0])
	auth.Value = eth(1)
	tx, err = e.broker.FundDepositAndReserveFor(auth, addr, eth(1), eth(0))
	r = e.mustMine("fund for the sender", tx, err)
	if got := strings.Join(e.eventNames(r), " "); got != "ReserveFunded DepositFunded" {
		t.Fatalf("third-party funding events: %s", got)
	}
	if ok, _ := e.p.IsUnlockInProgress(e.ctx, addr); !ok {
		t.Fatal("funding by another account cancelled the unlock")
	}
	auth = e.transactor(s)
	auth.Value = eth(3)
	tx, err = e.broker.FundDepositAndReserve(auth, eth(1), eth(2))
	r = e.mustMine("fund after withdraw", tx, err)
	if got := strings.Join(e.eventNames(r), " "); got != "UnlockCancelled ReserveFunded DepositFunded" {
		t.Fatalf("own funding events: %s", got)
	}
	if ok, _ := e.p.IsUnlockInProgress(e.ctx, addr); ok {
		t.Fatal("unlock still in progress after the sender funded itself")
	}
}

func TestNewProtocolFailsClearly(t *testing.T) {
	e := newEnv(t, devchain.Options{})
	client := e.c.Client()

	if _, err := chain.NewProtocol(e.ctx, client, e.c.Redeemer().Address); !errors.Is(err, chain.ErrContractNotDeployed) {
		t.Fatalf("controller without code: %v", err)
	}

	owner := e.transactor(e.c.Owner())
	addr, tx, ctrl, err := contracts.DeployController(owner, client)
	e.mustMine("deploy controller", tx, err)
	_, err = chain.NewProtocol(e.ctx, client, addr)
	if !errors.Is(err, chain.ErrContractNotDeployed) || !strings.Contains(err.Error(), "TicketBroker") {
		t.Fatalf("empty controller: %v", err)
	}

	// Registered, but to an account without code.
	tx, err = ctrl.SetContractInfo(e.transactor(e.c.Owner()), chain.TicketBrokerID, e.c.Redeemer().Address)
	e.mustMine("register", tx, err)
	_, err = chain.NewProtocol(e.ctx, client, addr)
	if !errors.Is(err, chain.ErrContractNotDeployed) || !strings.Contains(err.Error(), "no code") {
		t.Fatalf("EOA registered: %v", err)
	}

	cancelled, cancel := context.WithCancel(e.ctx)
	cancel()
	if _, err := chain.NewProtocol(cancelled, client, e.p.Addresses().Controller); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	if _, err := e.p.CurrentRound(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("CurrentRound with cancelled context: %v", err)
	}

	p, err := chain.NewProtocol(e.ctx, client, e.p.Addresses().Controller)
	if err != nil {
		t.Fatal(err)
	}
	if p.Addresses() != e.c.Addresses() {
		t.Fatalf("addresses %+v, want %+v", p.Addresses(), e.c.Addresses())
	}
}
