package queue

import (
	"math/big"

	"github.com/prometheus/client_golang/prometheus"

	"redeemer/chain"
	"redeemer/store"
)

// Reason classes label why tickets failed, expired or wait; the full reason
// stays in the ticket's last_error. The set is fixed so that label values
// stay few whatever the chain or the node says.
const (
	ReasonUsedElsewhere  = "used_elsewhere"  // used on chain by a transaction not ours
	ReasonReverts        = "reverts"         // the redemption would revert
	ReasonMaxAttempts    = "max_attempts"    // refused MaxAttempts times
	ReasonValidityPeriod = "validity_period" // creation round too old
	ReasonUneconomic     = "uneconomic"      // face value not above the gas cost
	ReasonSenderFunds    = "sender_funds"    // sender cannot cover the face value
	ReasonNotRedeemed    = "not_redeemed"    // a final transaction did not pay it; queued again
	ReasonSenderUnlocked = "sender_unlocked" // the sender is unlocked: the ticket can never pay
	ReasonNode           = "node"            // the node did not answer for the ticket; no attempt counted
)

// Metrics are the worker's Prometheus collectors. A nil *Metrics records
// nothing, so the worker needs no checks around it.
//
// Wei amounts are float64 counters: about 16 significant digits, plenty for
// graphs and alerts and never used for anything but metrics (the exact
// amounts are in the database).
type Metrics struct {
	TicketsRedeemed   prometheus.Counter
	TicketsFailed     *prometheus.CounterVec // reason
	TicketsExpired    *prometheus.CounterVec // reason
	TicketsPostponed  *prometheus.CounterVec // reason
	ValueRedeemedWei  prometheus.Counter
	GasUsed           prometheus.Counter
	GasSpentWei       prometheus.Counter
	TxAttempts        prometheus.Counter
	TxReprices        prometheus.Counter
	Broadcasts        *prometheus.CounterVec // outcome
	Redemptions       *prometheus.CounterVec // status: confirmed or dropped
	Reorgs            prometheus.Counter
	ReorgsAfterSettle prometheus.Counter
	Leader            prometheus.Gauge
	// The redemption account's funding, read by the leader only: a follower
	// drops the series when it stops leading, since the account is shared
	// and a value it kept would go stale the moment someone funds it.
	AccountBalanceWei      *prometheus.GaugeVec // account
	AccountRedemptionsLeft *prometheus.GaugeVec // account
}

// NewMetrics creates the worker's collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "redeemer", Name: name, Help: help})
	}
	vec := func(name, help, label string, values ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "redeemer", Name: name, Help: help}, []string{label})
		// Series that exist from the start at zero let rate() and
		// increase() see the first event.
		for _, value := range values {
			v.WithLabelValues(value)
		}
		return v
	}
	m := &Metrics{
		TicketsRedeemed: counter("tickets_redeemed_total", "Tickets redeemed by a confirmed transaction of this service."),
		TicketsFailed: vec("tickets_failed_total", "Tickets that ended unpaid, by reason class.", "reason",
			ReasonUsedElsewhere, ReasonReverts, ReasonMaxAttempts, ReasonSenderUnlocked),
		TicketsExpired: vec("tickets_expired_total", "Tickets that expired unredeemed, by reason class.", "reason",
			ReasonValidityPeriod),
		TicketsPostponed: vec("tickets_postponed_total", "Times a due ticket was held back for a retry, by reason class.", "reason",
			ReasonReverts, ReasonUneconomic, ReasonSenderFunds, ReasonNotRedeemed, ReasonNode),
		ValueRedeemedWei: counter("redeemed_value_wei_total", "Face value of redeemed tickets, in wei (approximate: float)."),
		GasUsed:          counter("gas_used_total", "Gas used by confirmed redemption transactions."),
		GasSpentWei:      counter("gas_spent_wei_total", "Fees paid by confirmed redemption transactions (gas used times effective price), in wei (approximate: float)."),
		TxAttempts:       counter("tx_attempts_total", "Redemption transactions signed and committed, first attempts and replacements."),
		TxReprices:       counter("tx_reprices_total", "Stuck redemption transactions replaced at the same nonce with higher fees."),
		Broadcasts: vec("tx_broadcasts_total", "Transaction broadcasts, by the node's answer.", "outcome",
			broadcastOutcomes()...),
		Redemptions: vec("redemptions_settled_total", "Redemptions made final, by final status.", "status",
			"confirmed", "dropped"),
		Reorgs: counter("reorgs_total", "Mined redemptions whose block a reorganization removed or moved before they were final."),
		ReorgsAfterSettle: counter("reorgs_after_settle_total",
			"Settled redemptions whose block stopped being canonical before it was finalized (re-opened when their tickets are unused): alert on any."),
		Leader: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "redeemer", Name: "leader",
			Help: "1 while this replica holds the leader lock and redeems tickets, 0 otherwise."}),
		AccountBalanceWei: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "redeemer", Name: "account_balance_wei",
			Help: "ETH balance of the account that pays for redemptions, in wei (approximate: float; leader only)."}, []string{"account"}),
		AccountRedemptionsLeft: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "redeemer", Name: "account_redemptions_left",
			Help: "Redemption transactions the account's balance pays for at the current fee cap and the gas of the last confirmed one (leader only)."},
			[]string{"account"}),
	}
	for _, c := range []prometheus.Collector{m.TicketsRedeemed, m.TicketsFailed, m.TicketsExpired, m.TicketsPostponed,
		m.ValueRedeemedWei, m.GasUsed, m.GasSpentWei, m.TxAttempts, m.TxReprices, m.Broadcasts, m.Redemptions,
		m.Reorgs, m.ReorgsAfterSettle, m.Leader, m.AccountBalanceWei, m.AccountRedemptionsLeft} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// SetLeader records whether this replica leads; it fits
// pipeline.LeaderOptions.OnChange.
func (m *Metrics) SetLeader(leader bool) {
	if m == nil {
		return
	}
	if leader {
		m.Leader.Set(1)
	} else {
		m.Leader.Set(0)
		m.AccountBalanceWei.Reset()
		m.AccountRedemptionsLeft.Reset()
	}
}

func broadcastOutcomes() []string {
	var out []string
	for o := chain.SendOK; o <= chain.SendFailed; o++ {
		out = append(out, outcomeLabel(o))
	}
	return out
}

func outcomeLabel(o chain.SendOutcome) string {
	switch o {
	case chain.SendOK:
		return "ok"
	case chain.SendAlreadyKnown:
		return "already_known"
	case chain.SendNonceTooLow:
		return "nonce_too_low"
	case chain.SendUnderpriced:
		return "underpriced"
	case chain.SendInsufficientFunds:
		return "insufficient_funds"
	default:
		return "failed"
	}
}

func (m *Metrics) broadcast(o chain.SendOutcome) {
	if m != nil {
		m.Broadcasts.WithLabelValues(outcomeLabel(o)).Inc()
	}
}

func (m *Metrics) failed(reason string) {
	if m != nil {
		m.TicketsFailed.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) expired(reason string) {
	if m != nil {
		m.TicketsExpired.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) postponed(reason string) {
	if m != nil {
		m.TicketsPostponed.WithLabelValues(reason).Inc()
	}
}

// unpaid records a ticket a final redemption did not pay: failed for good,
// or queued again.
func (m *Metrics) unpaid(status store.TicketStatus, reason string) {
	if status == store.StatusFailed {
		m.failed(reason)
	} else {
		m.postponed(reason)
	}
}

func (m *Metrics) attempt(reprice bool) {
	if m == nil {
		return
	}
	m.TxAttempts.Inc()
	if reprice {
		m.TxReprices.Inc()
	}
}

func (m *Metrics) reorg() {
	if m != nil {
		m.Reorgs.Inc()
	}
}

func (m *Metrics) reorgAfterSettle() {
	if m != nil {
		m.ReorgsAfterSettle.Inc()
	}
}

// settled records a final redemption: its status, the tickets it paid and
// their value, and the gas it cost (nil gasPrice: not ours to count, as for
// a dropped redemption whose nonce another transaction used).
func (m *Metrics) settled(status string, redeemed int, value *big.Int, gasUsed uint64, gasPrice *big.Int) {
	if m == nil {
		return
	}
	m.Redemptions.WithLabelValues(status).Inc()
	m.TicketsRedeemed.Add(float64(redeemed))
	m.ValueRedeemedWei.Add(weiFloat(value))
	if gasPrice != nil {
		m.GasUsed.Add(float64(gasUsed))
		m.GasSpentWei.Add(weiFloat(new(big.Int).Mul(new(big.Int).SetUint64(gasUsed), gasPrice)))
	}
}

// account records the redemption account's balance and how many
// redemptions it pays for.
func (m *Metrics) account(addr string, balance *big.Int, left float64) {
	if m == nil {
		return
	}
	m.AccountBalanceWei.WithLabelValues(addr).Set(weiFloat(balance))
	m.AccountRedemptionsLeft.WithLabelValues(addr).Set(left)
}

func weiFloat(v *big.Int) float64 {
	if v == nil {
		return 0
	}
	f, _ := new(big.Float).SetInt(v).Float64()
	return f
}
