// Package devchain runs go-ethereum's simulated backend with the dev
// contracts deployed, registered and funded: a real EVM for tests and for
// `redeemer dev`, with no external node.
package devchain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"

	"redeemer/chain"
	"redeemer/chain/contracts"
	"redeemer/chain/nodeproxy"
)

// Ether is 10^18 wei.
var Ether = big.NewInt(1e18)

// Defaults applied by New to zero Options fields.
const (
	DefaultRoundLength = 20
	DefaultSenders     = 2
)

// Default sender funds in TicketBroker.
var (
	DefaultDeposit = new(big.Int).Mul(big.NewInt(10), Ether)
	DefaultReserve = new(big.Int).Mul(big.NewInt(10), Ether)
)

// accountBalance is every dev account's genesis balance: far more than any
// test spends, so no test has to think about gas money.
var accountBalance = new(big.Int).Mul(big.NewInt(1_000_000), Ether)

// canonicalMulticall is where Multicall3 lives on Arbitrum and most other
// chains, deployed there by a keyless transaction that the dev chain cannot
// replay; the embedded chain puts the code there in its genesis state.
const canonicalMulticall = "0xcA11bde05977b3631167028862bE2a173976CA11"

// MulticallAddress is Multicall3's canonical address.
func MulticallAddress() common.Address { return common.HexToAddress(canonicalMulticall) }

// initializeRoundGas is set explicitly because gas estimation runs against
// the latest block, where the round the transaction will initialize has not
// started yet, so estimation would revert.
const initializeRoundGas = 300_000

// Options configure New.
type Options struct {
	// RPCAddr is where to serve eth/net/web3 over HTTP: "" for no server,
	// "127.0.0.1:0" for a free port. Only loopback addresses are accepted.
	RPCAddr string
	// RoundLength is the number of L1 blocks per round; DefaultRoundLength
	// if 0.
	RoundLength uint64
	// L1Ratio is how many of the chain's blocks make one L1 block (see
	// DeployOptions.L1Ratio); 1 if 0.
	L1Ratio uint64
	// Senders is the number of funded ticket senders; DefaultSenders if 0.
	Senders int
	// Deposit and Reserve are each sender's TicketBroker funds;
	// DefaultDeposit and DefaultReserve if nil.
	Deposit, Reserve *big.Int
	// TicketValidityPeriod and UnlockPeriod, in rounds, override the
	// contract defaults (2 each) when non-zero.
	TicketValidityPeriod uint64
	UnlockPeriod         uint64
	// BlockGasLimit is every block's gas limit; the simulated backend's
	// default if 0.
	BlockGasLimit uint64
	// Logger receives Mine's errors; slog.Default() if nil.
	Logger *slog.Logger
}

// Account is a dev account with its key. Keys derive from a fixed label per
// account, so every run of the dev chain has the same addresses.
type Account struct {
	Name    string
	Key     *ecdsa.PrivateKey
	Address common.Address
}

// Chain is a running dev chain.
type Chain struct {
	backend *simulated.Backend
	client  simulated.Client
	chainID *big.Int
	rpcURL  string
	// front adds l1BlockNumber to block answers when L1Ratio > 1.
	front *nodeproxy.Proxy
	// backendURL is the simulated node's own HTTP JSON-RPC.
	backendURL string
	log        *slog.Logger

	owner     Account
	keeper    Account
	redeemer  Account
	recipient Account
	senders   []Account

	addrs       chain.Addresses
	multicall   common.Address
	protocol    *chain.Protocol
	rounds      *contracts.RoundsManager
	roundLength uint64
	l1Ratio     uint64

	// mu serialises block production and the round keeper's transactions,
	// so a round is initialized in the block that starts it and the keeper
	// never races itself for a nonce.
	mu     sync.Mutex
	closed bool
	// keepRounds is whether Mine and AdvanceRound initialize the rounds
	// they start; guarded by mu.
	keepRounds bool
}

// DevAccount derives the dev account called name.
func DevAccount(name string) Account {
	seed := crypto.Keccak256([]byte("redeemer devchain account: " + name))
	key, err := crypto.ToECDSA(seed)
	if err != nil {
		// A keccak output is a valid key except with negligible probability,
		// and the labels are fixed, so this can only be a programming error.
		panic(fmt.Sprintf("devchain: derive key %q: %v", name, err))
	}
	return Account{Name: name, Key: key, Address: crypto.PubkeyToAddress(key.PublicKey)}
}

// New starts a simulated chain, deploys and wires the dev contracts, funds
// the senders and leaves the chain in an initialized round >= 1.
func New(ctx context.Context, opts Options) (*Chain, error) {
	if opts.RoundLength == 0 {
		opts.RoundLength = DefaultRoundLength
	}
	if opts.L1Ratio == 0 {
		opts.L1Ratio = 1
	}
	if opts.Senders <= 0 {
		opts.Senders = DefaultSenders
	}
	if opts.Deposit == nil {
		opts.Deposit = DefaultDeposit
	}
	if opts.Reserve == nil {
		opts.Reserve = DefaultReserve
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}

	acc := NewAccounts(opts.Senders)
	c := &Chain{
		log:         opts.Logger,
		owner:       acc.Owner,
		keeper:      acc.Keeper,
		redeemer:    acc.Redeemer,
		recipient:   acc.Recipient,
		senders:     acc.Senders,
		roundLength: opts.RoundLength,
		l1Ratio:     opts.L1Ratio,
		keepRounds:  true,
	}
	alloc := types.GenesisAlloc{
		MulticallAddress(): {Code: contracts.Multicall3RuntimeCode(), Balance: new(big.Int)},
	}
	for _, a := range acc.All() {
		alloc[a.Address] = types.Account{Balance: accountBalance}
	}

	rpcAddr := opts.RPCAddr
	withFront := opts.L1Ratio > 1 && rpcAddr != ""
	if withFront {
		// The node serves on a port of its own; the address asked for is
		// the front that adds each block's L1 number, as Arbitrum's
		// JSON-RPC serves it.
		rpcAddr = "127.0.0.1:0"
	}
	backend, url, err := startBackend(alloc, rpcAddr, opts.BlockGasLimit)
	if err != nil {
		return nil, err
	}
	c.backend, c.client, c.rpcURL, c.backendURL = backend, backend.Client(), url, url
	if withFront {
		ratio := opts.L1Ratio
		front, err := nodeproxy.NewURL(url, nodeproxy.Options{L1Number: func(l2 uint64) uint64 { return l2 / ratio }})
		if err == nil {
			c.rpcURL, err = front.Start(opts.RPCAddr)
		}
		if err != nil {
			return nil, errors.Join(fmt.Errorf("devchain: L1 number front: %w", err), c.Close())
		}
		c.front = front
	}
	if err := c.setup(ctx, opts); err != nil {
		return nil, errors.Join(err, c.Close())
	}
	return c, nil
}

// startBackend starts the simulated node, serving HTTP JSON-RPC on rpcAddr
// if set. The node cannot report a port it picked itself through the
// simulated package, so for port 0 we pick a free port and retry if another
// process takes it before the node binds it.
func startBackend(alloc types.GenesisAlloc, rpcAddr string, gasLimit uint64) (*simulated.Backend, string, error) {
	if rpcAddr == "" {
		b, err := newBackend(alloc, gasLimit, nil)
		return b, "", err
	}
	host, portStr, err := net.SplitHostPort(rpcAddr)
	if err != nil {
		return nil, "", fmt.Errorf("devchain: RPC address %q: %w", rpcAddr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, "", fmt.Errorf("devchain: RPC address %q is not loopback", rpcAddr)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, "", fmt.Errorf("devchain: RPC port %q is invalid", portStr)
	}
	attempts := 1
	if port == 0 {
		attempts = 5
	}
	var lastErr error
	for range attempts {
		p := port
		if p == 0 {
			if p, err = freePort(host); err != nil {
				return nil, "", err
			}
		}
		b, err := newBackend(alloc, gasLimit, func(nc *node.Config) {
			nc.HTTPHost = host
			nc.HTTPPort = p
			nc.HTTPModules = []string{"eth", "net", "web3"}
			nc.HTTPVirtualHosts = []string{"localhost"}
			// Websocket on the same port, for pushed heads (eth_subscribe).
			nc.WSHost = host
			nc.WSPort = p
			nc.WSModules = []string{"eth", "net", "web3"}
		})
		if err == nil {
			return b, "http://" + net.JoinHostPort(host, strconv.Itoa(p)), nil
		}
		lastErr = err
	}
	return nil, "", fmt.Errorf("devchain: serve RPC on %s: %w", rpcAddr, lastErr)
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("devchain: find a free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// newBackend turns simulated.NewBackend's panic (its only way to report a
// node that failed to start, e.g. a taken port) into an error.
func newBackend(alloc types.GenesisAlloc, gasLimit uint64, nodeOpt func(*node.Config)) (b *simulated.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = fmt.Errorf("devchain: start simulated backend: %w", e)
			} else {
				err = fmt.Errorf("devchain: start simulated backend: %v", r)
			}
		}
	}()
	return simulated.NewBackend(alloc, func(nc *node.Config, ec *ethconfig.Config) {
		// Forks still in development reprice storage and calls; the dev
		// chain should cost what a deployed network costs, so stop at Osaka.
		cfg := *ec.Genesis.Config
		cfg.BogotaTime = nil
		ec.Genesis.Config = &cfg
		if gasLimit != 0 {
			ec.Genesis.GasLimit = gasLimit
			ec.Miner.GasCeil = gasLimit
		}
		if nodeOpt != nil {
			nodeOpt(nc)
		}
	}), nil
}

func (c *Chain) setup(ctx context.Context, opts Options) error {
	d, err := Deploy(ctx, c.client, DeployOptions{
		RoundLength:          opts.RoundLength,
		L1Ratio:              opts.L1Ratio,
		Multicall:            MulticallAddress(),
		Senders:              opts.Senders,
		Deposit:              opts.Deposit,
		Reserve:              opts.Reserve,
		TicketValidityPeriod: opts.TicketValidityPeriod,
		UnlockPeriod:         opts.UnlockPeriod,
	}, func() { c.Commit() })
	if err != nil {
		return err
	}
	c.chainID = d.ChainID
	c.multicall = d.Multicall
	if c.rounds, err = contracts.NewRoundsManager(d.Addresses.RoundsManager, c.client); err != nil {
		return fmt.Errorf("devchain: %w", err)
	}
	if c.protocol, err = chain.NewProtocol(ctx, c.client, d.Addresses.Controller); err != nil {
		return fmt.Errorf("devchain: %w", err)
	}
	c.addrs = c.protocol.Addresses()

	// Round 0 is avoided because a ticket with creation round 0 and a zero
	// block hash has empty auxData, which the broker refuses.
	if _, err := c.AdvanceRound(ctx); err != nil {
		return err
	}
	return nil
}

func (c *Chain) checkReceipt(ctx context.Context, what string, tx *types.Transaction) error {
	r, err := c.client.TransactionReceipt(ctx, tx.Hash())
	if err != nil {
		return fmt.Errorf("devchain: %s: receipt of %s: %w", what, tx.Hash(), err)
	}
	if r.Status != types.ReceiptStatusSuccessful {
		return fmt.Errorf("devchain: %s: transaction %s reverted in block %s (gas used %d of %d)", what, tx.Hash(), r.BlockNumber, r.GasUsed, tx.Gas())
	}
	return nil
}

// Transactor signs as a with the dev chain's id. Gas and nonce are left to
// the binding, so two goroutines must not transact as one account at once.
func (c *Chain) Transactor(a Account) *bind.TransactOpts {
	auth, err := bind.NewKeyedTransactorWithChainID(a.Key, c.chainID)
	if err != nil {
		// Only fails for a nil chain id, which New never leaves.
		panic(fmt.Sprintf("devchain: transactor for %s: %v", a.Name, err))
	}
	return auth
}

// Client is the in-process RPC client.
func (c *Chain) Client() simulated.Client { return c.client }

// Backend is the simulated backend, for Fork, Rollback and AdjustTime.
func (c *Chain) Backend() *simulated.Backend { return c.backend }

// ChainID is the dev chain's id.
func (c *Chain) ChainID() *big.Int { return new(big.Int).Set(c.chainID) }

// RPCURL is the HTTP JSON-RPC endpoint, or "" when none is served.
func (c *Chain) RPCURL() string { return c.rpcURL }

// WSURL is the node's websocket JSON-RPC (for pushed heads), "" without
// RPCAddr. With L1Ratio above 1 it is "" too: the front that adds
// l1BlockNumber speaks HTTP only, and heads pushed without it would carry
// the wrong L1 number.
func (c *Chain) WSURL() string {
	if c.front != nil || c.backendURL == "" {
		return ""
	}
	return "ws://" + strings.TrimPrefix(c.backendURL, "http://")
}

// Addresses are the deployed contracts.
func (c *Chain) Addresses() chain.Addresses { return c.addrs }

// Protocol reads the deployed contracts through the in-process client.
func (c *Chain) Protocol() *chain.Protocol { return c.protocol }

// Multicall is the Multicall3 read aggregator, at MulticallAddress.
func (c *Chain) Multicall() common.Address { return c.multicall }

// RoundLength is the number of L1 blocks per round.
func (c *Chain) RoundLength() uint64 { return c.roundLength }

// L1Ratio is how many of the chain's blocks make one L1 block.
func (c *Chain) L1Ratio() uint64 { return c.l1Ratio }

// L1Number is the L1 block number the contracts see in the chain's block
// l2, as RoundsManager.blockNum() computes it.
func (c *Chain) L1Number(l2 uint64) uint64 { return l2 / c.l1Ratio }

// roundOf is the round block l2 belongs to. The round length is the one
// deployed: the dev chain never changes it.
func (c *Chain) roundOf(l2 uint64) uint64 { return c.L1Number(l2) / c.roundLength }

// roundStart is the first of the chain's blocks in round r: the first
// whose L1 number reaches r × roundLength.
func (c *Chain) roundStart(r uint64) uint64 { return r * c.roundLength * c.l1Ratio }

// Owner deployed the contracts and may call their owner-only hooks.
func (c *Chain) Owner() Account { return c.owner }

// Redeemer is funded with ETH and has no protocol role: the service's
// transaction account.
func (c *Chain) Redeemer() Account { return c.redeemer }

// Recipient is the orchestrator, an active transcoder.
func (c *Chain) Recipient() Account { return c.recipient }

// Senders are the broadcasters, each with a deposit and a reserve.
func (c *Chain) Senders() []Account { return append([]Account(nil), c.senders...) }

// Commit mines one block with the pending transactions and returns its
// hash; the zero hash once the chain is closed.
func (c *Chain) Commit() common.Hash {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return common.Hash{}
	}
	return c.backend.Commit()
}

// Mine mines a block every interval until ctx ends or the chain closes, and
// initializes each round in the block that starts it, as orchestrators do
// on a live network, unless SetRoundKeeping(false) stopped that. It blocks;
// run it in its own goroutine.
func (c *Chain) Mine(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !c.mineTick(ctx) {
			return
		}
	}
}

func (c *Chain) mineTick(ctx context.Context) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	var tx *types.Transaction
	var err error
	if c.keepRounds {
		tx, err = c.initializeNextBlockRoundLocked(ctx)
	}
	if err != nil && ctx.Err() == nil {
		c.log.Warn("devchain: initialize round", "err", err)
	}
	c.backend.Commit()
	if tx != nil {
		if err := c.checkReceipt(ctx, "initialize round", tx); err != nil && ctx.Err() == nil {
			c.log.Warn("devchain: initialize round", "err", err)
		}
	}
	return true
}

// initializeNextBlockRoundLocked queues initializeRound when the next block
// falls in a round that has not been initialized. It returns the queued
// transaction or nil.
func (c *Chain) initializeNextBlockRoundLocked(ctx context.Context) (*types.Transaction, error) {
	latest, err := c.client.BlockNumber(ctx)
	if err != nil {
		return nil, fmt.Errorf("block number: %w", err)
	}
	nextRound := c.roundOf(latest + 1)
	last, err := c.rounds.LastInitializedRound(&bind.CallOpts{Context: ctx})
	if err != nil {
		return nil, fmt.Errorf("last initialized round: %w", err)
	}
	if last.Cmp(new(big.Int).SetUint64(nextRound)) >= 0 {
		return nil, nil
	}
	auth := c.Transactor(c.keeper)
	auth.Context = ctx
	auth.GasLimit = initializeRoundGas
	tx, err := c.rounds.InitializeRound(auth)
	if err != nil {
		return nil, fmt.Errorf("send initializeRound: %w", err)
	}
	return tx, nil
}

// SetRoundKeeping turns on or off the initialization of new rounds by Mine
// and AdvanceRound (on after New). Off, rounds start uninitialized, as when
// no orchestrator calls initializeRound, until InitializeRound or keeping
// is turned back on; Mine then initializes a round it finds uninitialized
// in its next block.
func (c *Chain) SetRoundKeeping(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keepRounds = on
}

// InitializeRound mines one block that initializes its round and returns
// that round. It fails if the round is already initialized.
func (c *Chain) InitializeRound(ctx context.Context) (*big.Int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("devchain: chain is closed")
	}
	tx, err := c.initializeNextBlockRoundLocked(ctx)
	if err != nil {
		return nil, fmt.Errorf("devchain: initialize round: %w", err)
	}
	if tx == nil {
		latest, err := c.client.BlockNumber(ctx)
		if err != nil {
			return nil, fmt.Errorf("devchain: block number: %w", err)
		}
		return nil, fmt.Errorf("devchain: round %d of block %d is already initialized", c.roundOf(latest+1), latest+1)
	}
	c.backend.Commit()
	if err := c.checkReceipt(ctx, "initialize round", tx); err != nil {
		return nil, err
	}
	round, err := c.rounds.CurrentRound(&bind.CallOpts{Context: ctx})
	if err != nil {
		return nil, fmt.Errorf("devchain: current round: %w", err)
	}
	return round, nil
}

// AdvanceRound mines to the first block of the next round, initializing it
// in that block unless round keeping is off, and returns the new round.
func (c *Chain) AdvanceRound(ctx context.Context) (*big.Int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("devchain: chain is closed")
	}
	latest, err := c.client.BlockNumber(ctx)
	if err != nil {
		return nil, fmt.Errorf("devchain: block number: %w", err)
	}
	target := c.roundStart(c.roundOf(latest) + 1)
	for n := latest; n+1 < target; n++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("devchain: advance round: %w", err)
		}
		c.backend.Commit()
	}
	var tx *types.Transaction
	if c.keepRounds {
		if tx, err = c.initializeNextBlockRoundLocked(ctx); err != nil {
			return nil, fmt.Errorf("devchain: advance round: %w", err)
		}
	}
	c.backend.Commit()
	if tx != nil {
		if err := c.checkReceipt(ctx, "initialize round", tx); err != nil {
			return nil, err
		}
	}
	round, err := c.rounds.CurrentRound(&bind.CallOpts{Context: ctx})
	if err != nil {
		return nil, fmt.Errorf("devchain: current round: %w", err)
	}
	if !c.keepRounds {
		return round, nil
	}
	ok, err := c.rounds.CurrentRoundInitialized(&bind.CallOpts{Context: ctx})
	if err != nil {
		return nil, fmt.Errorf("devchain: current round initialized: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("devchain: round %s not initialized after advancing", round)
	}
	return round, nil
}

// Close stops the node and frees its RPC port. Safe to call more than once.
func (c *Chain) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	var errs []error
	if c.front != nil {
		errs = append(errs, c.front.Close())
	}
	if err := c.backend.Close(); err != nil {
		errs = append(errs, fmt.Errorf("devchain: close: %w", err))
	}
	return errors.Join(errs...)
}
