package chain_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"testing"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"redeemer/chain"
	"redeemer/chain/devchain"
)

func TestSignAndDecodeRawTx(t *testing.T) {
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	chainID := big.NewInt(42161)
	s := chain.NewTxSigner(key, chainID)
	chainID.SetInt64(1) // the signer must not alias the caller's value

	p := chain.TxParams{
		Nonce: 9, To: common.Address{0xb0}, Data: []byte{1, 2, 3}, GasLimit: 123_456,
		TipCap: big.NewInt(1_000), FeeCap: big.NewInt(50_000),
	}
	tx, raw, err := s.Sign(p)
	if err != nil {
		t.Fatal(err)
	}
	p.Data[0] = 0xff // nor the data
	back, err := chain.DecodeRawTx(raw)
	if err != nil {
		t.Fatal(err)
	}
	if back.Hash() != tx.Hash() {
		t.Fatalf("decoded hash %s, signed %s", back.Hash(), tx.Hash())
	}
	from, err := types.Sender(types.LatestSignerForChainID(big.NewInt(42161)), back)
	if err != nil || from != s.Address() || from != crypto.PubkeyToAddress(key.PublicKey) {
		t.Fatalf("sender %s (%v), want %s", from, err, s.Address())
	}
	if back.Type() != types.DynamicFeeTxType || back.ChainId().Int64() != 42161 || back.Nonce() != 9 ||
		*back.To() != (common.Address{0xb0}) || string(back.Data()) != "\x01\x02\x03" || back.Gas() != 123_456 ||
		back.GasTipCap().Int64() != 1_000 || back.GasFeeCap().Int64() != 50_000 || back.Value().Sign() != 0 {
		t.Fatalf("decoded tx fields differ: %+v", back)
	}

	for name, bad := range map[string]chain.TxParams{
		"tip above cap": {GasLimit: 1, TipCap: big.NewInt(2), FeeCap: big.NewInt(1)},
		"nil tip":       {GasLimit: 1, FeeCap: big.NewInt(1)},
		"zero gas":      {TipCap: big.NewInt(1), FeeCap: big.NewInt(1)},
		"negative":      {GasLimit: 1, TipCap: big.NewInt(-1), FeeCap: big.NewInt(1)},
	} {
		if _, _, err := s.Sign(bad); err == nil {
			t.Errorf("%s: Sign accepted %+v", name, bad)
		}
	}
	if _, err := chain.DecodeRawTx([]byte{0x02, 0x01}); err == nil {
		t.Error("DecodeRawTx accepted garbage")
	}
}

// TestBroadcastOutcomesOnDevChain drives the pool through each outcome the
// worker must tell apart, with the errors the simulated backend really
// returns (over its in-process JSON-RPC, so as strings, like a remote node).
func TestBroadcastOutcomesOnDevChain(t *testing.T) {
	e := newEnv(t, devchain.Options{})
	s := e.txSigner()
	st := e.signedTicket(e.c.Senders()[0], eth(1))
	first := e.signRedeem(s, []chain.SignedTicket{st})

	if err := e.sendRaw(first.raw); err != nil {
		t.Fatalf("first send: %v", err)
	}
	err := e.sendRaw(first.raw)
	t.Logf("simulated backend, same raw tx twice: %T %q", err, err)
	if got := chain.ClassifySendError(err); got != chain.SendAlreadyKnown {
		t.Fatalf("resend: %v classified %v, want SendAlreadyKnown", err, got)
	}

	// Same nonce, equal fees (a different gas limit makes it another tx).
	equal := first.params
	equal.GasLimit++
	_, raw, err := s.Sign(equal)
	if err != nil {
		t.Fatal(err)
	}
	err = e.sendRaw(raw)
	t.Logf("simulated backend, same nonce and fees: %q", err)
	if got := chain.ClassifySendError(err); got != chain.SendUnderpriced {
		t.Fatalf("equal-fee replacement: %v classified %v, want SendUnderpriced", err, got)
	}
	// Same nonce, raised by less than the pool's 10%.
	short := first.params
	short.TipCap = new(big.Int).Add(first.params.TipCap, big.NewInt(1))
	short.FeeCap = new(big.Int).Add(first.params.FeeCap, big.NewInt(1))
	if _, raw, err = s.Sign(short); err != nil {
		t.Fatal(err)
	}
	if got := chain.ClassifySendError(e.sendRaw(raw)); got != chain.SendUnderpriced {
		t.Fatalf("+1 wei replacement classified %v, want SendUnderpriced", got)
	}

	tip, feeCap, ok := chain.BumpFees(first.params.TipCap, first.params.FeeCap, first.params.TipCap, first.params.FeeCap, 10, nil)
	if !ok {
		t.Fatal("BumpFees refused without a cap")
	}
	bumped := first.params
	bumped.TipCap, bumped.FeeCap = tip, feeCap
	replacement, raw, err := s.Sign(bumped)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sendRaw(raw); err != nil {
		t.Fatalf("bumped replacement (tip %s→%s, fee cap %s→%s): %v",
			first.params.TipCap, tip, first.params.FeeCap, feeCap, err)
	}
	e.c.Commit()

	r := e.receipt(replacement.Hash())
	if r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("replacement status %d", r.Status)
	}
	got, err := chain.RedeemedTicketHashes(e.p.Addresses().TicketBroker, r.Logs)
	if err != nil {
		t.Fatal(err)
	}
	wantHashes(t, got, st.Hash())
	if _, err := e.c.Client().TransactionReceipt(e.ctx, first.tx.Hash()); !errors.Is(err, ethereum.NotFound) {
		t.Fatalf("replaced tx receipt: %v, want not found", err)
	}

	// The pool drops the mined replacement when it processes the new head,
	// which it does in the background: until then the old transaction
	// still meets the replacement in the pool, as underpriced.
	err = e.sendRaw(first.raw)
	for deadline := time.Now().Add(10 * time.Second); chain.ClassifySendError(err) == chain.SendUnderpriced && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		err = e.sendRaw(first.raw)
	}
	t.Logf("simulated backend, nonce used by a mined tx: %q", err)
	if got := chain.ClassifySendError(err); got != chain.SendNonceTooLow {
		t.Fatalf("used nonce: %v classified %v, want SendNonceTooLow", err, got)
	}
}

func TestInsufficientFundsOnDevChain(t *testing.T) {
	e := newEnv(t, devchain.Options{})
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s := chain.NewTxSigner(key, e.c.ChainID())
	tip, feeCap, err := chain.SuggestFees(e.ctx, e.c.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, raw, err := s.Sign(chain.TxParams{To: e.p.Addresses().TicketBroker, GasLimit: 100_000, TipCap: tip, FeeCap: feeCap})
	if err != nil {
		t.Fatal(err)
	}
	err = e.sendRaw(raw)
	t.Logf("simulated backend, unfunded account: %q", err)
	if got := chain.ClassifySendError(err); got != chain.SendInsufficientFunds {
		t.Fatalf("unfunded: %v classified %v, want SendInsufficientFunds", err, got)
	}
}

func TestClassifySendError(t *testing.T) {
	cases := []struct {
		err  error
		want chain.SendOutcome
	}{
		{nil, chain.SendOK},
		// Messages as remote geth / Nitro nodes return them over JSON-RPC.
		{errors.New("already known"), chain.SendAlreadyKnown},
		{errors.New("ALREADY KNOWN"), chain.SendAlreadyKnown},
		{errors.New("known transaction: 5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"), chain.SendAlreadyKnown},
		{errors.New("nonce too low: address 0x9a1d9CBB98C2E4bA3Aa2f5A5D7dC32b3c63aCb7A, tx: 4 state: 5"), chain.SendNonceTooLow},
		{errors.New("Nonce too low"), chain.SendNonceTooLow},
		{errors.New("replacement transaction underpriced"), chain.SendUnderpriced},
		{errors.New("transaction underpriced: tip needed 1000000000, tip permitted 1"), chain.SendUnderpriced},
		{errors.New("transaction gas price below minimum: gas tip cap 0, minimum needed 1"), chain.SendUnderpriced},
		{errors.New("max fee per gas less than block base fee: address 0x01, maxFeePerGas: 10000000 baseFee: 20000000"), chain.SendUnderpriced},
		{errors.New("insufficient funds for gas * price + value: address 0x01 have 0 want 100"), chain.SendInsufficientFunds},
		{errors.New("Insufficient funds for gas * price + value"), chain.SendInsufficientFunds},
		{errors.New("nonce too high"), chain.SendFailed},
		{errors.New("exceeds block gas limit"), chain.SendFailed},
		{errors.New("Post \"https://arb1.example\": dial tcp: connection refused"), chain.SendFailed},
		{context.DeadlineExceeded, chain.SendFailed},
		// Error values, as an in-process pool returns them, wrapped by callers.
		{fmt.Errorf("broadcast: %w", txpool.ErrAlreadyKnown), chain.SendAlreadyKnown},
		{fmt.Errorf("broadcast: %w", core.ErrNonceTooLow), chain.SendNonceTooLow},
		{fmt.Errorf("broadcast: %w", txpool.ErrReplaceUnderpriced), chain.SendUnderpriced},
		{fmt.Errorf("broadcast: %w", txpool.ErrUnderpriced), chain.SendUnderpriced},
		{fmt.Errorf("broadcast: %w", core.ErrInsufficientFunds), chain.SendInsufficientFunds},
	}
	for _, c := range cases {
		if got := chain.ClassifySendError(c.err); got != c.want {
			t.Errorf("ClassifySendError(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestBumpFees(t *testing.T) {
	b := big.NewInt
	cases := []struct {
		name                                   string
		oldTip, oldCap, sugTip, sugCap, maxCap *big.Int
		percent                                int
		wantTip, wantCap                       *big.Int
		wantOK                                 bool
	}{
		{"exact 10%", b(100), b(200), nil, nil, nil, 10, b(110), b(220), true},
		{"rounds up", b(101), b(205), b(0), b(0), nil, 10, b(112), b(226), true},
		{"tiny values still rise", b(1), b(9), nil, nil, nil, 10, b(2), b(10), true},
		{"zero tip rises by a wei", b(0), b(0), nil, nil, nil, 10, b(1), b(1), true},
		{"below geth's bump is raised to 10%", b(100), b(200), nil, nil, nil, 1, b(110), b(220), true},
		{"larger bump", b(100), b(200), nil, nil, nil, 25, b(125), b(250), true},
		{"suggested above bump", b(100), b(200), b(500), b(1000), nil, 10, b(500), b(1000), true},
		{"fee cap follows a high tip", b(100), b(105), b(300), b(0), nil, 10, b(300), b(300), true},
		{"cap met exactly", b(100), b(200), nil, nil, b(220), 10, b(110), b(220), true},
		{"bump over cap", b(100), b(200), nil, nil, b(219), 10, b(110), b(220), false},
		{"suggestion limited by cap", b(100), b(200), b(100), b(10_000), b(300), 10, b(110), b(300), true},
		{"tip over cap", b(100), b(200), b(400), nil, b(300), 10, b(400), b(400), false},
	}
	for _, c := range cases {
		inputs := []*big.Int{c.oldTip, c.oldCap, c.sugTip, c.sugCap, c.maxCap}
		before := fmt.Sprint(inputs)
		tip, feeCap, ok := chain.BumpFees(c.oldTip, c.oldCap, c.sugTip, c.sugCap, c.percent, c.maxCap)
		if tip.Cmp(c.wantTip) != 0 || feeCap.Cmp(c.wantCap) != 0 || ok != c.wantOK {
			t.Errorf("%s: got tip %s fee cap %s ok %v, want %s %s %v", c.name, tip, feeCap, ok, c.wantTip, c.wantCap, c.wantOK)
		}
		if after := fmt.Sprint(inputs); after != before {
			t.Errorf("%s: inputs changed from %s to %s", c.name, before, after)
		}
	}
}

// TestBumpFeesSatisfiesGethReplacementRule checks the bump against the rule
// geth's pool applies to a same-nonce replacement: both values strictly
// higher and each at least old * (100+bump) / 100.
func TestBumpFeesSatisfiesGethReplacementRule(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(7, 11))
	for range 2000 {
		percent := 10 + rng.IntN(40)
		// Shifted values reach far past int64, as fees in wei can.
		tipOld := new(big.Int).Lsh(big.NewInt(rng.Int64N(1<<40)), rng.UintN(80))
		capOld := new(big.Int).Add(tipOld, new(big.Int).Lsh(big.NewInt(rng.Int64N(1<<40)), rng.UintN(80)))
		if rng.IntN(4) == 0 {
			tipOld.SetInt64(rng.Int64N(20))
			capOld.SetInt64(tipOld.Int64() + rng.Int64N(20))
		}
		tip, feeCap, ok := chain.BumpFees(tipOld, capOld, nil, nil, percent, nil)
		if !ok {
			t.Fatal("refused without a cap")
		}
		for _, v := range []struct{ old, got *big.Int }{{tipOld, tip}, {capOld, feeCap}} {
			threshold := new(big.Int).Mul(v.old, big.NewInt(int64(100+percent)))
			threshold.Div(threshold, big.NewInt(100))
			if v.got.Cmp(v.old) <= 0 || v.got.Cmp(threshold) < 0 {
				t.Fatalf("bump %d%% of %s gave %s (threshold %s)", percent, v.old, v.got, threshold)
			}
		}
		if tip.Cmp(feeCap) > 0 {
			t.Fatalf("tip %s above fee cap %s", tip, feeCap)
		}
	}
}

type fakeFees struct {
	tip, base *big.Int
}

func (f fakeFees) SuggestGasTipCap(context.Context) (*big.Int, error) { return f.tip, nil }

func (f fakeFees) HeaderByNumber(context.Context, *big.Int) (*types.Header, error) {
	return &types.Header{Number: big.NewInt(1), BaseFee: f.base}, nil
}

func TestSuggestFees(t *testing.T) {
	ctx := context.Background()
	src := fakeFees{tip: big.NewInt(10), base: big.NewInt(100)}
	for _, c := range []struct {
		max     *big.Int
		wantCap int64
	}{{nil, 210}, {big.NewInt(1000), 210}, {big.NewInt(150), 150}, {big.NewInt(110), 110}} {
		tip, feeCap, err := chain.SuggestFees(ctx, src, c.max)
		if err != nil || tip.Int64() != 10 || feeCap.Int64() != c.wantCap {
			t.Errorf("max %v: tip %v fee cap %v err %v, want 10 %d", c.max, tip, feeCap, err, c.wantCap)
		}
	}
	_, _, err := chain.SuggestFees(ctx, src, big.NewInt(109))
	var tooLow *chain.FeeCapTooLowError
	if !errors.Is(err, chain.ErrFeeCapTooLow) || !errors.As(err, &tooLow) ||
		tooLow.BaseFee.Int64() != 100 || tooLow.Tip.Int64() != 10 || tooLow.MaxFeeCap.Int64() != 109 {
		t.Fatalf("cap below base fee + tip: %v", err)
	}
	if _, _, err := chain.SuggestFees(ctx, fakeFees{tip: big.NewInt(1)}, nil); err == nil {
		t.Fatal("no error for a header without base fee")
	}

	e := newEnv(t, devchain.Options{})
	tip, feeCap, err := chain.SuggestFees(e.ctx, e.c.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	head, err := e.c.Client().HeaderByNumber(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	if feeCap.Cmp(want) != 0 {
		t.Fatalf("dev chain fee cap %s, want 2*%s+%s", feeCap, head.BaseFee, tip)
	}
	t.Logf("dev chain: base fee %s, suggested tip %s", head.BaseFee, tip)
}
