package monitor

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/store"
)

// gatedReader holds every sender read while gate is set, until release is
// closed: a node slow to answer for many senders.
type gatedReader struct {
	ChainReader
	gate    atomic.Bool
	held    chan struct{}
	release chan struct{}
}

func (g *gatedReader) SenderState(ctx context.Context, block uint64, sender, recipient common.Address) (store.SenderState, error) {
	if g.gate.Load() {
		select {
		case g.held <- struct{}{}:
		default:
		}
		select {
		case <-g.release:
		case <-ctx.Done():
			return store.SenderState{}, ctx.Err()
		}
	}
	return g.ChainReader.SenderState(ctx, block, sender, recipient)
}

// TestNewRoundAnnouncedBeforeSendersReread: a new round's protocol values
// are stored and announced (FloatAllSenders) while the senders are still
// being re-read, so streams need not wait for a node call per sender; the
// re-read then completes the head and leaves every sender equal to the
// chain.
func TestNewRoundAnnouncedBeforeSendersReread(t *testing.T) {
	e := newEnv(t, devchain.Options{})
	g := &gatedReader{ChainReader: e.m.reader, held: make(chan struct{}, 1), release: make(chan struct{})}
	e.m.reader = g
	senders := e.c.Senders()
	for _, s := range senders {
		if err := e.m.Track(e.ctx, s.Address); err != nil {
			t.Fatal(err)
		}
	}
	e.sync()

	conn, err := e.st.Pool().Acquire(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(e.ctx, "LISTEN "+store.FloatChannel); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.AdvanceRound(e.ctx); err != nil {
		t.Fatal(err)
	}
	head := e.c.Head()

	g.gate.Store(true)
	done := make(chan error, 1)
	go func() { done <- e.m.HandleHead(e.ctx, chain.HeadEvent{Head: head}) }()
	select {
	case <-g.held:
	case err := <-done:
		t.Fatalf("the new round's head was handled without re-reading a sender: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no sender re-read within 30s of the new round's head")
	}
	wctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	n, err := conn.Conn().WaitForNotification(wctx)
	cancel()
	if err != nil {
		t.Fatalf("no float notification while the senders were being re-read: %v", err)
	}
	if n.Payload != store.FloatAllSenders {
		t.Fatalf("notification %q while the senders were being re-read, want %q", n.Payload, store.FloatAllSenders)
	}
	p, err := e.st.StoredProtocolState(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	round, err := e.c.Protocol().CurrentRound(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.CurrentRound.Cmp(round) != 0 {
		t.Fatalf("announced protocol state is at round %s, the chain at %s", p.CurrentRound, round)
	}

	g.gate.Store(false)
	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	e.delivered = &head
	for _, s := range senders {
		e.checkAgainstChain("after the new round", s.Address)
		if fs := e.floatState(s.Address); fs.State.Round.Cmp(round) != 0 {
			t.Fatalf("sender %s stored at round %s after the new round %s was handled", s.Address, fs.State.Round, round)
		}
	}
}
