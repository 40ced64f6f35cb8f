package monitor

import (
	"math/big"

	"redeemer/store"
)

// depositCover is how many times a sender's deposit must cover its in-limbo
// amount for the in-limbo tickets to be left out of its float: the deposit
// pays tickets first, so with that margin they will not eat into the
// reserve the float stands for.
var depositCover = big.NewInt(3)

// ReserveAlloc is what the recipient may still draw from the sender's
// reserve in the current round, as TicketBroker.claimableReserve computes
// it:
//
//	(fundsRemaining + claimedInCurrentRound) / poolSize − claimedReserve(sender, recipient)
//
// with integer division, 0 when the pool is empty, 0 when the recipient is
// not an active transcoder (the contract checks that; PROTOCOL.md's formula
// does not, and the contract wins), and never below 0 (a pool that grew
// mid-round can leave the recipient above its new share; the contract
// answers 0 then).
//
// Claims stored for an older round than the protocol's current round count
// as 0, as they do on chain, where claims are kept per round. Until every
// sender is re-read after a new round this keeps the allocation exact.
func ReserveAlloc(fs store.FloatState) *big.Int {
	p, s := fs.Protocol, fs.State
	if p == nil || s == nil || !p.RecipientActive || p.PoolSize.Sign() == 0 {
		return new(big.Int)
	}
	claimedInRound, claimedBy := s.ClaimedInRound, s.ClaimedByRecipient
	if s.Round.Cmp(p.CurrentRound) < 0 {
		claimedInRound, claimedBy = new(big.Int), new(big.Int)
	}
	alloc := new(big.Int).Add(s.FundsRemaining, claimedInRound)
	alloc.Quo(alloc, p.PoolSize)
	alloc.Sub(alloc, claimedBy)
	if alloc.Sign() < 0 {
		alloc.SetInt64(0)
	}
	return alloc
}

// MaxFloat is the sender's max float as go-livepeer defines it (PROTOCOL.md,
// max float): with pending the sender's in-limbo amount,
//
//	reserveAlloc            if pending > 0 and deposit / pending ≥ 3 (integer division)
//	reserveAlloc − pending  otherwise
//
// The result is exact and may be negative (more in limbo than the
// allocation): go-livepeer returns the plain subtraction, and a caller that
// compares or sums floats needs the true value. The wire carries unsigned
// integers only, so the gRPC layer sends a negative float as 0 (big.Int's
// Bytes would drop the sign and turn a deficit into credit).
//
// A sender the service does not track, or a state without protocol values,
// has an allocation of 0.
func MaxFloat(fs store.FloatState) *big.Int {
	alloc := ReserveAlloc(fs)
	pending := fs.InLimbo
	if pending == nil || pending.Sign() == 0 {
		return alloc
	}
	deposit := new(big.Int)
	if fs.State != nil {
		deposit = fs.State.Deposit
	}
	if new(big.Int).Quo(deposit, pending).Cmp(depositCover) >= 0 {
		return alloc
	}
	return alloc.Sub(alloc, pending)
}
