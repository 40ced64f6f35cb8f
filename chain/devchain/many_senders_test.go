package devchain_test

import (
	"context"
	"testing"

	"redeemer/chain/devchain"
)

// TestManySenders: funding more senders than one block's gas limit holds
// spills into further blocks, and every sender ends funded.
func TestManySenders(t *testing.T) {
	ctx := context.Background()
	const n = 1000
	c, err := devchain.New(ctx, devchain.Options{Senders: n})
	if err != nil {
		t.Fatalf("devchain.New with %d senders: %v", n, err)
	}
	defer c.Close()
	senders := c.Senders()
	if len(senders) != n {
		t.Fatalf("%d senders, want %d", len(senders), n)
	}
	for _, i := range []int{0, n / 2, n - 1} {
		info, err := c.Protocol().SenderInfo(ctx, senders[i].Address)
		if err != nil {
			t.Fatal(err)
		}
		if info.Deposit.Cmp(devchain.DefaultDeposit) != 0 {
			t.Fatalf("sender %d deposit %s, want %s", i, info.Deposit, devchain.DefaultDeposit)
		}
	}
}
