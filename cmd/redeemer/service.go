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

	"redeemer/rpc"
	"redeemer/store"
)

// defaultCallTimeout bounds one node call and one database write.
// go-livepeer sends each winning ticket once, with an 8s deadline, and drops
// it on any error. Intake tries a call 3 times with 100ms and 200ms pauses,
// so a stage whose tries all time out ends after 3×500ms+300ms = 1.8s. The
// tries then fit inside the deadline: a call that hangs once is retried and
// the ticket stored, and an outage is answered with Unavailable rather than
// by the deadline. Past about 2s one failing stage uses up the deadline
// before its last try.
const defaultCallTimeout = 500 * time.Millisecond

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
	ops           opsFlags
	logFlags
}

func (f *serviceFlags) register(fs *flag.FlagSet, defaultGRPC string) {
	fs.StringVar(&f.grpcAddr, "grpc-addr", defaultGRPC, "address the TicketRedeemer gRPC server listens on (port 0 picks a free one)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate for gRPC TLS; empty: a self-signed one kept in --data-dir")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key for --tls-cert")
	fs.StringVar(&f.dataDir, "data-dir", "redeemer-data", "directory for files the service keeps (the generated TLS certificate)")
	fs.BoolVar(&f.plaintext, "grpc-plaintext", false, "serve gRPC without TLS (loopback addresses only; go-livepeer's client needs TLS)")
	fs.DurationVar(&f.ethTimeout, "eth-timeout", defaultCallTimeout, "timeout of one Ethereum node call (each is tried 3 times)")
	fs.DurationVar(&f.dbTimeout, "db-timeout", defaultCallTimeout, "timeout of one database write (each is tried 3 times)")
	fs.DurationVar(&f.shutdownGrace, "shutdown-grace", 10*time.Second, "how long a stop waits for in-flight calls before closing them")
	f.ops.register(fs)
	f.logFlags.register(fs)
	registerConfigFlag(fs)
}

// serveGRPC runs the TicketRedeemer server until ctx ends, then drains it.
// ready is called with the bound address once clients can connect. o adds
// metrics, health and reflection; nil leaves them out.
func serveGRPC(ctx context.Context, log *slog.Logger, f *serviceFlags, recipient common.Address,
	chainState rpc.ChainState, st *store.Store, fl *floats, o *ops, ready func(addr string) error) error {
	// Without floats (tests of the intake alone), MaxFloat answers
	// Unimplemented.
	var floatServer rpc.FloatServer
	if fl != nil {
		floatServer = fl.svc
	}
	svc, err := rpc.NewServer(rpc.Config{
		Recipient:    recipient,
		Chain:        chainState,
		Store:        st,
		Floats:       floatServer,
		Logger:       log,
		ChainTimeout: f.ethTimeout,
		DBTimeout:    f.dbTimeout,
	})
	if err != nil {
		return err
	}
	srv, err := rpc.NewGRPCServer(f.grpcAddr, rpc.TLSConfig{
		CertFile: f.tlsCert, KeyFile: f.tlsKey, DataDir: f.dataDir, Plaintext: f.plaintext,
	}, svc, o.grpcOptions()...)
	if err != nil {
		return err
	}
	o.registerGRPC(srv)
	lis, err := net.Listen("tcp", f.grpcAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", f.grpcAddr, err)
	}
	addr := lis.Addr().String()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	log.Info("gRPC server listening", "addr", addr, "tls", !f.plaintext, "recipient", recipient.Hex())
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
