package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ethereum/go-ethereum/common"
	"github.com/prometheus/client_golang/prometheus"

	"redeemer/chain"
	"redeemer/monitor"
	"redeemer/rpc"
	"redeemer/store"
)

// floats is the max float side of a replica: the monitor keeps sender state
// from the chain (the leader feeds it every head), the hub fans PostgreSQL
// notifications out to streams, and the service answers MaxFloat and
// MonitorMaxFloat from them. Every replica has all three, so any replica
// serves floats; only the leader's poller feeds the monitor.
type floats struct {
	mon *monitor.Monitor
	hub *monitor.Hub
	svc *rpc.FloatService
}

func newFloats(log *slog.Logger, f *serviceFlags, st *store.Store, protocol *chain.Protocol,
	logs monitor.LogFilterer, heads chain.HeadReader, recipient common.Address) (*floats, error) {
	mon, err := monitor.New(monitor.Config{
		Recipient:   recipient,
		Contracts:   protocol.Addresses(),
		CallTimeout: f.ethTimeout,
		Logger:      log,
	}, st, monitor.NewProtocolReader(protocol), logs, heads)
	if err != nil {
		return nil, err
	}
	hub := monitor.NewHub(st, monitor.HubOptions{Logger: log})
	svc, err := rpc.NewFloatService(mon, hub, rpc.FloatOptions{Logger: log})
	if err != nil {
		return nil, err
	}
	return &floats{mon: mon, hub: hub, svc: svc}, nil
}

// runHub runs the LISTEN fan-out until ctx ends.
func (fl *floats) runHub(ctx context.Context) error {
	if err := fl.hub.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// registerMetrics exposes the fan-out's counters on the ops registry.
func (fl *floats) registerMetrics(o *ops) error {
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "redeemer", Name: "float_streams_open",
			Help: "MonitorMaxFloat streams open on this replica."},
			func() float64 { return float64(fl.hub.Subscribers()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "redeemer", Name: "float_notifications_total",
			Help: "max_float notifications this replica received from PostgreSQL."},
			func() float64 { return float64(fl.hub.Notifications()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "redeemer", Name: "float_updates_sent_total",
			Help: "Max float values offered to streams (a slow stream keeps only the latest)."},
			func() float64 { return float64(fl.hub.Updates()) }),
	} {
		if err := o.reg.Register(c); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	return nil
}
