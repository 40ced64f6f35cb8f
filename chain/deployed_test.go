package chain_test

// Behaviours of the protocol's deployed contracts that the dev contracts
// reproduce because the service depends on them.

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"redeemer/chain"
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

	// An uninitialized round stops a redemption before the ticket is
	// looked at.
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
}
