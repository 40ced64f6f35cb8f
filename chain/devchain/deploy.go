package devchain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"

	"redeemer/chain"
	"redeemer/chain/contracts"
)

// Backend is what deploying the dev contracts and keeping their rounds need
// from a chain. The simulated backend's client and *ethclient.Client both
// qualify, so the same code sets up the embedded chain and any real node.
type Backend interface {
	bind.ContractBackend
	TransactionReceipt(ctx context.Context, txHash common.Hash) (*types.Receipt, error)
	ChainID(ctx context.Context) (*big.Int, error)
	BlockNumber(ctx context.Context) (uint64, error)
	BalanceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (*big.Int, error)
	NonceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (uint64, error)
}

// Accounts are the dev chain's deterministic accounts: the same addresses on
// the embedded chain and on every node the contracts are deployed to.
type Accounts struct {
	// Owner deploys the contracts and may call their owner-only hooks.
	Owner Account
	// Keeper sends initializeRound as rounds start.
	Keeper Account
	// Redeemer is the service's transaction account; no protocol role.
	Redeemer Account
	// Recipient is the orchestrator, an active transcoder.
	Recipient Account
	// Senders are the broadcasters, each with a deposit and a reserve.
	Senders []Account
}

// NewAccounts derives the dev accounts with n senders.
func NewAccounts(n int) Accounts {
	a := Accounts{
		Owner:     DevAccount("owner"),
		Keeper:    DevAccount("round-keeper"),
		Redeemer:  DevAccount("redeemer"),
		Recipient: DevAccount("recipient"),
	}
	for i := 1; i <= n; i++ {
		a.Senders = append(a.Senders, DevAccount("sender-"+strconv.Itoa(i)))
	}
	return a
}

// All lists every account, senders last.
func (a Accounts) All() []Account {
	return append([]Account{a.Owner, a.Keeper, a.Redeemer, a.Recipient}, a.Senders...)
}

// DeployOptions are the contract settings and the senders' funds.
type DeployOptions struct {
	// RoundLength is the number of L1 blocks per round; DefaultRoundLength
	// if 0.
	RoundLength uint64
	// L1Ratio is how many of the chain's blocks make one L1 block: the
	// RoundsManager reads the L1 number as block number / L1Ratio, as the
	// protocol on Arbitrum reads L1's. 1 (every block is an L1 block) if 0.
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
	// Multicall, when set, is a Multicall3 the chain already holds (the
	// embedded chain has one at MulticallAddress from genesis): Deploy
	// records it instead of deploying another.
	Multicall common.Address
}

func (o DeployOptions) withDefaults() DeployOptions {
	if o.RoundLength == 0 {
		o.RoundLength = DefaultRoundLength
	}
	if o.L1Ratio == 0 {
		o.L1Ratio = 1
	}
	if o.Senders <= 0 {
		o.Senders = DefaultSenders
	}
	if o.Deposit == nil {
		o.Deposit = DefaultDeposit
	}
	if o.Reserve == nil {
		o.Reserve = DefaultReserve
	}
	return o
}

// Deployment is the dev contracts as deployed on one chain.
type Deployment struct {
	ChainID   *big.Int
	Accounts  Accounts
	Addresses chain.Addresses
	// Multicall is the Multicall3 read aggregator.
	Multicall common.Address
	// RoundLength is in L1 blocks, L1Ratio the chain's blocks per L1 block.
	RoundLength uint64
	L1Ratio     uint64
}

// Deploy deploys and wires the dev contracts on b as the owner account,
// activates the recipient and funds each sender's deposit and reserve. It
// also deploys a Multicall3 unless opts.Multicall names one. The
// accounts must already hold ETH (genesis on the embedded chain,
// FundAccounts on a node).
//
// Transactions go out in two batches whose members do not depend on each
// other, so a node that mines on its own clock spends two blocks, not ten.
// mine, when not nil, is called after each batch is sent: the simulated
// chain makes its block there. With mine nil the node is expected to mine
// by itself and Deploy waits for the receipts until ctx ends.
func Deploy(ctx context.Context, b Backend, opts DeployOptions, mine func()) (*Deployment, error) {
	opts = opts.withDefaults()
	chainID, err := b.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("devchain: chain id: %w", err)
	}
	d := &Deployment{ChainID: chainID, Accounts: NewAccounts(opts.Senders), RoundLength: opts.RoundLength, L1Ratio: opts.L1Ratio}
	if err := pastGenesis(ctx, b, mine); err != nil {
		return nil, err
	}
	if opts.Multicall != (common.Address{}) {
		code, err := b.CodeAt(ctx, opts.Multicall, nil)
		if err != nil {
			return nil, fmt.Errorf("devchain: code of Multicall3 at %s: %w", opts.Multicall, err)
		}
		if len(code) == 0 {
			return nil, fmt.Errorf("devchain: no Multicall3 at %s: the account has no code", opts.Multicall)
		}
		d.Multicall = opts.Multicall
	}
	bt := &batch{ctx: ctx, b: b, chainID: chainID, mine: mine, nonces: map[common.Address]uint64{}}

	owner, err := bt.transactor(d.Accounts.Owner)
	if err != nil {
		return nil, err
	}
	controllerAddr, tx, controller, err := contracts.DeployController(owner(), b)
	bt.add("deploy Controller", tx, err)
	roundsAddr, tx, _, err := contracts.DeployRoundsManager(owner(), b, controllerAddr,
		new(big.Int).SetUint64(opts.RoundLength), new(big.Int).SetUint64(opts.L1Ratio))
	bt.add("deploy RoundsManager", tx, err)
	bondingAddr, tx, bonding, err := contracts.DeployBondingManager(owner(), b, controllerAddr)
	bt.add("deploy BondingManager", tx, err)
	brokerAddr, tx, broker, err := contracts.DeployTicketBroker(owner(), b, controllerAddr)
	bt.add("deploy TicketBroker", tx, err)
	if d.Multicall == (common.Address{}) {
		d.Multicall, tx, _, err = contracts.DeployMulticall3(owner(), b)
		bt.add("deploy Multicall3", tx, err)
	}
	if err := bt.wait(); err != nil {
		return nil, err
	}

	for _, reg := range []struct {
		name string
		id   common.Hash
		addr common.Address
	}{
		{"TicketBroker", chain.TicketBrokerID, brokerAddr},
		{"RoundsManager", chain.RoundsManagerID, roundsAddr},
		{"BondingManager", chain.BondingManagerID, bondingAddr},
	} {
		tx, err := controller.SetContractInfo(owner(), reg.id, reg.addr)
		bt.add("register "+reg.name, tx, err)
	}
	tx, err = bonding.SetActiveTranscoder(owner(), d.Accounts.Recipient.Address, true)
	bt.add("activate recipient", tx, err)
	if opts.TicketValidityPeriod != 0 {
		tx, err := broker.SetTicketValidityPeriod(owner(), new(big.Int).SetUint64(opts.TicketValidityPeriod))
		bt.add("set ticket validity period", tx, err)
	}
	if opts.UnlockPeriod != 0 {
		tx, err := broker.SetUnlockPeriod(owner(), new(big.Int).SetUint64(opts.UnlockPeriod))
		bt.add("set unlock period", tx, err)
	}
	// Funding touches only the broker's own storage, so it need not wait
	// for the registrations above.
	for _, s := range d.Accounts.Senders {
		auth, err := bt.transactor(s)
		if err != nil {
			return nil, err
		}
		opts2 := auth()
		opts2.Value = new(big.Int).Add(opts.Deposit, opts.Reserve)
		tx, err := broker.FundDepositAndReserve(opts2, opts.Deposit, opts.Reserve)
		bt.add("fund "+s.Name, tx, err)
	}
	if err := bt.wait(); err != nil {
		return nil, err
	}

	p, err := chain.NewProtocol(ctx, b, controllerAddr)
	if err != nil {
		return nil, fmt.Errorf("devchain: %w", err)
	}
	d.Addresses = p.Addresses()
	return d, nil
}

// pastGenesis makes sure the latest block is not the genesis block: gas
// estimation runs on top of the latest block, and the RoundsManager
// constructor reads blockhash(block.number - 1), which underflows when
// estimated on top of genesis.
func pastGenesis(ctx context.Context, b Backend, mine func()) error {
	for {
		n, err := b.BlockNumber(ctx)
		if err != nil {
			return fmt.Errorf("devchain: block number: %w", err)
		}
		if n > 0 {
			return nil
		}
		if mine != nil {
			mine()
			continue
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devchain: the node is still at its genesis block: %w", ctx.Err())
		case <-time.After(receiptPoll):
		}
	}
}

// batch collects transactions sent without waiting for each other and
// checks their receipts together.
type batch struct {
	ctx     context.Context
	b       Backend
	chainID *big.Int
	mine    func()
	nonces  map[common.Address]uint64
	sent    []sentTx
	err     error
}

type sentTx struct {
	what string
	hash common.Hash
	gas  uint64
}

// transactor returns a maker of TransactOpts for a that hands out the
// account's nonces in order. The binding would otherwise ask the node for
// the pending nonce each time, which not every node counts reliably while
// earlier transactions sit in its pool.
func (bt *batch) transactor(a Account) (func() *bind.TransactOpts, error) {
	if _, ok := bt.nonces[a.Address]; !ok {
		n, err := bt.b.PendingNonceAt(bt.ctx, a.Address)
		if err != nil {
			return nil, fmt.Errorf("devchain: nonce of %s: %w", a.Name, err)
		}
		bt.nonces[a.Address] = n
	}
	return func() *bind.TransactOpts {
		auth, err := bind.NewKeyedTransactorWithChainID(a.Key, bt.chainID)
		if err != nil {
			// Only fails for a nil chain id, which Deploy never passes.
			panic(fmt.Sprintf("devchain: transactor for %s: %v", a.Name, err))
		}
		auth.Context = bt.ctx
		auth.Nonce = new(big.Int).SetUint64(bt.nonces[a.Address])
		bt.nonces[a.Address]++
		return auth
	}, nil
}

// add records a sent transaction; the first send error is kept for wait.
// A failed send leaves a nonce unused, so nothing after it can mine: wait
// reports the error before looking at any receipt.
func (bt *batch) add(what string, tx *types.Transaction, err error) {
	if bt.err != nil {
		return
	}
	if err != nil {
		bt.err = fmt.Errorf("devchain: %s: %w", what, err)
		return
	}
	bt.sent = append(bt.sent, sentTx{what: what, hash: tx.Hash(), gas: tx.Gas()})
}

// wait mines (if it is ours to mine) and checks every receipt of the batch.
func (bt *batch) wait() error {
	defer func() { bt.sent = nil }()
	if bt.err != nil {
		return bt.err
	}
	if bt.mine == nil {
		for _, s := range bt.sent {
			if err := waitReceipt(bt.ctx, bt.b, s.what, s.hash, true); err != nil {
				return err
			}
		}
		return nil
	}
	// A batch larger than one block's gas limit (hundreds of senders)
	// spills into the next blocks: mine until every receipt is there.
	bt.mine()
	for _, s := range bt.sent {
		for blocks := 1; ; blocks++ {
			err := waitReceipt(bt.ctx, bt.b, s.what, s.hash, false)
			if err == nil {
				break
			}
			if !errors.Is(err, ethereum.NotFound) || blocks >= maxBatchBlocks {
				return err
			}
			bt.mine()
		}
	}
	return nil
}

// maxBatchBlocks bounds the blocks one batch may take on the simulated
// chain; far more than any batch Deploy sends needs.
const maxBatchBlocks = 100

// receiptPoll is how often a receipt is asked for while a node mines.
const receiptPoll = 100 * time.Millisecond

// waitReceipt fails unless the transaction's receipt says it succeeded.
// With poll false the transaction must already be mined.
func waitReceipt(ctx context.Context, b Backend, what string, hash common.Hash, poll bool) error {
	for {
		r, err := b.TransactionReceipt(ctx, hash)
		switch {
		case err == nil:
			if r.Status != types.ReceiptStatusSuccessful {
				return fmt.Errorf("devchain: %s: transaction %s reverted in block %s (gas used %d)", what, hash, r.BlockNumber, r.GasUsed)
			}
			return nil
		case !poll:
			return fmt.Errorf("devchain: %s: receipt of %s: %w", what, hash, err)
		case !errors.Is(err, ethereum.NotFound):
			// A node that restarts or drops a call answers again shortly;
			// only the caller's deadline ends the wait.
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devchain: %s: transaction %s not mined: %w (last answer: %v)", what, hash, ctx.Err(), err)
		case <-time.After(receiptPoll):
		}
	}
}

// Payer sends ETH from an account the operator controls.
type Payer interface {
	// From is the paying account.
	From() common.Address
	// Pay sends value to to and returns the transaction hash.
	Pay(ctx context.Context, to common.Address, value *big.Int) (common.Hash, error)
}

// FundAccounts brings each dev account's balance on b up to balance, and
// each sender's to balance plus its deposit and reserve, paid by p. Accounts
// that already hold as much are left alone, so running it again against the
// same node pays only what is missing.
func FundAccounts(ctx context.Context, b Backend, p Payer, opts DeployOptions, balance *big.Int) error {
	opts = opts.withDefaults()
	acc := NewAccounts(opts.Senders)
	senderExtra := new(big.Int).Add(opts.Deposit, opts.Reserve)
	var sent []sentTx
	for i, a := range acc.All() {
		want := new(big.Int).Set(balance)
		if i >= 4 { // senders
			want.Add(want, senderExtra)
		}
		have, err := b.BalanceAt(ctx, a.Address, nil)
		if err != nil {
			return fmt.Errorf("devchain: balance of %s: %w", a.Name, err)
		}
		if have.Cmp(want) >= 0 {
			continue
		}
		h, err := p.Pay(ctx, a.Address, new(big.Int).Sub(want, have))
		if err != nil {
			return fmt.Errorf("devchain: pay %s from %s: %w", a.Name, p.From(), err)
		}
		sent = append(sent, sentTx{what: "pay " + a.Name, hash: h})
	}
	for _, s := range sent {
		if err := waitReceipt(ctx, b, s.what, s.hash, true); err != nil {
			return err
		}
	}
	return nil
}

// NodeAccountPayer pays from the node's first account through
// eth_sendTransaction: the node signs. This is how a development node
// (geth --dev, which unlocks its developer account in its own keystore)
// lends its funded account without the key ever leaving it.
type NodeAccountPayer struct {
	rpc  *rpc.Client
	from common.Address
}

// NewNodeAccountPayer picks the node's first account (eth_accounts).
func NewNodeAccountPayer(ctx context.Context, c *rpc.Client) (*NodeAccountPayer, error) {
	var accounts []common.Address
	if err := c.CallContext(ctx, &accounts, "eth_accounts"); err != nil {
		return nil, fmt.Errorf("devchain: eth_accounts: %w", err)
	}
	if len(accounts) == 0 {
		return nil, errors.New("devchain: the node has no account of its own (eth_accounts is empty): give a funder keystore")
	}
	return &NodeAccountPayer{rpc: c, from: accounts[0]}, nil
}

// From is the node's account.
func (p *NodeAccountPayer) From() common.Address { return p.from }

// Pay asks the node to sign and send the transfer.
func (p *NodeAccountPayer) Pay(ctx context.Context, to common.Address, value *big.Int) (common.Hash, error) {
	var h common.Hash
	err := p.rpc.CallContext(ctx, &h, "eth_sendTransaction", map[string]any{
		"from":  p.from,
		"to":    to,
		"value": (*hexutil.Big)(value),
	})
	if err != nil {
		return common.Hash{}, fmt.Errorf("eth_sendTransaction: %w", err)
	}
	return h, nil
}

// KeyPayer pays from a key the operator holds, signing locally.
type KeyPayer struct {
	b       Backend
	key     *ecdsa.PrivateKey
	from    common.Address
	chainID *big.Int
	nonce   *uint64
}

// NewKeyPayer pays from key on b.
func NewKeyPayer(ctx context.Context, b Backend, key *ecdsa.PrivateKey) (*KeyPayer, error) {
	id, err := b.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("devchain: chain id: %w", err)
	}
	return &KeyPayer{b: b, key: key, from: crypto.PubkeyToAddress(key.PublicKey), chainID: id}, nil
}

// From is the key's address.
func (p *KeyPayer) From() common.Address { return p.from }

// transferGas is what a plain transfer to an account without code costs.
const transferGas = 21_000

// Pay signs and sends a transfer. Nonces are counted here after the first,
// so several payments can be in the pool at once.
func (p *KeyPayer) Pay(ctx context.Context, to common.Address, value *big.Int) (common.Hash, error) {
	if p.nonce == nil {
		n, err := p.b.PendingNonceAt(ctx, p.from)
		if err != nil {
			return common.Hash{}, fmt.Errorf("nonce: %w", err)
		}
		p.nonce = &n
	}
	tip, feeCap, err := chain.SuggestFees(ctx, p.b, nil)
	if err != nil {
		return common.Hash{}, err
	}
	tx, err := types.SignNewTx(p.key, types.LatestSignerForChainID(p.chainID), &types.DynamicFeeTx{
		ChainID: p.chainID, Nonce: *p.nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: transferGas, To: &to, Value: value,
	})
	if err != nil {
		return common.Hash{}, fmt.Errorf("sign transfer: %w", err)
	}
	if err := p.b.SendTransaction(ctx, tx); err != nil {
		return common.Hash{}, fmt.Errorf("send transfer: %w", err)
	}
	*p.nonce++
	return tx.Hash(), nil
}
