package queue

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"golang.org/x/sync/errgroup"

	"redeemer/chain"
	"redeemer/monitor"
	"redeemer/pipeline"
	"redeemer/store"
)

// SignedTicket is a stored ticket as the TicketBroker takes it, to redeem
// or to estimate. Every redemption is built from it.
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

// ClaimStage claims due tickets into redemption transactions. A pass picks
// due tickets round-robin across senders, drops those whose sender cannot
// pay anything now (from the stored sender state: no node call), asks the
// node in one request to estimate each remaining ticket's redemption
// alone, keeps those worth their gas, and claims up to MaxBatch of them into
// one transaction: committed (fenced by the term) before it is broadcast.
//
// A ticket's own failure touches only that ticket: a revert that is the
// ticket's counts an attempt and postpones it (or fails it at
// MaxAttempts); a revert that is no ticket's fault (the round is not
// initialized) makes the whole pass wait without charging anyone; a node
// that cannot answer for one ticket postpones it briefly, uncharged.
type ClaimStage struct {
	r *Redeemer

	mu     sync.Mutex
	cursor [20]byte // round-robin position among senders
}

// ClaimStage returns the stage.
func (r *Redeemer) ClaimStage() *ClaimStage { return &ClaimStage{r: r} }

// Name implements pipeline.Stage.
func (s *ClaimStage) Name() string { return "claim" }

// revertKind sorts the chain's refusals of a single ticket's redemption.
type revertKind int

const (
	// revertTicket: the ticket's own problem (signature, expired, did not
	// win, or unknown, an empty revert included): an attempt counts.
	revertTicket revertKind = iota
	// revertWait: no ticket's fault and nothing any ticket can change; the
	// pass waits.
	revertWait
	// revertRoundWait: the wait for the current round's initialization,
	// which the stored state shows too.
	revertRoundWait
	// revertUsed: someone redeemed it already.
	revertUsed
	// revertUnlocked: its sender is unlocked: it can never pay.
	revertUnlocked
	// revertSenderEmpty: its sender has neither deposit nor reserve now.
	revertSenderEmpty
)

// waitRound is the wait for an uninitialized round, whether the stored
// state or a refused estimate shows it.
const waitRound = "the current round is not initialized"

// classifyRevert reads a refused redemption's decoded revert data (the
// TicketBroker's own words; PROTOCOL.md lists them).
func classifyRevert(reason string) revertKind {
	r := strings.ToLower(reason)
	switch {
	case strings.Contains(r, "round is not initialized"):
		return revertRoundWait
	case strings.Contains(r, "system is paused"):
		return revertWait
	case strings.Contains(r, "recipient is not an active transcoder"):
		return revertWait
	case strings.Contains(r, "ticket is used"):
		return revertUsed
	case strings.Contains(r, "sender is unlocked"):
		return revertUnlocked
	case strings.Contains(r, "deposit and reserve are zero"):
		return revertSenderEmpty
	}
	return revertTicket
}

// candidate is a due ticket on its way through a pass.
type candidate struct {
	t        store.Ticket
	expected *big.Int // what the sender can pay of it now
	gas      uint64
}

// Run implements pipeline.Stage.
func (s *ClaimStage) Run(ctx context.Context, run pipeline.Run) (pipeline.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.r
	if blocked, why := r.funding.blocked(); blocked {
		r.waits.set("the redemption account cannot pay for a redemption", "why", why, "account", r.Account().Hex())
		return pipeline.Result{}, nil
	}
	ps, err := r.st.StoredProtocolState(ctx)
	if err != nil {
		return pipeline.Result{}, err
	}
	if ps == nil {
		r.waits.set("no protocol state stored yet (the senders stage stores it on its first run)")
		return pipeline.Result{}, nil
	}
	if !ps.RoundInitialized() {
		r.waits.set(waitRound, "round", ps.CurrentRound.String(),
			"last_initialized", ps.LastInitializedRound.String())
		return pipeline.Result{}, nil
	}
	if !ps.RecipientActive {
		r.waits.set("the recipient is not an active transcoder", "recipient", r.cfg.Recipient.Hex())
		return pipeline.Result{}, nil
	}

	now := r.cfg.Now()
	l1 := run.Tip.L1Number
	next, ok, retryAt, err := r.st.Q().NextDue(ctx)
	if err != nil {
		return pipeline.Result{}, err
	}
	if (!ok || next > l1) && (retryAt.IsZero() || retryAt.After(now)) {
		r.waits.set("")
		return pipeline.Result{WakeAt: retryAt}, nil
	}
	limit := 2 * r.cfg.MaxBatch
	sel, err := r.st.Q().DueTickets(ctx, store.DueParams{L1: l1, Limit: limit, After: s.cursor})
	if err != nil {
		return pipeline.Result{}, err
	}
	s.cursor = sel.Next
	if len(sel.Tickets) == 0 {
		r.waits.set("")
		return pipeline.Result{WakeAt: retryAt}, nil
	}
	p := &pass{r: r, run: run, now: now}
	cands, err := p.fund(ctx, sel.Tickets)
	if err != nil {
		return pipeline.Result{}, err
	}
	if len(cands) > 0 {
		// What a claim needs besides the estimates is read beside them,
		// not after: one round trip to a remote node instead of three.
		p.prefetch(ctx)
	}
	cands, wait, err := p.estimate(ctx, cands)
	if err != nil {
		return pipeline.Result{}, err
	}
	if wait != "" {
		// Nothing is written: the same tickets are tried again when the
		// wait is over, none charged.
		r.waits.set(wait)
		return pipeline.Result{}, nil
	}
	r.waits.set("")
	cands, err = p.economic(ctx, cands)
	if err != nil {
		return pipeline.Result{}, err
	}
	if err := p.record(ctx); err != nil {
		return pipeline.Result{}, err
	}
	batch := fitGas(cands[:min(len(cands), r.cfg.MaxBatch)], txGasCap(r.cfg.MaxTxGas, run.Tip))
	if len(batch) > 0 {
		if err := p.submit(ctx, batch); err != nil {
			return pipeline.Result{}, err
		}
	}
	// A full selection, or a batch cut to its size or gas, may have left
	// due tickets behind.
	return pipeline.Result{Again: len(sel.Tickets) == limit || len(cands) > len(batch)}, nil
}

// gasLimit is a redemption's gas limit for tickets whose single estimates
// sum to gas: each ticket alone is estimated, a batch is not (the deployed
// batch call skips a ticket that runs out of gas instead of failing, so its
// estimate can be too low to redeem anything). The sum of the singles, with
// headroom for state that moves before inclusion, covers the batch, which
// costs less per ticket.
func gasLimit(gas uint64) uint64 { return gas + gas/4 }

// fitGas keeps the longest prefix of cands whose redemption's gas limit
// stays within maxGas (at least one ticket): a transaction above the
// node's per-transaction cap is refused at broadcast, however often it is
// sent, and holds every later nonce back.
func fitGas(cands []candidate, maxGas uint64) []candidate {
	var gas uint64
	for i, c := range cands {
		if i > 0 && gasLimit(gas+c.gas) > maxGas {
			return cands[:i]
		}
		gas += c.gas
	}
	return cands
}

// txGasCap is the most gas one redemption may ask for at tip: the
// configured cap, or below the block's gas limit where that is lower (a
// fresh geth --dev chain starts at 11,500,000). A block's gas limit falls
// by at most 1/1024 of its parent's, so a transaction within tip's limit
// less that step fits the next block too.
func txGasCap(maxTxGas uint64, tip chain.Head) uint64 {
	if tip.GasLimit == 0 {
		return maxTxGas
	}
	return min(maxTxGas, tip.GasLimit-tip.GasLimit/1024)
}

// pass is one claim pass: the tickets it postpones or ends are written
// together, in one fenced transaction.
type pass struct {
	r   *Redeemer
	run pipeline.Run
	now time.Time
	// sendParams, once prefetch started, delivers the fees and the
	// account's pending nonce a claim is signed with.
	sendParams chan sendParams

	postpone []store.Postponement
	end      []store.Ending
	// metric classes of what was written, counted once it commits
	postponed []string
	ended     []string
}

func (p *pass) wait(t *store.Ticket, d time.Duration, reason, class string, attempt bool) {
	p.postpone = append(p.postpone, store.Postponement{TicketID: t.ID, RetryAt: p.now.Add(d), Reason: reason, Attempt: attempt})
	p.postponed = append(p.postponed, class)
	p.r.log.Info("ticket postponed", "ticket_hash", common.Hash(t.TicketHash).Hex(),
		"sender", common.Address(t.Sender).Hex(), "reason", reason, "retry_in", d.String(), "attempt_counted", attempt)
}

func (p *pass) fail(t *store.Ticket, reason, class string, attempt bool) {
	p.end = append(p.end, store.Ending{TicketID: t.ID, Status: store.StatusFailed, Reason: reason, Attempt: attempt})
	p.ended = append(p.ended, class)
	p.r.log.Warn("ticket failed", "ticket_hash", common.Hash(t.TicketHash).Hex(),
		"sender", common.Address(t.Sender).Hex(), "face_value", t.FaceValue.String(), "reason", reason)
}

// record writes the pass's postponements and endings.
func (p *pass) record(ctx context.Context) error {
	if len(p.postpone) == 0 && len(p.end) == 0 {
		return nil
	}
	err := p.run.Lease.Fenced(ctx, func(q store.Q) error {
		if err := q.PostponeTickets(ctx, p.postpone); err != nil {
			return err
		}
		_, err := q.EndQueuedTickets(ctx, p.end)
		return err
	})
	if err != nil {
		return err
	}
	for _, c := range p.postponed {
		p.r.cfg.Metrics.postponed(c)
	}
	for _, c := range p.ended {
		p.r.cfg.Metrics.failed(c)
	}
	return nil
}

// fund works out, from the stored sender state, what each sender can pay
// each of its due tickets now: its deposit plus this recipient's reserve
// allocation (computed as the contract computes it, clamped at zero), less
// what its tickets in flight and earlier tickets of this pass take. A
// ticket its sender can pay nothing of waits, uncharged.
func (p *pass) fund(ctx context.Context, tickets []store.Ticket) ([]candidate, error) {
	var senders [][20]byte
	seen := map[[20]byte]bool{}
	for _, t := range tickets {
		if !seen[t.Sender] {
			seen[t.Sender] = true
			senders = append(senders, t.Sender)
		}
	}
	states, err := p.r.st.FloatStates(ctx, senders)
	if err != nil {
		return nil, err
	}
	avail := map[[20]byte]*big.Int{}
	why := map[[20]byte]string{}
	for _, fs := range states {
		if fs.State == nil {
			// Not read yet: the reread stage reads senders with tickets
			// and no state.
			avail[fs.Sender], why[fs.Sender] = new(big.Int), "sender state not read yet"
			continue
		}
		alloc := monitor.ReserveAlloc(fs)
		v := new(big.Int).Add(fs.State.Deposit, alloc)
		v.Sub(v, fs.InLimbo)
		avail[fs.Sender] = v
		why[fs.Sender] = fmt.Sprintf("deposit %s + reserve allocation %s - in flight %s", fs.State.Deposit, alloc, fs.InLimbo)
	}
	var out []candidate
	for _, t := range tickets {
		left := avail[t.Sender]
		if left.Sign() <= 0 {
			p.wait(&t, p.r.backoff.Delay(1), "sender can pay nothing now: "+why[t.Sender], ReasonSenderFunds, false)
			continue
		}
		expected := new(big.Int).Set(t.FaceValue)
		if expected.Cmp(left) > 0 {
			expected.Set(left)
		}
		left.Sub(left, expected)
		out = append(out, candidate{t: t, expected: expected})
	}
	return out, nil
}

// estimate asks the node, in one request, for each candidate's redemption
// on its own: the gas it takes, or the chain's refusal. It returns the
// candidates that would go through, or the wait that stops the pass.
func (p *pass) estimate(ctx context.Context, cands []candidate) ([]candidate, string, error) {
	if len(cands) == 0 {
		return nil, "", nil
	}
	r := p.r
	broker := r.cfg.Contracts.TicketBroker
	msgs := make([]ethereum.CallMsg, len(cands))
	for i := range cands {
		data, err := chain.RedeemCalldata([]chain.SignedTicket{SignedTicket(&cands[i].t)})
		if err != nil {
			return nil, "", err
		}
		msgs[i] = ethereum.CallMsg{From: r.Account(), To: &broker, Data: data}
	}
	gas, errs, err := r.node.EstimateGasMany(ctx, msgs)
	if err != nil {
		// The request as a whole failed: the node's problem, the stage's
		// retry; no ticket is touched.
		return nil, "", fmt.Errorf("estimate %d redemptions: %w", len(cands), err)
	}
	var out []candidate
	for i := range cands {
		c := &cands[i]
		t := &c.t
		if errs[i] == nil {
			c.gas = gas[i]
			out = append(out, *c)
			continue
		}
		rev := chain.AsRevert(errs[i])
		if rev == nil {
			p.wait(t, r.cfg.NodeRetry, "node did not answer for this ticket: "+errs[i].Error(), ReasonNode, false)
			continue
		}
		reason := rev.Reason
		if reason == "" {
			reason = "reverted without a reason"
		}
		switch classifyRevert(reason) {
		case revertRoundWait:
			// The words the stored state gives the same wait, so one wait
			// logs once whichever noticed it first.
			return nil, waitRound, nil
		case revertWait:
			return nil, "the chain refuses every redemption now: " + reason, nil
		case revertUsed:
			p.fail(t, "already redeemed on chain by another transaction before this service redeemed it", ReasonUsedElsewhere, false)
		case revertUnlocked:
			p.fail(t, "redemption refused: "+reason+" (the sender withdrew or is about to; the ticket can never pay)",
				ReasonSenderUnlocked, true)
		case revertSenderEmpty:
			p.wait(t, r.backoff.Delay(1), "redemption would revert: "+reason, ReasonSenderFunds, false)
		default:
			msg := "redemption would revert: " + reason
			if n := t.Attempts + 1; n >= r.cfg.MaxAttempts {
				p.fail(t, fmt.Sprintf("%s (after %d attempts)", msg, n), ReasonReverts, true)
			} else {
				p.wait(t, r.backoff.Delay(n), msg, ReasonReverts, true)
			}
		}
	}
	return out, "", nil
}

// economic keeps the candidates whose expected payout exceeds their gas
// cost by the margin, at the price the next block charges.
func (p *pass) economic(ctx context.Context, cands []candidate) ([]candidate, error) {
	if len(cands) == 0 {
		return nil, nil
	}
	tip, _, err := p.r.fees(ctx, p.run.Tip)
	if err != nil {
		return nil, err
	}
	price := new(big.Int).Add(tip, chain.OrZero(p.run.Tip.BaseFee))
	var out []candidate
	for _, c := range cands {
		cost := new(big.Int).Mul(new(big.Int).SetUint64(c.gas), price)
		need := new(big.Int).Mul(cost, big.NewInt(int64(100+p.r.cfg.ProfitMargin)))
		if new(big.Int).Mul(c.expected, big.NewInt(100)).Cmp(need) <= 0 {
			p.wait(&c.t, p.r.backoff.Delay(1), fmt.Sprintf(
				"uneconomic: expected payout %s wei (face value %s) does not exceed the gas cost %s wei (%d gas at %s wei) by %d%%",
				c.expected, c.t.FaceValue, cost, c.gas, price, p.r.cfg.ProfitMargin), ReasonUneconomic, false)
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// sendParams are the fees and the account's pending nonce at the node.
type sendParams struct {
	tipCap, feeCap *big.Int
	nonce          uint64
	err            error
}

// prefetch starts reading the fees and the pending nonce.
func (p *pass) prefetch(ctx context.Context) {
	p.sendParams = make(chan sendParams, 1)
	go func() {
		var sp sendParams
		var g errgroup.Group
		g.Go(func() (err error) {
			sp.tipCap, sp.feeCap, err = p.r.fees(ctx, p.run.Tip)
			return err
		})
		g.Go(func() (err error) {
			sp.nonce, err = p.r.node.PendingNonce(ctx, p.r.Account())
			return err
		})
		sp.err = g.Wait()
		p.sendParams <- sp
	}()
}

// submit claims cands into one transaction: the tickets are locked, the
// nonce taken, the transaction signed and stored, the tickets moved into
// limbo, all in one fenced transaction; only then is it broadcast.
func (p *pass) submit(ctx context.Context, cands []candidate) error {
	r := p.r
	if p.sendParams == nil {
		p.prefetch(ctx)
	}
	var sp sendParams
	select {
	case sp = <-p.sendParams:
	case <-ctx.Done():
		return ctx.Err()
	}
	if sp.err != nil {
		return sp.err
	}
	tipCap, feeCap, chainNonce := sp.tipCap, sp.feeCap, sp.nonce
	account := r.Account()
	byID := make(map[int64]candidate, len(cands))
	ids := make([]int64, len(cands))
	for i, c := range cands {
		ids[i], byID[c.t.ID] = c.t.ID, c
	}
	broker := r.cfg.Contracts.TicketBroker
	var (
		claimed store.Claimed
		attempt store.AttemptTx
		locked  []store.Ticket
		nonce   uint64
		limit   uint64
	)
	err := p.run.Lease.Fenced(ctx, func(q store.Q) error {
		var err error
		if locked, err = q.LockQueuedTickets(ctx, ids); err != nil || len(locked) == 0 {
			return err
		}
		if nonce, err = q.TakeNonce(ctx, account, chainNonce); err != nil {
			return err
		}
		signed := make([]chain.SignedTicket, len(locked))
		tickets := make([]store.ClaimedTicket, len(locked))
		var gas uint64
		for i := range locked {
			c := byID[locked[i].ID]
			signed[i] = SignedTicket(&locked[i])
			tickets[i] = store.ClaimedTicket{ID: c.t.ID, Sender: c.t.Sender, FaceValue: c.t.FaceValue, ExpectedPayout: c.expected}
			gas += c.gas
		}
		limit = gasLimit(gas)
		data, err := chain.RedeemCalldata(signed)
		if err != nil {
			return err
		}
		tx, raw, err := r.cfg.Signer.Sign(chain.TxParams{Nonce: nonce, To: broker, Data: data,
			GasLimit: limit, TipCap: tipCap, FeeCap: feeCap})
		if err != nil {
			return fmt.Errorf("sign: %w", err)
		}
		attempt = store.AttemptTx{TxHash: tx.Hash(), Raw: raw, GasLimit: limit, FeeCap: feeCap, TipCap: tipCap}
		claimed, err = q.InsertRedemption(ctx, store.NewRedemption{Account: account, Nonce: nonce,
			HeadNumber: p.run.Tip.Number, Term: p.run.Lease.Term(), Tx: attempt, Tickets: tickets})
		return err
	})
	if err != nil || len(locked) == 0 {
		return err
	}
	r.cfg.Metrics.attempt(false)
	for _, t := range locked {
		c := byID[t.ID]
		r.log.Info("ticket claimed", "ticket_hash", common.Hash(t.TicketHash).Hex(), "sender", common.Address(t.Sender).Hex(),
			"face_value", t.FaceValue.String(), "expected_payout", c.expected.String(), "redemption", claimed.RedemptionID,
			"nonce", nonce, "tx_hash", common.Hash(attempt.TxHash).Hex())
	}
	r.log.Info("redemption claimed", "redemption", claimed.RedemptionID, "nonce", nonce, "tickets", len(locked),
		"tx_hash", common.Hash(attempt.TxHash).Hex(), "gas_limit", limit)
	r.crashPoint("after-claim-commit")
	err = r.broadcast(ctx, p.run.Lease, &store.Attempt{AttemptTx: attempt, ID: claimed.AttemptID,
		RedemptionID: claimed.RedemptionID, CreatedBlock: p.run.Tip.Number})
	r.crashPoint("after-broadcast")
	return err
}
