package pipeline_test

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"testing"
	"time"

	"redeemer/pipeline"
	"redeemer/store"
	"redeemer/store/storetest"
)

// retentionEnv is a database with rows of every kind retention prunes,
// some past retention and some not.
type retentionEnv struct {
	t   *testing.T
	ctx context.Context
	st  *store.Store
}

func randomHash(t *testing.T) [32]byte {
	var v [32]byte
	if _, err := rand.Read(v[:]); err != nil {
		t.Fatal(err)
	}
	return v
}

// tickets stores n queued tickets of sender created in round and returns
// their ids.
func (e *retentionEnv) tickets(sender [20]byte, round int64, n int) []int64 {
	e.t.Helper()
	ts := make([]store.NewTicket, n)
	for i := range ts {
		ts[i] = store.NewTicket{TicketHash: randomHash(e.t), Sender: sender, Recipient: [20]byte{0x4e},
			FaceValue: big.NewInt(1000), WinProb: big.NewInt(1), SenderNonce: uint32(i), RecipientRand: randomHash(e.t),
			RecipientRandHash: randomHash(e.t), Sig: make([]byte, 65), CreationRound: round,
			CreationRoundBlockHash: randomHash(e.t), ParamsExpirationBlock: 10}
	}
	if _, err := e.st.InsertTickets(e.ctx, ts); err != nil {
		e.t.Fatalf("insert tickets: %v", err)
	}
	ids := make([]int64, n)
	for i, tk := range ts {
		row, err := e.st.TicketByHash(e.ctx, tk.TicketHash)
		if err != nil {
			e.t.Fatal(err)
		}
		ids[i] = row.ID
	}
	return ids
}

// exec runs fixture SQL: backdating rows is the one thing no store
// operation does.
func (e *retentionEnv) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := e.st.Pool().Exec(e.ctx, sql, args...); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

func (e *retentionEnv) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.st.Pool().QueryRow(e.ctx, sql, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// redemption claims ticket id into a redemption with attempts signed
// transactions.
func (e *retentionEnv) redemption(id int64, sender [20]byte, attempts int) int64 {
	e.t.Helper()
	var rid int64
	tx := func() store.AttemptTx {
		return store.AttemptTx{TxHash: randomHash(e.t), Raw: []byte{1, 2, 3}, GasLimit: 300_000,
			FeeCap: big.NewInt(2), TipCap: big.NewInt(1)}
	}
	err := e.st.InTx(e.ctx, func(q store.Q) error {
		nonce, err := q.TakeNonce(e.ctx, [20]byte{0xac}, 0)
		if err != nil {
			return err
		}
		c, err := q.InsertRedemption(e.ctx, store.NewRedemption{Account: [20]byte{0xac}, Nonce: nonce, HeadNumber: 5,
			Tx: tx(), Tickets: []store.ClaimedTicket{{ID: id, Sender: sender, FaceValue: big.NewInt(1000),
				ExpectedPayout: big.NewInt(1000)}}})
		if err != nil {
			return err
		}
		rid = c.RedemptionID
		for range attempts - 1 {
			if _, err := q.AddAttempt(e.ctx, rid, tx(), 6, 0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatalf("redemption: %v", err)
	}
	return rid
}

type tableCounts struct{ events, attempts, senders, redeemed int }

func (e *retentionEnv) counts() tableCounts {
	return tableCounts{
		events:   e.count(`SELECT count(*) FROM ticket_events`),
		attempts: e.count(`SELECT count(*) FROM tx_attempts`),
		senders:  e.count(`SELECT count(*) FROM senders`),
		redeemed: e.count(`SELECT count(*) FROM redeemed_tickets`),
	}
}

// TestRetentionPrunesInBatches: the retention stage deletes, a small batch
// per table per run, exactly the rows past retention, asks for another run
// while a batch came back full, and is fenced by the term.
func TestRetentionPrunesInBatches(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e := &retentionEnv{t: t, ctx: ctx, st: storetest.NewStore(t)}
	const batch = 3
	senders := [][20]byte{{1}, {2}, {3}, {4}, {5}}

	// ticket_events: 7 of expired tickets, backdated (prunable); 2 of
	// expired tickets, fresh; 3 of tickets still open (a claim, a claim
	// dropped back to the queue), backdated.
	old := e.tickets(senders[0], 1, 7)
	fresh := e.tickets(senders[1], 1, 2)
	e.exec(`UPDATE tickets SET creation_round = 9 WHERE id = ANY($1)`, fresh) // not expired yet
	if _, err := e.st.Q().ExpireQueued(ctx, 5, 100, func(store.Ticket) string { return "validity period over" }); err != nil {
		t.Fatal(err)
	}
	e.exec(`UPDATE ticket_events SET at = now() - interval '2 hours'`)
	e.exec(`UPDATE tickets SET creation_round = 1 WHERE id = ANY($1)`, fresh)
	if ended, err := e.st.Q().ExpireQueued(ctx, 5, 100, func(store.Ticket) string { return "validity period over" }); err != nil || len(ended) != 2 {
		t.Fatalf("expire the fresh ones: %v, %v", ended, err)
	}
	open := e.tickets(senders[2], 9, 2)
	// tx_attempts: a dropped redemption with 5 attempts, backdated
	// (prunable); a pending one with 2, backdated.
	dropped := e.redemption(open[0], senders[2], 5)
	if err := e.st.InTx(ctx, func(q store.Q) error {
		return q.Settle(ctx, store.Settlement{RedemptionID: dropped, Status: store.RedemptionDropped, FinalBlock: 9,
			Outcome: "nonce taken", Tickets: []store.TicketOutcome{{TicketID: open[0], Status: store.StatusQueued,
				Reason: "dropped", RetryAt: time.Now()}}})
	}); err != nil {
		t.Fatal(err)
	}
	e.redemption(open[1], senders[2], 2)
	e.exec(`UPDATE tx_attempts SET created_at = now() - interval '2 hours'`)
	e.exec(`UPDATE ticket_events SET at = now() - interval '2 hours' WHERE ticket_id = ANY($1)`, open)

	// senders: 5 tracked, 4 not wanted for 10 days, one of those with an
	// open ticket (kept).
	states := make([]store.SenderState, len(senders))
	for i, s := range senders {
		states[i] = store.SenderState{Sender: s, Deposit: big.NewInt(1), WithdrawRound: new(big.Int),
			FundsRemaining: big.NewInt(1), ClaimedInRound: new(big.Int), ClaimedByRecipient: new(big.Int),
			Round: big.NewInt(10), Block: 100}
	}
	if _, err := e.st.SaveChainState(ctx, store.ChainState{Senders: states, Protocol: &store.ProtocolState{
		Recipient: [20]byte{0x4e}, RecipientActive: true, PoolSize: big.NewInt(1), CurrentRound: big.NewInt(10),
		LastInitializedRound: big.NewInt(10), TicketValidityPeriod: big.NewInt(2), RoundLength: big.NewInt(100),
		Block: 100, L1Block: 100}}); err != nil {
		t.Fatal(err)
	}
	e.exec(`UPDATE senders SET wanted_at = now() - interval '10 days' WHERE sender = ANY($1)`,
		[][]byte{senders[0][:], senders[1][:], senders[2][:], senders[3][:]})

	// redeemed_tickets: two per round 1 to 7; current round 10, validity
	// period 2, two rounds more kept: rounds below 6 go (10 rows).
	var redeemed []store.RedeemedTicket
	for round := int64(1); round <= 7; round++ {
		for range 2 {
			redeemed = append(redeemed, store.RedeemedTicket{TicketHash: randomHash(t), Sender: senders[4],
				Round: round, Block: uint64(round * 100), BlockHash: randomHash(t), TxHash: randomHash(t)})
		}
	}
	if err := e.st.InTx(ctx, func(q store.Q) error { _, err := q.RecordRedeemed(ctx, redeemed); return err }); err != nil {
		t.Fatal(err)
	}

	before := e.counts()
	want := tableCounts{events: before.events - 7, attempts: before.attempts - 5, senders: 2, redeemed: 4}
	if before.events != 7+2+3 || before.attempts != 7 || before.senders != 5 || before.redeemed != 14 {
		t.Fatalf("fixture: %+v", before)
	}

	log, logs := newLogger(t)
	r := pipeline.NewRetention(e.st, pipeline.RetentionOptions{Keep: time.Hour, SenderIdle: 24 * time.Hour, Batch: batch,
		RedeemedRounds: 2, Logger: log})
	if r.Name() != "retention" {
		t.Errorf("name %q", r.Name())
	}

	// A term that is over deletes nothing.
	stale, err := pipeline.NewTestLease(ctx, e.st, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.ReleaseLease(ctx, stale.Term()); err != nil {
		t.Fatal(err)
	}
	lease, err := pipeline.NewTestLease(ctx, e.st, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, pipeline.Run{Lease: stale}); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("run under a term that is over: %v, want ErrFenced", err)
	}
	if got := e.counts(); got != before {
		t.Fatalf("a fenced run deleted rows: %+v, had %+v", got, before)
	}

	// Batches of 3: events 7 → 3,3,1; attempts 5 → 3,2; senders 3 → 3,0;
	// redeemed 10 → 3,3,3,1. Four runs, the last with no full batch.
	var again []bool
	prev := before
	for len(again) < 10 {
		res, err := r.Run(ctx, pipeline.Run{Lease: lease})
		if err != nil {
			t.Fatalf("run %d: %v", len(again), err)
		}
		got := e.counts()
		for name, d := range map[string]int{"ticket_events": prev.events - got.events, "tx_attempts": prev.attempts - got.attempts,
			"senders": prev.senders - got.senders, "redeemed_tickets": prev.redeemed - got.redeemed} {
			if d < 0 || d > batch {
				t.Errorf("run %d deleted %d %s, want at most a batch of %d", len(again), d, name, batch)
			}
		}
		prev = got
		again = append(again, res.Again)
		if !res.Again {
			break
		}
	}
	if len(again) != 4 || !again[0] || !again[1] || !again[2] || again[3] {
		t.Errorf("Again per run: %v, want [true true true false]", again)
	}
	if got := e.counts(); got != want {
		t.Errorf("after pruning: %+v, want %+v", got, want)
	}
	// What stayed is what retention must keep.
	if n := e.count(`SELECT count(*) FROM ticket_events WHERE ticket_id = ANY($1)`, old); n != 0 {
		t.Errorf("%d old events of expired tickets left", n)
	}
	if n := e.count(`SELECT count(*) FROM ticket_events WHERE ticket_id = ANY($1)`, fresh); n != 2 {
		t.Errorf("%d fresh events of expired tickets left, want 2", n)
	}
	if n := e.count(`SELECT count(*) FROM ticket_events WHERE ticket_id = ANY($1)`, open); n != 3 {
		t.Errorf("%d events of open tickets left, want their 3 (claimed, dropped back; claimed)", n)
	}
	if n := e.count(`SELECT count(*) FROM tx_attempts WHERE redemption_id = $1`, dropped); n != 0 {
		t.Errorf("%d attempts of the dropped redemption left", n)
	}
	for i, keep := range []bool{false, false, true, false, true} {
		if n := e.count(`SELECT count(*) FROM senders WHERE sender = $1`, senders[i][:]); (n == 1) != keep {
			t.Errorf("sender %d tracked: %t, want %t", i, n == 1, keep)
		}
	}
	if n := e.count(`SELECT count(*) FROM redeemed_tickets WHERE round < 6`); n != 0 {
		t.Errorf("%d redeemed tickets of expired rounds left", n)
	}
	if logs.count("pruned rows past retention") != 4 {
		t.Errorf("pruning logged %d times, want once per run that deleted", logs.count("pruned rows past retention"))
	}

	// Nothing left: a run deletes nothing and wants no other.
	if res, err := r.Run(ctx, pipeline.Run{Lease: lease}); err != nil || res.Again || e.counts() != want {
		t.Errorf("run with nothing to prune: %+v, %v", res, err)
	}

	// A full batch of any one table is enough to ask for another run.
	round := int64(100)
	for name, add := range map[string]func(){
		"ticket_events": func() {
			ids := e.tickets([20]byte{0xe0}, 1, batch)
			if _, err := e.st.Q().ExpireQueued(ctx, 5, 100, func(store.Ticket) string { return "validity period over" }); err != nil {
				t.Fatal(err)
			}
			e.exec(`UPDATE ticket_events SET at = now() - interval '2 hours' WHERE ticket_id = ANY($1)`, ids)
		},
		"tx_attempts": func() {
			ids := e.tickets([20]byte{0xa0}, 9, 1)
			rid := e.redemption(ids[0], [20]byte{0xa0}, batch)
			if err := e.st.InTx(ctx, func(q store.Q) error {
				return q.Settle(ctx, store.Settlement{RedemptionID: rid, Status: store.RedemptionDropped, Outcome: "nonce taken",
					Tickets: []store.TicketOutcome{{TicketID: ids[0], Status: store.StatusFailed, Reason: "gave up"}}})
			}); err != nil {
				t.Fatal(err)
			}
			e.exec(`UPDATE tx_attempts SET created_at = now() - interval '2 hours' WHERE redemption_id = $1`, rid)
			// Its events are of a final ticket too: not this table's turn.
			e.exec(`DELETE FROM ticket_events WHERE ticket_id = $1`, ids[0])
		},
		"senders": func() {
			var states []store.SenderState
			for i := range batch {
				states = append(states, store.SenderState{Sender: [20]byte{0x5e, byte(i)}, Deposit: big.NewInt(1),
					WithdrawRound: new(big.Int), FundsRemaining: big.NewInt(1), ClaimedInRound: new(big.Int),
					ClaimedByRecipient: new(big.Int), Round: big.NewInt(10), Block: 101})
			}
			if _, err := e.st.SaveChainState(ctx, store.ChainState{Senders: states}); err != nil {
				t.Fatal(err)
			}
			e.exec(`UPDATE senders SET wanted_at = now() - interval '10 days' WHERE state_block = 101`)
		},
		"redeemed_tickets": func() {
			var rs []store.RedeemedTicket
			for range batch {
				round++
				rs = append(rs, store.RedeemedTicket{TicketHash: randomHash(t), Sender: senders[4], Round: 2,
					Block: uint64(round), BlockHash: randomHash(t), TxHash: randomHash(t)})
			}
			if err := e.st.InTx(ctx, func(q store.Q) error { _, err := q.RecordRedeemed(ctx, rs); return err }); err != nil {
				t.Fatal(err)
			}
		},
	} {
		add()
		first, err := r.Run(ctx, pipeline.Run{Lease: lease})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		second, err := r.Run(ctx, pipeline.Run{Lease: lease})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !first.Again || second.Again {
			t.Errorf("a full batch of %s only: Again %t then %t, want true then false", name, first.Again, second.Again)
		}
		if got := e.counts(); got != want {
			t.Errorf("after pruning a batch of %s: %+v, want %+v", name, got, want)
		}
	}
}
