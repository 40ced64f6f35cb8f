package queue

import (
	"context"
	"errors"
	"log/slog"
	"math/big"
	"os"
	"sync"
	"syscall"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"redeemer/chain"
	"redeemer/pipeline"
	"redeemer/pipeline/ratelog"
	"redeemer/store"
)

// Node is what the redemption stages ask of the Ethereum node. *chain.Node
// implements it.
type Node interface {
	EstimateGasMany(ctx context.Context, msgs []ethereum.CallMsg) ([]uint64, []error, error)
	TrackReads(ctx context.Context, account common.Address, block uint64, hashes []common.Hash, finalized bool) (chain.Snapshot, error)
	PendingNonce(ctx context.Context, account common.Address) (uint64, error)
	MaxPriorityFee(ctx context.Context) (*big.Int, error)
	SendTransaction(ctx context.Context, tx *types.Transaction) error
	Balance(ctx context.Context, account common.Address) (*big.Int, error)
	ReadUsed(ctx context.Context, broker common.Address, hashes []common.Hash) ([]bool, []error, error)
}

// Config tunes the redemption stages. Zero values take the defaults in
// brackets.
type Config struct {
	Recipient common.Address
	Signer    *chain.TxSigner
	Contracts chain.Addresses
	// MaxBatch is the most tickets one transaction redeems [10].
	MaxBatch int
	// MaxTxGas caps one redemption's gas limit; a batch is cut to fit
	// [15,000,000: below the 16,777,216 per-transaction cap of EIP-7825
	// and Arbitrum's 32,000,000 block]. A tip whose block gas limit is
	// lower caps it further.
	MaxTxGas uint64
	// Confirmations a receipt needs before its tickets are settled [3]; the
	// redemption is then watched until the node's finalized block covers it
	// (or, on a node without the finalized tag, for as many blocks again).
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
	// NodeRetry is the wait of a ticket whose own check the node failed to
	// answer (timeout, rate limit): not the ticket's fault, so no attempt
	// counts and the wait stays short [10s].
	NodeRetry time.Duration
	// MaxAttempts is how many redemptions the chain may refuse, for
	// reasons of the ticket's, before it fails for good [5].
	MaxAttempts int
	// ProfitMargin is how much, in percent, a ticket's expected payout must
	// exceed the gas its redemption costs [10]: a ticket whose sender can
	// pay only part of its face value is redeemed when that part clears it.
	ProfitMargin int
	// MinRedemptionsFunded is how many redemptions the signer's balance must
	// pay for, at the current fee cap, before the account is reported low
	// [100].
	MinRedemptionsFunded int
	Logger               *slog.Logger
	// Metrics receives the stages' counters; nil records none.
	Metrics *Metrics
	// Now is the clock; tests may set it [time.Now].
	Now func() time.Time
	// CrashAt names a point at which the process kills itself with SIGKILL:
	// "after-claim-commit", "after-broadcast" or "after-mined". Crash tests
	// set it to prove recovery from each point; never set in production.
	CrashAt string
}

func (c *Config) fill() error {
	if c.Signer == nil || c.Recipient == (common.Address{}) || c.Contracts.TicketBroker == (common.Address{}) {
		return errors.New("queue: signer, recipient and TicketBroker address are required")
	}
	if c.MaxTxGas == 0 {
		c.MaxTxGas = 15_000_000
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
	if c.NodeRetry <= 0 {
		c.NodeRetry = 10 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.ProfitMargin < 0 {
		c.ProfitMargin = 0
	} else if c.ProfitMargin == 0 {
		c.ProfitMargin = 10
	}
	if c.MinRedemptionsFunded <= 0 {
		c.MinRedemptionsFunded = 100
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Redeemer holds what the redemption stages share: configuration, the
// store, the node, and the waits that are nobody's ticket's fault.
type Redeemer struct {
	cfg  Config
	st   *store.Store
	node Node
	log  *slog.Logger

	// backoff is the retry schedule of a ticket the chain refused.
	backoff chain.Backoff

	waits   waits
	funding fundingState
	tip     struct {
		mu sync.Mutex
		v  *big.Int
		at time.Time
	}
}

// New checks cfg and returns the redeemer.
func New(cfg Config, st *store.Store, node Node) (*Redeemer, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	r := &Redeemer{cfg: cfg, st: st, node: node, log: cfg.Logger.With("component", "queue"),
		backoff: chain.Backoff{Min: cfg.RetryBackoff, Max: cfg.MaxBackoff}}
	r.waits.state = ratelog.NewState(r.log, 10*time.Minute)
	return r, nil
}

// Account is the redemption account.
func (r *Redeemer) Account() common.Address { return r.cfg.Signer.Address() }

// crashPoint kills the process, without any cleanup, when point is the
// configured crash point.
func (r *Redeemer) crashPoint(point string) {
	if r.cfg.CrashAt == point {
		r.log.Warn("crash point reached: killing the process", "point", point)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way; do nothing more
	}
}

// Recover runs at the start of every leader term, before any stage: it
// recomputes every sender's in-limbo and queued amounts from the tickets
// (they are changed in the same transactions as the tickets, so this finds
// nothing unless something outside the service changed rows), and
// re-broadcasts the latest attempt of every pending redemption byte for
// byte, so a transaction committed just before a crash still reaches the
// chain.
func (r *Redeemer) Recover(ctx context.Context, l *pipeline.Lease) error {
	var changed int
	err := l.Fenced(ctx, func(q store.Q) (err error) {
		changed, err = q.RecomputeAmounts(ctx)
		return err
	})
	if err != nil {
		return err
	}
	if changed > 0 {
		r.log.Warn("in-limbo amounts corrected from tickets", "senders", changed)
	}
	open, err := r.st.Q().OpenRedemptions(ctx)
	if err != nil {
		return err
	}
	for i := range open {
		if open[i].Status == store.RedemptionPending {
			if err := r.broadcast(ctx, l, open[i].Latest()); err != nil {
				return err
			}
		}
	}
	if len(open) > 0 {
		r.log.Info("recovered open redemptions", "count", len(open))
	}
	return nil
}

// broadcast sends an attempt's stored bytes and records the outcome. It
// returns only a fencing error (this replica no longer leads: nothing more
// may go out); every send error is recorded, and the receipt check, not
// the send result, decides what happened.
func (r *Redeemer) broadcast(ctx context.Context, l *pipeline.Lease, a *store.Attempt) error {
	log := r.log.With("tx_hash", common.Hash(a.TxHash).Hex(), "redemption", a.RedemptionID)
	tx, err := chain.DecodeRawTx(a.Raw)
	if err != nil {
		log.Error("stored transaction does not decode", "err", err)
		return nil
	}
	if err := l.Check(ctx); err != nil {
		return err
	}
	sendErr := r.node.SendTransaction(chain.WithPriority(ctx, chain.PriorityCritical), tx)
	outcome := chain.ClassifySendError(sendErr)
	r.cfg.Metrics.broadcast(outcome)
	msg := ""
	switch outcome {
	case chain.SendOK, chain.SendAlreadyKnown:
		log.Info("transaction broadcast", "nonce", tx.Nonce(), "outcome", outcome.String())
		r.funding.sendSucceeded()
	case chain.SendNonceTooLow:
		// An attempt for this nonce was mined already (ours, or not); the
		// receipt check settles it.
		msg = sendErr.Error()
		log.Info("transaction nonce already used", "nonce", tx.Nonce())
	case chain.SendInsufficientFunds:
		msg = sendErr.Error()
		r.funding.sendRefused(sendErr)
	default:
		msg = sendErr.Error()
		log.Warn("broadcast failed", "nonce", tx.Nonce(), "outcome", outcome.String(), "err", sendErr)
	}
	return l.Fenced(ctx, func(q store.Q) error { return q.RecordSend(ctx, a.ID, msg) })
}

// waits are the conditions under which no ticket can be redeemed that are
// no ticket's fault: a round not initialized, an inactive recipient, an
// account that cannot pay. Each is logged when it starts and when it ends
// (and reminded of every ten minutes), not on every pass, and counts no
// attempt.
type waits struct {
	state *ratelog.State

	mu     sync.Mutex
	reason string
}

// set records the wait for this pass ("" for none) and logs a change.
func (w *waits) set(reason string, attrs ...any) {
	w.mu.Lock()
	w.reason = reason
	w.mu.Unlock()
	ctx := context.Background()
	if reason == "" {
		w.state.OK(ctx, "claims resume", attrs...)
		return
	}
	w.state.Report(ctx, slog.LevelWarn, reason, "claims wait; no ticket is charged an attempt",
		append([]any{"reason", reason}, attrs...)...)
}

// current is the present wait ("" for none).
func (w *waits) current() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reason
}

// Waiting reports the claim stage's present wait, "" when it is not
// waiting: for health and metrics.
func (r *Redeemer) Waiting() string { return r.waits.current() }
