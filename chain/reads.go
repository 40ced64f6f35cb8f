package chain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
)

// readsABI holds the protocol views the service reads, by their deployed
// signatures (PROTOCOL.md), so batched reads do not depend on the dev
// contracts' bindings.
var readsABI = func() abi.ABI {
	u := func(name string) string { return `{"name":"` + name + `","type":"uint256"}` }
	a, err := abi.JSON(strings.NewReader(`[
		{"name":"getSenderInfo","type":"function","stateMutability":"view",
		 "inputs":[{"name":"sender","type":"address"}],
		 "outputs":[{"name":"sender","type":"tuple","components":[` + u("deposit") + `,` + u("withdrawRound") + `]},
		            {"name":"reserve","type":"tuple","components":[` + u("fundsRemaining") + `,` + u("claimedInCurrentRound") + `]}]},
		{"name":"claimedReserve","type":"function","stateMutability":"view",
		 "inputs":[{"name":"reserveHolder","type":"address"},{"name":"claimant","type":"address"}],"outputs":[` + u("") + `]},
		{"name":"claimableReserve","type":"function","stateMutability":"view",
		 "inputs":[{"name":"reserveHolder","type":"address"},{"name":"claimant","type":"address"}],"outputs":[` + u("") + `]},
		{"name":"usedTickets","type":"function","stateMutability":"view",
		 "inputs":[{"name":"hash","type":"bytes32"}],"outputs":[{"name":"","type":"bool"}]},
		{"name":"ticketValidityPeriod","type":"function","stateMutability":"view","inputs":[],"outputs":[` + u("") + `]},
		{"name":"currentRound","type":"function","stateMutability":"view","inputs":[],"outputs":[` + u("") + `]},
		{"name":"lastInitializedRound","type":"function","stateMutability":"view","inputs":[],"outputs":[` + u("") + `]},
		{"name":"roundLength","type":"function","stateMutability":"view","inputs":[],"outputs":[` + u("") + `]},
		{"name":"currentRoundStartBlock","type":"function","stateMutability":"view","inputs":[],"outputs":[` + u("") + `]},
		{"name":"blockHashForRound","type":"function","stateMutability":"view",
		 "inputs":[{"name":"round","type":"uint256"}],"outputs":[{"name":"","type":"bytes32"}]},
		{"name":"getTranscoderPoolSize","type":"function","stateMutability":"view","inputs":[],"outputs":[` + u("") + `]},
		{"name":"isActiveTranscoder","type":"function","stateMutability":"view",
		 "inputs":[{"name":"transcoder","type":"address"}],"outputs":[{"name":"","type":"bool"}]}
	]`))
	if err != nil {
		panic(fmt.Sprintf("chain: protocol reads ABI: %v", err)) // a constant that parses, or a build-time bug
	}
	return a
}()

func packRead(to common.Address, method string, args ...any) Call {
	data, err := readsABI.Pack(method, args...)
	if err != nil {
		// Only wrong Go types reach here: a programming error.
		panic(fmt.Sprintf("chain: pack %s: %v", method, err))
	}
	return Call{To: to, Data: data}
}

func unpackUint(method string, r CallResult) (*big.Int, error) {
	if r.Err != nil {
		return nil, fmt.Errorf("%s: %w", method, r.Err)
	}
	vals, err := readsABI.Unpack(method, r.Data)
	if err != nil || len(vals) != 1 {
		return nil, fmt.Errorf("%s: unpack: %v", method, err)
	}
	v, ok := vals[0].(*big.Int)
	if !ok {
		return nil, fmt.Errorf("%s: %T is not a uint256", method, vals[0])
	}
	return v, nil
}

func unpackBool(method string, r CallResult) (bool, error) {
	if r.Err != nil {
		return false, fmt.Errorf("%s: %w", method, r.Err)
	}
	vals, err := readsABI.Unpack(method, r.Data)
	if err != nil || len(vals) != 1 {
		return false, fmt.Errorf("%s: unpack: %v", method, err)
	}
	v, ok := vals[0].(bool)
	if !ok {
		return false, fmt.Errorf("%s: %T is not a bool", method, vals[0])
	}
	return v, nil
}

// ProtocolReading is the protocol state every sender's float and every
// redemption depend on, read at one block.
type ProtocolReading struct {
	PoolSize             *big.Int
	RecipientActive      bool
	CurrentRound         *big.Int
	LastInitializedRound *big.Int
	TicketValidityPeriod *big.Int
	RoundLength          *big.Int
	// RoundStartL1 is nil on a RoundsManager without
	// currentRoundStartBlock.
	RoundStartL1 *big.Int
}

// ReadProtocol reads the protocol state at block (nil: latest) in one
// request.
func (n *Node) ReadProtocol(ctx context.Context, a Addresses, block *big.Int, recipient common.Address) (ProtocolReading, error) {
	calls := []Call{
		packRead(a.BondingManager, "getTranscoderPoolSize"),
		packRead(a.BondingManager, "isActiveTranscoder", recipient),
		packRead(a.RoundsManager, "currentRound"),
		packRead(a.RoundsManager, "lastInitializedRound"),
		packRead(a.TicketBroker, "ticketValidityPeriod"),
		packRead(a.RoundsManager, "roundLength"),
		packRead(a.RoundsManager, "currentRoundStartBlock"),
	}
	res, err := n.CallMany(ctx, block, calls)
	if err != nil {
		return ProtocolReading{}, fmt.Errorf("chain: protocol state: %w", err)
	}
	var p ProtocolReading
	var errs [6]error
	p.PoolSize, errs[0] = unpackUint("getTranscoderPoolSize", res[0])
	p.RecipientActive, errs[1] = unpackBool("isActiveTranscoder", res[1])
	p.CurrentRound, errs[2] = unpackUint("currentRound", res[2])
	p.LastInitializedRound, errs[3] = unpackUint("lastInitializedRound", res[3])
	p.TicketValidityPeriod, errs[4] = unpackUint("ticketValidityPeriod", res[4])
	p.RoundLength, errs[5] = unpackUint("roundLength", res[5])
	if err := errors.Join(errs[:]...); err != nil {
		return ProtocolReading{}, fmt.Errorf("chain: protocol state: %w", err)
	}
	// Optional: round starts are then predicted from currentRound alone.
	if v, err := unpackUint("currentRoundStartBlock", res[6]); err == nil {
		p.RoundStartL1 = v
	}
	return p, nil
}

// SenderReading is one sender's TicketBroker state at a block, with the
// reserve the recipient claimed from it in the current round.
type SenderReading struct {
	Sender             common.Address
	Info               SenderInfo
	ClaimedByRecipient *big.Int
	// Err is this sender's read failure; the other readings stand.
	Err error
}

// ReadSenders reads senders' state at block (nil: latest), two reads per
// sender, in as few requests as MaxBatch allows. A sender whose reads fail
// has Err set; the others are unaffected.
func (n *Node) ReadSenders(ctx context.Context, a Addresses, block *big.Int, recipient common.Address,
	senders []common.Address) ([]SenderReading, error) {
	calls := make([]Call, 0, 2*len(senders))
	for _, s := range senders {
		calls = append(calls, packRead(a.TicketBroker, "getSenderInfo", s),
			packRead(a.TicketBroker, "claimedReserve", s, recipient))
	}
	res, err := n.CallMany(ctx, block, calls)
	if err != nil {
		return nil, fmt.Errorf("chain: sender state: %w", err)
	}
	out := make([]SenderReading, len(senders))
	for i, s := range senders {
		out[i] = SenderReading{Sender: s}
		info, err := unpackSenderInfo(res[2*i])
		if err != nil {
			out[i].Err = fmt.Errorf("getSenderInfo(%s): %w", s, err)
			continue
		}
		claimed, err := unpackUint("claimedReserve", res[2*i+1])
		if err != nil {
			out[i].Err = fmt.Errorf("claimedReserve(%s): %w", s, err)
			continue
		}
		out[i].Info, out[i].ClaimedByRecipient = info, claimed
	}
	return out, nil
}

func unpackSenderInfo(r CallResult) (SenderInfo, error) {
	if r.Err != nil {
		return SenderInfo{}, r.Err
	}
	vals, err := readsABI.Unpack("getSenderInfo", r.Data)
	if err != nil || len(vals) != 2 {
		return SenderInfo{}, fmt.Errorf("unpack: %v", err)
	}
	type (
		sender struct {
			Deposit       *big.Int
			WithdrawRound *big.Int
		}
		reserve struct {
			FundsRemaining        *big.Int
			ClaimedInCurrentRound *big.Int
		}
	)
	s := abi.ConvertType(vals[0], new(sender)).(*sender)
	rs := abi.ConvertType(vals[1], new(reserve)).(*reserve)
	return SenderInfo{Deposit: s.Deposit, WithdrawRound: s.WithdrawRound,
		FundsRemaining: rs.FundsRemaining, ClaimedInCurrentRound: rs.ClaimedInCurrentRound}, nil
}

// ReadRoundHash reads blockHashForRound(round) at the latest block; the zero
// hash means the round was never initialized.
func (n *Node) ReadRoundHash(ctx context.Context, a Addresses, round int64) (common.Hash, error) {
	res, err := n.CallMany(ctx, nil, []Call{packRead(a.RoundsManager, "blockHashForRound", big.NewInt(round))})
	if err != nil {
		return common.Hash{}, err
	}
	if res[0].Err != nil {
		return common.Hash{}, fmt.Errorf("chain: blockHashForRound(%d): %w", round, res[0].Err)
	}
	vals, err := readsABI.Unpack("blockHashForRound", res[0].Data)
	if err != nil || len(vals) != 1 {
		return common.Hash{}, fmt.Errorf("chain: blockHashForRound(%d): unpack: %v", round, err)
	}
	h, ok := vals[0].([32]byte)
	if !ok {
		return common.Hash{}, fmt.Errorf("chain: blockHashForRound(%d): %T is not bytes32", round, vals[0])
	}
	return h, nil
}

// ReadUsed reads usedTickets for each hash at the latest block; a failed
// read leaves its entry's error set.
func (n *Node) ReadUsed(ctx context.Context, broker common.Address, hashes []common.Hash) ([]bool, []error, error) {
	calls := make([]Call, len(hashes))
	for i, h := range hashes {
		calls[i] = packRead(broker, "usedTickets", h)
	}
	res, err := n.CallMany(ctx, nil, calls)
	if err != nil {
		return nil, nil, err
	}
	used, errs := make([]bool, len(hashes)), make([]error, len(hashes))
	for i := range res {
		used[i], errs[i] = unpackBool("usedTickets", res[i])
	}
	return used, errs, nil
}
