package chain_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"redeemer/chain"
	"redeemer/chain/contracts"
	"redeemer/chain/devchain"
)

// redeemTx is a signed redemption as the worker would build it: calldata,
// pending nonce, suggested fees, estimated gas and headroom.
type redeemTx struct {
	tx     *types.Transaction
	raw    []byte
	params chain.TxParams
}

func (e *env) txSigner() *chain.TxSigner {
	return chain.NewTxSigner(e.c.Redeemer().Key, e.c.ChainID())
}

func (e *env) signRedeem(s *chain.TxSigner, tickets []chain.SignedTicket) redeemTx {
	e.t.Helper()
	data, err := chain.RedeemCalldata(tickets)
	if err != nil {
		e.t.Fatalf("RedeemCalldata: %v", err)
	}
	client := e.c.Client()
	nonce, err := client.PendingNonceAt(e.ctx, s.Address())
	if err != nil {
		e.t.Fatal(err)
	}
	tip, feeCap, err := chain.SuggestFees(e.ctx, client, nil)
	if err != nil {
		e.t.Fatalf("SuggestFees: %v", err)
	}
	broker := e.p.Addresses().TicketBroker
	gas, err := client.EstimateGas(e.ctx, ethereum.CallMsg{
		From: s.Address(), To: &broker, Data: data, GasTipCap: tip, GasFeeCap: feeCap,
	})
	if err != nil {
		e.t.Fatalf("EstimateGas: %v (reason %q)", err, chain.RevertReason(err))
	}
	// Headroom as the worker gives it: at the bare estimate a batch may
	// leave its last ticket too little gas, and it skips that ticket as it
	// skips any that fails.
	p := chain.TxParams{Nonce: nonce, To: broker, Data: data, GasLimit: gas + gas/4, TipCap: tip, FeeCap: feeCap}
	tx, raw, err := s.Sign(p)
	if err != nil {
		e.t.Fatalf("Sign: %v", err)
	}
	return redeemTx{tx: tx, raw: raw, params: p}
}

// sendRaw re-broadcasts persisted bytes the way the worker does after a
// restart.
func (e *env) sendRaw(raw []byte) error {
	e.t.Helper()
	tx, err := chain.DecodeRawTx(raw)
	if err != nil {
		e.t.Fatalf("DecodeRawTx: %v", err)
	}
	return e.c.Client().SendTransaction(e.ctx, tx)
}

func (e *env) receipt(h common.Hash) *types.Receipt {
	e.t.Helper()
	r, err := e.c.Client().TransactionReceipt(e.ctx, h)
	if err != nil {
		e.t.Fatalf("receipt %s: %v", h, err)
	}
	return r
}

func (e *env) signedTicket(sender devchain.Account, face *big.Int) chain.SignedTicket {
	e.t.Helper()
	tk, sig, rnd := e.ticket(sender, face)
	return chain.SignedTicket{Ticket: *tk, Sig: sig, RecipientRand: rnd}
}

func wantHashes(t *testing.T, got map[common.Hash]bool, want ...common.Hash) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("redeemed hashes %v, want %v", got, want)
	}
	for _, h := range want {
		if !got[h] {
			t.Fatalf("redeemed hashes %v lack %s", got, h)
		}
	}
}

func TestRedeemSingleTicketWithSignedTx(t *testing.T) {
	e := newEnv(t, devchain.Options{})
	st := e.signedTicket(e.c.Senders()[0], eth(1))
	s := e.txSigner()
	if s.Address() != e.c.Redeemer().Address {
		t.Fatalf("signer address %s, want redeemer %s", s.Address(), e.c.Redeemer().Address)
	}

	rt := e.signRedeem(s, []chain.SignedTicket{st})
	if got := hex.EncodeToString(rt.params.Data[:4]); got != "ec8b3cb6" {
		t.Fatalf("single-ticket selector %s, want redeemWinningTicket ec8b3cb6", got)
	}
	if err := e.sendRaw(rt.raw); err != nil {
		t.Fatalf("send: %v (outcome %v)", err, chain.ClassifySendError(err))
	}
	e.c.Commit()
	r := e.receipt(rt.tx.Hash())
	if r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("receipt status %d", r.Status)
	}
	broker := e.p.Addresses().TicketBroker
	got, err := chain.RedeemedTicketHashes(broker, r.Logs)
	if err != nil {
		t.Fatalf("RedeemedTicketHashes: %v", err)
	}
	wantHashes(t, got, st.Hash())
	if !e.used(&st.Ticket) {
		t.Fatal("usedTickets false after redemption")
	}

	// The same logs attributed to another contract prove nothing.
	other, err := chain.RedeemedTicketHashes(common.Address{1}, r.Logs)
	if err != nil || len(other) != 0 {
		t.Fatalf("logs under another address: %v, %v", other, err)
	}
}

func TestRedeemBatchSkipsInvalidTicket(t *testing.T) {
	e := newEnv(t, devchain.Options{})
	senders := e.c.Senders()
	tickets := []chain.SignedTicket{
		e.signedTicket(senders[0], eth(1)),
		e.signedTicket(senders[1], eth(1)),
		e.signedTicket(senders[0], eth(1)),
	}
	// A recipientRand that does not match the committed hash: the broker
	// skips this ticket and redeems the others.
	bad := &tickets[1]
	bad.RecipientRand = new(big.Int).Add(bad.RecipientRand, big.NewInt(1))

	rt := e.signRedeem(e.txSigner(), tickets)
	if got := hex.EncodeToString(rt.params.Data[:4]); got != "d01b808e" {
		t.Fatalf("batch selector %s, want batchRedeemWinningTickets d01b808e", got)
	}
	if err := e.sendRaw(rt.raw); err != nil {
		t.Fatalf("send: %v", err)
	}
	e.c.Commit()
	r := e.receipt(rt.tx.Hash())
	if r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("receipt status %d", r.Status)
	}
	got, err := chain.RedeemedTicketHashes(e.p.Addresses().TicketBroker, r.Logs)
	if err != nil {
		t.Fatalf("RedeemedTicketHashes: %v", err)
	}
	wantHashes(t, got, tickets[0].Hash(), tickets[2].Hash())
	for i, st := range tickets {
		if want := i != 1; e.used(&st.Ticket) != want {
			t.Fatalf("ticket %d used = %v, want %v", i, !want, want)
		}
	}
}

func TestRevertReasonForUsedTicket(t *testing.T) {
	e := newEnv(t, devchain.Options{})
	st := e.signedTicket(e.c.Senders()[0], eth(1))
	if _, err := e.redeem(&st.Ticket, st.Sig, st.RecipientRand); err != nil {
		t.Fatalf("first redemption: %v", err)
	}

	data, err := chain.RedeemCalldata([]chain.SignedTicket{st})
	if err != nil {
		t.Fatal(err)
	}
	broker := e.p.Addresses().TicketBroker
	msg := ethereum.CallMsg{From: e.c.Redeemer().Address, To: &broker, Data: data}

	_, err = e.c.Client().EstimateGas(e.ctx, msg)
	if err == nil {
		t.Fatal("EstimateGas of a used ticket succeeded")
	}
	// The simulated backend is an ethclient over in-process JSON-RPC, so
	// its error has the shape a remote node's has: a DataError whose data
	// is the hex revert payload.
	var de rpc.DataError
	if !errors.As(err, &de) {
		t.Fatalf("EstimateGas error %T is not an rpc.DataError", err)
	}
	if data, ok := de.ErrorData().(string); !ok || !strings.HasPrefix(data, "0x08c379a0") {
		t.Fatalf("EstimateGas error data %T %v, want hex Error(string)", de.ErrorData(), de.ErrorData())
	}
	if got := chain.RevertReason(err); got != "ticket is used" {
		t.Fatalf("RevertReason(EstimateGas) = %q, want %q", got, "ticket is used")
	}
	// Wrapping, as callers do, must not hide the reason.
	if got := chain.RevertReason(fmt.Errorf("estimate redemption: %w", err)); got != "ticket is used" {
		t.Fatalf("RevertReason(wrapped) = %q", got)
	}

	_, err = e.c.Client().CallContract(e.ctx, msg, nil)
	if err == nil {
		t.Fatal("CallContract of a used ticket succeeded")
	}
	if got := chain.RevertReason(err); got != "ticket is used" {
		t.Fatalf("RevertReason(CallContract) = %q, want %q", got, "ticket is used")
	}
}

func TestRevertReasonWithoutRevert(t *testing.T) {
	for _, err := range []error{nil, errors.New("connection refused"), errors.New("nonce too low"),
		fmt.Errorf("estimate: %w", context.DeadlineExceeded)} {
		if got := chain.RevertReason(err); got != "" {
			t.Errorf("RevertReason(%v) = %q, want empty", err, got)
		}
		if r := chain.AsRevert(err); r != nil {
			t.Errorf("AsRevert(%v) = %+v, want nil: not a revert", err, r)
		}
	}
	// A node that sends no data still names the reason in its message.
	if got := chain.RevertReason(errors.New("execution reverted: ticket is expired")); got != "ticket is expired" {
		t.Errorf("RevertReason(message only) = %q", got)
	}
	// A revert without data and without words is still the chain's refusal:
	// it has no reason, but it is a revert.
	for _, err := range []error{
		rpcError{code: -32000, msg: "execution reverted"},
		rpcError{code: 3, msg: "execution reverted", data: "0x"},
		fmt.Errorf("call: %w", rpcError{code: 3, msg: "execution reverted"}),
	} {
		r := chain.AsRevert(err)
		if r == nil {
			t.Errorf("AsRevert(%v) = nil, want a revert without a reason", err)
			continue
		}
		if r.Reason != "" || len(r.Data) != 0 || chain.Classify(err) != chain.ClassRevert {
			t.Errorf("AsRevert(%v) = %+v (class %s), want an empty revert", err, r, chain.Classify(err))
		}
		if r.Error() != "execution reverted without a reason" {
			t.Errorf("empty revert reads %q", r.Error())
		}
	}
}

// dataError is an rpc.DataError as a node returns it.
type dataError struct {
	msg  string
	data any
}

func (e dataError) Error() string  { return e.msg }
func (e dataError) ErrorData() any { return e.data }

// rpcError is a JSON-RPC error answer: code, message and optional data.
type rpcError struct {
	code int
	msg  string
	data any
}

func (e rpcError) Error() string  { return e.msg }
func (e rpcError) ErrorCode() int { return e.code }
func (e rpcError) ErrorData() any { return e.data }

func TestRevertReasonPayloads(t *testing.T) {
	errorString := func(reason string) []byte {
		strTyp, err := abi.NewType("string", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := abi.Arguments{{Type: strTyp}}.Pack(reason)
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte{0x08, 0xc3, 0x79, 0xa0}, enc...)
	}
	panicCode := func(code byte) []byte {
		return append([]byte{0x4e, 0x48, 0x7b, 0x71}, common.LeftPadBytes([]byte{code}, 32)...)
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{dataError{"execution reverted", hexutil.Encode(errorString("boom"))}, "boom"},
		{dataError{"execution reverted", errorString("from bytes")}, "from bytes"},
		{dataError{"execution reverted", hexutil.Bytes(errorString("from hexutil"))}, "from hexutil"},
		{dataError{"execution reverted", hexutil.Encode(panicCode(0x11))}, "panic 0x11 (arithmetic underflow or overflow)"},
		{dataError{"execution reverted", hexutil.Encode(panicCode(0x12))}, "panic 0x12 (division or modulo by zero)"},
		{dataError{"execution reverted", hexutil.Encode(panicCode(0x99))}, "panic 0x99"},
		// A custom error has no string: its selector is all there is, and
		// the data wins over any words in the message.
		{dataError{"execution reverted", "0xdeadbeef"}, "custom error 0xdeadbeef"},
		{dataError{"execution reverted: fallback text", "0xdeadbeef"}, "custom error 0xdeadbeef"},
		{dataError{"execution reverted", "0x0102"}, "malformed revert data 0x0102"},
		{dataError{"execution reverted: no data", nil}, "no data"},
		{rpcError{3, "execution reverted: boom", hexutil.Encode(errorString("boom"))}, "boom"},
		{dataError{"invalid argument", "0x"}, ""},
		{rpcError{-32602, "invalid argument", hexutil.Encode(errorString("not a revert"))}, ""},
	} {
		if got := chain.RevertReason(fmt.Errorf("call: %w", c.err)); got != c.want {
			t.Errorf("RevertReason(%v) = %q, want %q", c.err, got, c.want)
		}
	}
	if got := chain.DecodeRevert(nil); got != "" {
		t.Errorf("DecodeRevert(nil) = %q, want empty", got)
	}
}

func TestRedeemCalldataEmpty(t *testing.T) {
	if _, err := chain.RedeemCalldata(nil); !errors.Is(err, chain.ErrNoTickets) {
		t.Fatalf("RedeemCalldata(nil) error %v, want ErrNoTickets", err)
	}
}

// TestRedeemedTicketHashesLogShapes covers logs the chain would not produce
// from the dev broker: other events, removed logs and malformed ones.
func TestRedeemedTicketHashesLogShapes(t *testing.T) {
	a, err := contracts.TicketBrokerMetaData.GetAbi()
	if err != nil {
		t.Fatal(err)
	}
	ev := a.Events["WinningTicketRedeemed"]
	broker := common.Address{0xb0}
	sender, recipient := common.Address{0x5e}, common.Address{0x4e}
	tk := chain.Ticket{
		Recipient:              recipient,
		Sender:                 sender,
		FaceValue:              big.NewInt(1000),
		WinProb:                new(big.Int).Set(chain.MaxWinProb),
		SenderNonce:            7,
		CreationRound:          3,
		CreationRoundBlockHash: common.Hash{0xcc},
	}
	rnd := big.NewInt(424242)
	tk.RecipientRandHash = chain.RandHash(rnd)
	data, err := ev.Inputs.NonIndexed().Pack(tk.FaceValue, tk.WinProb, big.NewInt(int64(tk.SenderNonce)), rnd, tk.AuxData())
	if err != nil {
		t.Fatal(err)
	}
	good := &types.Log{
		Address: broker,
		Topics:  []common.Hash{ev.ID, common.BytesToHash(sender[:]), common.BytesToHash(recipient[:])},
		Data:    data,
	}
	other := &types.Log{Address: broker, Topics: []common.Hash{a.Events["WinningTicketTransfer"].ID}, Data: []byte{1}}
	removed := *good
	removed.Removed = true
	removed.Data = []byte{0xff} // would be malformed if it were read

	got, err := chain.RedeemedTicketHashes(broker, []*types.Log{other, good, &removed, {Address: broker}})
	if err != nil {
		t.Fatal(err)
	}
	wantHashes(t, got, tk.Hash())

	bad := func(mut func(l *types.Log)) *types.Log {
		l := *good
		l.Topics = append([]common.Hash(nil), good.Topics...)
		l.Data = bytes.Clone(good.Data)
		mut(&l)
		return &l
	}
	for name, l := range map[string]*types.Log{
		"short data":       bad(func(l *types.Log) { l.Data = l.Data[:64] }),
		"missing topic":    bad(func(l *types.Log) { l.Topics = l.Topics[:2] }),
		"dirty address":    bad(func(l *types.Log) { l.Topics[1][0] = 1 }),
		"bad bytes offset": bad(func(l *types.Log) { l.Data[4*32+31] = 0xff }),
	} {
		if _, err := chain.RedeemedTicketHashes(broker, []*types.Log{l}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
