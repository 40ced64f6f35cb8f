package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"redeemer/store"
	"redeemer/store/storetest"
)

// linkedHeads builds n heads numbered from first, each the child of the one
// before; the first one's parent is parent. branch goes into every hash so
// that two branches over the same numbers differ.
func linkedHeads(first uint64, n int, parent [32]byte, branch byte) []store.Head {
	heads := make([]store.Head, n)
	for i := range heads {
		num := first + uint64(i)
		h := store.Head{
			Number:     num,
			ParentHash: parent,
			L1Number:   1000 + num/4, // Arbitrum: several L2 blocks per L1 block
			Time:       time.Unix(1_700_000_000+int64(num), 0).UTC(),
		}
		h.Hash[0] = branch
		h.Hash[1] = 0x5e
		for b := range 8 {
			h.Hash[24+b] = byte(num >> (8 * (7 - b)))
		}
		heads[i] = h
		parent = h.Hash
	}
	return heads
}

// storedHeads returns every stored head, lowest first.
func storedHeads(t *testing.T, ctx context.Context, s *store.Store) []store.Head {
	t.Helper()
	heads, err := s.RecentHeads(ctx, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(heads)-1; i < j; i, j = i+1, j-1 {
		heads[i], heads[j] = heads[j], heads[i]
	}
	return heads
}

func assertHeads(t *testing.T, got, want []store.Head) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d heads stored, want %d:\n got %s\nwant %s", len(got), len(want), headList(got), headList(want))
	}
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) {
			t.Errorf("head %d time = %v, want %v", want[i].Number, got[i].Time, want[i].Time)
		}
		g, w := got[i], want[i]
		g.Time, w.Time = time.Time{}, time.Time{}
		if g != w {
			t.Errorf("head %d:\n got %+v\nwant %+v", want[i].Number, g, w)
		}
	}
}

func headList(hs []store.Head) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = fmt.Sprintf("%d:%x", h.Number, h.Hash[:2])
	}
	return strings.Join(parts, " ")
}

// recordTips stores each head in its own transaction, as the heads stage
// does on every poll.
func recordTips(t *testing.T, ctx context.Context, s *store.Store, window int, heads ...store.Head) {
	t.Helper()
	for _, h := range heads {
		if err := s.InTx(ctx, func(q store.Q) error { return q.RecordTip(ctx, h, window) }); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHeadsRoundTripAndOrder(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)

	if got, err := s.RecentHeads(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("RecentHeads on an empty table = %v, %v; want none", got, err)
	}
	if _, err := s.HeadByNumber(ctx, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("HeadByNumber on an empty table: err = %v, want ErrNotFound", err)
	}

	// The first head may have any parent: the service starts at whatever
	// the node reports as latest.
	chain := linkedHeads(1_000_000, 5, [32]byte{0xaa}, 1)
	recordTips(t, ctx, s, 256, chain...)

	recent, err := s.RecentHeads(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	assertHeads(t, recent, []store.Head{chain[4], chain[3], chain[2]})

	got, err := s.HeadByNumber(ctx, chain[1].Number)
	if err != nil {
		t.Fatal(err)
	}
	assertHeads(t, []store.Head{*got}, chain[1:2])
	if got.Time.Location() != time.UTC {
		t.Errorf("time location = %v, want UTC", got.Time.Location())
	}

	if _, err := s.RecentHeads(ctx, 0); err == nil {
		t.Error("RecentHeads with limit 0 succeeded")
	}
	err = s.InTx(ctx, func(q store.Q) error { return q.RecordTip(ctx, store.Head{Number: 1 << 63}, 5) })
	if err == nil {
		t.Error("RecordTip with a number beyond bigint succeeded")
	}
	err = s.InTx(ctx, func(q store.Q) error {
		return q.RecordTip(ctx, store.Head{Number: 1, L1Number: 1 << 63}, 5)
	})
	if err == nil {
		t.Error("RecordTip with an L1 number beyond bigint succeeded")
	}
	assertHeads(t, storedHeads(t, ctx, s), chain)
}

// A tip at or below a stored height means the node moved back to, or
// replaced, that height: the rows from there up go, the ones below stay.
func TestRecordTipReplacesHeightsAtAndAbove(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	old := linkedHeads(100, 6, [32]byte{}, 1) // 100..105
	recordTips(t, ctx, s, 256, old...)

	// A branch forks after 102; its first block is the new tip.
	fork := linkedHeads(103, 3, old[2].Hash, 2) // 103..105
	recordTips(t, ctx, s, 256, fork[0])
	assertHeads(t, storedHeads(t, ctx, s), append(append([]store.Head{}, old[:3]...), fork[0]))
	recordTips(t, ctx, s, 256, fork[1:]...)
	assertHeads(t, storedHeads(t, ctx, s), append(append([]store.Head{}, old[:3]...), fork...))

	// The old branch's hashes are free again: a chain may reorg back to it,
	// and a node behind a load balancer may answer with a lower tip.
	recordTips(t, ctx, s, 256, old[3])
	assertHeads(t, storedHeads(t, ctx, s), old[:4])

	// The same hash recorded at another height (a node that served a
	// stale number for it) leaves one row, at the newest height.
	moved := old[1]
	moved.Number = 104
	recordTips(t, ctx, s, 256, moved)
	got := storedHeads(t, ctx, s)
	assertHeads(t, got, []store.Head{old[0], old[2], old[3], moved})
}

func TestRecordTipKeepsWindow(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	chain := linkedHeads(50, 10, [32]byte{}, 1) // 50..59
	recordTips(t, ctx, s, 256, chain[:4]...)
	recordTips(t, ctx, s, 3, chain[4:]...)
	// The tip and the 3 blocks below it.
	assertHeads(t, storedHeads(t, ctx, s), chain[6:])

	// A tip far ahead (the service was down) drops everything older than
	// the window.
	far := linkedHeads(1000, 1, [32]byte{0xfa}, 1)
	recordTips(t, ctx, s, 3, far...)
	assertHeads(t, storedHeads(t, ctx, s), far)
}

// RecordTip writes in the caller's transaction: a failure later in it
// leaves the stored heads as they were.
func TestRecordTipRollsBackWithItsTransaction(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	old := linkedHeads(1, 5, [32]byte{}, 1)
	recordTips(t, ctx, s, 256, old...)
	boom := errors.New("later step failed")
	err := s.InTx(ctx, func(q store.Q) error {
		if err := q.RecordTip(ctx, linkedHeads(3, 1, old[1].Hash, 2)[0], 256); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the later step's error", err)
	}
	assertHeads(t, storedHeads(t, ctx, s), old)
}

func TestChainHeadsConstraints(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	bytesOf := func(n int, b byte) string { return fmt.Sprintf(`decode(repeat('%02x', %d), 'hex')`, b, n) }
	insert := func(number, hash, parent, l1 string) error {
		_, err := s.Pool().Exec(ctx, fmt.Sprintf(`INSERT INTO chain_heads
			(number, hash, parent_hash, l1_number, block_time) VALUES (%s, %s, %s, %s, now())`,
			number, hash, parent, l1))
		return err
	}
	if err := insert("1", bytesOf(32, 1), bytesOf(32, 0), "1"); err != nil {
		t.Fatalf("valid row rejected: %v", err)
	}
	for _, c := range []struct {
		number, hash, parent, l1, constraint, code string
	}{
		{"-1", bytesOf(32, 2), bytesOf(32, 0), "1", "chain_heads_number_range", "23514"},
		{"2", bytesOf(31, 2), bytesOf(32, 0), "1", "chain_heads_hash_len", "23514"},
		{"2", bytesOf(32, 2), bytesOf(33, 0), "1", "chain_heads_parent_hash_len", "23514"},
		{"2", bytesOf(32, 2), bytesOf(32, 0), "-1", "chain_heads_l1_number_range", "23514"},
		{"2", bytesOf(32, 1), bytesOf(32, 0), "1", "chain_heads_hash_key", "23505"},
		{"1", bytesOf(32, 2), bytesOf(32, 0), "1", "chain_heads_pkey", "23505"},
	} {
		err := insert(c.number, c.hash, c.parent, c.l1)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != c.code || pgErr.ConstraintName != c.constraint {
			t.Errorf("%s: err = %v, want SQLSTATE %s on %s", c.constraint, err, c.code, c.constraint)
		}
	}
}
