package chain

import (
	"math/big"
	"time"
)

// Backoff is the one retry schedule of the service: a wait that starts at
// Min and doubles with each consecutive failure, up to Max. Every loop that
// retries (stages, the leader lease, intake, the LISTEN connection, the
// request budget) takes its waits from one.
type Backoff struct {
	Min, Max time.Duration
}

// Delay is the wait after failures consecutive failures (0 for none).
func (b Backoff) Delay(failures int) time.Duration {
	if failures <= 0 || b.Min <= 0 {
		return 0
	}
	d := b.Min
	for i := 1; i < failures && d < b.Max; i++ {
		d *= 2
	}
	if b.Max > 0 {
		d = min(d, b.Max)
	}
	return d
}

// OrZero is v, or a new zero for nil: a nil amount must not reach an
// encoder or a comparison that refuses it.
func OrZero(v *big.Int) *big.Int {
	if v == nil {
		return new(big.Int)
	}
	return v
}

// MaxBig returns a copy of the larger of a and b; nil counts as zero.
func MaxBig(a, b *big.Int) *big.Int {
	a, b = OrZero(a), OrZero(b)
	if a.Cmp(b) >= 0 {
		return new(big.Int).Set(a)
	}
	return new(big.Int).Set(b)
}
