package main

import (
	"context"
	"log/slog"
	"math/big"
	"time"

	"redeemer/store"
)

// stoppedReadTimeout bounds the last read of a stopping process: the
// database may be why it stops, and a stop must not hang on it.
const stoppedReadTimeout = 2 * time.Second

// logStopped writes the last line of serve and dev, once everything has
// stopped: the work left in flight, which the next leader picks up. An
// operator restarting or upgrading sees from it whether tickets were
// waiting and how much value sat in unconfirmed redemptions.
func logStopped(ctx context.Context, log *slog.Logger, st *store.Store) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stoppedReadTimeout)
	defer cancel()
	s, err := st.Stats(ctx)
	if err != nil {
		log.Warn("stopped", "in_flight", "unknown", "err", err)
		return
	}
	limbo := new(big.Int)
	for _, amount := range s.Limbo {
		limbo.Add(limbo, amount)
	}
	log.Info("stopped",
		"queued", s.Queued,
		"redeeming", s.Redeeming,
		"redeeming_wei", limbo.String(),
		"redemptions_pending", s.PendingRedemptions,
		"redemptions_mined", s.MinedRedemptions)
}
