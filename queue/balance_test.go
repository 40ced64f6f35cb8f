package queue

import (
	"context"
	"crypto/ecdsa"
	"log/slog"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"redeemer/chain"
	"redeemer/store"
)

// captureHandler keeps every record logged through it. Attributes added with
// With are dropped: the funding messages carry all of theirs themselves.
type captureHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *captureHandler) WithGroup(string) slog.Handler            { return h }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}

// logged returns the records with message msg, each as its attributes.
func (h *captureHandler) logged(level slog.Level, msg string) []map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]string
	for _, r := range h.records {
		if r.Level != level || r.Message != msg {
			continue
		}
		attrs := map[string]string{}
		r.Attrs(func(a slog.Attr) bool {
			attrs[a.Key] = a.Value.String()
			return true
		})
		out = append(out, attrs)
	}
	return out
}

func (h *captureHandler) count(level slog.Level) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.records {
		if r.Level == level {
			n++
		}
	}
	return n
}

// testClock is a worker clock the test moves by hand.
type testClock struct{ now time.Time }

func (c *testClock) Now() time.Time          { return c.now }
func (c *testClock) advance(d time.Duration) { c.now = c.now.Add(d) }

const (
	lowFundingMsg       = "redemption account balance low: send it ETH before redemptions fail"
	fundingRecoveredMsg = "redemption account balance recovered"
)

// fundingWorker is a second worker on e's chain and database, signing with
// key, whose log and metrics the test reads.
func (e *env) fundingWorker(key *ecdsa.PrivateKey, clock *testClock) (*Worker, *Metrics, *captureHandler) {
	e.t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		e.t.Fatal(err)
	}
	h := &captureHandler{}
	cfg := e.w.cfg
	cfg.Signer = chain.NewTxSigner(key, e.dc.ChainID())
	cfg.Logger = slog.New(h)
	cfg.Metrics = m
	cfg.Now = clock.Now
	w, err := New(cfg, e.st, e.dc.Client(), e.dc.Protocol())
	if err != nil {
		e.t.Fatal(err)
	}
	return w, m, h
}

// fund sends amount to `to` from the dev chain's owner in a plain value
// transfer and mines it.
func (e *env) fund(to common.Address, amount *big.Int) {
	e.t.Helper()
	from := e.dc.Owner()
	c := e.dc.Client()
	nonce, err := c.PendingNonceAt(e.ctx, from.Address)
	if err != nil {
		e.t.Fatal(err)
	}
	tip, feeCap, err := chain.SuggestFees(e.ctx, c, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	tx, err := types.SignNewTx(from.Key, types.LatestSignerForChainID(e.dc.ChainID()), &types.DynamicFeeTx{
		ChainID: e.dc.ChainID(), Nonce: nonce, To: &to, Value: amount, Gas: 21_000, GasTipCap: tip, GasFeeCap: feeCap,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := c.SendTransaction(e.ctx, tx); err != nil {
		e.t.Fatal(err)
	}
	e.dc.Commit()
	r, err := c.TransactionReceipt(e.ctx, tx.Hash())
	if err != nil || r.Status != types.ReceiptStatusSuccessful {
		e.t.Fatalf("funding transfer not mined: %v", err)
	}
}

// feeCap is the fee cap the worker would sign with now.
func (e *env) feeCap() *big.Int {
	e.t.Helper()
	_, feeCap, err := chain.SuggestFees(e.ctx, e.dc.Client(), e.w.cfg.MaxFeeCap)
	if err != nil {
		e.t.Fatal(err)
	}
	return feeCap
}

// handle mines a block and hands it to w.
func (e *env) handle(w *Worker) {
	e.t.Helper()
	e.dc.Commit()
	if err := w.HandleHead(e.ctx, chain.HeadEvent{Head: e.head()}); err != nil {
		e.t.Fatal(err)
	}
}

func gaugeValue(t *testing.T, g prometheus.Gauge) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

// redemptionsLeft is balance / (gas × fee cap), as the worker computes it.
func redemptionsLeft(balance *big.Int, gas uint64, feeCap *big.Int) int64 {
	return new(big.Int).Quo(balance, new(big.Int).Mul(new(big.Int).SetUint64(gas), feeCap)).Int64()
}

// TestLowBalanceWarns: an account funded for a handful of redemptions is
// reported at the start of leadership, the warning repeats only after its
// interval, and funding the account ends it with one Info.
func TestLowBalanceWarns(t *testing.T) {
	e := newEnv(t, envOpts{})
	key, err := crypto.ToECDSA(crypto.Keccak256([]byte("a redemption account with almost nothing")))
	if err != nil {
		t.Fatal(err)
	}
	poor := crypto.PubkeyToAddress(key.PublicKey)
	perRedemption := new(big.Int).Mul(big.NewInt(defaultRedemptionGas), e.feeCap())
	e.fund(poor, new(big.Int).Mul(perRedemption, big.NewInt(5)))

	clock := &testClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	w, m, logs := e.fundingWorker(key, clock)
	balance := e.balance(poor)
	want := redemptionsLeft(balance, defaultRedemptionGas, e.feeCap())
	if want <= 0 || want >= 100 {
		t.Fatalf("test setup: %d redemptions funded, want a few", want)
	}
	if err := w.Recover(e.ctx); err != nil {
		t.Fatal(err)
	}

	warnings := logs.logged(slog.LevelWarn, lowFundingMsg)
	if len(warnings) != 1 {
		t.Fatalf("%d low balance warnings at the start of leadership, want 1", len(warnings))
	}
	got := warnings[0]
	if got["address"] != poor.Hex() || got["balance_wei"] != balance.String() ||
		got["redemptions_left"] != big.NewInt(want).String() || got["balance_eth"] != etherString(balance) {
		t.Fatalf("warning %v, want address %s, balance %s wei, %d redemptions left", got, poor.Hex(), balance, want)
	}
	if v := gaugeValue(t, m.AccountRedemptionsLeft.WithLabelValues(poor.Hex())); v != float64(want) {
		t.Fatalf("redemptions left gauge %v, want %d", v, want)
	}
	if v, _ := new(big.Float).SetInt(balance).Float64(); gaugeValue(t, m.AccountBalanceWei.WithLabelValues(poor.Hex())) != v {
		t.Fatalf("balance gauge %v, want %v", gaugeValue(t, m.AccountBalanceWei.WithLabelValues(poor.Hex())), v)
	}

	// Still low: checked again after the check interval, but the warning
	// waits for its own.
	e.handle(w)
	clock.advance(fundingCheckInterval)
	e.handle(w)
	if n := len(logs.logged(slog.LevelWarn, lowFundingMsg)); n != 1 {
		t.Fatalf("%d low balance warnings within %s, want 1", n, lowFundingRepeat)
	}
	clock.advance(lowFundingRepeat)
	e.handle(w)
	if n := len(logs.logged(slog.LevelWarn, lowFundingMsg)); n != 2 {
		t.Fatalf("%d low balance warnings after %s, want 2", n, lowFundingRepeat)
	}

	e.fund(poor, new(big.Int).Mul(perRedemption, big.NewInt(1000)))
	clock.advance(fundingCheckInterval)
	e.handle(w)
	if n := len(logs.logged(slog.LevelInfo, fundingRecoveredMsg)); n != 1 {
		t.Fatalf("%d recovery messages after funding, want 1", n)
	}
	if v := gaugeValue(t, m.AccountRedemptionsLeft.WithLabelValues(poor.Hex())); v < 100 {
		t.Fatalf("redemptions left gauge %v after funding, want at least 100", v)
	}
	clock.advance(lowFundingRepeat)
	e.handle(w)
	if n := len(logs.logged(slog.LevelWarn, lowFundingMsg)); n != 2 {
		t.Fatalf("%d low balance warnings after funding, want still 2", n)
	}
}

// TestRichAccountDoesNotWarn: the dev redeemer account pays for far more
// than the minimum; the estimate uses the gas of the last confirmed
// redemption, and the series go away when the replica stops leading.
func TestRichAccountDoesNotWarn(t *testing.T) {
	e := newEnv(t, envOpts{})
	nt := e.queue(e.dc.Senders()[0].Key, milliEther, e.head().Number+1)
	e.step()
	e.step()
	if s := e.ticket(nt).Status; s != store.StatusRedeemed {
		t.Fatalf("ticket %s, want redeemed before the check", s)
	}
	var gasUsed int64
	if err := e.st.Pool().QueryRow(e.ctx, `SELECT gas_used FROM redemptions WHERE status = 'confirmed'`).Scan(&gasUsed); err != nil {
		t.Fatal(err)
	}
	if gasUsed == defaultRedemptionGas {
		t.Fatal("test setup: the redemption used exactly the default gas; the test cannot tell them apart")
	}

	clock := &testClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	rich := e.dc.Redeemer()
	w, m, logs := e.fundingWorker(rich.Key, clock)
	if err := w.Recover(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.handle(w)
	if n := logs.count(slog.LevelWarn); n != 0 {
		t.Fatalf("%d warnings for a rich account: %v", n, logs.logged(slog.LevelWarn, lowFundingMsg))
	}
	// Recover checked; the head within the interval did not, so the figure
	// is from the block Recover saw. Check again to compare with now.
	clock.advance(fundingCheckInterval)
	e.handle(w)
	want := redemptionsLeft(e.balance(rich.Address), uint64(gasUsed), e.feeCap())
	if v := gaugeValue(t, m.AccountRedemptionsLeft.WithLabelValues(rich.Address.Hex())); v != float64(want) {
		t.Fatalf("redemptions left gauge %v, want %d (gas %d of the last redemption)", v, want, gasUsed)
	}

	m.SetLeader(false)
	ch := make(chan prometheus.Metric, 4)
	m.AccountBalanceWei.Collect(ch)
	m.AccountRedemptionsLeft.Collect(ch)
	if len(ch) != 0 {
		t.Fatalf("%d account series left after leadership ended, want none", len(ch))
	}
}

func TestEtherString(t *testing.T) {
	for wei, want := range map[string]string{
		"0":                        "0",
		"1":                        "0.000000000000000001",
		"1000000000000000000":      "1",
		"1500000000000000000":      "1.5",
		"123456789000000000000000": "123456.789",
	} {
		v, _ := new(big.Int).SetString(wei, 10)
		if got := etherString(v); got != want {
			t.Errorf("etherString(%s) = %s, want %s", wei, got, want)
		}
	}
}
