package queue

import (
	"context"
	"fmt"
	"math/big"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"redeemer/chain"
	"redeemer/store"
)

// candidate is a due ticket that passed the pre-claim checks.
type candidate struct {
	t      store.Ticket
	signed chain.SignedTicket
}

// SignedTicket is a stored ticket as the TicketBroker takes it, to redeem
// or to estimate. The worker builds every redemption from it.
func SignedTicket(t *store.Ticket) chain.SignedTicket {
	return chain.SignedTicket{
		Ticket: chain.Ticket{
			Recipient:              t.Recipient,
			Sender:                 t.Sender,
			FaceValue:              t.FaceValue,
			WinProb:                t.WinProb,
			SenderNonce:            t.SenderNonce,
			RecipientRandHash:      t.RecipientRandHash,
			CreationRound:          t.CreationRound,
			CreationRoundBlockHash: t.CreationRoundBlockHash,
			ParamsExpirationBlock:  big.NewInt(t.ParamsExpirationBlock),
		},
		Sig:           t.Sig,
		RecipientRand: new(big.Int).SetBytes(t.RecipientRand[:]),
	}
}

// claim redeems the tickets that are due at head: it checks each one against
// the chain (still unused, would not revert, worth its gas, covered by the
// sender), then claims the good ones into one transaction, commits it, and
// only then broadcasts it.
func (w *Worker) claim(ctx context.Context, head chain.Head) error {
	due, err := w.store.DueTickets(ctx, head.L1Number, w.cfg.MaxBatch)
	if err != nil || len(due) == 0 {
		return err
	}
	cctx, cancel := w.callCtx(ctx)
	active, err := w.proto.IsActiveTranscoder(cctx, w.cfg.Recipient)
	cancel()
	if err != nil {
		return err
	}
	if !active {
		// As go-livepeer does: an inactive recipient's tickets would revert.
		// They wait; the expiry sweep ends them if this outlasts validity.
		for _, t := range due {
			if err := w.postpone(ctx, &t, "recipient is not an active transcoder", ReasonRecipientInactive, false); err != nil {
				return err
			}
		}
		return nil
	}
	cctx, cancel = w.callCtx(ctx)
	tip, feeCap, err := chain.SuggestFees(cctx, w.backend, w.cfg.MaxFeeCap)
	if err != nil {
		cancel()
		return fmt.Errorf("fees: %w", err)
	}
	hdr, err := w.backend.HeaderByNumber(cctx, nil)
	cancel()
	if err != nil {
		return fmt.Errorf("latest header: %w", err)
	}
	// The expected price is what the next block charges, not the cap.
	price := new(big.Int).Add(tip, orZero(hdr.BaseFee))

	var good []candidate
	funds := map[common.Address]*big.Int{}
	for _, t := range due {
		ok, err := w.check(ctx, &t, price, funds)
		if err != nil {
			return err
		}
		if ok {
			good = append(good, candidate{t: t, signed: SignedTicket(&t)})
		}
	}
	if len(good) == 0 {
		return nil
	}
	return w.submit(ctx, head, good, tip, feeCap)
}

// check decides whether a due ticket can go into a transaction now. funds
// tracks, per sender, what is left to pay tickets of this pass.
func (w *Worker) check(ctx context.Context, t *store.Ticket, price *big.Int, funds map[common.Address]*big.Int) (bool, error) {
	hash := common.Hash(t.TicketHash)
	cctx, cancel := w.callCtx(ctx)
	used, err := w.proto.IsTicketUsed(cctx, hash)
	cancel()
	if err != nil {
		return false, err
	}
	if used {
		if err := w.store.EndQueuedTicket(ctx, t.ID, store.StatusFailed,
			"already used on chain by another transaction before this service redeemed it"); err != nil {
			return false, err
		}
		w.cfg.Metrics.failed(ReasonUsedElsewhere)
		return false, nil
	}

	data, err := chain.RedeemCalldata([]chain.SignedTicket{SignedTicket(t)})
	if err != nil {
		return false, err
	}
	broker := w.proto.Addresses().TicketBroker
	cctx, cancel = w.callCtx(ctx)
	gas, err := w.backend.EstimateGas(cctx, ethereum.CallMsg{From: w.cfg.Signer.Address(), To: &broker, Data: data})
	cancel()
	if err != nil {
		reason := chain.RevertReason(err)
		if reason == "" {
			// Not a revert: the node failed; try the whole pass again later.
			return false, fmt.Errorf("estimate gas for ticket %s: %w", hash, err)
		}
		msg := "redemption would revert: " + reason
		if t.Attempts+1 >= w.cfg.MaxAttempts {
			if err := w.store.EndQueuedTicket(ctx, t.ID, store.StatusFailed,
				fmt.Sprintf("%s (after %d attempts)", msg, t.Attempts+1)); err != nil {
				return false, err
			}
			w.cfg.Metrics.failed(ReasonReverts)
			return false, nil
		}
		return false, w.postpone(ctx, t, msg, ReasonReverts, true)
	}
	cost := new(big.Int).Mul(new(big.Int).SetUint64(gas), price)
	if t.FaceValue.Cmp(cost) <= 0 {
		return false, w.postpone(ctx, t, fmt.Sprintf("uneconomic: face value %s wei <= expected gas cost %s wei (%d gas at %s wei)",
			t.FaceValue, cost, gas, price), ReasonUneconomic, false)
	}

	sender := common.Address(t.Sender)
	left, ok := funds[sender]
	if !ok {
		if left, err = w.available(ctx, sender); err != nil {
			return false, err
		}
		funds[sender] = left
	}
	if left.Cmp(t.FaceValue) < 0 {
		return false, w.postpone(ctx, t, fmt.Sprintf("sender cannot cover the face value: %s wei available after tickets in flight", left),
			ReasonSenderFunds, false)
	}
	left.Sub(left, t.FaceValue)
	return true, nil
}

// available is what the sender can still pay this recipient: deposit plus
// the recipient's reserve allocation, less what is already in flight.
func (w *Worker) available(ctx context.Context, sender common.Address) (*big.Int, error) {
	cctx, cancel := w.callCtx(ctx)
	defer cancel()
	info, err := w.proto.SenderInfo(cctx, sender)
	if err != nil {
		return nil, err
	}
	alloc, err := w.proto.ClaimableReserve(cctx, sender, w.cfg.Recipient)
	if err != nil {
		return nil, err
	}
	limbo, err := w.store.SenderLimbo(ctx, sender)
	if err != nil {
		return nil, err
	}
	v := new(big.Int).Add(info.Deposit, alloc)
	return v.Sub(v, limbo), nil
}

// postpone keeps a due ticket queued until a backoff passes; class is the
// reason's metrics label.
func (w *Worker) postpone(ctx context.Context, t *store.Ticket, reason, class string, countAttempt bool) error {
	attempts := t.Attempts
	if countAttempt {
		attempts++
	}
	retry := w.cfg.Now().Add(w.backoff(max(attempts, 1)))
	w.log.Info("ticket postponed", "ticket_hash", common.Hash(t.TicketHash).Hex(), "reason", reason, "retry_at", retry)
	if err := w.store.PostponeTicket(ctx, t.ID, retry, reason, countAttempt); err != nil {
		return err
	}
	w.cfg.Metrics.postponed(class)
	return nil
}

// submit claims the candidates into one transaction and broadcasts it.
func (w *Worker) submit(ctx context.Context, head chain.Head, good []candidate, tip, feeCap *big.Int) error {
	signed := make([]chain.SignedTicket, len(good))
	ids := make([]int64, len(good))
	for i, c := range good {
		signed[i], ids[i] = c.signed, c.t.ID
	}
	broker := w.proto.Addresses().TicketBroker
	data, err := chain.RedeemCalldata(signed)
	if err != nil {
		return err
	}
	account := w.cfg.Signer.Address()
	cctx, cancel := w.callCtx(ctx)
	defer cancel()
	gas, err := w.backend.EstimateGas(cctx, ethereum.CallMsg{From: account, To: &broker, Data: data})
	if err != nil {
		return fmt.Errorf("estimate gas for %d tickets: %w", len(good), err)
	}
	// Headroom: the state the estimate ran on moves before inclusion.
	gasLimit := gas + gas/4
	chainNonce, err := w.backend.PendingNonceAt(cctx, account)
	if err != nil {
		return fmt.Errorf("pending nonce: %w", err)
	}

	claimed, err := w.store.ClaimTickets(ctx, store.Claim{
		Account: account, TicketIDs: ids, ChainNonce: chainNonce, HeadNumber: head.Number,
		Sign: func(nonce uint64, locked []store.Ticket) (store.AttemptTx, error) {
			// Fewer locked tickets than estimated need less gas, so the
			// estimate for the full set still covers them.
			batch := make([]chain.SignedTicket, len(locked))
			for i := range locked {
				batch[i] = SignedTicket(&locked[i])
			}
			data, err := chain.RedeemCalldata(batch)
			if err != nil {
				return store.AttemptTx{}, err
			}
			tx, raw, err := w.cfg.Signer.Sign(chain.TxParams{Nonce: nonce, To: broker, Data: data,
				GasLimit: gasLimit, TipCap: tip, FeeCap: feeCap})
			if err != nil {
				return store.AttemptTx{}, err
			}
			return store.AttemptTx{TxHash: tx.Hash(), Raw: raw, GasLimit: gasLimit, FeeCap: feeCap, TipCap: tip}, nil
		},
	})
	if err != nil || claimed == nil {
		return err
	}
	w.cfg.Metrics.attempt(false)
	w.log.Info("tickets claimed", "redemption", claimed.RedemptionID, "nonce", claimed.Nonce,
		"tickets", len(claimed.Tickets), "tx_hash", common.Hash(claimed.Tx.TxHash).Hex(), "gas_limit", gasLimit)
	w.crashPoint("after-claim-commit")
	w.broadcast(ctx, &store.Attempt{AttemptTx: claimed.Tx, ID: claimed.AttemptID,
		RedemptionID: claimed.RedemptionID, CreatedBlock: head.Number})
	w.crashPoint("after-broadcast")
	return nil
}

func orZero(v *big.Int) *big.Int {
	if v == nil {
		return new(big.Int)
	}
	return v
}
