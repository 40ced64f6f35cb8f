package queue

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"redeemer/chain"
)

const (
	// defaultRedemptionGas stands in for the gas of a redemption until one
	// has confirmed: a little above what a single-ticket redemption uses, so
	// that a fresh deployment errs towards warning early.
	defaultRedemptionGas = 150_000
	// fundingCheckInterval spaces the balance checks: the balance only
	// drops by what the redemptions in between cost, and three node calls
	// and a query on every head would be waste on a fast chain.
	fundingCheckInterval = 30 * time.Second
	// lowFundingRepeat is how often the warning repeats while the balance
	// stays low: often enough to stay in view, rarely enough not to drown
	// the rest of the log.
	lowFundingRepeat = 10 * time.Minute
)

// fundingWatch remembers, between heads, when the balance was last checked
// and whether it was low, so the warning is throttled and its recovery is
// reported once.
type fundingWatch struct {
	checkedAt time.Time // last check, successful or not; zero before the first
	low       bool
	warnedAt  time.Time
}

// accountFunding is what the signer's balance pays for.
type accountFunding struct {
	balance *big.Int
	gas     uint64   // per redemption: the last confirmed one's, or the default
	feeCap  *big.Int // wei per gas a new transaction would be signed with
	left    *big.Int // balance / (gas × feeCap)
}

// maybeCheckFunding runs checkFunding when the last check is old enough.
func (w *Worker) maybeCheckFunding(ctx context.Context) {
	if at := w.funding.checkedAt; !at.IsZero() && w.cfg.Now().Sub(at) < fundingCheckInterval {
		return
	}
	w.checkFunding(ctx)
}

// checkFunding publishes the signer's balance and how many redemptions it
// pays for, and warns while that is below MinRedemptionsFunded: once the
// account is empty, every claim's broadcast fails and tickets sit until
// they expire. Failures are logged, not returned: the figure is advice, and
// reading it must never hold up a redemption.
func (w *Worker) checkFunding(ctx context.Context) {
	now := w.cfg.Now()
	w.funding.checkedAt = now
	account := w.cfg.Signer.Address()
	f, err := w.readFunding(ctx)
	if err != nil {
		w.log.Warn("redemption account balance unavailable", "address", account.Hex(), "err", err)
		return
	}
	left := int64(math.MaxInt64)
	if f.left.IsInt64() {
		left = f.left.Int64()
	}
	w.cfg.Metrics.account(account.Hex(), f.balance, float64(left))
	attrs := []any{"address", account.Hex(), "balance_wei", f.balance.String(), "balance_eth", etherString(f.balance),
		"redemptions_left", left, "min_redemptions_funded", w.cfg.MinRedemptionsFunded,
		"gas_per_redemption", f.gas, "fee_cap", f.feeCap.String()}
	if left < int64(w.cfg.MinRedemptionsFunded) {
		if !w.funding.low || now.Sub(w.funding.warnedAt) >= lowFundingRepeat {
			w.log.Warn("redemption account balance low: send it ETH before redemptions fail", attrs...)
			w.funding.warnedAt = now
		}
		w.funding.low = true
		return
	}
	if w.funding.low {
		w.log.Info("redemption account balance recovered", attrs...)
		w.funding.low = false
	}
}

// readFunding reads the balance and prices a redemption at the fee cap, not
// the expected price: the node only accepts a transaction whose sender can
// pay gas limit × fee cap, so that is what must be on the account.
func (w *Worker) readFunding(ctx context.Context) (accountFunding, error) {
	account := w.cfg.Signer.Address()
	cctx, cancel := w.callCtx(ctx)
	defer cancel()
	balance, err := w.backend.BalanceAt(cctx, account, nil)
	if err != nil {
		return accountFunding{}, fmt.Errorf("balance of %s: %w", account.Hex(), err)
	}
	_, feeCap, err := chain.SuggestFees(cctx, w.backend, w.cfg.MaxFeeCap)
	if low := (*chain.FeeCapTooLowError)(nil); errors.As(err, &low) {
		// The market is above the cap; transactions are signed at the cap
		// meanwhile.
		feeCap, err = w.cfg.MaxFeeCap, nil
	}
	if err != nil {
		return accountFunding{}, fmt.Errorf("fees: %w", err)
	}
	gas, ok, err := w.store.LastRedemptionGas(ctx)
	if err != nil {
		return accountFunding{}, err
	}
	if !ok {
		gas = defaultRedemptionGas
	}
	// A chain with no base fee and no tip would make a redemption free; one
	// wei a gas keeps the division defined and the count enormous.
	per := new(big.Int).Mul(new(big.Int).SetUint64(gas), maxBig(feeCap, big.NewInt(1)))
	return accountFunding{balance: balance, gas: gas, feeCap: feeCap, left: new(big.Int).Quo(balance, per)}, nil
}

func maxBig(a, b *big.Int) *big.Int {
	if a.Cmp(b) >= 0 {
		return a
	}
	return b
}

// etherString writes wei as ether, exactly, without trailing zeros.
func etherString(wei *big.Int) string {
	s := new(big.Rat).SetFrac(wei, big.NewInt(1e18)).FloatString(18)
	if strings.Contains(s, ".") {
		s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	}
	return s
}
