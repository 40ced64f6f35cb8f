package chain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
)

// ErrHeadNotFound means the node has no canonical block at the requested
// number: it is past the node's head, or the node rewound below it.
var ErrHeadNotFound = errors.New("chain: head not found")

// Head is a block header reduced to what the service tracks.
type Head struct {
	Number     uint64
	Hash       common.Hash
	ParentHash common.Hash
	// L1Number is the Ethereum (L1) block number the block carries: on
	// Arbitrum the header's l1BlockNumber, elsewhere Number itself. Livepeer
	// rounds and ticket expiration blocks count L1 blocks.
	L1Number uint64
	// Time is the block timestamp in Unix seconds.
	Time uint64
	// BaseFee is the block's base fee per gas, nil before London or when
	// the reader does not know it.
	BaseFee *big.Int
	// GasLimit is the block's gas limit, 0 when the reader does not know
	// it. A node refuses a transaction whose gas limit is above it, and
	// every later nonce waits behind the refused one; on Arbitrum it is
	// far above any transaction's cap.
	GasLimit uint64
}

// HeadReader reads block headers with their L1 block number. Implementations
// must honour ctx: the poller bounds every call with a timeout.
type HeadReader interface {
	// LatestHead returns the node's current head.
	LatestHead(ctx context.Context) (Head, error)
	// HeadByNumber returns the canonical head at n, or an error wrapping
	// ErrHeadNotFound when the node has none.
	HeadByNumber(ctx context.Context, n uint64) (Head, error)
}

// NewRPCHeadReader reads heads over JSON-RPC with eth_getBlockByNumber
// (without transactions). It decodes the header itself rather than through
// ethclient so that Arbitrum's l1BlockNumber field, which types.Header drops,
// is kept; where the field is absent L1Number is the block number. For an
// ethclient.Client, pass its Client().
func NewRPCHeadReader(c *rpc.Client) HeadReader {
	return rpcHeadReader{c: c}
}

type rpcHeadReader struct{ c *rpc.Client }

// rpcHeader holds the fields of eth_getBlockByNumber's result the service
// uses. Pointers tell a missing field from a zero one: a node that leaves
// out the hash must fail loudly, not yield the zero hash.
type rpcHeader struct {
	Number        *hexutil.Uint64 `json:"number"`
	Hash          *common.Hash    `json:"hash"`
	ParentHash    *common.Hash    `json:"parentHash"`
	Timestamp     *hexutil.Uint64 `json:"timestamp"`
	L1BlockNumber *hexutil.Uint64 `json:"l1BlockNumber"`
	BaseFee       *hexutil.Big    `json:"baseFeePerGas"`
	GasLimit      *hexutil.Uint64 `json:"gasLimit"`
}

func (r rpcHeadReader) LatestHead(ctx context.Context) (Head, error) {
	return r.get(ctx, "latest", nil)
}

func (r rpcHeadReader) HeadByNumber(ctx context.Context, n uint64) (Head, error) {
	return r.get(ctx, hexutil.EncodeUint64(n), &n)
}

func (r rpcHeadReader) get(ctx context.Context, tag string, want *uint64) (Head, error) {
	var raw json.RawMessage
	if err := r.c.CallContext(ctx, &raw, "eth_getBlockByNumber", tag, false); err != nil {
		return Head{}, fmt.Errorf("chain: eth_getBlockByNumber(%s): %w", tag, err)
	}
	return decodeHead(raw, tag, want)
}

// decodeHead decodes an eth_getBlockByNumber result for the block asked for
// as tag (want: the number asked for, nil for a tag such as "latest").
func decodeHead(raw json.RawMessage, tag string, want *uint64) (Head, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return Head{}, fmt.Errorf("chain: block %s: %w", tag, ErrHeadNotFound)
	}
	var h rpcHeader
	if err := json.Unmarshal(raw, &h); err != nil {
		return Head{}, fmt.Errorf("chain: decode block %s: %w", tag, err)
	}
	if h.Number == nil || h.Hash == nil || h.ParentHash == nil || h.Timestamp == nil {
		// A pending block has no hash; "latest" never names one, so this is
		// a node answering something other than a canonical header.
		return Head{}, fmt.Errorf("chain: block %s: header lacks number, hash, parentHash or timestamp", tag)
	}
	head := Head{
		Number:     uint64(*h.Number),
		Hash:       *h.Hash,
		ParentHash: *h.ParentHash,
		L1Number:   uint64(*h.Number),
		Time:       uint64(*h.Timestamp),
	}
	if h.L1BlockNumber != nil {
		head.L1Number = uint64(*h.L1BlockNumber)
	}
	if h.BaseFee != nil {
		head.BaseFee = h.BaseFee.ToInt()
	}
	if h.GasLimit != nil {
		head.GasLimit = uint64(*h.GasLimit)
	}
	if want != nil && head.Number != *want {
		return Head{}, fmt.Errorf("chain: asked for block %d, node returned block %d", *want, head.Number)
	}
	return head, nil
}

// HeaderByNumberer is the one method NewHeaderHeadReader needs; ethclient's
// Client and the simulated backend's client both have it.
type HeaderByNumberer interface {
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
}

// NewHeaderHeadReader reads heads through HeaderByNumber, for chains whose
// headers carry no L1 block number (such as the dev chain): L1Number is the
// block number. On Arbitrum use NewRPCHeadReader instead, or every L1 number
// would be an L2 number.
func NewHeaderHeadReader(c HeaderByNumberer) HeadReader {
	return headerHeadReader{c: c}
}

type headerHeadReader struct{ c HeaderByNumberer }

func (r headerHeadReader) LatestHead(ctx context.Context) (Head, error) {
	return r.get(ctx, nil)
}

func (r headerHeadReader) HeadByNumber(ctx context.Context, n uint64) (Head, error) {
	return r.get(ctx, &n)
}

func (r headerHeadReader) get(ctx context.Context, want *uint64) (Head, error) {
	var (
		num  *big.Int
		what = "latest"
	)
	if want != nil {
		num = new(big.Int).SetUint64(*want)
		what = num.String()
	}
	h, err := r.c.HeaderByNumber(ctx, num)
	if errors.Is(err, ethereum.NotFound) || (err == nil && h == nil) {
		return Head{}, fmt.Errorf("chain: block %s: %w", what, ErrHeadNotFound)
	}
	if err != nil {
		return Head{}, fmt.Errorf("chain: header %s: %w", what, err)
	}
	if h.Number == nil || !h.Number.IsUint64() {
		return Head{}, fmt.Errorf("chain: header %s: number %v is not a uint64", what, h.Number)
	}
	head := Head{
		Number:     h.Number.Uint64(),
		Hash:       h.Hash(),
		ParentHash: h.ParentHash,
		L1Number:   h.Number.Uint64(),
		Time:       h.Time,
		BaseFee:    h.BaseFee,
		GasLimit:   h.GasLimit,
	}
	if want != nil && head.Number != *want {
		return Head{}, fmt.Errorf("chain: asked for block %d, node returned block %d", *want, head.Number)
	}
	return head, nil
}
