package nodeproxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/rpc"

	"redeemer/chain/nodeproxy"
)

// startNode runs go-ethereum's simulated backend serving HTTP JSON-RPC on a
// loopback port. The simulated package cannot report a port it picked, so
// a free one is chosen here, and chosen again if another process takes it
// first.
func startNode(t *testing.T) (*simulated.Backend, string) {
	t.Helper()
	var lastErr error
	for range 5 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		b, err := newBackend(port)
		if err == nil {
			t.Cleanup(func() { b.Close() })
			return b, "http://127.0.0.1:" + strconv.Itoa(port)
		}
		lastErr = err
	}
	t.Fatalf("start simulated node: %v", lastErr)
	return nil, ""
}

// newBackend turns simulated.NewBackend's panic on a taken port into an
// error.
func newBackend(port int) (b *simulated.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("simulated backend: %v", r)
		}
	}()
	return simulated.NewBackend(types.GenesisAlloc{}, func(nc *node.Config, _ *ethconfig.Config) {
		nc.HTTPHost = "127.0.0.1"
		nc.HTTPPort = port
		nc.HTTPModules = []string{"eth", "net", "web3"}
		nc.HTTPVirtualHosts = []string{"localhost"}
	}), nil
}

// startProxy serves p on a loopback port until the test ends.
func startProxy(t *testing.T, p *nodeproxy.Proxy) string {
	t.Helper()
	url, err := p.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return url
}

func dialRPC(t *testing.T, url string) *rpc.Client {
	t.Helper()
	c, err := rpc.DialHTTP(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// fakeNode is a JSON-RPC handler that answers every call at once and
// counts the calls and batches it saw, so tests can tell what reached the
// node from what the proxy answered itself.
type fakeNode struct {
	mu      sync.Mutex
	calls   int
	batches []int // size of each batch received
	paths   []string
}

type fakeCall struct {
	ID     json.RawMessage   `json:"id"`
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params"`
}

func (f *fakeNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.paths = append(f.paths, r.Method+" "+r.URL.RequestURI())
	f.mu.Unlock()
	if r.Method != http.MethodPost {
		w.Header().Set("X-Fake", "passed")
		fmt.Fprintf(w, "not json-rpc: %s", r.URL.RequestURI())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var calls []fakeCall
		if err := json.Unmarshal(trimmed, &calls); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.calls += len(calls)
		f.batches = append(f.batches, len(calls))
		f.mu.Unlock()
		parts := make([]string, len(calls))
		for i, c := range calls {
			parts[i] = answer(c)
		}
		// Spaces and newlines between elements, as some nodes send them,
		// so that rewrites are seen to keep them.
		fmt.Fprintf(w, "[\n  %s\n]\n", strings.Join(parts, ",\n  "))
		return
	}
	var c fakeCall
	if err := json.Unmarshal(trimmed, &c); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	fmt.Fprintln(w, answer(c))
}

func (f *fakeNode) seen() (calls int, batches []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, append([]int(nil), f.batches...)
}

func (f *fakeNode) seenPaths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.paths...)
}

// fakeBlock is a block object laid out the way no encoder would, so a
// rewrite that re-encodes it shows.
func fakeBlock(n uint64, extra string) string {
	return fmt.Sprintf(`{ "hash" : "0x%064x",  "number":"0x%x", "parentHash": "0x%064x",
	 "timestamp":"0x6745d2a1"%s }`, 0xb10c000+n, n, 0xb10c000+n-1, extra)
}

func answer(c fakeCall) string {
	result := `"0x2a"`
	switch c.Method {
	case "eth_getBlockByNumber", "eth_getBlockByHash":
		var tag string
		if len(c.Params) > 0 {
			json.Unmarshal(c.Params[0], &tag)
		}
		switch tag {
		case "0x5", "latest":
			result = fakeBlock(5, "")
		case "0x6":
			result = fakeBlock(6, `, "l1BlockNumber": "0x99"`)
		case "0x7":
			result = "null"
		default:
			result = fakeBlock(1, "")
		}
	case "test_fail":
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"error":{"code":-32601,"message":"no such method"}}`, c.ID)
	}
	id := c.ID
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":%s}`, id, result)
}

// post sends body to url and returns the status, headers and body, or the
// transport error.
func post(ctx context.Context, c *http.Client, url, body string) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader([]byte(body)))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b, err
}

func mustPost(t *testing.T, url, body string) (int, http.Header, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	status, h, b, err := post(ctx, http.DefaultClient, url, body)
	if err != nil {
		t.Fatalf("POST %s: %v", body, err)
	}
	return status, h, b
}

func call(method string, id int, params ...string) string {
	ps := "[]"
	if len(params) > 0 {
		ps = "[" + strings.Join(params, ",") + "]"
	}
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, id, method, ps)
}

func batch(calls ...string) string { return "[" + strings.Join(calls, ",") + "]" }

type rpcAnswer struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func decodeBatch(t *testing.T, b []byte) []rpcAnswer {
	t.Helper()
	var out []rpcAnswer
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode batch answer %s: %v", b, err)
	}
	return out
}
