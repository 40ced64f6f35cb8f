package rpc

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"redeemer/chain"
	"redeemer/store"
	"redeemer/store/storetest"
)

// TestIntakeStateMovesTheRoundStartWithTheRound: the protocol values are
// stored once per logs interval, the heads every poll. Once a recorded head
// is past the stored round's end, intake counts the new round, and the
// round's start block must move with it: expiration windows are counted
// back from it, and the old start paired with the new round moved every
// window a round early, so the same valid ticket was accepted, then refused
// a moment later.
func TestIntakeStateMovesTheRoundStartWithTheRound(t *testing.T) {
	ctx := context.Background()
	st := storetest.NewStore(t)
	// Round 3 began at L1 block 30; rounds are 10 blocks, tickets valid for
	// 2 rounds. Stored at L1 block 31.
	p := &store.ProtocolState{PoolSize: big.NewInt(1), CurrentRound: big.NewInt(3), LastInitializedRound: big.NewInt(3),
		TicketValidityPeriod: big.NewInt(2), RoundLength: big.NewInt(10), RoundStartL1: big.NewInt(30),
		Block: 31, L1Block: 31}
	if _, err := st.SaveChainState(ctx, store.ChainState{Protocol: p}); err != nil {
		t.Fatal(err)
	}
	record := func(number, l1 uint64) {
		t.Helper()
		h := store.Head{Number: number, L1Number: l1, Time: time.Now()}
		h.Hash[0], h.Hash[1] = byte(number), 1
		if err := st.Q().RecordTip(ctx, h, 100); err != nil {
			t.Fatal(err)
		}
	}
	// A round-3 ticket's window is L1 blocks 30 to 49, whichever round is
	// current.
	window := func(s *intakeState) {
		t.Helper()
		for _, c := range []struct {
			due int64
			ok  bool
		}{{29, false}, {30, true}, {49, true}, {50, false}} {
			tk := &DecodedTicket{Ticket: chain.Ticket{Sender: common.Address{1}, CreationRound: 3,
				ParamsExpirationBlock: big.NewInt(c.due)}}
			cur, err := s.current(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := expirationWindow(tk, cur); (err == nil) != c.ok {
				t.Errorf("round %s starting at %s: round-3 ticket due at %d: %v, want accepted %v",
					cur.CurrentRound, cur.RoundStartL1, c.due, err, c.ok)
			}
		}
	}

	record(40, 39)
	s := &intakeState{st: st}
	if cur, err := s.current(ctx); err != nil || cur.CurrentRound.Int64() != 3 || cur.RoundStartL1.Int64() != 30 {
		t.Fatalf("inside round 3: %+v, %v", cur, err)
	}
	window(s)

	// Round 4 began at 40 and round 5 at 50; the stored values still say
	// round 3.
	for _, c := range []struct {
		l1           uint64
		round, start int64
	}{{40, 4, 40}, {49, 4, 40}, {57, 5, 50}} {
		record(c.l1+1, c.l1)
		s := &intakeState{st: st}
		cur, err := s.current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cur.CurrentRound.Int64() != c.round || cur.RoundStartL1.Int64() != c.start {
			t.Fatalf("head at L1 %d: round %s starting at %s, want round %d starting at %d",
				c.l1, cur.CurrentRound, cur.RoundStartL1, c.round, c.start)
		}
		if c.round == 4 {
			window(s)
		}
	}
	// The stored row is what the leader wrote; intake moved only its copy.
	if stored, err := st.StoredProtocolState(ctx); err != nil || stored.CurrentRound.Int64() != 3 ||
		stored.RoundStartL1.Int64() != 30 {
		t.Fatalf("stored protocol state changed: %+v, %v", stored, err)
	}
}
