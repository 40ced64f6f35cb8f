package rpc

import (
	"context"
	"sync"
	"time"

	"redeemer/store"
)

// Group commit. Every accepted ticket needs a durable commit before its OK,
// and a commit costs a WAL flush whatever it holds, so tickets arriving
// together are written together: while one statement is in flight the next
// callers queue up, and the next flush takes all of them in one statement.
// A lone caller still goes straight to the database, so latency at low load
// is one insert, as without batching.
const (
	// maxBatch bounds one statement, and with it the work lost to a
	// statement that fails (every caller in it retries).
	maxBatch = 256
	// maxFlushers is how many statements may be in flight at once. Two keep
	// the database busy while a finished batch's callers are answered,
	// without taking the whole pool from the worker and the float readers.
	maxFlushers = 2
)

// insertReq is one caller waiting for its ticket's commit.
type insertReq struct {
	ticket store.Admit
	done   chan struct{}
	res    store.Admitted
	err    error
}

// ticketBatcher turns concurrent inserts into shared multi-row statements.
// It has no goroutine of its own while idle: a caller that finds fewer than
// maxFlushers flushes running starts one, and a flush ends when nothing is
// waiting.
type ticketBatcher struct {
	st      ticketWriter
	timeout time.Duration

	mu       sync.Mutex
	pending  []*insertReq
	flushing int
}

// ticketWriter stores tickets; *store.Store implements it.
type ticketWriter interface {
	AdmitTickets(ctx context.Context, tickets []store.Admit) ([]store.Admitted, error)
}

func newTicketBatcher(st ticketWriter, timeout time.Duration) *ticketBatcher {
	return &ticketBatcher{st: st, timeout: timeout}
}

// insert stores t (within its cap) and reports what happened. It returns once
// the statement holding t has committed or failed, or when ctx ends; in the
// last case the ticket may still be committed by the statement it joined,
// which is harmless because inserts are idempotent.
func (b *ticketBatcher) insert(ctx context.Context, t store.Admit) (store.Admitted, error) {
	r := &insertReq{ticket: t, done: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, r)
	if b.flushing < maxFlushers {
		b.flushing++
		go b.flush()
	}
	b.mu.Unlock()
	select {
	case <-r.done:
		return r.res, r.err
	case <-ctx.Done():
		return store.Admitted{}, ctx.Err()
	}
}

// flush writes waiting tickets, a batch at a time, until none wait.
func (b *ticketBatcher) flush() {
	for {
		b.mu.Lock()
		n := min(len(b.pending), maxBatch)
		if n == 0 {
			b.flushing--
			b.mu.Unlock()
			return
		}
		batch := make([]*insertReq, n)
		copy(batch, b.pending)
		// Drop the taken requests without keeping the old array alive.
		b.pending = append(b.pending[:0:0], b.pending[n:]...)
		b.mu.Unlock()
		b.write(batch)
	}
}

// write runs one statement for batch and answers every caller in it. The
// statement's deadline is its own, not a caller's: a caller giving up must
// not fail the others.
func (b *ticketBatcher) write(batch []*insertReq) {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	tickets := make([]store.Admit, len(batch))
	for i, r := range batch {
		tickets[i] = r.ticket
	}
	res, err := b.st.AdmitTickets(ctx, tickets)
	if err != nil && len(batch) > 1 && !store.IsUnavailable(err) {
		// A row the schema refuses fails the whole statement; write each
		// alone so that one bad ticket costs only its own caller.
		for _, r := range batch {
			one, err := b.st.AdmitTickets(ctx, []store.Admit{r.ticket})
			if err == nil {
				r.res = one[0]
			}
			r.err = err
			close(r.done)
		}
		return
	}
	for i, r := range batch {
		if err == nil {
			r.res = res[i]
		}
		r.err = err
		close(r.done)
	}
}
