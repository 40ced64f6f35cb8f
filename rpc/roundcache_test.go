package rpc

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Callers arriving during a head read share it; a caller after it completes
// reads again, so a block mined in between is always seen.
func TestHeadReadsAreSharedNotReused(t *testing.T) {
	h := newHeadCache()
	var reads atomic.Int32
	release := make(chan struct{})
	head := atomic.Uint64{}
	head.Store(7)
	read := func(context.Context) (uint64, error) {
		reads.Add(1)
		<-release
		return head.Load(), nil
	}

	const callers = 8
	var wg sync.WaitGroup
	got := make([]uint64, callers)
	// The first caller starts the read; the rest join it.
	wg.Go(func() { got[0], _ = h.latest(context.Background(), read) })
	for reads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	for i := 1; i < callers; i++ {
		wg.Go(func() { got[i], _ = h.latest(context.Background(), read) })
	}
	// A caller that gives up while waiting is answered at once.
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		_, err := h.latest(ctx, read)
		gaveUp <- err
	}()
	cancel()
	if err := <-gaveUp; err == nil {
		t.Error("a cancelled caller got no error")
	}
	for joined := 0; joined < callers; { // the 7 joiners and the one who gave up
		time.Sleep(time.Millisecond)
		h.mu.Lock()
		joined = h.inFlight.joined
		h.mu.Unlock()
	}
	close(release)
	wg.Wait()
	if n := reads.Load(); n != 1 {
		t.Errorf("%d callers during one read made %d reads, want 1", callers, n)
	}
	for i, b := range got {
		if b != 7 {
			t.Errorf("caller %d got head %d, want 7", i, b)
		}
	}

	head.Store(8) // a block is mined after the shared read completed
	b, err := h.latest(context.Background(), read)
	if err != nil || b != 8 {
		t.Fatalf("a caller after the read got %d, %v; want a fresh read of 8", b, err)
	}
	if n := reads.Load(); n != 2 {
		t.Errorf("%d reads, want 2", n)
	}
}
