package chain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
)

// CanonicalMulticall is where the Multicall3 read aggregator lives on
// Arbitrum One and most other chains; NodeOptions.Multicall defaults to it
// when code is found there.
var CanonicalMulticall = common.HexToAddress("0xcA11bde05977b3631167028862bE2a173976CA11")

// NodeOptions tune a Node. Zero values take the defaults in brackets.
type NodeOptions struct {
	// CallTimeout bounds one request to the node (a batch is one request)
	// [5s].
	CallTimeout time.Duration
	// Multicall is a Multicall3-compatible aggregator (aggregate3): reads
	// of many contract values then cost one eth_call. Zero reads with
	// JSON-RPC batches of eth_call instead.
	Multicall common.Address
	// MaxBatch is the most calls in one JSON-RPC batch or one aggregate3
	// [100]: providers cap batch sizes, and one failed request should not
	// take too much work with it.
	MaxBatch int
}

// Node is a thin typed client of an Ethereum (Arbitrum) node over JSON-RPC,
// like go-ethereum's ethclient, with the calls the service needs in batches:
// one request for many receipts, estimates or reads. Every call is bounded
// by CallTimeout; retries are the caller's (each stage retries its own work).
type Node struct {
	c    *rpc.Client
	eth  *ethclient.Client
	opts NodeOptions
}

// NewNode wraps a connected client.
func NewNode(c *rpc.Client, opts NodeOptions) *Node {
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 5 * time.Second
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 100
	}
	return &Node{c: c, eth: ethclient.NewClient(c), opts: opts}
}

// DialNode connects to the node at rawURL. Over http(s) every request waits
// for budget (see Transport); over ws(s) calls are not budgeted.
func DialNode(ctx context.Context, rawURL string, budget *Budget, opts NodeOptions) (*Node, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("chain: node URL: %w", err)
	}
	var c *rpc.Client
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if budget == nil {
			budget = NewBudget(0, nil)
		}
		c, err = rpc.DialOptions(ctx, rawURL, rpc.WithHTTPClient(&http.Client{Transport: &Transport{Budget: budget}}))
	default:
		c, err = rpc.DialContext(ctx, rawURL)
	}
	if err != nil {
		return nil, fmt.Errorf("chain: dial node: %w", err)
	}
	return NewNode(c, opts), nil
}

// RPC is the underlying client.
func (n *Node) RPC() *rpc.Client { return n.c }

// Eth is an ethclient on the same connection, for contract bindings.
func (n *Node) Eth() *ethclient.Client { return n.eth }

// Multicall is the aggregator address in use (zero: none).
func (n *Node) Multicall() common.Address { return n.opts.Multicall }

// Close closes the connection.
func (n *Node) Close() { n.c.Close() }

func (n *Node) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, n.opts.CallTimeout)
}

// batch sends elems in requests of at most MaxBatch calls. A request that
// fails fails the whole batch; per-call errors are left in each element.
func (n *Node) batch(ctx context.Context, elems []rpc.BatchElem) error {
	for i := 0; i < len(elems); i += n.opts.MaxBatch {
		cctx, cancel := n.call(ctx)
		err := n.c.BatchCallContext(cctx, elems[i:min(i+n.opts.MaxBatch, len(elems))])
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// LatestHead reads the node's latest head.
func (n *Node) LatestHead(ctx context.Context) (Head, error) {
	cctx, cancel := n.call(ctx)
	defer cancel()
	return rpcHeadReader{c: n.c}.LatestHead(cctx)
}

// HeadByNumber reads the canonical head at num (ErrHeadNotFound if none).
func (n *Node) HeadByNumber(ctx context.Context, num uint64) (Head, error) {
	cctx, cancel := n.call(ctx)
	defer cancel()
	return rpcHeadReader{c: n.c}.HeadByNumber(cctx, num)
}

// FinalizedHead reads the node's finalized head; ok is false when the node
// does not serve the tag (or has none yet).
func (n *Node) FinalizedHead(ctx context.Context) (h Head, ok bool, err error) {
	cctx, cancel := n.call(ctx)
	defer cancel()
	var raw json.RawMessage
	err = n.c.CallContext(cctx, &raw, "eth_getBlockByNumber", "finalized", false)
	if err != nil {
		if Classify(err) == ClassOther {
			return Head{}, false, nil
		}
		return Head{}, false, fmt.Errorf("chain: finalized head: %w", err)
	}
	h, err = decodeHead(raw, "finalized", nil)
	if errors.Is(err, ErrHeadNotFound) {
		return Head{}, false, nil
	}
	return h, err == nil, err
}

// HeadsByNumber reads several canonical heads in one request; errs[i] is
// set (wrapping ErrHeadNotFound when the node has no such block) for a head
// it could not read.
func (n *Node) HeadsByNumber(ctx context.Context, nums []uint64) (heads []Head, errs []error, err error) {
	raws := make([]json.RawMessage, len(nums))
	elems := make([]rpc.BatchElem, len(nums))
	for i, num := range nums {
		elems[i] = rpc.BatchElem{Method: "eth_getBlockByNumber", Args: []any{hexutil.EncodeUint64(num), false}, Result: &raws[i]}
	}
	if err := n.batch(ctx, elems); err != nil {
		return nil, nil, fmt.Errorf("chain: read %d heads: %w", len(nums), err)
	}
	heads, errs = make([]Head, len(nums)), make([]error, len(nums))
	for i := range elems {
		if elems[i].Error != nil {
			errs[i] = elems[i].Error
			continue
		}
		heads[i], errs[i] = decodeHead(raws[i], hexutil.EncodeUint64(nums[i]), &nums[i])
	}
	return heads, errs, nil
}

// filterArg is eth_getLogs' argument for q.
func filterArg(q ethereum.FilterQuery) map[string]any {
	arg := map[string]any{"address": q.Addresses, "topics": q.Topics}
	if q.BlockHash != nil {
		arg["blockHash"] = *q.BlockHash
		return arg
	}
	if q.FromBlock != nil {
		arg["fromBlock"] = hexutil.EncodeBig(q.FromBlock)
	}
	if q.ToBlock != nil {
		arg["toBlock"] = hexutil.EncodeBig(q.ToBlock)
	}
	return arg
}

// LogsThrough reads the logs q selects together with the canonical head at
// check, in one request: the caller checks that head's hash against what it
// processed before, so the logs are known to continue the same chain.
func (n *Node) LogsThrough(ctx context.Context, q ethereum.FilterQuery, check uint64) ([]types.Log, Head, error) {
	var (
		logs []types.Log
		raw  json.RawMessage
	)
	elems := []rpc.BatchElem{
		{Method: "eth_getLogs", Args: []any{filterArg(q)}, Result: &logs},
		{Method: "eth_getBlockByNumber", Args: []any{hexutil.EncodeUint64(check), false}, Result: &raw},
	}
	if err := n.batch(ctx, elems); err != nil {
		return nil, Head{}, fmt.Errorf("chain: logs: %w", err)
	}
	if err := elems[0].Error; err != nil {
		return nil, Head{}, fmt.Errorf("chain: logs %s..%s: %w", q.FromBlock, q.ToBlock, err)
	}
	if err := elems[1].Error; err != nil {
		return nil, Head{}, fmt.Errorf("chain: head %d: %w", check, err)
	}
	h, err := decodeHead(raw, hexutil.EncodeUint64(check), &check)
	if err != nil {
		return nil, Head{}, err
	}
	return logs, h, nil
}

// callArg is eth_call's and eth_estimateGas' transaction argument.
func callArg(msg ethereum.CallMsg) map[string]any {
	arg := map[string]any{"from": msg.From, "to": msg.To}
	if len(msg.Data) > 0 {
		arg["input"] = hexutil.Bytes(msg.Data)
	}
	if msg.Value != nil {
		arg["value"] = (*hexutil.Big)(msg.Value)
	}
	if msg.Gas != 0 {
		arg["gas"] = hexutil.Uint64(msg.Gas)
	}
	return arg
}

// EstimateGasMany estimates each message in one request (per message, at
// the latest block). errs[i] is its own failure: a revert belongs to that
// message alone (see Classify), so one poisoned call never hides the others'
// answers.
func (n *Node) EstimateGasMany(ctx context.Context, msgs []ethereum.CallMsg) (gas []uint64, errs []error, err error) {
	out := make([]hexutil.Uint64, len(msgs))
	elems := make([]rpc.BatchElem, len(msgs))
	for i := range msgs {
		elems[i] = rpc.BatchElem{Method: "eth_estimateGas", Args: []any{callArg(msgs[i])}, Result: &out[i]}
	}
	if err := n.batch(ctx, elems); err != nil {
		return nil, nil, fmt.Errorf("chain: estimate gas of %d calls: %w", len(msgs), err)
	}
	gas, errs = make([]uint64, len(msgs)), make([]error, len(msgs))
	for i := range elems {
		gas[i], errs[i] = uint64(out[i]), elems[i].Error
	}
	return gas, errs, nil
}

// Receipts looks up receipts in one request. A transaction the node does
// not know (pending, dropped, or on a branch it left) has a nil receipt and
// no error; errs[i] is a lookup that failed.
func (n *Node) Receipts(ctx context.Context, hashes []common.Hash) (rcpts []*types.Receipt, errs []error, err error) {
	rcpts, errs = make([]*types.Receipt, len(hashes)), make([]error, len(hashes))
	elems := make([]rpc.BatchElem, len(hashes))
	for i, h := range hashes {
		elems[i] = rpc.BatchElem{Method: "eth_getTransactionReceipt", Args: []any{h}, Result: &rcpts[i]}
	}
	if err := n.batch(ctx, elems); err != nil {
		return nil, nil, fmt.Errorf("chain: %d receipts: %w", len(hashes), err)
	}
	for i := range elems {
		errs[i] = elems[i].Error
	}
	return rcpts, errs, nil
}

// NonceAt is the account's nonce after block (nil: latest): the count of
// its transactions mined by then.
func (n *Node) NonceAt(ctx context.Context, account common.Address, block *big.Int) (uint64, error) {
	cctx, cancel := n.call(ctx)
	defer cancel()
	v, err := n.eth.NonceAt(cctx, account, block)
	if err != nil {
		return 0, fmt.Errorf("chain: nonce of %s: %w", account, err)
	}
	return v, nil
}

// PendingNonce is the account's next nonce counting the node's pool.
func (n *Node) PendingNonce(ctx context.Context, account common.Address) (uint64, error) {
	cctx, cancel := n.call(ctx)
	defer cancel()
	v, err := n.eth.PendingNonceAt(cctx, account)
	if err != nil {
		return 0, fmt.Errorf("chain: pending nonce of %s: %w", account, err)
	}
	return v, nil
}

// MaxPriorityFee is the node's suggested tip per gas.
func (n *Node) MaxPriorityFee(ctx context.Context) (*big.Int, error) {
	cctx, cancel := n.call(ctx)
	defer cancel()
	v, err := n.eth.SuggestGasTipCap(cctx)
	if err != nil {
		return nil, fmt.Errorf("chain: suggested tip: %w", err)
	}
	return v, nil
}

// Balance is the account's balance at the latest block.
func (n *Node) Balance(ctx context.Context, account common.Address) (*big.Int, error) {
	cctx, cancel := n.call(ctx)
	defer cancel()
	v, err := n.eth.BalanceAt(cctx, account, nil)
	if err != nil {
		return nil, fmt.Errorf("chain: balance of %s: %w", account, err)
	}
	return v, nil
}

// ChainID is the node's chain id.
func (n *Node) ChainID(ctx context.Context) (*big.Int, error) {
	cctx, cancel := n.call(ctx)
	defer cancel()
	v, err := n.eth.ChainID(cctx)
	if err != nil {
		return nil, fmt.Errorf("chain: chain id: %w", err)
	}
	return v, nil
}

// SendTransaction broadcasts a signed transaction.
func (n *Node) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	cctx, cancel := n.call(ctx)
	defer cancel()
	return n.eth.SendTransaction(cctx, tx)
}

// HasCode reports whether addr holds contract code at the latest block.
func (n *Node) HasCode(ctx context.Context, addr common.Address) (bool, error) {
	cctx, cancel := n.call(ctx)
	defer cancel()
	code, err := n.eth.CodeAt(cctx, addr, nil)
	if err != nil {
		return false, fmt.Errorf("chain: code at %s: %w", addr, err)
	}
	return len(code) > 0, nil
}

// Call is one contract read.
type Call struct {
	To   common.Address
	Data []byte
}

// CallResult is one read's answer: its return data, or Err (a *Revert when
// the call reverted).
type CallResult struct {
	Data []byte
	Err  error
}

// CallMany runs reads at one block (nil: latest), so values read together
// belong together. With a Multicall it costs one eth_call per MaxBatch
// reads; without, one batch request of eth_calls. A read that reverts
// fails alone.
func (n *Node) CallMany(ctx context.Context, block *big.Int, calls []Call) ([]CallResult, error) {
	tag := "latest"
	if block != nil {
		tag = hexutil.EncodeBig(block)
	}
	out := make([]CallResult, len(calls))
	for i := 0; i < len(calls); i += n.opts.MaxBatch {
		part := calls[i:min(i+n.opts.MaxBatch, len(calls))]
		var err error
		if n.opts.Multicall != (common.Address{}) {
			err = n.aggregate(ctx, tag, part, out[i:])
		} else {
			err = n.batchCalls(ctx, tag, part, out[i:])
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (n *Node) batchCalls(ctx context.Context, tag string, calls []Call, out []CallResult) error {
	raws := make([]hexutil.Bytes, len(calls))
	elems := make([]rpc.BatchElem, len(calls))
	for i, c := range calls {
		to := c.To
		elems[i] = rpc.BatchElem{Method: "eth_call", Args: []any{callArg(ethereum.CallMsg{To: &to, Data: c.Data}), tag},
			Result: &raws[i]}
	}
	if err := n.batch(ctx, elems); err != nil {
		return fmt.Errorf("chain: %d reads at %s: %w", len(calls), tag, err)
	}
	for i := range elems {
		out[i] = CallResult{Data: raws[i], Err: elems[i].Error}
		if r := AsRevert(elems[i].Error); r != nil {
			out[i].Err = r
		}
	}
	return nil
}

// multicallABI is the one aggregate3 function of Multicall3.
var multicallABI = func() abi.ABI {
	a, err := abi.JSON(strings.NewReader(`[{"name":"aggregate3","type":"function","stateMutability":"payable",
		"inputs":[{"name":"calls","type":"tuple[]","components":[
			{"name":"target","type":"address"},{"name":"allowFailure","type":"bool"},{"name":"callData","type":"bytes"}]}],
		"outputs":[{"name":"returnData","type":"tuple[]","components":[
			{"name":"success","type":"bool"},{"name":"returnData","type":"bytes"}]}]}]`))
	if err != nil {
		panic(fmt.Sprintf("chain: multicall ABI: %v", err)) // a constant that parses, or a build-time bug
	}
	return a
}()

type call3 struct {
	Target       common.Address
	AllowFailure bool
	CallData     []byte
}

type result3 struct {
	Success    bool
	ReturnData []byte
}

func (n *Node) aggregate(ctx context.Context, tag string, calls []Call, out []CallResult) error {
	in := make([]call3, len(calls))
	for i, c := range calls {
		in[i] = call3{Target: c.To, AllowFailure: true, CallData: c.Data}
	}
	data, err := multicallABI.Pack("aggregate3", in)
	if err != nil {
		return fmt.Errorf("chain: pack aggregate3: %w", err)
	}
	to := n.opts.Multicall
	var raw hexutil.Bytes
	cctx, cancel := n.call(ctx)
	err = n.c.CallContext(cctx, &raw, "eth_call", callArg(ethereum.CallMsg{To: &to, Data: data}), tag)
	cancel()
	if err != nil {
		return fmt.Errorf("chain: aggregate3 of %d reads at %s: %w", len(calls), tag, err)
	}
	vals, err := multicallABI.Unpack("aggregate3", raw)
	if err != nil || len(vals) != 1 {
		return fmt.Errorf("chain: unpack aggregate3 (%d values): %w", len(vals), err)
	}
	res := *abi.ConvertType(vals[0], new([]result3)).(*[]result3)
	if len(res) != len(calls) {
		return fmt.Errorf("chain: aggregate3 answered %d results for %d reads", len(res), len(calls))
	}
	for i, r := range res {
		if r.Success {
			out[i] = CallResult{Data: r.ReturnData}
		} else {
			out[i] = CallResult{Err: &Revert{Data: r.ReturnData, Reason: DecodeRevert(r.ReturnData)}}
		}
	}
	return nil
}

// Snapshot is what TrackReads read in one request, so the answers come
// from one node at one moment and agree with each other.
type Snapshot struct {
	// Nonce is the account's nonce at the block asked for (when asked).
	Nonce uint64
	// Receipts are the receipts asked for (nil: the node does not know the
	// transaction); ReceiptErrs the lookups that failed.
	Receipts    []*types.Receipt
	ReceiptErrs []error
	// Finalized is the node's finalized head when asked for and served.
	Finalized *Head
}

// TrackReads reads, in one request: the account's nonce at block (when
// account is non-zero), the receipts of hashes, and the finalized head
// (when finalized is set). A node behind block fails the whole request
// rather than answer from an older state, so a lagging or load-balanced
// node cannot make a mined transaction look dropped.
func (n *Node) TrackReads(ctx context.Context, account common.Address, block uint64, hashes []common.Hash,
	finalized bool) (Snapshot, error) {
	var (
		s       Snapshot
		nonce   hexutil.Uint64
		finRaw  json.RawMessage
		elems   []rpc.BatchElem
		nonceAt = -1
		finAt   = -1
	)
	if account != (common.Address{}) {
		nonceAt = len(elems)
		elems = append(elems, rpc.BatchElem{Method: "eth_getTransactionCount",
			Args: []any{account, hexutil.EncodeUint64(block)}, Result: &nonce})
	}
	if finalized {
		finAt = len(elems)
		elems = append(elems, rpc.BatchElem{Method: "eth_getBlockByNumber", Args: []any{"finalized", false}, Result: &finRaw})
	}
	first := len(elems)
	s.Receipts, s.ReceiptErrs = make([]*types.Receipt, len(hashes)), make([]error, len(hashes))
	for i, h := range hashes {
		elems = append(elems, rpc.BatchElem{Method: "eth_getTransactionReceipt", Args: []any{h}, Result: &s.Receipts[i]})
	}
	if len(elems) == 0 {
		return s, nil
	}
	// One request, whatever MaxBatch says: the answers must agree.
	cctx, cancel := n.call(ctx)
	err := n.c.BatchCallContext(cctx, elems)
	cancel()
	if err != nil {
		return s, fmt.Errorf("chain: track reads: %w", err)
	}
	if nonceAt >= 0 {
		if err := elems[nonceAt].Error; err != nil {
			return s, fmt.Errorf("chain: nonce of %s at block %d: %w", account, block, err)
		}
		s.Nonce = uint64(nonce)
	}
	if finAt >= 0 && elems[finAt].Error == nil {
		if h, err := decodeHead(finRaw, "finalized", nil); err == nil {
			s.Finalized = &h
		}
	}
	for i := range hashes {
		s.ReceiptErrs[i] = elems[first+i].Error
	}
	return s, nil
}

// SubscribeHeads follows new heads pushed by the node (eth_subscribe
// newHeads; the node must be connected over a websocket) and sends each on
// out until ctx ends or the subscription fails; the returned channel then
// receives the error (nil when ctx ended). A pushed head is used as it is
// when it carries its L1 block number (l1BlockNumber) or the chain is a
// plain one; Arbitrum nodes that push headers without the field encode it
// in mixHash (bytes 8 to 16), which is used when arbitrum is set.
func (n *Node) SubscribeHeads(ctx context.Context, out chan<- Head, arbitrum bool) (<-chan error, error) {
	raws := make(chan json.RawMessage, 16)
	sub, err := n.c.EthSubscribe(ctx, raws, "newHeads")
	if err != nil {
		return nil, fmt.Errorf("chain: subscribe to new heads: %w", err)
	}
	done := make(chan error, 1)
	go func() {
		defer sub.Unsubscribe()
		for {
			select {
			case <-ctx.Done():
				done <- nil
				return
			case err := <-sub.Err():
				done <- fmt.Errorf("chain: head subscription: %w", err)
				return
			case raw := <-raws:
				h, err := decodeHead(raw, "pushed", nil)
				if err != nil {
					continue
				}
				if arbitrum && !hasField(raw, "l1BlockNumber") {
					var mix struct {
						MixHash common.Hash `json:"mixHash"`
					}
					if json.Unmarshal(raw, &mix) == nil {
						h.L1Number = new(big.Int).SetBytes(mix.MixHash[8:16]).Uint64()
					}
				}
				select {
				case out <- h:
				case <-ctx.Done():
				}
			}
		}
	}()
	return done, nil
}

func hasField(raw json.RawMessage, name string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	_, ok := m[name]
	return ok
}
