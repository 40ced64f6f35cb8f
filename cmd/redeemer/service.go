package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"redeemer/chain"
	"redeemer/rpc"
	"redeemer/store"
)

// serviceFlags are the settings `serve` and `dev` share.
type serviceFlags struct {
	grpcAddr      string
	tlsCert       string
	tlsKey        string
	dataDir       string
	plaintext     bool
	ethTimeout    time.Duration
	dbTimeout     time.Duration
	shutdownGrace time.Duration
	// Node access.
	ethMaxRPS float64
	ethWSURL  string
	multicall string
	// Intake.
	intakeTimeout      time.Duration
	exposurePercent    int
	refusalsPerSecond  float64
	strangersPerSecond float64
	grpcAllow          string
	grpcClientCA       string
	ops                opsFlags
	logFlags
}

func (f *serviceFlags) register(fs *flag.FlagSet, defaultGRPC string) {
	fs.StringVar(&f.grpcAddr, "grpc-addr", defaultGRPC, "address the TicketRedeemer gRPC server listens on (port 0 picks a free one)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate for gRPC TLS; empty: a self-signed one kept in --data-dir")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key for --tls-cert")
	fs.StringVar(&f.dataDir, "data-dir", "redeemer-data", "directory for files the service keeps (the generated TLS certificate)")
	fs.BoolVar(&f.plaintext, "grpc-plaintext", false, "serve gRPC without TLS (loopback addresses only; go-livepeer's client needs TLS)")
	fs.DurationVar(&f.ethTimeout, "eth-timeout", 5*time.Second,
		"timeout of one request to the Ethereum node (intake's confirmations are bounded by --intake-timeout too)")
	fs.DurationVar(&f.dbTimeout, "db-timeout", 5*time.Second,
		"timeout of one database call (intake's writes are bounded by --intake-timeout too)")
	fs.DurationVar(&f.shutdownGrace, "shutdown-grace", 10*time.Second, "how long a stop waits for in-flight calls before closing them")
	fs.Float64Var(&f.ethMaxRPS, "eth-max-rps", 0,
		"most JSON-RPC calls per second sent to the node over http(s), shared by everything (0: no limit); claims and receipts go first, re-reads last")
	fs.StringVar(&f.ethWSURL, "eth-ws-url", "",
		"optional ws(s) URL of the same node: new heads are then pushed (eth_subscribe newHeads) instead of polled")
	fs.StringVar(&f.multicall, "multicall", "auto",
		"Multicall3 contract for batched reads: an address, \"auto\" (the canonical address when it holds code) or \"none\" (JSON-RPC batches)")
	fs.DurationVar(&f.intakeTimeout, "intake-timeout", 3*time.Second,
		"longest QueueTicket takes, retries included, before it answers Unavailable (go-livepeer tries once, for 8 s)")
	fs.IntVar(&f.exposurePercent, "exposure-percent", 200,
		"cap on a sender's queued plus in-flight face value, in percent of what it can pay now (deposit plus reserve allocation); -1: no cap")
	fs.Float64Var(&f.refusalsPerSecond, "refusals-per-second", 20,
		"refused tickets allowed per client address per second (burst 100); beyond it its tickets are refused at once")
	fs.Float64Var(&f.strangersPerSecond, "strangers-per-second", 10,
		"float requests about untracked senders that turn out unfunded allowed per client address per second (burst 50); beyond it requests about untracked senders are refused")
	fs.StringVar(&f.grpcAllow, "grpc-allow", "", "comma-separated CIDRs (or addresses) allowed to connect to gRPC; empty: everyone")
	fs.StringVar(&f.grpcClientCA, "grpc-client-ca", "",
		"PEM CA certificates; when set every gRPC client must present a certificate they signed (go-livepeer's client presents none)")
	f.ops.register(fs)
	f.logFlags.register(fs)
	registerConfigFlag(fs)
}

// intakeDeps are what intake judges tickets with.
type intakeDeps struct {
	recipient common.Address
	contracts chain.Addresses
	node      rpc.IntakeNode
	st        *store.Store
	fl        *floats
}

// serveGRPC runs the TicketRedeemer server until ctx ends, then drains it.
// ready is called with the bound address once clients can connect. o adds
// metrics, health and reflection; nil leaves them out.
func serveGRPC(ctx context.Context, log *slog.Logger, f *serviceFlags, d intakeDeps, o *ops,
	ready func(addr string) error) error {
	// Without floats (tests of the intake alone), MaxFloat answers
	// Unimplemented.
	var (
		floatServer rpc.FloatServer
		senders     rpc.Senders
	)
	if d.fl != nil {
		floatServer, senders = d.fl.svc, d.fl.mon
	}
	allow, err := rpc.ParseAllowList(f.grpcAllow)
	if err != nil {
		return fmt.Errorf("--grpc-allow: %w", err)
	}
	svc, err := rpc.NewServer(rpc.Config{
		Recipient:         d.recipient,
		Contracts:         d.contracts,
		Node:              d.node,
		Store:             d.st,
		Senders:           senders,
		Floats:            floatServer,
		Logger:            log,
		ExposurePercent:   f.exposurePercent,
		RefusalsPerSecond: f.refusalsPerSecond,
		Timeout:           f.intakeTimeout,
		ChainTimeout:      f.ethTimeout,
		DBTimeout:         f.dbTimeout,
	})
	if err != nil {
		return err
	}
	if d.fl != nil {
		d.fl.onChange(svc.Changed)
	}
	srv, err := rpc.NewGRPCServer(f.grpcAddr, rpc.TLSConfig{
		CertFile: f.tlsCert, KeyFile: f.tlsKey, DataDir: f.dataDir, Plaintext: f.plaintext, ClientCAFile: f.grpcClientCA,
	}, svc, o.grpcOptions()...)
	if err != nil {
		return err
	}
	o.registerGRPC(srv)
	lis, err := net.Listen("tcp", f.grpcAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", f.grpcAddr, err)
	}
	lis = rpc.AllowListener(lis, allow)
	addr := lis.Addr().String()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	log.Info("gRPC server listening", "addr", addr, "tls", !f.plaintext, "recipient", d.recipient.Hex())
	if err := ready(addr); err != nil {
		srv.Stop()
		return err
	}

	select {
	case err := <-errc:
		return fmt.Errorf("gRPC server: %w", err)
	case <-ctx.Done():
	}
	log.Info("stopping: draining gRPC calls", "grace", f.shutdownGrace)
	o.stopServing()
	done := make(chan struct{})
	go func() { srv.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(f.shutdownGrace):
		log.Warn("grace period over: closing remaining calls")
		srv.Stop()
	}
	if err := <-errc; err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("gRPC server: %w", err)
	}
	return nil
}
