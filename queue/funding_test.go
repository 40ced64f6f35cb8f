package queue

import (
	"crypto/ecdsa"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"redeemer/chain"
	"redeemer/store"
)

// testClock is a stage clock the test moves by hand.
type testClock struct{ now time.Time }

func (c *testClock) Now() time.Time          { return c.now }
func (c *testClock) advance(d time.Duration) { c.now = c.now.Add(d) }

const (
	lowFundingMsg       = "redemption account balance low: send it ETH before redemptions fail"
	fundingRecoveredMsg = "redemption account balance recovered"
)

// fundingStage is a funding stage on e's chain and database for the
// account of key, whose log and metrics the test reads.
func (e *env) fundingStage(key *ecdsa.PrivateKey, clock *testClock) (*FundingStage, *Metrics, *captureHandler) {
	e.t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		e.t.Fatal(err)
	}
	h := newCapture()
	cfg := e.cfg
	cfg.Signer = chain.NewTxSigner(key, e.dc.ChainID())
	cfg.Logger = slog.New(h)
	cfg.Metrics = m
	cfg.Now = clock.Now
	r, err := New(cfg, e.st, e.node)
	if err != nil {
		e.t.Fatal(err)
	}
	return r.FundingStage(), m, h
}

// feeCap is the fee cap a transaction would be signed with now: twice the
// latest base fee plus the node's suggested tip.
func (e *env) feeCap() *big.Int {
	e.t.Helper()
	_, feeCap, err := chain.SuggestFees(e.ctx, e.dc.Client(), e.cfg.MaxFeeCap)
	if err != nil {
		e.t.Fatal(err)
	}
	return feeCap
}

// checkFunding mines a block and runs the funding stage at it.
func (e *env) checkFunding(s *FundingStage) {
	e.t.Helper()
	e.dc.Commit()
	e.mustRun(s, e.head())
}

func gaugeValue(t *testing.T, g prometheus.Gauge) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

// redemptionsLeft is balance / (gas × fee cap).
func redemptionsLeft(balance *big.Int, gas uint64, feeCap *big.Int) int64 {
	return new(big.Int).Quo(balance, new(big.Int).Mul(new(big.Int).SetUint64(gas), feeCap)).Int64()
}

// TestLowBalanceWarns: an account funded for a handful of redemptions is
// reported on the funding stage's first run, the warning repeats only after
// its interval, and funding the account ends it with one Info.
func TestLowBalanceWarns(t *testing.T) {
	e := newEnv(t, envOpts{})
	key, err := crypto.ToECDSA(crypto.Keccak256([]byte("a redemption account with almost nothing")))
	if err != nil {
		t.Fatal(err)
	}
	poor := crypto.PubkeyToAddress(key.PublicKey)
	perRedemption := new(big.Int).Mul(big.NewInt(defaultRedemptionGas), e.feeCap())
	e.transfer(e.dc.Owner().Key, poor, times(perRedemption, 5))

	clock := &testClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, m, logs := e.fundingStage(key, clock)
	balance := e.balance(poor)
	want := redemptionsLeft(balance, defaultRedemptionGas, e.feeCap())
	if want <= 0 || want >= 100 {
		t.Fatalf("test setup: %d redemptions funded, want a few", want)
	}
	e.mustRun(s, e.head())

	warnings := logs.logged(slog.LevelWarn, lowFundingMsg)
	if len(warnings) != 1 {
		t.Fatalf("%d low balance warnings on the first check, want 1", len(warnings))
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

	// Still low: checked again, but the warning waits for its own interval.
	e.checkFunding(s)
	clock.advance(time.Minute)
	e.checkFunding(s)
	if n := len(logs.logged(slog.LevelWarn, lowFundingMsg)); n != 1 {
		t.Fatalf("%d low balance warnings within %s, want 1", n, lowFundingRepeat)
	}
	clock.advance(lowFundingRepeat)
	e.checkFunding(s)
	if n := len(logs.logged(slog.LevelWarn, lowFundingMsg)); n != 2 {
		t.Fatalf("%d low balance warnings after %s, want 2", n, lowFundingRepeat)
	}

	e.transfer(e.dc.Owner().Key, poor, times(perRedemption, 1000))
	clock.advance(time.Minute)
	e.checkFunding(s)
	if n := len(logs.logged(slog.LevelInfo, fundingRecoveredMsg)); n != 1 {
		t.Fatalf("%d recovery messages after funding, want 1", n)
	}
	if v := gaugeValue(t, m.AccountRedemptionsLeft.WithLabelValues(poor.Hex())); v < 100 {
		t.Fatalf("redemptions left gauge %v after funding, want at least 100", v)
	}
	clock.advance(lowFundingRepeat)
	e.checkFunding(s)
	if n := len(logs.logged(slog.LevelWarn, lowFundingMsg)); n != 2 {
		t.Fatalf("%d low balance warnings after funding, want still 2", n)
	}
	if n := len(logs.logged(slog.LevelInfo, fundingRecoveredMsg)); n != 1 {
		t.Fatalf("%d recovery messages while funded, want still 1", n)
	}
}

// TestRichAccountDoesNotWarn: the dev redeemer account pays for far more
// than the minimum; the count uses the gas of the last confirmed
// redemption, and the series go away when the replica stops leading.
func TestRichAccountDoesNotWarn(t *testing.T) {
	e := newEnv(t, envOpts{})
	nt := e.queue(e.dc.Senders()[0].Key, face, e.head().Number+1)
	e.step()
	e.step()
	if s := e.get(nt).Status; s != store.StatusRedeemed {
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
	s, m, logs := e.fundingStage(rich.Key, clock)
	e.checkFunding(s)
	if n := logs.count(slog.LevelWarn, ""); n != 0 {
		t.Fatalf("%d warnings for a rich account: %v", n, logs.logged(slog.LevelWarn, lowFundingMsg))
	}
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
