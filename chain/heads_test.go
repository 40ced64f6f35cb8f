package chain_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rpc"

	"redeemer/chain"
	"redeemer/chain/devchain"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// sameHead compares heads field by field: BaseFee is a pointer, so == would
// compare addresses.
func sameHead(a, b chain.Head) bool {
	if (a.BaseFee == nil) != (b.BaseFee == nil) || (a.BaseFee != nil && a.BaseFee.Cmp(b.BaseFee) != 0) {
		return false
	}
	a.BaseFee, b.BaseFee = nil, nil
	return a == b
}

func TestRPCHeadReaderAgainstDevChain(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dc, err := devchain.New(ctx, devchain.Options{RPCAddr: "127.0.0.1:0", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	c, err := rpc.DialContext(ctx, dc.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := chain.NewRPCHeadReader(c)
	ref := chain.NewHeaderHeadReader(dc.Client())

	dc.Commit()
	latest, err := r.LatestHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ref.LatestHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !sameHead(latest, want) || latest.L1Number != latest.Number || latest.Time == 0 {
		t.Fatalf("RPC latest = %+v, header reader has %+v", latest, want)
	}
	if latest.BaseFee == nil || latest.BaseFee.Sign() <= 0 {
		t.Errorf("latest head base fee %v, want the London base fee", latest.BaseFee)
	}
	if latest.GasLimit == 0 {
		t.Errorf("latest head gas limit 0, want the block's")
	}
	parent, err := r.HeadByNumber(ctx, latest.Number-1)
	if err != nil {
		t.Fatal(err)
	}
	if parent.Hash != latest.ParentHash || parent.Number != latest.Number-1 {
		t.Errorf("head %d = %+v, not the parent of %+v", latest.Number-1, parent, latest)
	}
	for _, reader := range []chain.HeadReader{r, ref} {
		if _, err := reader.HeadByNumber(ctx, latest.Number+100); !errors.Is(err, chain.ErrHeadNotFound) {
			t.Errorf("head past the tip: err = %v, want ErrHeadNotFound", err)
		}
	}
}

// arbitrumBlock is eth_getBlockByNumber's result as an Arbitrum Nitro node
// returns it (fields trimmed to the header's), with number n.
func arbitrumBlock(n uint64) string {
	return fmt.Sprintf(`{
		"baseFeePerGas": "0x989680",
		"difficulty": "0x1",
		"extraData": "0x6e9c3a1f4f1a0a0b2d3b5e8f5b0c9f0d0e1a2b3c4d5e6f708192a3b4c5d6e7f8",
		"gasLimit": "0x4000000000000",
		"gasUsed": "0x3c6a9",
		"hash": "0x%064x",
		"l1BlockNumber": "0x1345a2c",
		"logsBloom": "0x%0512x",
		"miner": "0xa4b000000000000000000073657175656e636572",
		"mixHash": "0x0000000000016c1c00000000012d6d2600000000000000140000000000000000",
		"nonce": "0x00000000001b8e6f",
		"number": "0x%x",
		"parentHash": "0x%064x",
		"receiptsRoot": "0x6f8d1b0c2a3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccdd",
		"sendCount": "0x1b8e6f",
		"sendRoot": "0x3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b",
		"sha3Uncles": "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
		"size": "0x44a",
		"stateRoot": "0x9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0",
		"timestamp": "0x6745d2a1",
		"totalDifficulty": "0x0",
		"transactions": ["0x%064x"],
		"transactionsRoot": "0x7a8b9cadbecfd0e1f2031425364758697a8b9cadbecfd0e1f203142536475869",
		"uncles": []
	}`, 0xb10c000+n, 0, n, 0xb10c000+n-1, n)
}

func TestRPCHeadReaderDecodesArbitrumL1BlockNumber(t *testing.T) {
	t.Parallel()
	const tip = 279_000_123
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var call struct {
			ID     json.RawMessage   `json:"id"`
			Method string            `json:"method"`
			Params []json.RawMessage `json:"params"`
		}
		body, _ := io.ReadAll(req.Body)
		if err := json.Unmarshal(body, &call); err != nil || call.Method != "eth_getBlockByNumber" ||
			len(call.Params) != 2 || string(call.Params[1]) != "false" {
			http.Error(w, "unexpected request: "+string(body), http.StatusBadRequest)
			return
		}
		var result string
		switch tag := strings.Trim(string(call.Params[0]), `"`); tag {
		case "latest":
			result = arbitrumBlock(tip)
		case fmt.Sprintf("0x%x", tip-1):
			result = arbitrumBlock(tip - 1)
		case fmt.Sprintf("0x%x", tip-2):
			// A misbehaving node answering with another block.
			result = arbitrumBlock(tip - 3)
		case fmt.Sprintf("0x%x", tip-4):
			// A block without its hash.
			result = strings.Replace(arbitrumBlock(tip-4), `"hash"`, `"notHash"`, 1)
		case fmt.Sprintf("0x%x", tip-5):
			// A plain (non-Arbitrum) header: no l1BlockNumber.
			result = strings.Replace(arbitrumBlock(tip-5), `"l1BlockNumber": "0x1345a2c",`, "", 1)
		default:
			result = "null"
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":%s}`, call.ID, result)
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rpc.DialContext(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The node's own reader and the bare one decode the same header.
	node := chain.NewNode(c, chain.NodeOptions{})
	for name, r := range map[string]chain.HeadReader{"rpc reader": chain.NewRPCHeadReader(c), "node": node} {
		hashOf := func(n uint64) common.Hash { return common.BigToHash(new(big.Int).SetUint64(0xb10c000 + n)) }
		latest, err := r.LatestHead(ctx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := chain.Head{Number: tip, Hash: hashOf(tip), ParentHash: hashOf(tip - 1), L1Number: 0x1345a2c,
			Time: 0x6745d2a1, BaseFee: big.NewInt(0x989680), GasLimit: 0x4000000000000}
		if !sameHead(latest, want) {
			t.Errorf("%s: latest = %+v, want %+v", name, latest, want)
		}
		byNumber, err := r.HeadByNumber(ctx, tip-1)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if byNumber.Number != tip-1 || byNumber.Hash != latest.ParentHash || byNumber.L1Number != 0x1345a2c {
			t.Errorf("%s: head %d = %+v", name, tip-1, byNumber)
		}
		plain, err := r.HeadByNumber(ctx, tip-5)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if plain.L1Number != plain.Number {
			t.Errorf("%s: without l1BlockNumber, L1Number = %d, want the block number %d", name, plain.L1Number, plain.Number)
		}
		if _, err := r.HeadByNumber(ctx, tip+1); !errors.Is(err, chain.ErrHeadNotFound) {
			t.Errorf("%s: null block: err = %v, want ErrHeadNotFound", name, err)
		}
		if _, err := r.HeadByNumber(ctx, tip-2); err == nil || errors.Is(err, chain.ErrHeadNotFound) {
			t.Errorf("%s: wrong block number in the answer: err = %v, want a mismatch error", name, err)
		}
		if _, err := r.HeadByNumber(ctx, tip-4); err == nil {
			t.Errorf("%s: a block without hash was accepted", name)
		}
	}
}
