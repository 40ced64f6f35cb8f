// Package queue is the redemption worker: on every new head it settles the
// redemption transactions in flight, expires tickets past their validity,
// claims the tickets that are due and broadcasts their redemption. Every
// state change is committed in PostgreSQL (package store) before anything
// outside the database relies on it; see DESIGN.md, invariants 1–4 and 6.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"syscall"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"redeemer/chain"
	"redeemer/store"
)

// Backend is the part of an Ethereum client the worker uses.
// *ethclient.Client and the simulated backend's client implement it.
type Backend interface {
	EstimateGas(ctx context.Context, msg ethereum.CallMsg) (uint64, error)
	SuggestGasTipCap(ctx context.Context) (*big.Int, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	PendingNonceAt(ctx context.Context, account common.Address) (uint64, error)
	NonceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (uint64, error)
	SendTransaction(ctx context.Context, tx *types.Transaction) error
	TransactionReceipt(ctx context.Context, txHash common.Hash) (*types.Receipt, error)
	BalanceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (*big.Int, error)
}

// Protocol is the protocol state the worker reads. *chain.Protocol
// implements it.
type Protocol interface {
	Addresses() chain.Addresses
	CurrentRound(ctx context.Context) (*big.Int, error)
	TicketValidityPeriod(ctx context.Context) (*big.Int, error)
	IsTicketUsed(ctx context.Context, ticketHash common.Hash) (bool, error)
	SenderInfo(ctx context.Context, sender common.Address) (chain.SenderInfo, error)
	ClaimableReserve(ctx context.Context, holder, claimant common.Address) (*big.Int, error)
	IsActiveTranscoder(ctx context.Context, addr common.Address) (bool, error)
}

// Config tunes the worker. Zero values take the defaults in brackets.
type Config struct {
	Recipient common.Address
	Signer    *chain.TxSigner
	// MaxBatch is the most tickets one transaction redeems [10].
	MaxBatch int
	// Confirmations a receipt needs before its tickets are final [3].
	Confirmations uint64
	// RepriceAfter is how many blocks an attempt may stay unmined before it
	// is replaced at the same nonce with higher fees [20].
	RepriceAfter uint64
	// PriceBump is the replacement's fee increase in percent, at least the
	// 10% nodes require [15].
	PriceBump int
	// MaxFeeCap bounds the fee cap of any transaction, wei per gas [100 gwei].
	MaxFeeCap *big.Int
	// RetryBackoff is the first wait before a postponed ticket is looked at
	// again; it doubles with each counted attempt up to MaxBackoff [30s, 1h].
	RetryBackoff, MaxBackoff time.Duration
	// MaxAttempts is how many redemptions the chain may refuse before a
	// ticket fails for good [5].
	MaxAttempts int
	// MinRedemptionsFunded is how many redemptions the signer's balance must
	// pay for, at the current fee cap, before the worker warns that the
	// account needs funds [100].
	MinRedemptionsFunded int
	// CallTimeout bounds each node call [10s].
	CallTimeout time.Duration
	Logger      *slog.Logger
	// Metrics receives the worker's counters; nil records none.
	Metrics *Metrics
	// Now is the clock; tests may set it [time.Now].
	Now func() time.Time
	// CrashAt names a point at which the process kills itself with SIGKILL:
	// "after-claim-commit", "after-broadcast" or "after-mined". Crash tests
	// set it to prove recovery from each point; never set in production.
	CrashAt string
}

func (c *Config) fill() error {
	if c.Signer == nil || c.Recipient == (common.Address{}) {
		return errors.New("queue: signer and recipient are required")
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 10
	}
	if c.Confirmations == 0 {
		c.Confirmations = 3
	}
	if c.RepriceAfter == 0 {
		c.RepriceAfter = 20
	}
	if c.PriceBump < 10 {
		c.PriceBump = 15
	}
	if c.MaxFeeCap == nil {
		c.MaxFeeCap = big.NewInt(100_000_000_000)
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = 30 * time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Hour
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.MinRedemptionsFunded <= 0 {
		c.MinRedemptionsFunded = 100
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Worker redeems tickets. Only the leader replica runs one.
type Worker struct {
	cfg     Config
	store   *store.Store
	backend Backend
	proto   Protocol
	log     *slog.Logger
	// funding is the balance check's state; only the goroutine that runs
	// Recover and HandleHead touches it.
	funding fundingWatch
}

// New checks cfg and returns a worker.
func New(cfg Config, st *store.Store, backend Backend, proto Protocol) (*Worker, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	return &Worker{cfg: cfg, store: st, backend: backend, proto: proto, log: cfg.Logger}, nil
}

// crashPoint kills the process, without any cleanup, when point is the
// configured crash point.
func (w *Worker) crashPoint(point string) {
	if w.cfg.CrashAt == point {
		w.log.Warn("crash point reached: killing the process", "point", point)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way; do nothing more
	}
}

func (w *Worker) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, w.cfg.CallTimeout)
}

// Recover runs once when the worker starts, before it handles a head: it
// checks the account's funding (the account may have run down while no
// replica led), recomputes every in-limbo amount from the tickets and
// re-broadcasts the current attempt of every open redemption byte for byte,
// so a transaction signed and committed just before a crash still reaches
// the chain.
func (w *Worker) Recover(ctx context.Context) error {
	// Before anything is re-broadcast: an account that cannot pay explains
	// the broadcast failures that follow.
	w.checkFunding(ctx)
	changed, err := w.store.RecomputeLimbo(ctx)
	if err != nil {
		return err
	}
	if changed > 0 {
		w.log.Warn("in-limbo amounts corrected from tickets", "senders", changed)
	}
	open, err := w.store.OpenRedemptions(ctx)
	if err != nil {
		return err
	}
	for i := range open {
		if open[i].Status == store.RedemptionPending {
			w.broadcast(ctx, open[i].Latest())
		}
	}
	if len(open) > 0 {
		w.log.Info("recovered open redemptions", "count", len(open))
	}
	return nil
}

// HandleHead is the per-block pass. It is idempotent: the poller may deliver
// a head again after a crash, and every step re-reads its state from the
// database and the chain.
func (w *Worker) HandleHead(ctx context.Context, ev chain.HeadEvent) error {
	if len(ev.Removed) > 0 {
		lowest := ev.Removed[len(ev.Removed)-1].Number
		for _, h := range ev.Removed {
			lowest = min(lowest, h.Number)
		}
		n, err := w.store.UnmineFrom(ctx, lowest)
		if err != nil {
			return err
		}
		w.log.Warn("reorg", "fork_block", lowest, "removed_heads", len(ev.Removed), "redemptions_unmined", n)
		w.cfg.Metrics.reorg()
	}
	w.maybeCheckFunding(ctx)
	if err := w.track(ctx, ev.Head); err != nil {
		return fmt.Errorf("track redemptions: %w", err)
	}
	if err := w.expire(ctx); err != nil {
		return fmt.Errorf("expire tickets: %w", err)
	}
	if err := w.claim(ctx, ev.Head); err != nil {
		return fmt.Errorf("claim tickets: %w", err)
	}
	return nil
}

// backoff is the wait before a ticket refused attempts times is retried.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.cfg.RetryBackoff
	for i := 1; i < attempts && d < w.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, w.cfg.MaxBackoff)
}

// broadcast sends an attempt's stored bytes and records the outcome. Errors
// are recorded, not returned: the next head tries again, and the receipt
// check, not the send result, decides what happened.
func (w *Worker) broadcast(ctx context.Context, a *store.Attempt) {
	log := w.log.With("tx_hash", common.Hash(a.TxHash).Hex(), "redemption", a.RedemptionID)
	tx, err := chain.DecodeRawTx(a.Raw)
	if err != nil {
		log.Error("stored transaction does not decode", "err", err)
		return
	}
	cctx, cancel := w.callCtx(ctx)
	sendErr := w.backend.SendTransaction(cctx, tx)
	cancel()
	outcome := chain.ClassifySendError(sendErr)
	w.cfg.Metrics.broadcast(outcome)
	msg := ""
	switch outcome {
	case chain.SendOK, chain.SendAlreadyKnown:
		log.Info("transaction broadcast", "nonce", tx.Nonce(), "outcome", outcome.String())
	case chain.SendNonceTooLow:
		// An attempt for this nonce was mined already (ours, or not); the
		// receipt check on the next head settles it.
		msg = sendErr.Error()
		log.Info("transaction nonce already used", "nonce", tx.Nonce())
	case chain.SendInsufficientFunds:
		msg = sendErr.Error()
		log.Error("redeemer account cannot pay for the transaction", "nonce", tx.Nonce(), "err", sendErr)
	default:
		msg = sendErr.Error()
		log.Warn("broadcast failed", "nonce", tx.Nonce(), "outcome", outcome.String(), "err", sendErr)
	}
	if err := w.store.RecordSend(ctx, a.ID, msg); err != nil {
		log.Error("recording broadcast failed", "err", err)
	}
}

// track moves every open redemption forward: records inclusion, settles
// after the configured confirmations, notices a nonce taken by another
// transaction, re-broadcasts and re-prices.
func (w *Worker) track(ctx context.Context, head chain.Head) error {
	open, err := w.store.OpenRedemptions(ctx)
	if err != nil {
		return err
	}
	for i := range open {
		if err := w.trackOne(ctx, head, &open[i]); err != nil {
			w.log.Error("tracking redemption failed", "redemption", open[i].ID, "err", err)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	return nil
}

func (w *Worker) trackOne(ctx context.Context, head chain.Head, r *store.Redemption) error {
	account := common.Address(r.Account)
	// The nonce is read before the receipts: if it is past ours and still no
	// attempt has a receipt, none of them can be mined any more.
	cctx, cancel := w.callCtx(ctx)
	mined, err := w.backend.NonceAt(cctx, account, nil)
	cancel()
	if err != nil {
		return fmt.Errorf("nonce of %s: %w", account, err)
	}
	rcpt, err := w.findReceipt(ctx, r)
	if err != nil {
		return err
	}
	if rcpt != nil {
		if r.Status != store.RedemptionMined || r.MinedBlockHash != rcpt.BlockHash || r.MinedTxHash != rcpt.TxHash {
			if err := w.store.MarkMined(ctx, r.ID, store.Mined{
				TxHash: rcpt.TxHash, Block: rcpt.BlockNumber.Uint64(), BlockHash: rcpt.BlockHash,
				ReceiptStatus: rcpt.Status, GasUsed: rcpt.GasUsed, EffectiveGasPrice: rcpt.EffectiveGasPrice,
			}); err != nil {
				return err
			}
			w.log.Info("redemption mined", "redemption", r.ID, "tx_hash", rcpt.TxHash.Hex(),
				"block", rcpt.BlockNumber, "status", rcpt.Status, "gas_used", rcpt.GasUsed)
			w.crashPoint("after-mined")
		}
		if head.Number+1 >= rcpt.BlockNumber.Uint64()+w.cfg.Confirmations {
			return w.settleMined(ctx, head, r, rcpt)
		}
		return nil
	}
	if mined > r.Nonce {
		return w.settleDropped(ctx, head, r)
	}
	latest := r.Latest()
	if head.Number >= latest.CreatedBlock+w.cfg.RepriceAfter {
		return w.reprice(ctx, head, r)
	}
	if latest.SentAt == nil || latest.SendError != "" {
		w.broadcast(ctx, latest)
	}
	return nil
}

// findReceipt looks for a receipt of any attempt, newest first.
func (w *Worker) findReceipt(ctx context.Context, r *store.Redemption) (*types.Receipt, error) {
	for i := len(r.Attempts) - 1; i >= 0; i-- {
		cctx, cancel := w.callCtx(ctx)
		rcpt, err := w.backend.TransactionReceipt(cctx, r.Attempts[i].TxHash)
		cancel()
		if errors.Is(err, ethereum.NotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("receipt of %s: %w", common.Hash(r.Attempts[i].TxHash), err)
		}
		return rcpt, nil
	}
	return nil, nil
}

// settleMined makes a confirmed redemption final. A ticket is redeemed when
// the receipt carries its WinningTicketRedeemed log; otherwise the chain
// decides: used means someone else redeemed it, unused means it goes back to
// the queue (or fails after MaxAttempts).
func (w *Worker) settleMined(ctx context.Context, head chain.Head, r *store.Redemption, rcpt *types.Receipt) error {
	tickets, err := w.store.RedemptionTickets(ctx, r.ID)
	if err != nil {
		return err
	}
	redeemed, err := chain.RedeemedTicketHashes(w.proto.Addresses().TicketBroker, rcpt.Logs)
	if err != nil {
		return err
	}
	why := fmt.Sprintf("not redeemed by transaction %s", rcpt.TxHash.Hex())
	if rcpt.Status == types.ReceiptStatusFailed {
		why = fmt.Sprintf("transaction %s reverted", rcpt.TxHash.Hex())
	}
	st := store.Settlement{RedemptionID: r.ID, Status: store.RedemptionConfirmed, FinalBlock: head.Number}
	var paid int
	value := new(big.Int)
	var unpaid []unpaidTicket
	for _, t := range tickets {
		if t.Status != store.StatusRedeeming || t.RedemptionID != r.ID {
			continue
		}
		if redeemed[t.TicketHash] {
			paid++
			value.Add(value, t.FaceValue)
			st.Tickets = append(st.Tickets, store.TicketOutcome{TicketID: t.ID, Status: store.StatusRedeemed,
				Reason: "redeemed by transaction " + rcpt.TxHash.Hex()})
			continue
		}
		o, class, err := w.unpaidOutcome(ctx, &t, why)
		if err != nil {
			return err
		}
		st.Tickets = append(st.Tickets, o)
		unpaid = append(unpaid, unpaidTicket{o.Status, class})
	}
	st.Outcome = fmt.Sprintf("mined in block %d (status %d): %d of %d tickets redeemed",
		rcpt.BlockNumber, rcpt.Status, paid, len(st.Tickets))
	if err := w.store.Settle(ctx, st); err != nil {
		return err
	}
	w.cfg.Metrics.settled(store.RedemptionConfirmed, paid, value, rcpt.GasUsed, orZero(rcpt.EffectiveGasPrice))
	for _, u := range unpaid {
		w.cfg.Metrics.unpaid(u.status, u.class)
	}
	w.log.Info("redemption final", "redemption", r.ID, "tx_hash", rcpt.TxHash.Hex(), "redeemed", paid, "tickets", len(st.Tickets))
	return nil
}

// settleDropped ends a redemption whose nonce went to a transaction that is
// none of its attempts: its tickets were not redeemed by it.
func (w *Worker) settleDropped(ctx context.Context, head chain.Head, r *store.Redemption) error {
	tickets, err := w.store.RedemptionTickets(ctx, r.ID)
	if err != nil {
		return err
	}
	st := store.Settlement{RedemptionID: r.ID, Status: store.RedemptionDropped, FinalBlock: head.Number,
		Outcome: fmt.Sprintf("nonce %d was used by another transaction", r.Nonce)}
	var unpaid []unpaidTicket
	for _, t := range tickets {
		if t.Status != store.StatusRedeeming || t.RedemptionID != r.ID {
			continue
		}
		o, class, err := w.unpaidOutcome(ctx, &t, st.Outcome)
		if err != nil {
			return err
		}
		st.Tickets = append(st.Tickets, o)
		unpaid = append(unpaid, unpaidTicket{o.Status, class})
	}
	w.log.Warn("redemption dropped", "redemption", r.ID, "nonce", r.Nonce)
	if err := w.store.Settle(ctx, st); err != nil {
		return err
	}
	// The nonce's gas was paid by whichever transaction took it, not this
	// redemption.
	w.cfg.Metrics.settled(store.RedemptionDropped, 0, nil, 0, nil)
	for _, u := range unpaid {
		w.cfg.Metrics.unpaid(u.status, u.class)
	}
	return nil
}

// unpaidTicket is the outcome of a ticket a final redemption did not pay, for
// the metrics recorded once the settlement commits.
type unpaidTicket struct{ status, class string }

// unpaidOutcome decides what happens to a ticket a transaction did not pay,
// and names the reason class for metrics.
func (w *Worker) unpaidOutcome(ctx context.Context, t *store.Ticket, why string) (store.TicketOutcome, string, error) {
	cctx, cancel := w.callCtx(ctx)
	used, err := w.proto.IsTicketUsed(cctx, t.TicketHash)
	cancel()
	if err != nil {
		return store.TicketOutcome{}, "", err
	}
	switch {
	case used:
		return store.TicketOutcome{TicketID: t.ID, Status: store.StatusFailed,
			Reason: why + "; the ticket was used on chain by another transaction"}, ReasonUsedElsewhere, nil
	case t.Attempts >= w.cfg.MaxAttempts:
		return store.TicketOutcome{TicketID: t.ID, Status: store.StatusFailed,
			Reason: fmt.Sprintf("%s; giving up after %d attempts", why, t.Attempts)}, ReasonMaxAttempts, nil
	default:
		return store.TicketOutcome{TicketID: t.ID, Status: store.StatusQueued, Reason: why,
			RetryAt: w.cfg.Now().Add(w.backoff(t.Attempts))}, ReasonNotRedeemed, nil
	}
}

// reprice replaces the current attempt at the same nonce with higher fees.
// The new attempt is committed before it is broadcast.
func (w *Worker) reprice(ctx context.Context, head chain.Head, r *store.Redemption) error {
	latest := r.Latest()
	cctx, cancel := w.callCtx(ctx)
	tip, feeCap, err := chain.SuggestFees(cctx, w.backend, w.cfg.MaxFeeCap)
	cancel()
	if err != nil {
		var low *chain.FeeCapTooLowError
		if !errors.As(err, &low) {
			return err
		}
		// The market is above our cap; bumping is still worth a try below it.
		tip, feeCap = latest.TipCap, latest.FeeCap
	}
	newTip, newCap, ok := chain.BumpFees(latest.TipCap, latest.FeeCap, tip, feeCap, w.cfg.PriceBump, w.cfg.MaxFeeCap)
	if !ok {
		w.log.Warn("transaction stuck but fees are at the configured cap", "redemption", r.ID,
			"fee_cap", latest.FeeCap, "max_fee_cap", w.cfg.MaxFeeCap)
		if latest.SentAt == nil || latest.SendError != "" {
			w.broadcast(ctx, latest)
		}
		return nil
	}
	old, err := chain.DecodeRawTx(latest.Raw)
	if err != nil {
		return err
	}
	tx, raw, err := w.cfg.Signer.Sign(chain.TxParams{Nonce: old.Nonce(), To: *old.To(), Data: old.Data(),
		GasLimit: old.Gas(), TipCap: newTip, FeeCap: newCap})
	if err != nil {
		return err
	}
	a := store.AttemptTx{TxHash: tx.Hash(), Raw: raw, GasLimit: tx.Gas(), FeeCap: newCap, TipCap: newTip}
	id, err := w.store.AddAttempt(ctx, r.ID, a, head.Number)
	if err != nil {
		return err
	}
	w.cfg.Metrics.attempt(true)
	w.log.Info("transaction re-priced", "redemption", r.ID, "nonce", r.Nonce, "tx_hash", tx.Hash().Hex(),
		"fee_cap", newCap, "tip", newTip)
	w.broadcast(ctx, &store.Attempt{AttemptTx: a, ID: id, RedemptionID: r.ID, CreatedBlock: head.Number})
	return nil
}

// expire ends queued tickets whose creation round is past the validity
// period: the contract would refuse them.
func (w *Worker) expire(ctx context.Context) error {
	round, validity, err := w.rounds(ctx)
	if err != nil {
		return err
	}
	// creationRound + validity <= round  <=>  creationRound < round - validity + 1
	cutoff := round - validity + 1
	for {
		stale, err := w.store.QueuedTicketsCreatedBefore(ctx, cutoff, 500)
		if err != nil || len(stale) == 0 {
			return err
		}
		for _, t := range stale {
			reason := fmt.Sprintf("creation round %d is past the validity period of %d rounds (current round %d)",
				t.CreationRound, validity, round)
			if err := w.store.EndQueuedTicket(ctx, t.ID, store.StatusExpired, reason); err != nil {
				return err
			}
			w.cfg.Metrics.expired(ReasonValidityPeriod)
			w.log.Warn("ticket expired unredeemed", "ticket_hash", common.Hash(t.TicketHash).Hex(),
				"sender", common.Address(t.Sender).Hex(), "face_value", t.FaceValue.String())
		}
	}
}

func (w *Worker) rounds(ctx context.Context) (round, validity int64, err error) {
	cctx, cancel := w.callCtx(ctx)
	defer cancel()
	r, err := w.proto.CurrentRound(cctx)
	if err != nil {
		return 0, 0, err
	}
	v, err := w.proto.TicketValidityPeriod(cctx)
	if err != nil {
		return 0, 0, err
	}
	return r.Int64(), v.Int64(), nil
}
