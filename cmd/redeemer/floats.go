package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

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
	mon     *monitor.Monitor
	hub     *monitor.Hub
	svc     *rpc.FloatService
	changed atomic.Pointer[func(sender [20]byte, all bool)]
}

func newFloats(log *slog.Logger, f *serviceFlags, st *store.Store, node monitor.Chain, contracts chain.Addresses,
	recipient common.Address) (*floats, error) {
	mon, err := monitor.New(monitor.Config{
		Recipient:   recipient,
		Contracts:   contracts,
		CallTimeout: f.dbTimeout,
		Logger:      log,
	}, st, node)
	if err != nil {
		return nil, err
	}
	fl := &floats{mon: mon}
	// Every announced change drops what this replica cached about it: the
	// strangers' readings here, the protocol values in intake (changed).
	fl.hub = monitor.NewHub(st, monitor.HubOptions{Logger: log, OnChange: func(sender [20]byte, all bool) {
		if !all {
			mon.Forget(sender)
		}
		if c := fl.changed.Load(); c != nil {
			(*c)(sender, all)
		}
	}})
	svc, err := rpc.NewFloatService(mon, fl.hub, rpc.FloatOptions{Logger: log,
		StrangersPerSecond: f.strangersPerSecond})
	if err != nil {
		return nil, err
	}
	fl.svc = svc
	return fl, nil
}

// onChange adds a listener to every change the hub hears (intake's cache).
func (fl *floats) onChange(f func(sender [20]byte, all bool)) { fl.changed.Store(&f) }

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
