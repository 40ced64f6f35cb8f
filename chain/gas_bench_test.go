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
// and reserves cover millions of tickets.
var benchFaceValue = big.NewInt(1e12)

// benchGasHeadroomPercent is added to the estimate, as a redeemer would, so
// that a small state change between estimation and inclusion cannot make
// the transaction run out of gas.
const benchGasHeadroomPercent = 20

// gasCase is a redemption whose gas on the protocol's deployed contracts is
// known (geth receipts). The dev contracts burn ballast gas so that their
// receipts come close: gasCases are the figures they are held to.
type gasCase struct {
	name string
	// deployed is the gas per ticket on the deployed contracts.
	deployed uint64
	tickets  int
	// firstOfRound: the recipient's first fees of the round, which create
	// its fee storage for the round. Otherwise an earlier ticket of the
	// round has paid that.
	firstOfRound bool
	// reserve: the sender's deposit is empty, so the ticket is paid from
	// the reserve (the sender's first claim of the round).
	reserve bool
}

var gasCases = []gasCase{
	{name: "first", deployed: 585_000, tickets: 1, firstOfRound: true},
	{name: "reserve", deployed: 519_000, tickets: 1, reserve: true},
	{name: "warm", deployed: 273_000, tickets: 1},
	{name: "batch15", deployed: 175_000, tickets: 15},
}

// gasTolerancePercent is how far the dev chain's gas may stray from the
// deployed figures before economics tests stop meaning anything.
const gasTolerancePercent = 15

// gasBench is one dev chain shared by the cases. Deposit-paid tickets go
// round robin over the first two senders; the third has had its deposit
// redeemed away and pays from its reserve.
type gasBench struct {
	ctx      context.Context
	c        *devchain.Chain
	p        *chain.Protocol
	broker   common.Address
	signer   *chain.TxSigner
	payers   []devchain.Account
	reserver devchain.Account
	nonce    uint32
	next     int
}

func newGasBench(tb testing.TB) *gasBench {
	tb.Helper()
	ctx := context.Background()
	c, err := devchain.New(ctx, devchain.Options{Senders: 3})
	if err != nil {
		tb.Fatalf("devchain.New: %v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	s := c.Senders()
	g := &gasBench{
		ctx:      ctx,
		c:        c,
		p:        c.Protocol(),
		broker:   c.Addresses().TicketBroker,
		signer:   chain.NewTxSigner(c.Redeemer().Key, c.ChainID()),
		payers:   s[:2],
		reserver: s[2],
	}
	g.ensureRound(tb)
	drain := []chain.SignedTicket{g.ticket(tb, g.reserver, devchain.DefaultDeposit)}
	g.checkRedeemed(tb, g.redeem(tb, drain), drain, false)
	if info, err := g.p.SenderInfo(ctx, g.reserver.Address); err != nil || info.Deposit.Sign() != 0 {
		tb.Fatalf("reserve sender after draining its deposit: %+v, %v", info, err)
	}
	return g
}

// ensureRound makes sure the block the next redemption lands in belongs to
// the current, initialized round: Commit does not initialize rounds, so a
// redemption in the first block of a new round would revert.
func (g *gasBench) ensureRound(tb testing.TB) {
	tb.Helper()
	latest, err := g.c.Client().BlockNumber(g.ctx)
	if err != nil {
		tb.Fatalf("block number: %v", err)
	}
	length := g.c.RoundLength()
	if g.c.L1Number(latest+1)/length != g.c.L1Number(latest)/length {
		if _, err := g.c.AdvanceRound(g.ctx); err != nil {
			tb.Fatalf("advance round: %v", err)
		}
	}
}

// prepare starts a new round, pays the round's first fees unless the case
// is about those, and returns the case's tickets. It leaves the rest of the
// round, far more than a case needs, for the measured redemption.
func (g *gasBench) prepare(tb testing.TB, gc gasCase) []chain.SignedTicket {
	tb.Helper()
	if _, err := g.c.AdvanceRound(g.ctx); err != nil {
		tb.Fatalf("advance round: %v", err)
	}
	if !gc.firstOfRound {
		warm := []chain.SignedTicket{g.payerTicket(tb)}
		g.checkRedeemed(tb, g.redeem(tb, warm), warm, false)
	}
	out := make([]chain.SignedTicket, gc.tickets)
	for i := range out {
		if gc.reserve {
			out[i] = g.ticket(tb, g.reserver, benchFaceValue)
		} else {
			out[i] = g.payerTicket(tb)
		}
	}
	return out
}

func (g *gasBench) payerTicket(tb testing.TB) chain.SignedTicket {
	tb.Helper()
	s := g.payers[g.next%len(g.payers)]
	g.next++
	return g.ticket(tb, s, benchFaceValue)
}

// ticket builds a valid winning ticket from sender in the current round.
func (g *gasBench) ticket(tb testing.TB, sender devchain.Account, face *big.Int) chain.SignedTicket {
	tb.Helper()
	round, err := g.p.CurrentRound(g.ctx)
	if err != nil {
		tb.Fatalf("current round: %v", err)
	}
	hash, err := g.p.BlockHashForRound(g.ctx, round)
	if err != nil {
		tb.Fatalf("block hash for round %s: %v", round, err)
	}
	g.nonce++
	rnd := randWord(tb)
	tk := chain.Ticket{
		Recipient:              g.c.Recipient().Address,
		Sender:                 sender.Address,
		FaceValue:              new(big.Int).Set(face),
		WinProb:                new(big.Int).Set(chain.MaxWinProb),
		SenderNonce:            g.nonce,
		RecipientRandHash:      chain.RandHash(rnd),
		CreationRound:          round.Int64(),
		CreationRoundBlockHash: hash,
	}
	sig, err := chain.Sign(tk.Hash(), sender.Key)
	if err != nil {
		tb.Fatalf("sign ticket: %v", err)
	}
	return chain.SignedTicket{Ticket: tk, Sig: sig, RecipientRand: rnd}
}

// redeem signs, sends and mines the redemption of tickets the way the
// worker does and returns its receipt.
func (g *gasBench) redeem(tb testing.TB, tickets []chain.SignedTicket) *types.Receipt {
	tb.Helper()
	client := g.c.Client()
	data, err := chain.RedeemCalldata(tickets)
	if err != nil {
		tb.Fatalf("RedeemCalldata: %v", err)
	}
	nonce, err := client.PendingNonceAt(g.ctx, g.signer.Address())
	if err != nil {
		tb.Fatalf("pending nonce: %v", err)
	}
	tip, feeCap, err := chain.SuggestFees(g.ctx, client, nil)
	if err != nil {
		tb.Fatalf("SuggestFees: %v", err)
	}
	est, err := client.EstimateGas(g.ctx, ethereum.CallMsg{
		From: g.signer.Address(), To: &g.broker, Data: data, GasTipCap: tip, GasFeeCap: feeCap,
	})
	if err != nil {
		tb.Fatalf("EstimateGas (%d tickets): %v (reason %q)", len(tickets), err, chain.RevertReason(err))
	}
	gas := est + est*benchGasHeadroomPercent/100
	head, err := client.HeaderByNumber(g.ctx, nil)
	if err != nil {
		tb.Fatalf("latest header: %v", err)
	}
	// The headroom gives way to the block gas limit and to EIP-7825's
	// per-transaction cap (active from Osaka, which the dev chain runs);
	// the estimate itself must fit both.
	limit := min(head.GasLimit, params.MaxTxGas)
	if est > limit {
		tb.Fatalf("%d tickets need %d gas, above the limit of %d (block gas limit %d, EIP-7825 tx cap %d)",
			len(tickets), est, limit, head.GasLimit, params.MaxTxGas)
	}
	gas = min(gas, limit)
	tx, _, err := g.signer.Sign(chain.TxParams{
		Nonce: nonce, To: g.broker, Data: data, GasLimit: gas, TipCap: tip, FeeCap: feeCap,
	})
	if err != nil {
		tb.Fatalf("Sign: %v", err)
	}
	if err := client.SendTransaction(g.ctx, tx); err != nil {
		tb.Fatalf("send: %v (outcome %v)", err, chain.ClassifySendError(err))
	}
	g.c.Commit()
	r, err := client.TransactionReceipt(g.ctx, tx.Hash())
	if err != nil {
		tb.Fatalf("receipt %s: %v", tx.Hash(), err)
	}
	return r
}

// checkRedeemed fails unless r succeeded and proves every ticket redeemed,
// and, with fromReserve, that each drew on the reserve.
func (g *gasBench) checkRedeemed(tb testing.TB, r *types.Receipt, tickets []chain.SignedTicket, fromReserve bool) {
	tb.Helper()
	if r.Status != types.ReceiptStatusSuccessful {
		tb.Fatalf("redemption of %d tickets: receipt status %d (gas used %d)", len(tickets), r.Status, r.GasUsed)
	}
	got, err := chain.RedeemedTicketHashes(g.broker, r.Logs)
	if err != nil {
		tb.Fatalf("RedeemedTicketHashes: %v", err)
	}
	if len(got) != len(tickets) {
		tb.Fatalf("redeemed %d tickets, want %d", len(got), len(tickets))
	}
	for i := range tickets {
		if h := tickets[i].Hash(); !got[h] {
			tb.Fatalf("ticket %d (%s) not redeemed", i, h)
		}
	}
	claims := 0
	for _, l := range r.Logs {
		if _, err := g.p.TicketBroker().ParseReserveClaimed(*l); err == nil {
			claims++
		}
	}
	if want := map[bool]int{true: len(tickets)}[fromReserve]; claims != want {
		tb.Fatalf("%d ReserveClaimed logs, want %d", claims, want)
	}
}

// BenchmarkRedeemGas reports the gas per ticket of the redemptions whose
// cost on the deployed contracts gasCases lists: the first single
// redemption of a round, a single one drawing on the reserve, a single one
// later in the round, and a batch of 15. Gas is deterministic; ns/op is the
// wall time of building calldata, estimating, signing, sending, mining and
// reading the receipt.
func BenchmarkRedeemGas(b *testing.B) {
	g := newGasBench(b)
	for _, gc := range gasCases {
		b.Run(gc.name, func(b *testing.B) {
			var totalGas uint64
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				tickets := g.prepare(b, gc)
				b.StartTimer()

				r := g.redeem(b, tickets)

				b.StopTimer()
				g.checkRedeemed(b, r, tickets, gc.reserve)
				totalGas += r.GasUsed
				b.StartTimer()
			}
			b.ReportMetric(float64(totalGas)/float64(b.N*gc.tickets), "gas/ticket")
			b.ReportMetric(float64(gc.tickets), "tickets/tx")
		})
	}
}

// TestRedeemGasMatchesDeployed holds the dev contracts' gas to the deployed
// contracts' figures, which the service's gas and balance economics assume.
func TestRedeemGasMatchesDeployed(t *testing.T) {
	g := newGasBench(t)
	for _, gc := range gasCases {
		tickets := g.prepare(t, gc)
		r := g.redeem(t, tickets)
		g.checkRedeemed(t, r, tickets, gc.reserve)
		per := r.GasUsed / uint64(gc.tickets)
		lo := gc.deployed * (100 - gasTolerancePercent) / 100
		hi := gc.deployed * (100 + gasTolerancePercent) / 100
		t.Logf("%s: %d gas per ticket (%d tickets, %d in all); deployed %d", gc.name, per, gc.tickets, r.GasUsed, gc.deployed)
		if per < lo || per > hi {
			t.Errorf("%s: %d gas per ticket, want %d ± %d%% [%d, %d]", gc.name, per, gc.deployed, gasTolerancePercent, lo, hi)
		}
	}
}
