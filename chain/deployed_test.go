package chain_test

// Behaviours of the protocol's deployed contracts that the dev contracts
// reproduce because the service depends on them: the order of the
// redemption checks, the reserve allocation's unclamped subtraction,
// payment into BondingManager's fee pool and a batch without a gas guard.

import (
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"redeemer/chain"
	"redeemer/chain/contracts"
	"redeemer/chain/devchain"
)

// losing turns tk into a ticket that cannot win, signed by key.
func (e *env) losing(tk *chain.Ticket, rnd *big.Int, key devchain.Account) []byte {
	e.t.Helper()
	tk.WinProb = big.NewInt(1)
	sig := e.sign(tk, key.Key)
	if chain.Wins(sig, rnd, tk.WinProb) {
		e.t.Skip("ticket won at probability 2^-256")
	}
	return sig
}

func (e *env) pendingFees() *big.Int {
	e.t.Helper()
	return e.fees(e.c.Recipient().Address)
}

// TestRedeemChecksInDeployedOrder feeds redeemWinningTicket tickets that
// break two rules at once: the reason must be that of the rule the deployed
// TicketBroker checks first. Its order: system not paused, current round
// initialized, recipient and sender not zero, auxData (length, creation
// round's block hash, expiry), recipientRand, unused, signature, winning,
// sender locked, sender funded.
func TestRedeemChecksInDeployedOrder(t *testing.T) {
	e := newEnv(t, devchain.Options{RoundLength: 5})
	a, b := e.c.Senders()[0], e.c.Senders()[1]

	// b starts unlocking: it stays locked for unlockPeriod (2) rounds.
	tx, err := e.broker.Unlock(e.transactor(b))
	e.mustMine("unlock", tx, err)
	tk, sig, rnd := e.ticket(b, eth(1))
	if _, err := e.redeem(tk, sig, rnd); err != nil {
		t.Fatalf("ticket of a sender whose unlock has just begun: %v", err)
	}

	owner := e.transactor(e.c.Owner())
	tx, err = e.p.Controller().Pause(owner)
	e.mustMine("pause", tx, err)
	zero, zeroSig, zeroRand := e.ticket(a, eth(1))
	zero.Recipient = common.Address{}
	zeroSig = e.sign(zero, a.Key)
	_, err = e.redeem(zero, zeroSig, zeroRand)
	wantRevert(t, err, "system is paused")
	tx, err = e.p.Controller().Unpause(e.transactor(e.c.Owner()))
	e.mustMine("unpause", tx, err)

	// Used, and a wrong recipientRand: the preimage is checked first.
	_, err = e.redeem(tk, sig, new(big.Int).Add(rnd, big.NewInt(1)))
	wantRevert(t, err, "recipientRand does not match recipientRandHash")

	old, oldSig, oldRand := e.ticket(a, eth(1))
	if _, err := e.c.AdvanceRound(e.ctx); err != nil {
		t.Fatal(err)
	}
	tk, sig, rnd = e.ticket(b, eth(1))
	if _, err := e.redeem(tk, sig, rnd); err != nil {
		t.Fatalf("ticket of a sender one round before its withdraw round: %v", err)
	}
	if _, err := e.c.AdvanceRound(e.ctx); err != nil {
		t.Fatal(err)
	}

	// Expired, and a wrong creation round block hash: the hash first.
	bad := *old
	bad.CreationRoundBlockHash[0] ^= 0xff
	_, err = e.redeem(&bad, e.sign(&bad, a.Key), oldRand)
	wantRevert(t, err, "ticket creationRoundBlockHash invalid for creationRound")
	_, err = e.redeem(old, oldSig, oldRand)
	wantRevert(t, err, "ticket is expired")

	// b has reached its withdraw round: it is unlocked, but every ticket
	// rule comes before that.
	tk, _, rnd = e.ticket(b, eth(1))
	lostSig := e.losing(tk, rnd, b)
	_, err = e.redeem(tk, lostSig, rnd)
	wantRevert(t, err, "ticket did not win")
	// Another s recovers another signer.
	forged := append([]byte(nil), lostSig...)
	forged[40] ^= 0x01
	_, err = e.redeem(tk, forged, rnd)
	wantRevert(t, err, "invalid signature over ticket hash")
	tk, sig, rnd = e.ticket(b, eth(1))
	_, err = e.redeem(tk, sig, rnd)
	wantRevert(t, err, "sender is unlocked")

	// Unlocked and without funds: the lock is checked first.
	tx, err = e.broker.Withdraw(e.transactor(b))
	e.mustMine("withdraw", tx, err)
	tk, sig, rnd = e.ticket(b, eth(1))
	_, err = e.redeem(tk, sig, rnd)
	wantRevert(t, err, "sender is unlocked")

	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	broke := devchain.Account{Name: "broke", Key: key, Address: crypto.PubkeyToAddress(key.PublicKey)}
	tk, sig, rnd = e.ticket(broke, eth(1))
	_, err = e.redeem(tk, sig, rnd)
	wantRevert(t, err, "sender deposit and reserve are zero")

	// An uninitialized round stops every redemption, single or batch,
	// before the ticket is looked at.
	tk, sig, rnd = e.ticket(a, eth(1))
	zero, zeroSig, zeroRand = e.ticket(a, eth(1))
	zero.Recipient = common.Address{}
	zeroSig = e.sign(zero, a.Key)
	head, err := e.c.Client().BlockNumber(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for n := head; n%5 != 4; n++ {
		e.c.Commit()
	}
	e.c.Commit()
	_, err = e.redeem(zero, zeroSig, zeroRand)
	wantRevert(t, err, "current round is not initialized")
	_, err = e.broker.BatchRedeemWinningTickets(e.transactor(e.c.Redeemer()),
		[]contracts.TicketBrokerTicket{chain.BrokerTicket(tk)}, [][]byte{sig}, []*big.Int{rnd})
	wantRevert(t, err, "current round is not initialized")
}

// TestClaimableReserveUnderflowsWhenPoolGrows: the deployed
// claimableReserve subtracts what the claimant already claimed this round
// without clamping, so when transcoders join mid-round after a claim it
// reverts, and so does every redemption that needs that sender's reserve.
func TestClaimableReserveUnderflowsWhenPoolGrows(t *testing.T) {
	e := newEnv(t, devchain.Options{Deposit: eth(10), Reserve: eth(10)})
	sender := e.c.Senders()[0]
	recipient := e.c.Recipient().Address

	// 10 from the deposit, 5 from the reserve: 5 claimed, 5 left.
	tk, sig, rnd := e.ticket(sender, eth(15))
	if _, err := e.redeem(tk, sig, rnd); err != nil {
		t.Fatal(err)
	}
	wantEq(t, "claimed", e.claimed(sender.Address, recipient), eth(5))
	wantEq(t, "claimable", e.claimable(sender.Address, recipient), eth(5))

	// Pool of 3: (5 + 5) / 3 − 5 is below zero.
	for _, name := range []string{"joiner-1", "joiner-2"} {
		e.setActive(devchain.DevAccount(name).Address, true)
	}
	_, err := e.p.ClaimableReserve(e.ctx, sender.Address, recipient)
	if err == nil {
		t.Fatal("claimableReserve answered after the pool grew past the recipient's claim")
	}
	if got := chain.RevertReason(err); !strings.Contains(got, "arithmetic underflow or overflow") {
		t.Fatalf("claimableReserve revert reason %q (error %v), want the arithmetic underflow panic", got, err)
	}
	if alloc := e.livepeerAllocation(sender.Address, recipient); alloc.Sign() != 0 {
		t.Fatalf("clamped allocation %s, want 0", alloc)
	}

	// The deposit is empty, so this ticket needs the reserve.
	tk, sig, rnd = e.ticket(sender, eth(1))
	_, err = e.redeem(tk, sig, rnd)
	if got := chain.RevertReason(err); !strings.Contains(got, "arithmetic underflow or overflow") {
		t.Fatalf("redemption drawing on the reserve: reason %q (error %v), want the arithmetic underflow panic", got, err)
	}

	// Claims reset with the round: a third of the 5 left.
	if _, err := e.c.AdvanceRound(e.ctx); err != nil {
		t.Fatal(err)
	}
	wantEq(t, "claimable next round", e.claimable(sender.Address, recipient), new(big.Int).Div(eth(5), big.NewInt(3)))
	if _, err := e.redeem(tk, sig, rnd); err != nil {
		t.Fatalf("same ticket next round: %v", err)
	}
}

// TestRedeemPaysRecipientFeePool: a winning ticket is paid into the
// recipient's fee pool in BondingManager, deposit first, then reserve, with
// the events in the deployed order. A registered recipient outside the
// active set is still paid from the deposit but gets no reserve; an
// unregistered one cannot be paid at all.
func TestRedeemPaysRecipientFeePool(t *testing.T) {
	e := newEnv(t, devchain.Options{Senders: 3, Deposit: eth(1), Reserve: eth(10)})
	a, b, c := e.c.Senders()[0], e.c.Senders()[1], e.c.Senders()[2]
	recipient := e.c.Recipient().Address
	brokerAddr := e.p.Addresses().TicketBroker

	balance, brokerBalance, fees := e.balance(recipient), e.balance(brokerAddr), e.pendingFees()
	tk, sig, rnd := e.ticket(a, eth(3))
	r, err := e.redeem(tk, sig, rnd)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.eventNames(r), " "); got != "ReserveClaimed WinningTicketTransfer WinningTicketRedeemed" {
		t.Fatalf("events %s", got)
	}
	ev := e.events(r)
	if ev.claims[0].Amount.Cmp(eth(2)) != 0 || ev.transfers[0].Amount.Cmp(eth(3)) != 0 {
		t.Fatalf("claimed %s, transferred %s; want 2 and 3 ETH", ev.claims[0].Amount, ev.transfers[0].Amount)
	}
	wantEq(t, "fee pool rise", new(big.Int).Sub(e.pendingFees(), fees), eth(3))
	wantEq(t, "recipient balance", e.balance(recipient), balance)
	wantEq(t, "TicketBroker balance", e.balance(brokerAddr), brokerBalance)

	// Out of the active set but still registered: the deposit pays, the
	// reserve does not.
	e.setActive(recipient, false)
	fees = e.pendingFees()
	tk, sig, rnd = e.ticket(b, eth(3))
	r, err = e.redeem(tk, sig, rnd)
	if err != nil {
		t.Fatalf("inactive registered recipient: %v", err)
	}
	if got := strings.Join(e.eventNames(r), " "); got != "WinningTicketTransfer WinningTicketRedeemed" {
		t.Fatalf("inactive recipient, deposit 1 of 3: events %s", got)
	}
	wantEq(t, "fee pool rise, inactive", new(big.Int).Sub(e.pendingFees(), fees), eth(1))
	// Deposit gone, reserve out of reach: redeemed (and used up) for
	// nothing.
	tk, sig, rnd = e.ticket(b, eth(3))
	r, err = e.redeem(tk, sig, rnd)
	if err != nil {
		t.Fatalf("inactive recipient, empty deposit: %v", err)
	}
	if got := strings.Join(e.eventNames(r), " "); got != "WinningTicketRedeemed" {
		t.Fatalf("inactive recipient, empty deposit: events %s", got)
	}
	if !e.used(tk) {
		t.Fatal("ticket paid nothing but is not marked used")
	}
	wantEq(t, "fee pool rise, nothing paid", new(big.Int).Sub(e.pendingFees(), fees), eth(1))

	tx, err := e.p.BondingManager().SetRegisteredTranscoder(e.transactor(e.c.Owner()), recipient, false)
	e.mustMine("unregister recipient", tx, err)
	tk, sig, rnd = e.ticket(c, eth(1))
	_, err = e.redeem(tk, sig, rnd)
	wantRevert(t, err, "transcoder must be registered")

	_, err = e.p.BondingManager().UpdateTranscoderWithFees(e.transactor(e.c.Owner()), recipient, eth(1), big.NewInt(1))
	wantRevert(t, err, "caller must be TicketBroker")
}

// TestBatchWithTooLittleGasDropsTickets: batchRedeemWinningTickets has no
// out-of-gas guard. A ticket whose call runs out of gas is skipped like
// any failing ticket and the transaction succeeds without it.
func TestBatchWithTooLittleGasDropsTickets(t *testing.T) {
	e := newEnv(t, devchain.Options{})
	senders := e.c.Senders()
	// The round's first fees cost more; pay them first so both batches
	// cost the same.
	tk, sig, rnd := e.ticket(senders[0], eth(1))
	if _, err := e.redeem(tk, sig, rnd); err != nil {
		t.Fatal(err)
	}
	batch := func(gas uint64) (*types.Receipt, []*chain.Ticket) {
		t.Helper()
		var (
			tickets []contracts.TicketBrokerTicket
			sigs    [][]byte
			rands   []*big.Int
			plain   []*chain.Ticket
		)
		for i := range 3 {
			tk, sig, rnd := e.ticket(senders[i%2], eth(1))
			tickets, sigs, rands, plain = append(tickets, chain.BrokerTicket(tk)), append(sigs, sig), append(rands, rnd), append(plain, tk)
		}
		auth := e.transactor(e.c.Redeemer())
		auth.GasLimit = gas
		tx, err := e.broker.BatchRedeemWinningTickets(auth, tickets, sigs, rands)
		return e.mustMine("batch", tx, err), plain
	}

	full, tickets := batch(5_000_000)
	if got := len(e.events(full).redeemed); got != 3 {
		t.Fatalf("ample gas: %d tickets redeemed, want 3", got)
	}
	for _, tk := range tickets {
		if !e.used(tk) {
			t.Fatal("ample gas: a ticket is not used")
		}
	}

	// Short of what the same batch used: the last ticket's call runs out
	// of gas, the batch carries on and succeeds.
	short, tickets := batch(full.GasUsed - 20_000)
	if short.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("short batch reverted (gas used %d of %d)", short.GasUsed, full.GasUsed-20_000)
	}
	if got := len(e.events(short).redeemed); got != 2 {
		t.Fatalf("short gas: %d tickets redeemed, want 2", got)
	}
	if !e.used(tickets[0]) || !e.used(tickets[1]) || e.used(tickets[2]) {
		t.Fatalf("short gas: used %v %v %v, want the last one unused", e.used(tickets[0]), e.used(tickets[1]), e.used(tickets[2]))
	}
}
