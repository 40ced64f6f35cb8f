package nodeproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/ethereum/go-ethereum/common/hexutil"
)

// rpcCall is one JSON-RPC call of a request.
type rpcCall struct {
	method string
	// id is the call's compacted id, the key its answer is found by; empty
	// for a notification.
	id  string
	raw json.RawMessage
}

// rpcRequest is a JSON-RPC request body: one call, or a batch of them.
type rpcRequest struct {
	batch bool
	calls []rpcCall
}

// invalidMethod counts batch elements that are no JSON-RPC call at all;
// the node answers them with an error, and they cost a call all the same.
const invalidMethod = "(invalid)"

// parseRPC reads body as a JSON-RPC request. ok is false for anything
// else, which the proxy passes through untouched and uncounted as calls.
func parseRPC(body []byte) (req rpcRequest, ok bool) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return rpcRequest{}, false
	}
	switch trimmed[0] {
	case '{':
		c, ok := parseCall(trimmed)
		if !ok {
			return rpcRequest{}, false
		}
		return rpcRequest{calls: []rpcCall{c}}, true
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(trimmed, &elems); err != nil {
			return rpcRequest{}, false
		}
		req := rpcRequest{batch: true, calls: make([]rpcCall, 0, len(elems))}
		for _, e := range elems {
			c, ok := parseCall(e)
			if !ok {
				c = rpcCall{method: invalidMethod, raw: e}
			}
			req.calls = append(req.calls, c)
		}
		return req, true
	}
	return rpcRequest{}, false
}

func parseCall(raw json.RawMessage) (rpcCall, bool) {
	var c struct {
		Method *string          `json:"method"`
		ID     *json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || c.Method == nil {
		return rpcCall{}, false
	}
	call := rpcCall{method: *c.Method, raw: raw}
	if c.ID != nil {
		call.id = idKey(*c.ID)
	}
	return call, true
}

// idKey is an id in a form that matches however the node spaces it.
func idKey(id json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, id); err != nil {
		return string(id)
	}
	return b.String()
}

// rawID is the id to answer a call with; null where the call had none.
func (c rpcCall) rawID() json.RawMessage {
	if c.id == "" {
		return json.RawMessage("null")
	}
	return json.RawMessage(c.id)
}

// errorObject is a JSON-RPC error answer.
func errorObject(id json.RawMessage, code int, message string) []byte {
	b, err := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}{JSONRPC: "2.0", ID: id, Error: struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, message}})
	if err != nil {
		// Only an id that is not JSON gets here, and ids come from parsed
		// requests.
		return fmt.Appendf(nil, `{"jsonrpc":"2.0","id":null,"error":{"code":%d,"message":%q}}`, code, message)
	}
	return b
}

// joinArray is a JSON array of elems.
func joinArray(elems [][]byte) []byte {
	return append(append([]byte{'['}, bytes.Join(elems, []byte{','})...), ']')
}

// arrayElements splits a JSON array into its elements, byte for byte.
func arrayElements(b []byte) ([][]byte, bool) {
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil || raws == nil {
		return nil, false
	}
	out := make([][]byte, len(raws))
	for i, r := range raws {
		out[i] = r
	}
	return out, true
}

// mapArray replaces each element of the JSON array b with fn's result,
// keeping every byte between elements, so that a rewrite leaves no trace
// beyond what fn changes.
func mapArray(b []byte, fn func([]byte) []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, false
	}
	var out bytes.Buffer
	last := 0
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		end := int(dec.InputOffset())
		start := end - len(raw)
		out.Write(b[last:start])
		out.Write(fn(raw))
		last = end
	}
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	out.Write(b[last:])
	return out.Bytes(), true
}

// mapMember replaces the value of member key of the JSON object obj with
// fn's result, keeping every other byte.
func mapMember(obj []byte, key string, fn func([]byte) []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		if name != key {
			continue
		}
		end := int(dec.InputOffset())
		start := end - len(raw)
		return slices.Concat(obj[:start], fn(raw), obj[end:]), true
	}
	return obj, true
}

// isBlockMethod reports whether m answers with a block object, which
// Arbitrum's nodes extend with the L1 block number.
func isBlockMethod(m string) bool {
	return m == "eth_getBlockByNumber" || m == "eth_getBlockByHash"
}

// withL1Number adds l1BlockNumber to a block object, at its end. A null
// result, anything without a number and a block that already has the
// field are left as they are.
func withL1Number(block []byte, l1 func(uint64) uint64) []byte {
	trimmed := bytes.TrimSpace(block)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return block
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(block, &fields); err != nil {
		return block
	}
	if _, has := fields["l1BlockNumber"]; has {
		return block
	}
	var num hexutil.Uint64
	if raw, ok := fields["number"]; !ok || json.Unmarshal(raw, &num) != nil {
		return block
	}
	open, end := bytes.IndexByte(block, '{'), bytes.LastIndexByte(block, '}')
	field := `"l1BlockNumber":"` + hexutil.EncodeUint64(l1(uint64(num))) + `"`
	if len(bytes.TrimSpace(block[open+1:end])) > 0 {
		field = "," + field
	}
	return slices.Concat(block[:end], []byte(field), block[end:])
}

// addL1Numbers rewrites the block results in the answer body to req.
func addL1Numbers(body []byte, req rpcRequest, l1 func(uint64) uint64) []byte {
	inResult := func(obj []byte) []byte {
		out, ok := mapMember(obj, "result", func(v []byte) []byte { return withL1Number(v, l1) })
		if !ok {
			return obj
		}
		return out
	}
	if !req.batch {
		if len(req.calls) != 1 || !isBlockMethod(req.calls[0].method) {
			return body
		}
		return inResult(body)
	}
	// The answers of a batch come in any order, matched by id. An id that
	// two calls share cannot say which one an answer belongs to; it gets
	// no field unless both calls fetch blocks.
	blockIDs := map[string]bool{}
	for _, c := range req.calls {
		if c.id == "" {
			continue
		}
		isBlock := isBlockMethod(c.method)
		if prev, seen := blockIDs[c.id]; seen {
			isBlock = isBlock && prev
		}
		blockIDs[c.id] = isBlock
	}
	out, ok := mapArray(body, func(elem []byte) []byte {
		var a struct {
			ID json.RawMessage `json:"id"`
		}
		if json.Unmarshal(elem, &a) != nil || len(a.ID) == 0 || !blockIDs[idKey(a.ID)] {
			return elem
		}
		return inResult(elem)
	})
	if !ok {
		return body
	}
	return out
}
