package queue

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"redeemer/pipeline"
	"redeemer/store"
)

// ExpireStage ends queued tickets whose validity period is over at the
// current round: the contract would refuse them. It needs no node call (the
// round and the validity period are the stored protocol values) and runs
// when the round changes, in batches of expireBatch, so one run is short
// however many tickets expire at once.
type ExpireStage struct{ r *Redeemer }

const expireBatch = 500

// ExpireStage returns the stage.
func (r *Redeemer) ExpireStage() *ExpireStage { return &ExpireStage{r: r} }

// Name implements pipeline.Stage.
func (s *ExpireStage) Name() string { return "expire" }

// Run implements pipeline.Stage.
func (s *ExpireStage) Run(ctx context.Context, run pipeline.Run) (pipeline.Result, error) {
	r := s.r
	ps, err := r.st.StoredProtocolState(ctx)
	if err != nil || ps == nil || ps.TicketValidityPeriod == nil {
		// Nothing to expire against yet: the senders stage stores them.
		return pipeline.Result{}, err
	}
	round, validity := ps.CurrentRound.Int64(), ps.TicketValidityPeriod.Int64()
	// creationRound + validity <= round  <=>  creationRound < round - validity + 1
	cutoff := round - validity + 1
	var ended []store.Ticket
	err = run.Lease.Fenced(ctx, func(q store.Q) (err error) {
		ended, err = q.ExpireQueued(ctx, cutoff, expireBatch, func(t store.Ticket) string {
			return fmt.Sprintf("creation round %d is past the validity period of %d rounds (current round %d)",
				t.CreationRound, validity, round)
		})
		return err
	})
	if err != nil {
		return pipeline.Result{}, err
	}
	for _, t := range ended {
		r.cfg.Metrics.expired(ReasonValidityPeriod)
		r.log.Warn("ticket expired unredeemed", "ticket_hash", common.Hash(t.TicketHash).Hex(),
			"sender", common.Address(t.Sender).Hex(), "face_value", t.FaceValue.String(), "creation_round", t.CreationRound)
	}
	return pipeline.Result{Again: len(ended) == expireBatch}, nil
}
