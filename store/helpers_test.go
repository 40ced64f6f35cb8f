package store_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"redeemer/store"
)

// claimTickets makes the claim stage's transaction: it locks the tickets
// still queued among ids, takes the account's nonce (at least chainNonce)
// and stores the redemption with its first attempt, each ticket expected to
// pay its face value. It fails the test when a ticket could not be locked.
func claimTickets(t *testing.T, ctx context.Context, s *store.Store, account [20]byte, chainNonce, head uint64,
	tx store.AttemptTx, ids ...int64) (store.Claimed, uint64) {
	t.Helper()
	c, nonce, err := claimIn(ctx, s, 0, account, chainNonce, head, tx, ids...)
	if err != nil {
		t.Fatal(err)
	}
	return c, nonce
}

// claimIn is claimTickets returning its error; a non-zero term runs it
// fenced by that term.
func claimIn(ctx context.Context, s *store.Store, term store.Term, account [20]byte, chainNonce, head uint64,
	tx store.AttemptTx, ids ...int64) (c store.Claimed, nonce uint64, err error) {
	run := s.InTx
	if term != 0 {
		run = func(ctx context.Context, fn func(q store.Q) error) error { return s.Fenced(ctx, term, fn) }
	}
	err = run(ctx, func(q store.Q) error {
		locked, err := q.LockQueuedTickets(ctx, ids)
		if err != nil {
			return err
		}
		if len(locked) != len(ids) {
			return fmt.Errorf("locked %d of %d tickets", len(locked), len(ids))
		}
		if nonce, err = q.TakeNonce(ctx, account, chainNonce); err != nil {
			return err
		}
		r := store.NewRedemption{Account: account, Nonce: nonce, HeadNumber: head, Term: term, Tx: tx}
		for _, tk := range locked {
			r.Tickets = append(r.Tickets, store.ClaimedTicket{ID: tk.ID, Sender: tk.Sender,
				FaceValue: tk.FaceValue, ExpectedPayout: tk.FaceValue})
		}
		c, err = q.InsertRedemption(ctx, r)
		return err
	})
	return c, nonce, err
}

// settle runs Settle in its own transaction.
func settle(t *testing.T, ctx context.Context, s *store.Store, st store.Settlement) {
	t.Helper()
	if err := s.InTx(ctx, func(q store.Q) error { return q.Settle(ctx, st) }); err != nil {
		t.Fatal(err)
	}
}

// insertTicket stores tk and returns its id.
func insertTicket(t *testing.T, ctx context.Context, s *store.Store, tk store.NewTicket) int64 {
	t.Helper()
	if _, err := s.InsertTicket(ctx, tk); err != nil {
		t.Fatal(err)
	}
	got, err := s.TicketByHash(ctx, tk.TicketHash)
	if err != nil {
		t.Fatal(err)
	}
	return got.ID
}

// ticketByID reads a ticket by its id.
func ticketByID(t *testing.T, ctx context.Context, s *store.Store, id int64) *store.Ticket {
	t.Helper()
	var hash []byte
	if err := s.Pool().QueryRow(ctx, `SELECT ticket_hash FROM tickets WHERE id = $1`, id).Scan(&hash); err != nil {
		t.Fatalf("ticket %d: %v", id, err)
	}
	tk, err := s.TicketByHash(ctx, [32]byte(hash))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// checkAmounts fails the test unless, for every sender, the stored in-limbo
// amount equals the face values of its redeeming tickets and the stored
// queued amount those of its queued tickets (invariant 2 of
// docs/design.md). A sender without a sender_limbo row counts as zero.
func checkAmounts(t *testing.T, ctx context.Context, s *store.Store, step string) {
	t.Helper()
	rows, err := s.Pool().Query(ctx, `
		WITH actual AS (
			SELECT sender,
				coalesce(sum(face_value) FILTER (WHERE status = 'redeeming'), 0) AS limbo,
				coalesce(sum(face_value) FILTER (WHERE status = 'queued'), 0) AS queued
			FROM tickets GROUP BY sender
		)
		SELECT encode(coalesce(a.sender, l.sender), 'hex'),
			coalesce(a.limbo, 0)::text, coalesce(l.amount, 0)::text,
			coalesce(a.queued, 0)::text, coalesce(l.queued_amount, 0)::text
		FROM actual a FULL JOIN sender_limbo l ON l.sender = a.sender
		WHERE coalesce(a.limbo, 0) <> coalesce(l.amount, 0) OR coalesce(a.queued, 0) <> coalesce(l.queued_amount, 0)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var bad []string
	for rows.Next() {
		var sender, limbo, storedLimbo, queued, storedQueued string
		if err := rows.Scan(&sender, &limbo, &storedLimbo, &queued, &storedQueued); err != nil {
			t.Fatal(err)
		}
		bad = append(bad, fmt.Sprintf("0x%s: in limbo %s stored %s, queued %s stored %s",
			sender, limbo, storedLimbo, queued, storedQueued))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("%s: amounts disagree with the tickets:\n%s", step, strings.Join(bad, "\n"))
	}
}

// amounts reads a sender's stored queued and in-limbo amounts.
func amounts(t *testing.T, ctx context.Context, s *store.Store, sender [20]byte) (queued, limbo *big.Int) {
	t.Helper()
	m, err := s.Q().SenderAmounts(ctx, [][20]byte{sender})
	if err != nil {
		t.Fatal(err)
	}
	return m[sender].Queued, m[sender].InLimbo
}

// eventsOf returns a ticket's events, oldest first.
func eventsOf(t *testing.T, ctx context.Context, s *store.Store, id int64) []store.TicketEvent {
	t.Helper()
	d, err := s.TicketDetail(ctx, itoa(id))
	if err != nil {
		t.Fatal(err)
	}
	return d.Events
}

// numbered is sampleTicket with its hash made unique by n, from sender,
// with face value face wei.
func numbered(n int, sender [20]byte, face int64) store.NewTicket {
	tk := sampleTicket(byte(n))
	binary.BigEndian.PutUint64(tk.TicketHash[24:], uint64(n))
	tk.Sender, tk.FaceValue = sender, big.NewInt(face)
	return tk
}
