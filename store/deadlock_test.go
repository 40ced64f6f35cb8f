package store_test

import (
	"encoding/binary"
	"errors"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"redeemer/store"
	"redeemer/store/storetest"
)

// TestAmountChangesNeverDeadlock: claims and settlements (the leader's
// stages), endings and intake batches change two senders' amounts at the
// same time, each listing the senders in an order of its own. All of them
// take the senders' rows in one order, so none is rolled back as a
// deadlock victim, and the amounts stay exact.
func TestAmountChangesNeverDeadlock(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	a, b := addr(0xa1), addr(0xb1)
	account := addr(0xcc)
	var seq atomic.Int64
	var deadlocks, others atomic.Int64
	failed := func(err error) bool {
		var pgErr *pgconn.PgError
		switch {
		case err == nil:
			return false
		case errors.As(err, &pgErr) && pgErr.Code == "40P01":
			deadlocks.Add(1)
		default:
			if others.Add(1) == 1 {
				t.Errorf("unexpected error: %v", err)
			}
		}
		return true
	}
	admit := func(senders ...[20]byte) ([]int64, error) {
		in := make([]store.Admit, len(senders))
		for i, sender := range senders {
			in[i] = store.Admit{Ticket: numbered(int(seq.Add(1)), sender, 10), Cap: big.NewInt(1e15)}
		}
		if _, err := s.AdmitTickets(ctx, in); err != nil {
			return nil, err
		}
		ids := make([]int64, len(in))
		for i := range in {
			tk, err := s.TicketByHash(ctx, in[i].Ticket.TicketHash)
			if err != nil {
				return nil, err
			}
			ids[i] = tk.ID
		}
		return ids, nil
	}

	deadline := time.Now().Add(3 * time.Second)
	var wg sync.WaitGroup
	// The leader: claims a ticket of each sender, then drops the redemption
	// and queues both again.
	wg.Go(func() {
		for nonce := uint64(0); time.Now().Before(deadline); nonce++ {
			ids, err := admit(a, b)
			if failed(err) {
				continue
			}
			tx := fakeAttempt(1, 2)
			binary.BigEndian.PutUint64(tx.TxHash[24:], nonce+1)
			c, _, err := claimIn(ctx, s, 0, account, nonce, 10, tx, ids...)
			if failed(err) {
				continue
			}
			back := time.Now()
			failed(s.InTx(ctx, func(q store.Q) error {
				return q.Settle(ctx, store.Settlement{RedemptionID: c.RedemptionID, Status: store.RedemptionDropped,
					FinalBlock: 11, Outcome: "dropped", Tickets: []store.TicketOutcome{
						{TicketID: ids[0], Status: store.StatusQueued, Reason: "dropped", RetryAt: back},
						{TicketID: ids[1], Status: store.StatusQueued, Reason: "dropped", RetryAt: back}}})
			}))
		}
	})
	// Intake: batches naming b before a.
	wg.Go(func() {
		for time.Now().Before(deadline) {
			_, err := admit(b, a, b, a)
			failed(err)
		}
	})
	// Endings of tickets of both senders.
	wg.Go(func() {
		for time.Now().Before(deadline) {
			ids, err := admit(b, a)
			if failed(err) {
				continue
			}
			failed(s.InTx(ctx, func(q store.Q) error {
				_, err := q.EndQueuedTickets(ctx, []store.Ending{
					{TicketID: ids[0], Status: store.StatusFailed, Reason: "test"},
					{TicketID: ids[1], Status: store.StatusExpired, Reason: "test"}})
				return err
			}))
		}
	})
	wg.Wait()
	if n := deadlocks.Load(); n > 0 {
		t.Fatalf("%d transactions rolled back as deadlock victims", n)
	}
	checkAmounts(t, ctx, s, "after the concurrent changes")
}
