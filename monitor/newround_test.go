package monitor

import (
	"context"
	"testing"
	"time"

	"redeemer/chain/devchain"
	"redeemer/store"
)

// TestNewRoundAnnouncedBeforeSendersReread: the run of the senders stage
// that sees a new round stores and announces (FloatAllSenders) the new
// protocol values without reading a sender, so streams need not wait for a
// read per sender; floats are already right, since claims of an older round
// count as zero. The reread stage then reads every sender at the new round.
func TestNewRoundAnnouncedBeforeSendersReread(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{chain: devchain.Options{Senders: 3}})
	senders := e.c.Senders()
	recipient := e.c.Recipient().Address
	e.follow()
	e.track(senders...)
	// A claim in the old round, which the new round resets.
	if err := e.c.Redeem(senders[0], recipient, e.floatState(senders[0].Address).State.Deposit); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Redeem(senders[0], recipient, e.floatState(senders[0].Address).State.Deposit); err != nil {
		t.Fatal(err)
	}
	old := e.follow()
	// The first run's reread (it started at the tip) is done before the
	// round changes.
	e.rereadAll(old)
	if got := e.reread.Pending(); got != 0 {
		t.Fatalf("reread still pending (%d) before the new round", got)
	}
	if fs := e.floatState(senders[0].Address); fs.State.ClaimedByRecipient.Sign() == 0 {
		t.Fatal("no reserve claimed in the old round")
	}
	oldRound := e.protocolState().CurrentRound

	conn, err := e.st.Pool().Acquire(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(e.ctx, "LISTEN "+store.FloatChannel); err != nil {
		t.Fatal(err)
	}
	round, err := e.c.AdvanceRound(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	tip := e.c.Head()
	e.node.takeReads()
	e.mustRunSenders(tip)
	reads := e.node.takeReads()
	if len(reads) != 1 || !reads[0].protocol {
		t.Fatalf("the new round's run read %+v, want the protocol values only", reads)
	}
	wctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	n, err := conn.Conn().WaitForNotification(wctx)
	cancel()
	if err != nil {
		t.Fatalf("no float notification for the new round: %v", err)
	}
	if n.Payload != store.FloatAllSenders {
		t.Fatalf("notification %q for the new round, want %q", n.Payload, store.FloatAllSenders)
	}
	if p := e.protocolState(); p.CurrentRound.Cmp(round) != 0 {
		t.Fatalf("announced protocol state is at round %s, the chain at %s", p.CurrentRound, round)
	}
	for _, s := range senders {
		fs := e.floatState(s.Address)
		if fs.State.Round.Cmp(oldRound) != 0 || fs.State.Block > old.Number {
			t.Fatalf("sender %s was read in the new round's run (round %s, block %d)", s.Name, fs.State.Round, fs.State.Block)
		}
		// The float is right before the sender is read again.
		e.checkAgainstChain("announced, not yet re-read", s.Address)
	}

	if got := e.reread.Pending(); got == 0 || got > tip.Number {
		t.Fatalf("no reread of the senders read before the new round was requested (pending %d)", got)
	}
	e.rereadAll(tip)
	for _, s := range senders {
		e.checkAgainstChain("after the reread", s.Address)
		if fs := e.floatState(s.Address); fs.State.Round.Cmp(round) != 0 || fs.State.Block != tip.Number {
			t.Fatalf("sender %s stored at round %s (block %d) after the reread at the new round %s", s.Name,
				fs.State.Round, fs.State.Block, round)
		}
	}
}
