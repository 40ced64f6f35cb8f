package monitor

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"redeemer/chain"
	"redeemer/chain/contracts"
	"redeemer/store"
)

func floatState(deposit, funds, claimedInRound, claimedBy, limbo, pool int64, active bool) store.FloatState {
	return store.FloatState{
		State: &store.SenderState{
			Deposit: big.NewInt(deposit), WithdrawRound: new(big.Int), FundsRemaining: big.NewInt(funds),
			ClaimedInRound: big.NewInt(claimedInRound), ClaimedByRecipient: big.NewInt(claimedBy), Round: big.NewInt(5),
		},
		InLimbo: big.NewInt(limbo),
		Protocol: &store.ProtocolState{
			RecipientActive: active, PoolSize: big.NewInt(pool), CurrentRound: big.NewInt(5), LastInitializedRound: big.NewInt(5),
		},
	}
}

func TestMaxFloatFollowsTheProtocolDefinition(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name       string
		fs         store.FloatState
		alloc, max int64
	}{
		// (1000 + 200) / 4 - 100 = 200
		{"allocation minus own claims", floatState(0, 1000, 200, 100, 0, 4, true), 200, 200},
		// 1001 / 4 = 250 (integer division)
		{"integer division", floatState(0, 1001, 0, 0, 0, 4, true), 250, 250},
		{"empty pool", floatState(0, 1000, 0, 0, 0, 0, true), 0, 0},
		{"inactive recipient", floatState(0, 1000, 0, 0, 0, 4, false), 0, 0},
		// 1000 / 4 - 300 < 0: the contract answers 0.
		{"claims above a shrunk share", floatState(0, 1000, 0, 300, 0, 4, true), 0, 0},
		// deposit / pending = 3: the in-limbo amount is covered.
		{"deposit covers three times", floatState(300, 1000, 0, 0, 100, 4, true), 250, 250},
		// 299 / 100 = 2: not covered, subtract.
		{"deposit just short", floatState(299, 1000, 0, 0, 100, 4, true), 250, 150},
		// 301 / 100 = 3 by integer division.
		{"integer division of the cover", floatState(301, 1000, 0, 0, 100, 4, true), 250, 250},
		{"nothing in limbo", floatState(0, 1000, 0, 0, 0, 4, true), 250, 250},
		// More in limbo than allocated: negative, exact.
		{"negative float", floatState(10, 1000, 0, 0, 400, 4, true), 250, -150},
		{"unknown sender", store.FloatState{InLimbo: big.NewInt(7)}, 0, -7},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ReserveAlloc(c.fs); got.Cmp(big.NewInt(c.alloc)) != 0 {
				t.Errorf("ReserveAlloc = %s, want %d", got, c.alloc)
			}
			if got := MaxFloat(c.fs); got.Cmp(big.NewInt(c.max)) != 0 {
				t.Errorf("MaxFloat = %s, want %d", got, c.max)
			}
		})
	}
}

func TestClaimsOfAnOlderRoundCountAsZero(t *testing.T) {
	t.Parallel()
	fs := floatState(0, 1000, 200, 100, 0, 4, true)
	fs.State.Round = big.NewInt(4) // the protocol is in round 5
	if got := ReserveAlloc(fs); got.Int64() != 250 {
		t.Fatalf("ReserveAlloc with last round's claims = %s, want 1000/4", got)
	}
}

func TestMaxFloatIsExactForHugeAmounts(t *testing.T) {
	t.Parallel()
	maxUint := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	fs := floatState(0, 0, 0, 0, 1, 1, true)
	fs.State.FundsRemaining = maxUint
	fs.State.Deposit = new(big.Int).Set(maxUint)
	// deposit / 1 >= 3: the allocation itself, all 256 bits of it.
	if got := MaxFloat(fs); got.Cmp(maxUint) != 0 {
		t.Fatalf("MaxFloat = %s, want 2^256-1", got)
	}
}

// The topics the senders stage follows are PROTOCOL.md's; the dev
// contracts' ABI must agree, or the stage would ignore every event.
func TestEventTopicsMatchTheContracts(t *testing.T) {
	t.Parallel()
	broker, err := contracts.TicketBrokerMetaData.GetAbi()
	if err != nil {
		t.Fatal(err)
	}
	for name, topic := range map[string]common.Hash{
		"DepositFunded":         chain.TopicDepositFunded,
		"ReserveFunded":         chain.TopicReserveFunded,
		"ReserveClaimed":        chain.TopicReserveClaimed,
		"Unlock":                chain.TopicUnlock,
		"UnlockCancelled":       chain.TopicUnlockCancelled,
		"WinningTicketRedeemed": chain.TopicWinningTicketRedeemed,
		"WinningTicketTransfer": chain.TopicWinningTicketTransfer,
		"Withdrawal":            chain.TopicWithdrawal,
	} {
		ev, ok := broker.Events[name]
		if !ok {
			t.Errorf("TicketBroker has no event %s", name)
			continue
		}
		if ev.ID != topic {
			t.Errorf("%s topic %s, contract says %s", name, topic, ev.ID)
		}
		if len(ev.Inputs) == 0 || !ev.Inputs[0].Indexed || ev.Inputs[0].Type.String() != "address" {
			t.Errorf("%s does not name the sender as its first indexed argument", name)
		}
	}
	rounds, err := contracts.RoundsManagerMetaData.GetAbi()
	if err != nil {
		t.Fatal(err)
	}
	if rounds.Events["NewRound"].ID != chain.TopicNewRound {
		t.Errorf("NewRound topic %s, contract says %s", chain.TopicNewRound, rounds.Events["NewRound"].ID)
	}
}
