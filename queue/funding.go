package queue

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strings"
	"sync"
	"time"

	"redeemer/chain"
	"redeemer/pipeline"
)

const (
	// defaultRedemptionGas stands in for the gas of a redemption until one
	// has confirmed: a single ticket on the deployed TicketBroker, drawing
	// on the reserve in a round's first redemption, so that a fresh
	// deployment errs towards warning early.
	defaultRedemptionGas = 600_000
	// lowFundingRepeat is how often the warning repeats while the balance
	// stays low: often enough to stay in view, rarely enough not to drown
	// the rest of the log.
	lowFundingRepeat = 10 * time.Minute
)

// fundingState is what the funding stage and the broadcasts know about the
// redemption account's balance.
type fundingState struct {
	mu sync.Mutex
	// cannotPay: the balance does not cover one redemption at the fee
	// cap, or the node refused a broadcast for insufficient funds. Claims
	// wait while it holds: a claimed transaction nobody can pay only keeps
	// tickets in limbo.
	cannotPay bool
	why       string
	low       bool
	warnedAt  time.Time
}

func (f *fundingState) blocked() (bool, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cannotPay, f.why
}

// sendRefused notes a broadcast refused for funds.
func (f *fundingState) sendRefused(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cannotPay, f.why = true, "the node refused a broadcast: "+err.Error()
}

// sendSucceeded notes a broadcast the node took: the account pays again.
func (f *fundingState) sendSucceeded() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cannotPay, f.why = false, ""
}

// accountFunding is what the signer's balance pays for.
type accountFunding struct {
	balance *big.Int
	gas     uint64   // per redemption: the last confirmed one's, or the default
	feeCap  *big.Int // wei per gas a new transaction would be signed with
	left    *big.Int // balance / (gas × feeCap)
}

// FundingStage reads the redemption account's balance (one node call per
// run, every 30 s or so), publishes it and how many redemptions it pays
// for, warns while that is below MinRedemptionsFunded, and makes claims
// wait while it cannot pay for one.
type FundingStage struct{ r *Redeemer }

// FundingStage returns the stage.
func (r *Redeemer) FundingStage() *FundingStage { return &FundingStage{r: r} }

// Name implements pipeline.Stage.
func (s *FundingStage) Name() string { return "funding" }

// Run implements pipeline.Stage.
func (s *FundingStage) Run(ctx context.Context, run pipeline.Run) (pipeline.Result, error) {
	r := s.r
	f, err := r.readFunding(ctx, run.Tip)
	if err != nil {
		return pipeline.Result{}, err
	}
	account := r.Account()
	left := int64(math.MaxInt64)
	if f.left.IsInt64() {
		left = f.left.Int64()
	}
	r.cfg.Metrics.account(account.Hex(), f.balance, float64(left))
	attrs := []any{"address", account.Hex(), "balance_wei", f.balance.String(), "balance_eth", etherString(f.balance),
		"redemptions_left", left, "min_redemptions_funded", r.cfg.MinRedemptionsFunded,
		"gas_per_redemption", f.gas, "fee_cap", f.feeCap.String()}
	now := r.cfg.Now()
	st := &r.funding
	st.mu.Lock()
	defer st.mu.Unlock()
	st.cannotPay = left < 1
	if st.cannotPay {
		st.why = fmt.Sprintf("balance %s wei pays for no redemption at fee cap %s", f.balance, f.feeCap)
	} else {
		st.why = ""
	}
	if left < int64(r.cfg.MinRedemptionsFunded) {
		if !st.low || now.Sub(st.warnedAt) >= lowFundingRepeat {
			r.log.Warn("redemption account balance low: send it ETH before redemptions fail", attrs...)
			st.warnedAt = now
		}
		st.low = true
		return pipeline.Result{}, nil
	}
	if st.low {
		r.log.Info("redemption account balance recovered", attrs...)
		st.low = false
	}
	return pipeline.Result{}, nil
}

// readFunding reads the balance and prices a redemption at the fee cap, not
// the expected price: the node only accepts a transaction whose sender can
// pay gas limit × fee cap, so that is what must be on the account.
func (r *Redeemer) readFunding(ctx context.Context, tip chain.Head) (accountFunding, error) {
	account := r.Account()
	balance, err := r.node.Balance(ctx, account)
	if err != nil {
		return accountFunding{}, err
	}
	_, feeCap, err := r.fees(ctx, tip)
	if err != nil {
		return accountFunding{}, err
	}
	gas, ok, err := r.st.LastRedemptionGas(ctx)
	if err != nil {
		return accountFunding{}, err
	}
	if !ok {
		gas = defaultRedemptionGas
	}
	// A chain with no base fee and no tip would make a redemption free; one
	// wei a gas keeps the division defined and the count enormous.
	per := new(big.Int).Mul(new(big.Int).SetUint64(gas), chain.MaxBig(feeCap, big.NewInt(1)))
	return accountFunding{balance: balance, gas: gas, feeCap: feeCap, left: new(big.Int).Quo(balance, per)}, nil
}

// fees are the tip and fee cap a new transaction is signed with: the node's
// suggested tip, and twice the tip head's base fee plus the tip (room for
// several blocks of rising base fee), capped at MaxFeeCap. When the cap is
// below base fee + tip the transaction is still signed at the cap: it waits
// in the pool until the market comes down.
func (r *Redeemer) fees(ctx context.Context, tip chain.Head) (tipCap, feeCap *big.Int, err error) {
	if tipCap, err = r.suggestedTip(ctx); err != nil {
		return nil, nil, err
	}
	base := chain.OrZero(tip.BaseFee)
	feeCap = new(big.Int).Mul(base, big.NewInt(2))
	feeCap.Add(feeCap, tipCap)
	if feeCap.Cmp(r.cfg.MaxFeeCap) > 0 {
		feeCap = new(big.Int).Set(r.cfg.MaxFeeCap)
		if tipCap.Cmp(feeCap) > 0 {
			tipCap = new(big.Int).Set(feeCap)
		}
	}
	return tipCap, feeCap, nil
}

// tipReuse is how long a suggested tip is reused: it moves slowly (on
// Arbitrum it is always zero), and asking on every claim and funding check
// would cost a node call each.
const tipReuse = 15 * time.Second

func (r *Redeemer) suggestedTip(ctx context.Context) (*big.Int, error) {
	r.tip.mu.Lock()
	defer r.tip.mu.Unlock()
	if r.tip.v != nil && r.cfg.Now().Sub(r.tip.at) < tipReuse {
		return new(big.Int).Set(r.tip.v), nil
	}
	v, err := r.node.MaxPriorityFee(ctx)
	if err != nil {
		return nil, err
	}
	r.tip.v, r.tip.at = v, r.cfg.Now()
	return new(big.Int).Set(v), nil
}

// etherString writes wei as ether, exactly, without trailing zeros.
func etherString(wei *big.Int) string {
	s := new(big.Rat).SetFrac(wei, big.NewInt(1e18)).FloatString(18)
	if strings.Contains(s, ".") {
		s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	}
	return s
}
