package main

import (
	"context"
	"crypto/ecdsa"
	"flag"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"redeemer/chain"
	"redeemer/monitor"
	"redeemer/queue"
	"redeemer/store"
)

// redeemFlags tune the redemption worker, which runs on the leader replica.
type redeemFlags struct {
	confirmations uint64
	maxBatch      int
	repriceAfter  uint64
	maxFeeGwei    float64
	pollInterval  time.Duration
	leaderCheck   time.Duration
	retryBackoff  time.Duration
	maxAttempts   int
	minFunded     int
	crashAt       string
}

func (f *redeemFlags) register(fs *flag.FlagSet, defaultConfirmations uint64, defaultPoll time.Duration) {
	fs.Uint64Var(&f.confirmations, "confirmations", defaultConfirmations, "blocks a redemption receipt needs before its tickets are final")
	fs.IntVar(&f.maxBatch, "max-batch", 10, "most tickets redeemed in one transaction (batchRedeemWinningTickets above 1)")
	fs.Uint64Var(&f.repriceAfter, "reprice-after", 20, "blocks an unmined transaction waits before it is replaced with higher fees at the same nonce")
	fs.Float64Var(&f.maxFeeGwei, "max-fee-gwei", 100, "cap on any transaction's max fee per gas, in gwei")
	fs.DurationVar(&f.pollInterval, "poll-interval", defaultPoll, "how often the node is asked for a new head")
	fs.DurationVar(&f.leaderCheck, "leader-check", 2*time.Second, "how often a replica tries to become leader, and the leader checks it still is")
	fs.DurationVar(&f.retryBackoff, "retry-backoff", 30*time.Second, "first wait before a postponed ticket is retried (doubles per refused attempt, up to 1h)")
	fs.IntVar(&f.maxAttempts, "max-attempts", 5, "redemptions the chain may refuse before a ticket fails")
	fs.IntVar(&f.minFunded, "min-redemptions-funded", 100,
		"warn while the redemption account's balance pays for fewer redemptions than this, at the current fee cap")
	fs.StringVar(&f.crashAt, "test-crash-at", "", "TESTS ONLY: SIGKILL the process at this point (after-claim-commit, after-broadcast, after-mined)")
}

func (f *redeemFlags) maxFeeCap() (*big.Int, error) {
	if f.maxFeeGwei <= 0 {
		return nil, fmt.Errorf("--max-fee-gwei must be positive")
	}
	wei, _ := new(big.Float).Mul(big.NewFloat(f.maxFeeGwei), big.NewFloat(1e9)).Int(nil)
	return wei, nil
}

// runRedeemer takes part in leader election until ctx ends; while leading it
// recovers in-flight redemptions, then follows the chain head by head. o
// (nil: none) gets the worker's metrics and the leader's state.
func runRedeemer(ctx context.Context, log *slog.Logger, f *redeemFlags, st *store.Store, backend queue.Backend,
	proto *chain.Protocol, heads chain.HeadReader, recipient common.Address, key *ecdsa.PrivateKey, chainID *big.Int,
	mon *monitor.Monitor, o *ops) error {
	feeCap, err := f.maxFeeCap()
	if err != nil {
		return err
	}
	signer := chain.NewTxSigner(key, chainID)
	w, err := queue.New(queue.Config{
		Recipient:     recipient,
		Signer:        signer,
		MaxBatch:      f.maxBatch,
		Confirmations: f.confirmations,
		RepriceAfter:  f.repriceAfter,
		MaxFeeCap:     feeCap,
		RetryBackoff:  f.retryBackoff,
		MaxAttempts:   f.maxAttempts,
		Logger:        log.With("component", "queue"),
		CrashAt:       f.crashAt,
		Metrics:       o.queueMetrics(),

		MinRedemptionsFunded: f.minFunded,
	}, st, backend, proto)
	if err != nil {
		return err
	}
	log.Info("redemption account", "address", signer.Address().Hex())
	return queue.RunAsLeader(ctx, st, log, f.leaderCheck, o.setLeader, func(ctx context.Context) error {
		if err := w.Recover(ctx); err != nil {
			return fmt.Errorf("recover: %w", err)
		}
		poller := chain.NewPoller(heads, st, chain.PollerOptions{Interval: f.pollInterval, Logger: log})
		o.setPoller(poller)
		defer o.setPoller(nil)
		return poller.Run(ctx, func(ctx context.Context, ev chain.HeadEvent) error {
			// A stop (SIGTERM, or the lock lost) lets the pass under way
			// finish, within passTimeout, rather than cut it between its
			// steps: each step is its own transaction and safe to cut, but
			// a finished pass leaves nothing for recovery to redo. Finishing
			// after losing the lock is safe too: tickets and the nonce row
			// are locked in the database, so two passes cannot claim the
			// same ticket or nonce.
			pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), passTimeout)
			defer cancel()
			// Sender state first, so the worker's funds checks and the
			// floats it announces see this head. A monitor failure must not
			// hold up redemptions: the monitor re-reads everything on the
			// next head after a failure.
			if mon != nil {
				if err := mon.HandleHead(pctx, ev); err != nil {
					log.Warn("sender state not updated for this head", "head", ev.Head.Number, "err", err)
				}
			}
			return w.HandleHead(pctx, ev)
		})
	})
}

// passTimeout bounds one per-head pass, so a stop never waits longer.
const passTimeout = 20 * time.Second
