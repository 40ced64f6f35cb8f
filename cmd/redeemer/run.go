package main

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"log/slog"
	"math/big"
	"net/url"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"golang.org/x/sync/errgroup"

	"redeemer/chain"
	"redeemer/monitor"
	"redeemer/pipeline"
	"redeemer/store"
)

// serviceDeps are what a running service (serve or dev) is built from.
type serviceDeps struct {
	st        *store.Store
	node      *chain.Node
	subscribe pipeline.Subscribe // nil: heads are polled only
	contracts chain.Addresses
	recipient common.Address
	key       *ecdsa.PrivateKey
	chainID   *big.Int
}

// runService runs a replica until ctx ends: the operations endpoints, the
// float fan-out, the gRPC server and the leader's pipeline (while it leads).
// ready gets the gRPC address once clients can connect.
func runService(ctx context.Context, log *slog.Logger, f *serviceFlags, rf *redeemFlags, d serviceDeps, o *ops,
	ready func(addr string) error) error {
	o.setNode(d.node)
	bootstrapProtocol(ctx, log, f, d)
	fl, err := newFloats(log, f, d.st, d.node, d.contracts, d.recipient)
	if err != nil {
		return err
	}
	if err := fl.registerMetrics(o); err != nil {
		return err
	}
	p, err := newPipeline(log, rf, d, o)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return o.run(gctx, f.ops.metricsAddr, o.onListen) })
	g.Go(func() error { return fl.runHub(gctx) })
	g.Go(func() error {
		return serveGRPC(gctx, log, f, intakeDeps{recipient: d.recipient, contracts: d.contracts, node: d.node,
			st: d.st, fl: fl}, o, ready)
	})
	g.Go(func() error { return runPipeline(gctx, p, o) })
	return g.Wait()
}

// bootstrapProtocol stores the protocol values read from the node when the
// database has none for this recipient (a new database), so intake and
// floats can judge from stored state before a leader's first run stores
// them. Any replica may: the values are the chain's, and a read at an older
// block never overwrites a newer one. A failure is only logged: the leader
// stores them soon, and intake answers Unavailable meanwhile.
func bootstrapProtocol(ctx context.Context, log *slog.Logger, f *serviceFlags, d serviceDeps) {
	ctx, cancel := context.WithTimeout(ctx, 3*f.ethTimeout)
	defer cancel()
	stored, err := d.st.StoredProtocolState(ctx)
	if err == nil && stored != nil && stored.Recipient == d.recipient {
		return
	}
	head, err := d.node.LatestHead(ctx)
	if err == nil {
		var p chain.ProtocolReading
		if p, err = d.node.ReadProtocol(ctx, d.contracts, new(big.Int).SetUint64(head.Number), d.recipient); err == nil {
			_, err = d.st.SaveChainState(ctx, store.ChainState{Protocol: monitor.ProtocolState(d.recipient, p, head)})
		}
	}
	if err != nil {
		log.Warn("protocol values not stored at start; intake waits for the leader's", "err", err)
	}
}

// dialNode connects to the node at rawURL with the request budget, and
// settles which Multicall3 contract batched reads use.
func dialNode(ctx context.Context, log *slog.Logger, f *serviceFlags, rawURL string, o *ops) (*chain.Node, error) {
	dctx, cancel := context.WithTimeout(ctx, f.ethTimeout)
	defer cancel()
	node, err := chain.DialNode(dctx, rawURL, chain.NewBudget(f.ethMaxRPS, o.nodeObserver()),
		chain.NodeOptions{CallTimeout: f.ethTimeout})
	if err != nil {
		return nil, fmt.Errorf("ethereum node %s: %w", redactURL(rawURL), err)
	}
	mc, err := resolveMulticall(dctx, node, f.multicall)
	if err != nil {
		node.Close()
		return nil, err
	}
	if mc != (common.Address{}) {
		node = chain.NewNode(node.RPC(), chain.NodeOptions{CallTimeout: f.ethTimeout, Multicall: mc})
	}
	log.Info("ethereum node", "url", redactURL(rawURL), "max_rps", f.ethMaxRPS, "multicall", mc.Hex())
	return node, nil
}

// resolveMulticall turns --multicall into an address: "none" is zero,
// "auto" the canonical address when it holds code (else zero), an address
// must hold code.
func resolveMulticall(ctx context.Context, node *chain.Node, setting string) (common.Address, error) {
	switch strings.ToLower(strings.TrimSpace(setting)) {
	case "", "none":
		return common.Address{}, nil
	case "auto":
		ok, err := node.HasCode(ctx, chain.CanonicalMulticall)
		if err != nil {
			return common.Address{}, fmt.Errorf("--multicall auto: %w", err)
		}
		if !ok {
			return common.Address{}, nil
		}
		return chain.CanonicalMulticall, nil
	}
	a, err := parseAddress(setting)
	if err != nil {
		return common.Address{}, fmt.Errorf("--multicall: %w", err)
	}
	ok, err := node.HasCode(ctx, a)
	if err != nil {
		return common.Address{}, fmt.Errorf("--multicall: %w", err)
	}
	if !ok {
		return common.Address{}, fmt.Errorf("--multicall %s: no contract at that address", a.Hex())
	}
	return a, nil
}

// subscribeHeads connects to --eth-ws-url, when given, for pushed heads.
// Heads pushed by an Arbitrum node that leave out l1BlockNumber carry it in
// mixHash, which is used when the polled heads show the chain is Arbitrum.
func subscribeHeads(ctx context.Context, log *slog.Logger, f *serviceFlags, node *chain.Node) (pipeline.Subscribe, func(), error) {
	if f.ethWSURL == "" {
		return nil, func() {}, nil
	}
	u, err := url.Parse(f.ethWSURL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") {
		return nil, nil, fmt.Errorf("--eth-ws-url %q must be a ws(s) URL", redactURL(f.ethWSURL))
	}
	dctx, cancel := context.WithTimeout(ctx, f.ethTimeout)
	defer cancel()
	ws, err := chain.DialNode(dctx, f.ethWSURL, nil, chain.NodeOptions{CallTimeout: f.ethTimeout})
	if err != nil {
		return nil, nil, fmt.Errorf("ethereum node %s: %w", redactURL(f.ethWSURL), err)
	}
	head, err := node.LatestHead(dctx)
	if err != nil {
		ws.Close()
		return nil, nil, fmt.Errorf("ethereum node: %w", err)
	}
	arbitrum := head.L1Number != head.Number
	log.Info("following pushed heads", "url", redactURL(f.ethWSURL), "arbitrum", arbitrum)
	return func(ctx context.Context, out chan<- chain.Head) (<-chan error, error) {
		return ws.SubscribeHeads(ctx, out, arbitrum)
	}, ws.Close, nil
}
