package queue

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"redeemer/chain"
	"redeemer/pipeline"
	"redeemer/store"
)

// TrackStage moves redemptions in flight towards final, with work that
// scales with what changed, not with what is open: one request reads the
// account's nonce at the tip (and the finalized head, while settled
// redemptions are watched); only when the nonce passed a pending
// redemption, a mined one reached its confirmations, or the finalized head
// passed a watched one, a second request reads the receipts concerned,
// together with the nonce again so both answers come from one node at one
// block.
//
//   - A pending redemption whose nonce is used and that has a receipt is
//     mined; one with no receipt of any attempt is dropped only when that
//     stays so for Confirmations blocks (a node that lags or balances
//     between backends can miss a receipt once, not for that long).
//   - A mined redemption at Confirmations depth whose receipt is still in
//     the same block is settled: its tickets take their outcome from the
//     receipt's logs; a receipt gone (its block was reorged out, whether or
//     not the head was ever seen here) sends it back to pending.
//   - A settled redemption is watched until the node's finalized block
//     covers it; if its block stops being canonical meanwhile, that is
//     alerted on, and it is re-opened when its tickets are unused on chain.
//   - An unmined one is re-broadcast when its last send failed, and
//     re-priced after RepriceAfter blocks.
type TrackStage struct {
	r *Redeemer

	mu sync.Mutex
	// dropSince is, per pending redemption, the block at which its nonce
	// was first seen used with no receipt of ours.
	dropSince map[int64]uint64
	// finalizedServed is false once the node answered the finalized tag
	// with nothing: settled redemptions are then final at Confirmations.
	finalizedServed bool
	// lostBlock holds the settled redemptions (with the block) whose block
	// this term saw leave the chain, so a case that lasts several runs
	// counts once.
	lostBlock map[lostKey]bool
}

// TrackStage returns the stage.
func (r *Redeemer) TrackStage() *TrackStage {
	return &TrackStage{r: r, dropSince: map[int64]uint64{}, finalizedServed: true, lostBlock: map[lostKey]bool{}}
}

// Name implements pipeline.Stage.
func (s *TrackStage) Name() string { return "track" }

// Run implements pipeline.Stage.
func (s *TrackStage) Run(ctx context.Context, run pipeline.Run) (pipeline.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.r
	q := r.st.Q()
	open, err := q.OpenRedemptions(ctx)
	if err != nil {
		return pipeline.Result{}, err
	}
	watch, err := q.UnfinalizedRedemptions(ctx)
	if err != nil {
		return pipeline.Result{}, err
	}
	if len(open) == 0 && len(watch) == 0 {
		clear(s.dropSince)
		return pipeline.Result{}, nil
	}
	tip := run.Tip
	account := r.Account()
	var pending []*store.Redemption
	for i := range open {
		if open[i].Status == store.RedemptionPending {
			pending = append(pending, &open[i])
		}
	}
	first, err := r.node.TrackReads(ctx, nonceAccount(account, len(pending) > 0), tip.Number, nil,
		len(watch) > 0 && s.finalizedServed)
	if err != nil {
		return pipeline.Result{}, err
	}
	finalized := first.Finalized
	if len(watch) > 0 && s.finalizedServed && finalized == nil {
		s.finalizedServed = false
		r.log.Info("the node serves no finalized block; settled redemptions are final at --confirmations")
	}

	// What needs receipts now.
	var need []*store.Redemption
	for _, red := range pending {
		if first.Nonce > red.Nonce {
			need = append(need, red)
		}
	}
	for i := range open {
		red := &open[i]
		if red.Status == store.RedemptionMined && tip.Number+1 >= red.MinedBlock+r.cfg.Confirmations {
			need = append(need, red)
		}
	}
	for i := range watch {
		red := &watch[i]
		if !s.finalizedServed || (finalized != nil && finalized.Number >= red.MinedBlock) {
			need = append(need, red)
		}
	}
	var snap chain.Snapshot
	var hashes []common.Hash
	index := map[int64][2]int{} // redemption → its attempts' range in hashes
	if len(need) > 0 {
		for _, red := range need {
			start := len(hashes)
			for _, a := range red.Attempts {
				hashes = append(hashes, a.TxHash)
			}
			index[red.ID] = [2]int{start, len(hashes)}
		}
		if snap, err = r.node.TrackReads(ctx, nonceAccount(account, len(pending) > 0), tip.Number, hashes, false); err != nil {
			return pipeline.Result{}, err
		}
	}
	receipt := func(red *store.Redemption) (*types.Receipt, error) {
		span, ok := index[red.ID]
		if !ok {
			return nil, nil
		}
		for i := span[1] - 1; i >= span[0]; i-- { // newest attempt first
			if err := snap.ReceiptErrs[i]; err != nil {
				return nil, fmt.Errorf("receipt of %s: %w", hashes[i], err)
			}
			if rc := snap.Receipts[i]; rc != nil {
				return rc, nil
			}
		}
		return nil, nil
	}

	var errs []error
	// Redemptions a step of this run made final are not looked at again.
	minedHere := map[int64]bool{}
	for _, red := range pending {
		if red.Status == store.RedemptionPending {
			minedHere[red.ID] = false
		}
		if err := s.trackPending(ctx, run, red, first.Nonce, receipt); err != nil {
			if errors.Is(err, store.ErrFenced) {
				return pipeline.Result{}, err
			}
			errs = append(errs, fmt.Errorf("redemption %d: %w", red.ID, err))
		}
	}
	for i := range open {
		red := &open[i]
		if _, handled := minedHere[red.ID]; handled || red.Status != store.RedemptionMined ||
			tip.Number+1 < red.MinedBlock+r.cfg.Confirmations {
			continue
		}
		if err := s.trackMined(ctx, run, red, receipt); err != nil {
			if errors.Is(err, store.ErrFenced) {
				return pipeline.Result{}, err
			}
			errs = append(errs, fmt.Errorf("redemption %d: %w", red.ID, err))
		}
	}
	for i := range watch {
		red := &watch[i]
		if _, ok := index[red.ID]; !ok {
			continue
		}
		if err := s.trackSettled(ctx, run, red, finalized, receipt); err != nil {
			if errors.Is(err, store.ErrFenced) {
				return pipeline.Result{}, err
			}
			errs = append(errs, fmt.Errorf("redemption %d: %w", red.ID, err))
		}
	}
	// One redemption's failure is logged and retried with the next run;
	// the others were handled meanwhile.
	return pipeline.Result{}, errors.Join(errs...)
}

// nonceAccount is the account when its nonce is needed, zero otherwise.
func nonceAccount(a common.Address, need bool) common.Address {
	if need {
		return a
	}
	return common.Address{}
}

func (s *TrackStage) trackPending(ctx context.Context, run pipeline.Run, red *store.Redemption, nonce uint64,
	receipt func(*store.Redemption) (*types.Receipt, error)) error {
	r := s.r
	tip := run.Tip
	if nonce <= red.Nonce {
		delete(s.dropSince, red.ID)
		latest := red.Latest()
		if tip.Number >= latest.CreatedBlock+r.cfg.RepriceAfter {
			return s.reprice(ctx, run, red)
		}
		if latest.SentAt == nil || latest.SendError != "" {
			return r.broadcast(ctx, run.Lease, latest)
		}
		return nil
	}
	rc, err := receipt(red)
	if err != nil {
		return err
	}
	if rc == nil {
		since, ok := s.dropSince[red.ID]
		if !ok {
			s.dropSince[red.ID] = tip.Number
			r.log.Info("redemption's nonce is used but no receipt of it is found; confirming before calling it dropped",
				"redemption", red.ID, "nonce", red.Nonce)
			return nil
		}
		if tip.Number < since+r.cfg.Confirmations {
			return nil
		}
		delete(s.dropSince, red.ID)
		return s.settleDropped(ctx, run, red)
	}
	delete(s.dropSince, red.ID)
	if err := s.markMined(ctx, run, red, rc); err != nil {
		return err
	}
	red.Status, red.MinedBlock, red.MinedBlockHash = store.RedemptionMined, rc.BlockNumber.Uint64(), rc.BlockHash
	if tip.Number+1 >= red.MinedBlock+r.cfg.Confirmations {
		return s.settleMined(ctx, run, red, rc)
	}
	return nil
}

func (s *TrackStage) markMined(ctx context.Context, run pipeline.Run, red *store.Redemption, rc *types.Receipt) error {
	r := s.r
	err := run.Lease.Fenced(ctx, func(q store.Q) error {
		return q.MarkMined(ctx, red.ID, store.Mined{TxHash: rc.TxHash, Block: rc.BlockNumber.Uint64(), BlockHash: rc.BlockHash,
			ReceiptStatus: rc.Status, GasUsed: rc.GasUsed, EffectiveGasPrice: rc.EffectiveGasPrice})
	})
	if err != nil {
		return err
	}
	r.log.Info("redemption mined", "redemption", red.ID, "tx_hash", rc.TxHash.Hex(), "block", rc.BlockNumber,
		"status", rc.Status, "gas_used", rc.GasUsed)
	// One line per ticket too, so a ticket's hash finds every step of it.
	if tickets, err := r.st.Q().RedemptionTickets(ctx, red.ID); err == nil {
		for _, t := range tickets {
			if t.RedemptionID == red.ID {
				r.log.Info("ticket mined", "ticket_hash", common.Hash(t.TicketHash).Hex(), "sender", common.Address(t.Sender).Hex(),
					"redemption", red.ID, "tx_hash", rc.TxHash.Hex(), "block", rc.BlockNumber)
			}
		}
	}
	r.crashPoint("after-mined")
	return nil
}

// trackMined settles a mined redemption at depth, after checking its
// receipt is still where it was: a reorg may have moved or removed it, even
// one whose heads this service never saw.
func (s *TrackStage) trackMined(ctx context.Context, run pipeline.Run, red *store.Redemption,
	receipt func(*store.Redemption) (*types.Receipt, error)) error {
	r := s.r
	rc, err := receipt(red)
	if err != nil {
		return err
	}
	switch {
	case rc == nil:
		r.log.Warn("mined redemption's block is no longer canonical; back to pending", "redemption", red.ID,
			"block", red.MinedBlock, "block_hash", common.Hash(red.MinedBlockHash).Hex())
		r.cfg.Metrics.reorg()
		return run.Lease.Fenced(ctx, func(q store.Q) error { return q.Unmine(ctx, red.ID) })
	case rc.BlockHash != red.MinedBlockHash:
		r.log.Warn("mined redemption moved to another block; confirming again", "redemption", red.ID,
			"from_block", red.MinedBlock, "to_block", rc.BlockNumber)
		r.cfg.Metrics.reorg()
		return s.markMined(ctx, run, red, rc)
	}
	return s.settleMined(ctx, run, red, rc)
}

// settleMined makes a confirmed redemption's outcome final. A ticket is
// redeemed when the receipt carries its WinningTicketRedeemed log (and paid
// what its WinningTicketTransfer says); otherwise the chain decides: used
// means someone else redeemed it; unused means it goes back to the queue,
// with an attempt counted when the refusal was the ticket's own.
func (s *TrackStage) settleMined(ctx context.Context, run pipeline.Run, red *store.Redemption, rc *types.Receipt) error {
	r := s.r
	tickets, err := r.st.Q().RedemptionTickets(ctx, red.ID)
	if err != nil {
		return err
	}
	paid, err := chain.Payouts(r.cfg.Contracts.TicketBroker, rc.Logs)
	if err != nil {
		return err
	}
	why := fmt.Sprintf("not redeemed by transaction %s", rc.TxHash.Hex())
	// A whole transaction that reverted (out of gas, say) says nothing of
	// any one ticket of a batch; a single ticket's revert is its own.
	reverted := rc.Status == types.ReceiptStatusFailed
	if reverted {
		why = fmt.Sprintf("transaction %s reverted", rc.TxHash.Hex())
	}
	st := store.Settlement{RedemptionID: red.ID, Status: store.RedemptionConfirmed, FinalBlock: run.Tip.Number}
	value := new(big.Int)
	var unpaid []store.Ticket
	for _, t := range tickets {
		if t.Status != store.StatusRedeeming || t.RedemptionID != red.ID {
			continue
		}
		if amount, ok := paid[t.TicketHash]; ok {
			value.Add(value, amount)
			st.Tickets = append(st.Tickets, store.TicketOutcome{TicketID: t.ID, Status: store.StatusRedeemed, Paid: amount,
				Reason: fmt.Sprintf("redeemed by transaction %s, paid %s wei", rc.TxHash.Hex(), amount)})
			continue
		}
		unpaid = append(unpaid, t)
	}
	outcomes, classes, err := s.unpaidOutcomes(ctx, unpaid, why, !reverted || len(tickets) == 1)
	if err != nil {
		return err
	}
	st.Tickets = append(st.Tickets, outcomes...)
	redeemed := len(st.Tickets) - len(outcomes)
	st.Outcome = fmt.Sprintf("mined in block %d (status %d): %d of %d tickets redeemed, %s wei paid",
		rc.BlockNumber, rc.Status, redeemed, len(st.Tickets), value)
	err = run.Lease.Fenced(ctx, func(q store.Q) error {
		if err := q.Settle(ctx, st); err != nil {
			return err
		}
		if !s.finalizedServed {
			return q.MarkFinalized(ctx, red.ID, run.Tip.Number)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.cfg.Metrics.settled(string(store.RedemptionConfirmed), redeemed, value, rc.GasUsed, chain.OrZero(rc.EffectiveGasPrice))
	for i, o := range outcomes {
		r.cfg.Metrics.unpaid(o.Status, classes[i])
	}
	for _, o := range st.Tickets {
		for _, t := range tickets {
			if t.ID == o.TicketID {
				r.log.Info("ticket final", "ticket_hash", common.Hash(t.TicketHash).Hex(), "sender", common.Address(t.Sender).Hex(),
					"status", o.Status, "reason", o.Reason, "redemption", red.ID, "tx_hash", rc.TxHash.Hex())
			}
		}
	}
	r.log.Info("redemption final", "redemption", red.ID, "tx_hash", rc.TxHash.Hex(), "redeemed", redeemed,
		"tickets", len(st.Tickets), "paid_wei", value.String())
	return nil
}

// settleDropped ends a redemption whose nonce went to a transaction that is
// none of its attempts: none of its tickets was redeemed by it.
func (s *TrackStage) settleDropped(ctx context.Context, run pipeline.Run, red *store.Redemption) error {
	r := s.r
	tickets, err := r.st.Q().RedemptionTickets(ctx, red.ID)
	if err != nil {
		return err
	}
	st := store.Settlement{RedemptionID: red.ID, Status: store.RedemptionDropped, FinalBlock: run.Tip.Number,
		Outcome: fmt.Sprintf("nonce %d was used by another transaction", red.Nonce)}
	var unpaid []store.Ticket
	for _, t := range tickets {
		if t.Status == store.StatusRedeeming && t.RedemptionID == red.ID {
			unpaid = append(unpaid, t)
		}
	}
	// Not the tickets' fault: no attempt counts.
	outcomes, classes, err := s.unpaidOutcomes(ctx, unpaid, st.Outcome, false)
	if err != nil {
		return err
	}
	st.Tickets = outcomes
	r.log.Warn("redemption dropped", "redemption", red.ID, "nonce", red.Nonce)
	if err := run.Lease.Fenced(ctx, func(q store.Q) error { return q.Settle(ctx, st) }); err != nil {
		return err
	}
	// The nonce's gas was paid by whichever transaction took it.
	r.cfg.Metrics.settled(string(store.RedemptionDropped), 0, nil, 0, nil)
	for i, o := range outcomes {
		r.cfg.Metrics.unpaid(o.Status, classes[i])
	}
	return nil
}

// unpaidOutcomes decides what happens to tickets a final redemption did not
// pay, reading whether each is used on chain in one request. attempt says
// whether the refusal counts as the ticket's own.
func (s *TrackStage) unpaidOutcomes(ctx context.Context, tickets []store.Ticket, why string, attempt bool) (
	[]store.TicketOutcome, []string, error) {
	if len(tickets) == 0 {
		return nil, nil, nil
	}
	r := s.r
	hashes := make([]common.Hash, len(tickets))
	for i := range tickets {
		hashes[i] = tickets[i].TicketHash
	}
	used, errs, err := r.node.ReadUsed(ctx, r.cfg.Contracts.TicketBroker, hashes)
	if err != nil {
		return nil, nil, err
	}
	out := make([]store.TicketOutcome, len(tickets))
	classes := make([]string, len(tickets))
	for i, t := range tickets {
		if errs[i] != nil {
			return nil, nil, fmt.Errorf("usedTickets(%s): %w", hashes[i], errs[i])
		}
		n := t.Attempts
		if attempt {
			n++
		}
		switch {
		case used[i]:
			out[i] = store.TicketOutcome{TicketID: t.ID, Status: store.StatusFailed,
				Reason: why + "; the ticket was redeemed on chain by another transaction"}
			classes[i] = ReasonUsedElsewhere
		case attempt && n >= r.cfg.MaxAttempts:
			out[i] = store.TicketOutcome{TicketID: t.ID, Status: store.StatusFailed, Attempt: attempt,
				Reason: fmt.Sprintf("%s; giving up after %d attempts", why, n)}
			classes[i] = ReasonMaxAttempts
		default:
			// Not the ticket's fault (a nonce taken by another
			// transaction): claimable again at once.
			retry := r.cfg.Now()
			if attempt {
				retry = retry.Add(r.backoff.Delay(max(n, 1)))
			}
			out[i] = store.TicketOutcome{TicketID: t.ID, Status: store.StatusQueued, Reason: why, Attempt: attempt,
				RetryAt: retry}
			classes[i] = ReasonNotRedeemed
		}
	}
	return out, classes, nil
}

// trackSettled watches a settled redemption until the finalized block
// covers it (finalized nil: the node serves no tag, and the receipt check
// at Confirmations was the last).
func (s *TrackStage) trackSettled(ctx context.Context, run pipeline.Run, red *store.Redemption, finalized *chain.Head,
	receipt func(*store.Redemption) (*types.Receipt, error)) error {
	r := s.r
	rc, err := receipt(red)
	if err != nil {
		return err
	}
	switch {
	case rc != nil && rc.BlockHash == red.MinedBlockHash:
		final := run.Tip.Number
		if finalized != nil {
			final = finalized.Number
		}
		return run.Lease.Fenced(ctx, func(q store.Q) error { return q.MarkFinalized(ctx, red.ID, final) })
	case rc != nil:
		s.lost(red)
		r.log.Error("settled redemption moved to another block before it was finalized", "redemption", red.ID,
			"from_block", red.MinedBlock, "to_block", rc.BlockNumber, "tx_hash", rc.TxHash.Hex())
		return run.Lease.Fenced(ctx, func(q store.Q) error {
			return q.MoveConfirmed(ctx, red.ID, store.Mined{TxHash: rc.TxHash, Block: rc.BlockNumber.Uint64(), BlockHash: rc.BlockHash})
		})
	}
	// The block that settled it is gone. Its tickets stay redeemed if the
	// chain still shows them used; otherwise the redemption opens again.
	s.lost(red)
	tickets, err := r.st.Q().RedemptionTickets(ctx, red.ID)
	if err != nil {
		return err
	}
	var hashes []common.Hash
	for _, t := range tickets {
		if t.Status == store.StatusRedeemed && t.RedemptionID == red.ID {
			hashes = append(hashes, t.TicketHash)
		}
	}
	used, errs, err := r.node.ReadUsed(ctx, r.cfg.Contracts.TicketBroker, hashes)
	if err != nil {
		return err
	}
	for i := range hashes {
		if errs[i] != nil {
			return fmt.Errorf("usedTickets(%s): %w", hashes[i], errs[i])
		}
		if used[i] {
			r.log.Error("settled redemption's block is gone but its tickets are still used on chain; watching",
				"redemption", red.ID, "block", red.MinedBlock)
			return nil
		}
	}
	reason := fmt.Sprintf("re-opened: block %d (%s) that settled redemption %d is no longer canonical and its tickets are unused",
		red.MinedBlock, common.Hash(red.MinedBlockHash).Hex(), red.ID)
	var ids []int64
	err = run.Lease.Fenced(ctx, func(q store.Q) (err error) {
		ids, err = q.Reopen(ctx, red.ID, reason)
		return err
	})
	if err != nil {
		return err
	}
	r.log.Error("settled redemption re-opened after a reorg", "redemption", red.ID, "tickets", len(ids),
		"block", red.MinedBlock)
	return nil
}

type lostKey struct {
	id    int64
	block common.Hash
}

// lost counts a settled redemption whose block left the chain, once per
// block lost.
func (s *TrackStage) lost(red *store.Redemption) {
	k := lostKey{red.ID, common.Hash(red.MinedBlockHash)}
	if !s.lostBlock[k] {
		s.lostBlock[k] = true
		s.r.cfg.Metrics.reorgAfterSettle()
	}
}

// reprice replaces the latest attempt at the same nonce with higher fees.
// The new attempt is committed (fenced) before it is broadcast.
func (s *TrackStage) reprice(ctx context.Context, run pipeline.Run, red *store.Redemption) error {
	r := s.r
	latest := red.Latest()
	tip, feeCap, err := r.fees(ctx, run.Tip)
	if err != nil {
		return err
	}
	newTip, newCap, ok := chain.BumpFees(latest.TipCap, latest.FeeCap, tip, feeCap, r.cfg.PriceBump, r.cfg.MaxFeeCap)
	if !ok {
		r.log.Warn("transaction stuck but fees are at the configured cap", "redemption", red.ID,
			"fee_cap", latest.FeeCap, "max_fee_cap", r.cfg.MaxFeeCap)
		if latest.SentAt == nil || latest.SendError != "" {
			return r.broadcast(ctx, run.Lease, latest)
		}
		return nil
	}
	old, err := chain.DecodeRawTx(latest.Raw)
	if err != nil {
		return err
	}
	tx, raw, err := r.cfg.Signer.Sign(chain.TxParams{Nonce: old.Nonce(), To: *old.To(), Data: old.Data(),
		GasLimit: old.Gas(), TipCap: newTip, FeeCap: newCap})
	if err != nil {
		return err
	}
	a := store.AttemptTx{TxHash: tx.Hash(), Raw: raw, GasLimit: tx.Gas(), FeeCap: newCap, TipCap: newTip}
	var id int64
	err = run.Lease.Fenced(ctx, func(q store.Q) (err error) {
		id, err = q.AddAttempt(ctx, red.ID, a, run.Tip.Number, run.Lease.Term())
		return err
	})
	if err != nil {
		return err
	}
	r.cfg.Metrics.attempt(true)
	r.log.Info("transaction re-priced", "redemption", red.ID, "nonce", red.Nonce, "tx_hash", tx.Hash().Hex(),
		"fee_cap", newCap, "tip", newTip)
	return r.broadcast(ctx, run.Lease, &store.Attempt{AttemptTx: a, ID: id, RedemptionID: red.ID, CreatedBlock: run.Tip.Number})
}
