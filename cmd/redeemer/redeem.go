package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"time"

	"github.com/google/uuid"

	"redeemer/chain"
	"redeemer/monitor"
	"redeemer/pipeline"
	"redeemer/queue"
)

// redeemFlags tune the leader's pipeline: following the chain and
// redeeming.
type redeemFlags struct {
	confirmations   uint64
	maxBatch        int
	repriceAfter    uint64
	maxFeeGwei      float64
	profitMargin    int
	pollInterval    time.Duration
	logsInterval    time.Duration
	leaderCheck     time.Duration
	leaderLease     time.Duration
	retryBackoff    time.Duration
	maxAttempts     int
	minFunded       int
	retention       time.Duration
	senderRetention time.Duration
	crashAt         string
}

func (f *redeemFlags) register(fs *flag.FlagSet, defaultConfirmations uint64, defaultPoll time.Duration) {
	fs.Uint64Var(&f.confirmations, "confirmations", defaultConfirmations,
		"blocks a redemption receipt needs before its tickets are settled (it is then watched until the node's finalized block covers it)")
	fs.IntVar(&f.maxBatch, "max-batch", 10, "most tickets redeemed in one transaction (batchRedeemWinningTickets above 1)")
	fs.Uint64Var(&f.repriceAfter, "reprice-after", 20, "blocks an unmined transaction waits before it is replaced with higher fees at the same nonce")
	fs.Float64Var(&f.maxFeeGwei, "max-fee-gwei", 100, "cap on any transaction's max fee per gas, in gwei")
	fs.IntVar(&f.profitMargin, "profit-margin", 10,
		"percent by which a ticket's expected payout (what its sender can pay of it now) must exceed its redemption's gas cost")
	fs.DurationVar(&f.pollInterval, "poll-interval", defaultPoll,
		"how often the node is asked for its latest head (one request each); with --eth-ws-url, the fallback when pushed heads stop")
	fs.DurationVar(&f.logsInterval, "logs-interval", 3*defaultPoll,
		"least time between two reads of the protocol contracts' logs (one batch each: the logs of every block since the last, and the last read block's header)")
	fs.DurationVar(&f.leaderCheck, "leader-check", 2*time.Second, "how often the leader renews its lease, and a replica tries to take it")
	fs.DurationVar(&f.leaderLease, "leader-lease", 10*time.Second,
		"length of the leader's lease: a leader that stops renewing (crashed, paused) is replaced after this")
	fs.DurationVar(&f.retryBackoff, "retry-backoff", 30*time.Second, "first wait before a postponed ticket is retried (doubles per refused attempt, up to 1h)")
	fs.IntVar(&f.maxAttempts, "max-attempts", 5, "redemptions the chain may refuse, for reasons of the ticket's own, before it fails")
	fs.IntVar(&f.minFunded, "min-redemptions-funded", 100,
		"warn while the redemption account's balance pays for fewer redemptions than this, at the current fee cap")
	fs.DurationVar(&f.retention, "retention", 90*24*time.Hour,
		"how long the events and transaction attempts of final tickets are kept (tickets and redemptions stay)")
	fs.DurationVar(&f.senderRetention, "sender-retention", 7*24*time.Hour,
		"how long a sender with no open tickets and no open float stream stays tracked")
	fs.StringVar(&f.crashAt, "test-crash-at", "", "TESTS ONLY: SIGKILL the process at this point (after-claim-commit, after-broadcast, after-mined)")
}

func (f *redeemFlags) maxFeeCap() (*big.Int, error) {
	if f.maxFeeGwei <= 0 {
		return nil, fmt.Errorf("--max-fee-gwei must be positive")
	}
	wei, _ := new(big.Float).Mul(big.NewFloat(f.maxFeeGwei), big.NewFloat(1e9)).Int(nil)
	return wei, nil
}

// newPipeline builds the leader's stages from the service's parts and flags.
func newPipeline(log *slog.Logger, f *redeemFlags, d serviceDeps, o *ops) (*pipeline.Pipeline, error) {
	feeCap, err := f.maxFeeCap()
	if err != nil {
		return nil, err
	}
	signer := chain.NewTxSigner(d.key, d.chainID)
	red, err := queue.New(queue.Config{
		Recipient:     d.recipient,
		Signer:        signer,
		Contracts:     d.contracts,
		MaxBatch:      f.maxBatch,
		Confirmations: f.confirmations,
		RepriceAfter:  f.repriceAfter,
		MaxFeeCap:     feeCap,
		RetryBackoff:  f.retryBackoff,
		MaxAttempts:   f.maxAttempts,
		ProfitMargin:  f.profitMargin,
		Logger:        log,
		CrashAt:       f.crashAt,
		Metrics:       o.queueMetrics(),

		MinRedemptionsFunded: f.minFunded,
	}, d.st, d.node)
	if err != nil {
		return nil, err
	}
	signals := monitor.Signals{Round: pipeline.NewSignal(), Reread: pipeline.NewSignal(), Reorg: pipeline.NewSignal()}
	mcfg := monitor.StageConfig{Recipient: d.recipient, Contracts: d.contracts, Logger: log}
	reread, err := monitor.NewRereadStage(mcfg, d.st, d.node)
	if err != nil {
		return nil, err
	}
	senders, err := monitor.NewSenderStage(mcfg, d.st, d.node, signals, reread)
	if err != nil {
		return nil, err
	}
	poll := f.pollInterval
	stages := []pipeline.Spec{
		// Sender state: every logs interval at most, whatever the block
		// rate; one request per run.
		{Stage: senders, OnTip: true, MinInterval: f.logsInterval, Timeout: 30 * time.Second,
			Priority: chain.PriorityNormal},
		// Redemptions in flight: receipts when something changed; the
		// account's nonce per head otherwise, at most once a second (or
		// per poll when polling is faster): with pushed heads the poll
		// interval is only the fallback and may be long.
		{Stage: red.TrackStage(), OnTip: true, MinInterval: min(poll, time.Second), Wake: []*pipeline.Signal{signals.Reorg},
			Timeout: 20 * time.Second, Priority: chain.PriorityCritical},
		// Claims: tickets fall due with the L1 number; retries with the
		// clock, which Every and the stage's own wake-up cover.
		{Stage: red.ClaimStage(), OnL1: true, Every: poll, Timeout: 20 * time.Second,
			Priority: chain.PriorityCritical},
		// Expiry: only the round matters; no node call.
		{Stage: red.ExpireStage(), OnL1: true, Wake: []*pipeline.Signal{signals.Round}, Every: time.Minute,
			Timeout: 20 * time.Second},
		// Full re-reads: in the background, a batch per run.
		{Stage: reread, OnTip: true, MinInterval: time.Second, Wake: []*pipeline.Signal{signals.Reread, signals.Round},
			Timeout: 30 * time.Second, Priority: chain.PriorityBackground},
		{Stage: red.FundingStage(), Every: 30 * time.Second, Timeout: 10 * time.Second, Priority: chain.PriorityNormal},
		{Stage: pipeline.NewRetention(d.st, pipeline.RetentionOptions{Keep: f.retention, SenderIdle: f.senderRetention,
			Logger: log}), Every: time.Minute, MinInterval: time.Second, Timeout: 20 * time.Second,
			Priority: chain.PriorityBackground},
	}
	holder, _ := os.Hostname()
	p, err := pipeline.New(pipeline.Config{
		Store:        d.st,
		Heads:        d.node,
		Subscribe:    d.subscribe,
		PollInterval: poll,
		Leader: pipeline.LeaderOptions{Holder: fmt.Sprintf("%s/%d/%s", holder, os.Getpid(), uuid.NewString()[:8]),
			TTL: f.leaderLease, Renew: f.leaderCheck, OnChange: o.setLeader},
		Recover:  red.Recover,
		Stages:   stages,
		Observer: o.pipelineObserver(),
		Logger:   log,
	})
	if err != nil {
		return nil, err
	}
	log.Info("redemption account", "address", signer.Address().Hex())
	return p, nil
}

// runPipeline takes part in leader election until ctx ends.
func runPipeline(ctx context.Context, p *pipeline.Pipeline, o *ops) error {
	o.setPipeline(p)
	return p.Run(ctx)
}
