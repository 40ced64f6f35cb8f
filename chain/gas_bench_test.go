package chain_test

import (
	"context"
	"math/big"
	"testing"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"

	"redeemer/chain"
	"redeemer/chain/devchain"
)

// benchFaceValue is small enough that the senders' default 10 ETH deposits
// cover millions of tickets, so no iteration ever dips into the reserve
// (which would add claimFromReserve's storage writes to the measurement).
var benchFaceValue = big.NewInt(1e12)

// benchGasHeadroomPercent is added to the estimate, as a redeemer would, so
// that a small state change between estimation and inclusion cannot make
// the transaction run out of gas.
const benchGasHeadroomPercent = 20

// gasBench is one dev chain shared by the sub-benchmarks. Tickets go round
// robin over the dev senders and carry distinct sender nonces.
type gasBench struct {
	ctx     context.Context
	c       *devchain.Chain
	p       *chain.Protocol
	broker  common.Address
	signer  *chain.TxSigner
	senders []devchain.Account
	nonce   uint32
	next    int
}

func newGasBench(b *testing.B) *gasBench {
	b.Helper()
	ctx := context.Background()
	c, err := devchain.New(ctx, devchain.Options{})
	if err != nil {
		b.Fatalf("devchain.New: %v", err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return &gasBench{
		ctx:     ctx,
		c:       c,
		p:       c.Protocol(),
		broker:  c.Addresses().TicketBroker,
		signer:  chain.NewTxSigner(c.Redeemer().Key, c.ChainID()),
		senders: c.Senders(),
	}
}

// ensureRound makes sure the block the next redemption lands in belongs to
// the current, initialized round: Commit does not initialize rounds, so a
// redemption in the first block of a new round would revert.
func (g *gasBench) ensureRound(b *testing.B) {
	b.Helper()
	latest, err := g.c.Client().BlockNumber(g.ctx)
	if err != nil {
		b.Fatalf("block number: %v", err)
	}
	if (latest+1)%g.c.RoundLength() == 0 {
		if _, err := g.c.AdvanceRound(g.ctx); err != nil {
			b.Fatalf("advance round: %v", err)
		}
	}
}

// tickets builds n valid winning tickets in the current round.
func (g *gasBench) tickets(b *testing.B, n int) []chain.SignedTicket {
	b.Helper()
	round, err := g.p.CurrentRound(g.ctx)
	if err != nil {
		b.Fatalf("current round: %v", err)
	}
	hash, err := g.p.BlockHashForRound(g.ctx, round)
	if err != nil {
		b.Fatalf("block hash for round %s: %v", round, err)
	}
	out := make([]chain.SignedTicket, n)
	for i := range out {
		sender := g.senders[g.next%len(g.senders)]
		g.next++
		g.nonce++
		rnd := randWord(b)
		tk := chain.Ticket{
			Recipient:              g.c.Recipient().Address,
			Sender:                 sender.Address,
			FaceValue:              new(big.Int).Set(benchFaceValue),
			WinProb:                new(big.Int).Set(chain.MaxWinProb),
			SenderNonce:            g.nonce,
			RecipientRandHash:      chain.RandHash(rnd),
			CreationRound:          round.Int64(),
			CreationRoundBlockHash: hash,
		}
		sig, err := chain.Sign(tk.Hash(), sender.Key)
		if err != nil {
			b.Fatalf("sign ticket: %v", err)
		}
		out[i] = chain.SignedTicket{Ticket: tk, Sig: sig, RecipientRand: rnd}
	}
	return out
}

// redeem signs, sends and mines the redemption of tickets the way the
// worker does and returns its receipt.
func (g *gasBench) redeem(b *testing.B, tickets []chain.SignedTicket) *types.Receipt {
	b.Helper()
	client := g.c.Client()
	data, err := chain.RedeemCalldata(tickets)
	if err != nil {
		b.Fatalf("RedeemCalldata: %v", err)
	}
	nonce, err := client.PendingNonceAt(g.ctx, g.signer.Address())
	if err != nil {
		b.Fatalf("pending nonce: %v", err)
	}
	tip, feeCap, err := chain.SuggestFees(g.ctx, client, nil)
	if err != nil {
		b.Fatalf("SuggestFees: %v", err)
	}
	est, err := client.EstimateGas(g.ctx, ethereum.CallMsg{
		From: g.signer.Address(), To: &g.broker, Data: data, GasTipCap: tip, GasFeeCap: feeCap,
	})
	if err != nil {
		b.Fatalf("EstimateGas (%d tickets): %v (reason %q)", len(tickets), err, chain.RevertReason(err))
	}
	gas := est + est*benchGasHeadroomPercent/100
	head, err := client.HeaderByNumber(g.ctx, nil)
	if err != nil {
		b.Fatalf("latest header: %v", err)
	}
	// The headroom gives way to the block gas limit and to EIP-7825's
	// per-transaction cap (active from Osaka, which the dev chain runs);
	// the estimate itself must fit both.
	limit := min(head.GasLimit, params.MaxTxGas)
	if est > limit {
		b.Fatalf("%d tickets need %d gas, above the limit of %d (block gas limit %d, EIP-7825 tx cap %d)",
			len(tickets), est, limit, head.GasLimit, params.MaxTxGas)
	}
	gas = min(gas, limit)
	tx, _, err := g.signer.Sign(chain.TxParams{
		Nonce: nonce, To: g.broker, Data: data, GasLimit: gas, TipCap: tip, FeeCap: feeCap,
	})
	if err != nil {
		b.Fatalf("Sign: %v", err)
	}
	if err := client.SendTransaction(g.ctx, tx); err != nil {
		b.Fatalf("send: %v (outcome %v)", err, chain.ClassifySendError(err))
	}
	g.c.Commit()
	r, err := client.TransactionReceipt(g.ctx, tx.Hash())
	if err != nil {
		b.Fatalf("receipt %s: %v", tx.Hash(), err)
	}
	return r
}

// checkRedeemed fails unless r succeeded and proves every ticket redeemed.
func (g *gasBench) checkRedeemed(b *testing.B, r *types.Receipt, tickets []chain.SignedTicket) {
	b.Helper()
	if r.Status != types.ReceiptStatusSuccessful {
		b.Fatalf("redemption of %d tickets: receipt status %d (gas used %d)", len(tickets), r.Status, r.GasUsed)
	}
	got, err := chain.RedeemedTicketHashes(g.broker, r.Logs)
	if err != nil {
		b.Fatalf("RedeemedTicketHashes: %v", err)
	}
	if len(got) != len(tickets) {
		b.Fatalf("redeemed %d tickets, want %d", len(got), len(tickets))
	}
	for i := range tickets {
		if h := tickets[i].Hash(); !got[h] {
			b.Fatalf("ticket %d (%s) not redeemed", i, h)
		}
	}
}

// BenchmarkRedeemGas measures the gas a redemption costs per ticket on the
// dev chain: redeemWinningTicket for one ticket, batchRedeemWinningTickets
// for 10 and 50. Gas is deterministic; ns/op is the wall time of building
// calldata, estimating, signing, sending, mining and reading the receipt.
func BenchmarkRedeemGas(b *testing.B) {
	g := newGasBench(b)
	for _, bc := range []struct {
		name string
		n    int
	}{
		{"single", 1},
		{"batch10", 10},
		{"batch50", 50},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var totalGas uint64
			totalTickets := 0
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				g.ensureRound(b)
				tickets := g.tickets(b, bc.n)
				b.StartTimer()

				r := g.redeem(b, tickets)

				b.StopTimer()
				g.checkRedeemed(b, r, tickets)
				totalGas += r.GasUsed
				totalTickets += len(tickets)
				b.StartTimer()
			}
			b.ReportMetric(float64(totalGas)/float64(totalTickets), "gas/ticket")
			b.ReportMetric(float64(bc.n), "tickets/tx")
		})
	}
}
