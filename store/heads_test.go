package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
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

func ptr[T any](v T) *T { return &v }

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
	if err := s.AdvanceHeads(ctx, nil, chain[:2], 256); err != nil {
		t.Fatal(err)
	}
	for _, h := range chain[2:] {
		if err := s.AdvanceHeads(ctx, nil, []store.Head{h}, 256); err != nil {
			t.Fatal(err)
		}
	}

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
	if err := s.AdvanceHeads(ctx, nil, nil, 0); err == nil {
		t.Error("AdvanceHeads with keep 0 succeeded")
	}
	if err := s.AdvanceHeads(ctx, nil, []store.Head{{Number: 1 << 63}}, 5); err == nil {
		t.Error("AdvanceHeads with a number beyond bigint succeeded")
	}
}

func TestAdvanceHeadsRefusesHeadsThatDoNotLink(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	chain := linkedHeads(10, 3, [32]byte{}, 1)
	if err := s.AdvanceHeads(ctx, nil, chain, 256); err != nil {
		t.Fatal(err)
	}
	next := linkedHeads(13, 2, chain[2].Hash, 1)
	orphan := linkedHeads(13, 1, [32]byte{0xde, 0xad}, 1)[0]

	for name, c := range map[string]struct {
		removeFrom *uint64
		heads      []store.Head
	}{
		"wrong parent":                  {nil, []store.Head{orphan}},
		"gap":                           {nil, next[1:]},
		"repeat of the cursor":          {nil, chain[2:]},
		"broken inside the batch":       {nil, []store.Head{next[0], orphan}},
		"reorg whose parent is removed": {ptr[uint64](12), next},
	} {
		err := s.AdvanceHeads(ctx, c.removeFrom, c.heads, 256)
		if !errors.Is(err, store.ErrHeadsNotLinked) {
			t.Errorf("%s: err = %v, want ErrHeadsNotLinked", name, err)
		}
	}
	assertHeads(t, storedHeads(t, ctx, s), chain)
}

func TestAdvanceHeadsReorgReplacesBranch(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	old := linkedHeads(100, 6, [32]byte{}, 1) // 100..105
	if err := s.AdvanceHeads(ctx, nil, old, 256); err != nil {
		t.Fatal(err)
	}
	// A longer branch forks after 102.
	fork := linkedHeads(103, 5, old[2].Hash, 2) // 103..107
	if err := s.AdvanceHeads(ctx, ptr[uint64](103), fork[:1], 256); err != nil {
		t.Fatal(err)
	}
	want := append(append([]store.Head{}, old[:3]...), fork[0])
	assertHeads(t, storedHeads(t, ctx, s), want)
	if err := s.AdvanceHeads(ctx, nil, fork[1:], 256); err != nil {
		t.Fatal(err)
	}
	assertHeads(t, storedHeads(t, ctx, s), append(append([]store.Head{}, old[:3]...), fork...))

	// The old branch's hashes are free again: a chain may reorg back to it.
	back := old[3:]
	if err := s.AdvanceHeads(ctx, ptr[uint64](103), back, 256); err != nil {
		t.Fatalf("reorg back to the first branch: %v", err)
	}
	assertHeads(t, storedHeads(t, ctx, s), old)

	// Removing without adding just rewinds the cursor.
	if err := s.AdvanceHeads(ctx, ptr[uint64](104), nil, 256); err != nil {
		t.Fatal(err)
	}
	assertHeads(t, storedHeads(t, ctx, s), old[:4])
}

func TestAdvanceHeadsIsAtomic(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	old := linkedHeads(1, 5, [32]byte{}, 1)
	if err := s.AdvanceHeads(ctx, nil, old, 256); err != nil {
		t.Fatal(err)
	}
	// The replacement reuses the hash of a head that stays (block 1), so the
	// insert fails after the delete already ran: the delete must roll back.
	bad := linkedHeads(3, 1, old[1].Hash, 2)
	bad[0].Hash = old[0].Hash
	err := s.AdvanceHeads(ctx, ptr[uint64](3), bad, 256)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Fatalf("err = %v, want unique violation 23505", err)
	}
	assertHeads(t, storedHeads(t, ctx, s), old)
}

func TestAdvanceHeadsPrunes(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	chain := linkedHeads(50, 10, [32]byte{}, 1)
	if err := s.AdvanceHeads(ctx, nil, chain[:4], 256); err != nil {
		t.Fatal(err)
	}
	for _, h := range chain[4:] {
		if err := s.AdvanceHeads(ctx, nil, []store.Head{h}, 3); err != nil {
			t.Fatal(err)
		}
	}
	assertHeads(t, storedHeads(t, ctx, s), chain[7:])

	// Shrinking the window prunes even when nothing is added.
	if err := s.AdvanceHeads(ctx, nil, nil, 1); err != nil {
		t.Fatal(err)
	}
	assertHeads(t, storedHeads(t, ctx, s), chain[9:])
}

func TestAdvanceHeadsConcurrentWritersDoNotInterleave(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := storetest.NewStore(t)
	base := linkedHeads(1, 1, [32]byte{}, 1)
	if err := s.AdvanceHeads(ctx, nil, base, 256); err != nil {
		t.Fatal(err)
	}
	const writers = 6
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			errs[i] = s.AdvanceHeads(ctx, nil, linkedHeads(2, 1, base[0].Hash, byte(10+i)), 256)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d writers recorded block 2, want exactly 1 (errors %v)", ok, errs)
	}
	if got := storedHeads(t, ctx, s); len(got) != 2 || got[1].ParentHash != base[0].Hash {
		t.Fatalf("stored heads after the race: %s", headList(got))
	}
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
