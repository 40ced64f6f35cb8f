package chain

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// Class sorts a node call's failure by whose it is, which decides what a
// caller may do with it: a revert is the chain's answer about the call (the
// ticket's, the sender's), everything else is the node's and says nothing
// about the call.
type Class int

// The failure classes.
const (
	// ClassNone: no error.
	ClassNone Class = iota
	// ClassRevert: the EVM reverted the call; Revert has its data.
	ClassRevert
	// ClassRateLimited: the node refused for our request rate (HTTP 429,
	// or a JSON-RPC rate-limit error).
	ClassRateLimited
	// ClassUnavailable: no usable answer (timeout, connection, 5xx, a node
	// that lacks the state or block asked for).
	ClassUnavailable
	// ClassOther: the node answered with an error that is none of the
	// above (invalid params, method not found, ...).
	ClassOther
)

func (c Class) String() string {
	switch c {
	case ClassNone:
		return "ok"
	case ClassRevert:
		return "revert"
	case ClassRateLimited:
		return "rate_limited"
	case ClassUnavailable:
		return "unavailable"
	default:
		return "other"
	}
}

// revertCode is the JSON-RPC error code geth, Nitro and most providers give
// an eth_call or eth_estimateGas that reverted; the revert data rides in the
// error's data, possibly empty.
const revertCode = 3

// revertPrefix is how nodes word a revert, with or without a reason; some
// providers answer -32000 with only this message.
const revertPrefix = "execution reverted"

// Classify sorts err (nil is ClassNone). The node's answer decides, never
// the presence of a reason string: a revert without data is still the
// chain's refusal, and a timeout is never one.
func Classify(err error) Class {
	if err == nil {
		return ClassNone
	}
	if rateLimited(err) {
		return ClassRateLimited
	}
	var re rpc.Error
	if errors.As(err, &re) {
		if re.ErrorCode() == revertCode || strings.HasPrefix(strings.ToLower(re.Error()), revertPrefix) {
			return ClassRevert
		}
	}
	var he rpc.HTTPError
	if errors.As(err, &he) {
		return ClassUnavailable
	}
	if re == nil && strings.Contains(strings.ToLower(err.Error()), revertPrefix) {
		// The node's answer, flattened into text by a wrapper on the way.
		return ClassRevert
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) {
		return ClassUnavailable
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return ClassUnavailable
	}
	if re != nil {
		if re.ErrorCode() == methodNotFoundCode {
			// geth words it "does not exist/is not available": no retry helps.
			return ClassOther
		}
		msg := strings.ToLower(re.Error())
		for _, s := range unavailableMessages {
			if strings.Contains(msg, s) {
				return ClassUnavailable
			}
		}
		return ClassOther
	}
	// Errors that never reached the node as a JSON-RPC answer: a client
	// that failed to write, a truncated body, a closed client.
	return ClassUnavailable
}

// unavailableMessages are node errors that mean "not from this node, not
// now": a node behind the block asked for, or one that pruned its state.
var unavailableMessages = []string{
	"header not found", "unknown block", "missing trie node", "historical state", "not available",
	"request timed out", "timeout", "internal error", "server error", "bad gateway", "service unavailable",
}

// methodNotFoundCode is JSON-RPC's "method not found".
const methodNotFoundCode = -32601

// rateLimitCodes are JSON-RPC codes providers use for rate limits.
var rateLimitCodes = map[int]bool{-32005: true, -32029: true, 429: true}

func rateLimited(err error) bool {
	var he rpc.HTTPError
	if errors.As(err, &he) && he.StatusCode == 429 {
		return true
	}
	var re rpc.Error
	if errors.As(err, &re) {
		if rateLimitCodes[re.ErrorCode()] {
			return true
		}
		return rateLimitMessage(re.Error())
	}
	return false
}

// rateLimitMessage recognises a provider's rate-limit wording.
func rateLimitMessage(msg string) bool {
	msg = strings.ToLower(msg)
	for _, s := range []string{"rate limit", "limit exceeded", "too many requests", "exceeded the quota", "request rate"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// Revert is a reverted call's answer.
type Revert struct {
	// Data is the revert payload (Error(string), Panic(uint256), a custom
	// error, or empty).
	Data []byte
	// Reason is the payload in words: the Error(string) text, a panic's
	// description, "custom error 0x…", or "" for an empty payload.
	Reason string
}

func (r *Revert) Error() string {
	if r.Reason == "" {
		return "execution reverted without a reason"
	}
	return "execution reverted: " + r.Reason
}

// AsRevert returns the revert in err, or nil when err is not a revert.
func AsRevert(err error) *Revert {
	if Classify(err) != ClassRevert {
		return nil
	}
	r := &Revert{}
	var de rpc.DataError
	if errors.As(err, &de) {
		r.Data = revertData(de.ErrorData())
	}
	r.Reason = DecodeRevert(r.Data)
	if r.Reason == "" && len(r.Data) == 0 {
		// A node that sends no data but words the reason in its message
		// (or a wrapper that flattened the answer into text); the reason is
		// the innermost part, after the last prefix.
		msg := err.Error()
		if i := strings.LastIndex(strings.ToLower(msg), revertPrefix+": "); i >= 0 {
			r.Reason = msg[i+len(revertPrefix)+2:]
		}
	}
	return r
}

// panicReasons name Solidity's panic codes.
var panicReasons = map[uint64]string{
	0x01: "assertion failed",
	0x11: "arithmetic underflow or overflow",
	0x12: "division or modulo by zero",
	0x21: "enum conversion out of range",
	0x22: "invalid storage byte array",
	0x31: "pop on empty array",
	0x32: "array index out of bounds",
	0x41: "out of memory",
	0x51: "call to an uninitialized function",
}

// DecodeRevert puts a revert payload in words: the Error(string) reason, a
// Panic(uint256)'s description, or the custom error's selector.
func DecodeRevert(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	// Panics first: abi.UnpackRevert decodes them too, in its own words.
	if len(data) == 36 && hexutil.Encode(data[:4]) == "0x4e487b71" {
		code := new(big.Int).SetBytes(data[4:])
		if code.IsUint64() {
			if why, ok := panicReasons[code.Uint64()]; ok {
				return fmt.Sprintf("panic 0x%x (%s)", code.Uint64(), why)
			}
		}
		return "panic 0x" + code.Text(16)
	}
	if reason, err := abi.UnpackRevert(data); err == nil {
		return reason
	}
	if len(data) >= 4 {
		return fmt.Sprintf("custom error 0x%08x", binary.BigEndian.Uint32(data[:4]))
	}
	return "malformed revert data " + hexutil.Encode(data)
}

// RevertReason is AsRevert(err).Reason, or "" when err is not a revert.
func RevertReason(err error) string {
	if r := AsRevert(err); r != nil {
		return r.Reason
	}
	return ""
}

// revertData normalises the error data: JSON-RPC delivers a hex string,
// in-memory errors may carry bytes.
func revertData(d any) []byte {
	switch v := d.(type) {
	case string:
		b, err := hexutil.Decode(v)
		if err != nil {
			return nil
		}
		return b
	case hexutil.Bytes:
		return v
	case []byte:
		return v
	default:
		return nil
	}
}
