package rpc

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/monitor/monitortest"
	"redeemer/rpc/pb"
	"redeemer/store"
)

// TestAdmissionRules judges tickets by each admission rule on the dev
// chain, the chain moving between cases the way senders move it and the
// stored state refreshed the way the leader refreshes it. A refusal must
// carry its gRPC code, name its rule in the message and in the metric
// label, and store nothing; a ticket just inside a rule's bound is stored.
func TestAdmissionRules(t *testing.T) {
	t.Parallel()
	in := newIntake(t, floatEnvOpts{chain: devchain.Options{RoundLength: 10, Senders: 3},
		intake: Config{ExposurePercent: 150}})
	ctx := in.ctx
	s0, s1, s2, owner := in.c.Senders()[0], in.c.Senders()[1], in.c.Senders()[2], in.c.Owner()
	recipient := in.c.Recipient().Address
	advance := func() {
		t.Helper()
		if _, err := in.c.AdvanceRound(ctx); err != nil {
			t.Fatal(err)
		}
		in.lead.sync()
	}
	// What s2 can pay the recipient now, from the chain's own answers.
	info, err := in.c.Protocol().SenderInfo(ctx, s2.Address)
	if err != nil {
		t.Fatal(err)
	}
	alloc, err := in.c.Protocol().ClaimableReserve(ctx, s2.Address, recipient)
	if err != nil {
		t.Fatal(err)
	}
	canPay := new(big.Int).Add(info.Deposit, alloc)
	capped := new(big.Int).Div(new(big.Int).Mul(canPay, big.NewInt(150)), big.NewInt(100))
	withdrawRound := func() string {
		t.Helper()
		info, err := in.c.Protocol().SenderInfo(ctx, s1.Address)
		if err != nil {
			t.Fatal(err)
		}
		return "round " + info.WithdrawRound.String()
	}
	// expiring sets the expiration block relative to the ticket's window.
	expiring := func(at func(start, end int64) int64) func(*chain.Ticket) {
		return func(tk *chain.Ticket) {
			start, end := in.c.window(t, tk.CreationRound)
			tk.ParamsExpirationBlock = big.NewInt(at(start, end))
		}
	}

	cases := []struct {
		name string
		// before moves the chain (and the leader) before the ticket is made.
		before func()
		from   devchain.Account
		face   *big.Int
		mutate func(*chain.Ticket)
		// code OK: stored; otherwise refused by rule, its message carrying
		// parts.
		code  codes.Code
		rule  string
		parts func() []string
	}{
		{name: "sender never seen, without deposit or reserve", from: owner,
			code: codes.FailedPrecondition, rule: "sender_unfunded",
			parts: func() []string { return []string{owner.Address.Hex()} }},
		{name: "tracked sender without deposit or reserve (refusal confirmed on a fresh read)", from: owner,
			before: func() {
				if err := in.r.mon.Track(ctx, owner.Address); err != nil {
					t.Fatal(err)
				}
			},
			code: codes.FailedPrecondition, rule: "sender_unfunded"},

		{name: "expiration block one before its window", from: s0,
			mutate: expiring(func(start, _ int64) int64 { return start - 1 }),
			code:   codes.InvalidArgument, rule: "expiration_block"},
		{name: "expiration block at the start of its window", from: s0,
			mutate: expiring(func(start, _ int64) int64 { return start })},
		{name: "expiration block at the end of its window", from: s0,
			mutate: expiring(func(_, end int64) int64 { return end - 1 })},
		{name: "expiration block in the round the ticket expires in", from: s0,
			mutate: expiring(func(_, end int64) int64 { return end }),
			code:   codes.InvalidArgument, rule: "expiration_block"},

		{name: "exposure within the cap", from: s2, face: canPay},
		{name: "exposure beyond the cap", from: s2, face: canPay,
			code: codes.ResourceExhausted, rule: "exposure",
			parts: func() []string {
				return []string{s2.Address.Hex(), new(big.Int).Mul(canPay, big.NewInt(2)).String() + " wei queued",
					"face value " + canPay.String(), "cap of " + capped.String() + " wei", "150%",
					canPay.String() + " wei it can pay now"}
			}},
		{name: "exposure up to the cap exactly", from: s2, face: new(big.Int).Sub(capped, canPay)},
		// A deposit the leader has not followed yet: the stored cap is
		// reached, the chain's is not; the refusal is confirmed on a fresh
		// read and does not stand.
		{name: "exposure beyond the stored cap, within the cap of a deposit not yet followed", from: s2,
			before: func() { in.c.FundDeposit(s2, new(big.Int).Set(canPay)) },
			face:   new(big.Int).Set(canPay)},
		{name: "exposure beyond the cap of the fresh deposit too", from: s2,
			face: new(big.Int).Mul(canPay, big.NewInt(3)),
			code: codes.ResourceExhausted, rule: "exposure"},

		{name: "sender tracked before it unlocks", from: s1},
		{name: "unlock ending after the next round", from: s1,
			before: func() {
				if err := in.c.Unlock(s1); err != nil {
					t.Fatal(err)
				}
				in.lead.sync()
			}},
		{name: "unlock ending with the next round", from: s1, before: advance,
			code: codes.FailedPrecondition, rule: "sender_unlocking",
			parts: func() []string { return []string{s1.Address.Hex(), withdrawRound()} }},
		{name: "unlock over, funds not withdrawn", from: s1, before: advance,
			code: codes.FailedPrecondition, rule: "sender_unlocking",
			parts: func() []string { return []string{withdrawRound()} }},
		{name: "funds withdrawn", from: s1,
			before: func() {
				if err := in.c.Withdraw(s1); err != nil {
					t.Fatal(err)
				}
				in.lead.sync()
			},
			code: codes.FailedPrecondition, rule: "sender_unfunded"},
	}
	for _, tc := range cases {
		if !t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			face := tc.face
			if face == nil {
				face = big.NewInt(1e15)
			}
			m, hash := in.c.ticket(t, tc.from, face, tc.mutate)
			rows := in.count(t)
			_, err := in.r.client.QueueTicket(ctx, m)
			if tc.code == codes.OK {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !in.stored(t, hash) || in.count(t) != rows+1 {
					t.Fatal("accepted but not stored once")
				}
				return
			}
			var parts []string
			if tc.parts != nil {
				parts = tc.parts()
			}
			in.refused(t, err, hash, rows, tc.code, tc.rule, parts...)
		}) {
			t.FailNow() // later cases build on the chain and rows of earlier ones
		}
	}
	if !in.tracked(t, s0.Address) || !in.tracked(t, s2.Address) {
		t.Fatal("senders whose tickets were stored are not tracked")
	}
}

// TestNoNodeCallsInSteadyState: tickets of a tracked sender are judged from
// the state the leader stores, without a node call; a funded sender never
// seen costs one read for its first ticket and none for the next ones.
func TestNoNodeCallsInSteadyState(t *testing.T) {
	t.Parallel()
	in := newIntake(t, floatEnvOpts{})
	ctx := in.ctx
	s0, s1 := in.c.Senders()[0], in.c.Senders()[1]
	first, _ := in.c.ticket(t, s0, big.NewInt(1e15), nil)
	if _, err := in.r.client.QueueTicket(ctx, first); err != nil {
		t.Fatal(err)
	}
	if !in.tracked(t, s0.Address) {
		t.Fatal("a sender whose ticket was stored is not tracked")
	}

	const n = 50
	tickets := make([]*pb.Ticket, n)
	for i := range tickets {
		tickets[i], _ = in.c.ticket(t, s0, big.NewInt(1e15), nil)
	}
	in.proxy.Reset()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for w := range 5 {
		wg.Go(func() {
			for i := w; i < n; i += 5 {
				_, errs[i] = in.r.client.QueueTicket(ctx, tickets[i])
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := in.count(t); got != n+1 {
		t.Fatalf("tickets = %d, want %d", got, n+1)
	}
	if st := in.proxy.Stats(); st.Calls != 0 {
		t.Fatalf("%d tickets of a tracked sender cost %d node calls: %v", n, st.Calls, st.Methods)
	}

	// A funded sender nobody has seen: one read of the head and of its
	// state (two calls in one batch) for the first ticket.
	next := make([]*pb.Ticket, 11)
	for i := range next {
		next[i], _ = in.c.ticket(t, s1, big.NewInt(1e15), nil)
	}
	in.proxy.Reset()
	if _, err := in.r.client.QueueTicket(ctx, next[0]); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"eth_getBlockByNumber": 1, "eth_call": 2}
	if st := in.proxy.Stats(); !maps.Equal(st.Methods, want) || st.Batches != 1 {
		t.Fatalf("the first ticket of a new sender cost %v in %d batches, want one head read and one state read %v",
			st.Methods, st.Batches, want)
	}
	if !in.tracked(t, s1.Address) {
		t.Fatal("the new sender is not tracked after its ticket was stored")
	}
	in.proxy.Reset()
	for _, m := range next[1:] {
		if _, err := in.r.client.QueueTicket(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if st := in.proxy.Stats(); st.Calls != 0 {
		t.Fatalf("the new sender's next tickets cost %d node calls: %v", st.Calls, st.Methods)
	}
}

// TestStaleStateNeverCostsAValidTicket: state the leader has not brought up
// to date yet may refuse nothing the chain allows. A ticket of a round the
// leader has not stored, and a ticket of a sender that funded after its
// (empty) state was stored, are accepted on fresh reads.
func TestStaleStateNeverCostsAValidTicket(t *testing.T) {
	t.Parallel()
	in := newIntake(t, floatEnvOpts{chain: devchain.Options{RoundLength: 10}})
	ctx := in.ctx
	s0, owner := in.c.Senders()[0], in.c.Owner()
	m, _ := in.c.ticket(t, s0, big.NewInt(1e15), nil)
	if _, err := in.r.client.QueueTicket(ctx, m); err != nil {
		t.Fatal(err)
	}

	stored, err := in.r.st.StoredProtocolState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	round, err := in.c.AdvanceRound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The leader has not run: the stored round is the old one.
	if now, err := in.r.st.StoredProtocolState(ctx); err != nil || now.CurrentRound.Cmp(stored.CurrentRound) != 0 ||
		now.CurrentRound.Cmp(round) >= 0 {
		t.Fatalf("stored round %v (%v), want the old round %s", now.CurrentRound, err, stored.CurrentRound)
	}
	calls := in.nodeCalls()
	m, hash := in.c.ticket(t, s0, big.NewInt(1e15), nil)
	if _, err := in.r.client.QueueTicket(ctx, m); err != nil {
		t.Fatalf("a ticket of the round the leader has not stored yet: %v", err)
	}
	if !in.stored(t, hash) {
		t.Fatal("accepted ticket not stored")
	}
	if in.nodeCalls() == calls {
		t.Fatal("the ticket of the new round was accepted without reading the chain")
	}

	// A sender tracked without funds, which funds on chain; the leader has
	// not run since.
	if err := in.r.mon.Track(ctx, owner.Address); err != nil {
		t.Fatal(err)
	}
	refused, refusedHash := in.c.ticket(t, owner, big.NewInt(1e15), nil)
	_, err = in.r.client.QueueTicket(ctx, refused)
	in.refused(t, err, refusedHash, in.count(t), codes.FailedPrecondition, "sender_unfunded")
	in.c.FundDeposit(owner, monitortest.Ether(1))
	if fs, err := in.r.st.FloatState(ctx, owner.Address); err != nil || fs.State == nil || fs.State.Deposit.Sign() != 0 {
		t.Fatalf("stored state of the sender: %+v, %v; want tracked without deposit", fs.State, err)
	}
	m, hash = in.c.ticket(t, owner, big.NewInt(1e15), nil)
	if _, err := in.r.client.QueueTicket(ctx, m); err != nil {
		t.Fatalf("a ticket of a sender that funded after its state was stored: %v", err)
	}
	if !in.stored(t, hash) {
		t.Fatal("accepted ticket not stored")
	}
}

// TestPeerRefusalBudget: a client that keeps sending refused tickets is
// refused at once (peer_refusals) once its budget is spent, without costing
// another node call, even for a valid ticket; another client is served as
// before.
func TestPeerRefusalBudget(t *testing.T) {
	t.Parallel()
	const burst = 4
	in := newIntake(t, floatEnvOpts{intake: Config{RefusalsPerSecond: 0.01, RefusalBurst: burst}})
	ctx := in.ctx
	s0 := in.c.Senders()[0]
	noisy, other := in.clientFrom(in.r, "127.0.0.1"), in.clientFrom(in.r, "127.0.0.2")
	wrongHash := func(tk *chain.Ticket) { tk.CreationRoundBlockHash = common.HexToHash("0x99") }

	valid, _ := in.c.ticket(t, s0, big.NewInt(1e15), nil)
	if _, err := noisy.QueueTicket(ctx, valid); err != nil {
		t.Fatal(err)
	}
	rows := in.count(t)
	served := 0
	for {
		if served > burst {
			t.Fatalf("%d refusals served in full with a budget of %d", served, burst)
		}
		m, hash := in.c.ticket(t, s0, big.NewInt(1e15), wrongHash)
		calls := in.nodeCalls()
		_, err := noisy.QueueTicket(ctx, m)
		if rule, _ := RejectedRule(err); rule == "peer_refusals" {
			in.refused(t, err, hash, rows, codes.ResourceExhausted, "peer_refusals")
			break
		}
		// A block hash the stored one contradicts is refused only after
		// the chain confirms it.
		in.refused(t, err, hash, rows, codes.InvalidArgument, "creation_round_block_hash")
		if in.nodeCalls() == calls {
			t.Fatal("a refusal by stored state was not confirmed on the chain")
		}
		served++
	}
	if served != burst {
		// Confirming a refusal and making it is one unit, not two.
		t.Fatalf("%d refusals confirmed and served with a budget of %d; each must cost one unit", served, burst)
	}

	calls := in.nodeCalls()
	for range 5 {
		m, hash := in.c.ticket(t, s0, big.NewInt(1e15), wrongHash)
		_, err := noisy.QueueTicket(ctx, m)
		in.refused(t, err, hash, rows, codes.ResourceExhausted, "peer_refusals")
	}
	m, hash := in.c.ticket(t, s0, big.NewInt(1e15), nil)
	_, err := noisy.QueueTicket(ctx, m)
	in.refused(t, err, hash, rows, codes.ResourceExhausted, "peer_refusals")
	if n := in.nodeCalls(); n != calls {
		t.Fatalf("a client over its budget cost %d node calls", n-calls)
	}

	// The other client's budget is its own.
	bad, badHash := in.c.ticket(t, s0, big.NewInt(1e15), wrongHash)
	_, err = other.QueueTicket(ctx, bad)
	in.refused(t, err, badHash, rows, codes.InvalidArgument, "creation_round_block_hash")
	good, goodHash := in.c.ticket(t, s0, big.NewInt(1e15), nil)
	if _, err := other.QueueTicket(ctx, good); err != nil {
		t.Fatalf("another client's valid ticket: %v", err)
	}
	if !in.stored(t, goodHash) {
		t.Fatal("another client's valid ticket was not stored")
	}
}

// TestStrangerFloatBudget: float requests about senders nobody tracks are
// answered from chain reads and leave nothing stored; those that find no
// funds are charged to a budget per client address, beyond which every
// request about a stranger is refused; requests about tracked or funded
// senders are not charged.
func TestStrangerFloatBudget(t *testing.T) {
	t.Parallel()
	const burst = 3
	in := newIntake(t, floatEnvOpts{floats: FloatOptions{StrangersPerSecond: 0.01, StrangerBurst: burst}})
	ctx := in.ctx
	s0, s1 := in.c.Senders()[0].Address, in.c.Senders()[1].Address
	if err := in.r.mon.Track(ctx, s0); err != nil {
		t.Fatal(err)
	}
	noisy, other := in.clientFrom(in.r, "127.0.0.1"), in.clientFrom(in.r, "127.0.0.2")
	randomSender := func() []byte {
		var a common.Address
		rand.Read(a[:])
		return a.Bytes()
	}

	// A funded sender nobody tracks costs no budget, however often it is
	// asked about: there are only as many as the chain holds.
	for i := range 3 * burst {
		if _, err := noisy.MaxFloat(ctx, &pb.MaxFloatReq{Sender: s1.Bytes()}); err != nil {
			t.Fatalf("funded stranger, request %d: %v", i, err)
		}
	}
	for i := range burst {
		res, err := noisy.MaxFloat(ctx, &pb.MaxFloatReq{Sender: randomSender()})
		if err != nil {
			t.Fatalf("stranger %d within the budget: %v", i, err)
		}
		if len(res.GetMaxFloat()) != 0 {
			t.Fatalf("an address without funds has float %x", res.GetMaxFloat())
		}
	}
	calls := in.nodeCalls()
	_, err := noisy.MaxFloat(ctx, &pb.MaxFloatReq{Sender: randomSender()})
	wantCode(t, err, codes.ResourceExhausted, "does not track")
	_, err = noisy.SenderInfo(ctx, &pb.MaxFloatReq{Sender: randomSender()})
	wantCode(t, err, codes.ResourceExhausted, "does not track")
	stream, err := noisy.MonitorMaxFloat(ctx, &pb.MaxFloatReq{Sender: randomSender()})
	if err == nil {
		_, err = stream.Recv()
	}
	wantCode(t, err, codes.ResourceExhausted, "does not track")
	if n := in.nodeCalls(); n != calls {
		t.Fatalf("requests over the budget cost %d node calls", n-calls)
	}
	// A tracked sender costs no budget.
	if _, err := noisy.MaxFloat(ctx, &pb.MaxFloatReq{Sender: s0.Bytes()}); err != nil {
		t.Fatalf("MaxFloat of a tracked sender with the stranger budget spent: %v", err)
	}

	// Another client is answered, from the chain: a funded sender nobody
	// tracks has its float.
	res, err := other.MaxFloat(ctx, &pb.MaxFloatReq{Sender: s1.Bytes()})
	if err != nil {
		t.Fatal(err)
	}
	want, err := in.c.Protocol().ClaimableReserve(ctx, s1, in.c.Recipient().Address)
	if err != nil {
		t.Fatal(err)
	}
	if got := new(big.Int).SetBytes(res.GetMaxFloat()); got.Cmp(want) != 0 || want.Sign() == 0 {
		t.Fatalf("MaxFloat of an untracked funded sender = %s, want %s", got, want)
	}

	tracked, err := in.r.st.Q().TrackedSenders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tracked) != 1 || tracked[0] != s0 {
		t.Fatalf("tracked senders %x, want only %s: float requests about strangers stored them", tracked, s0)
	}
}

// TestRejectedRule maps every kind of QueueTicket error to its metric
// label, and keeps errors that are not the caller's out of the metric.
func TestRejectedRule(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		rule string
		ok   bool
	}{
		{status.Error(codes.InvalidArgument, rejectedPrefix+"creation_round: round 9 is after the current round 8"), "creation_round", true},
		{status.Error(codes.InvalidArgument, rejectedPrefix+"expiration_block: 5 is outside the window"), "expiration_block", true},
		{status.Error(codes.FailedPrecondition, refusedPrefix+"sender_unfunded: sender 0x01 has neither deposit nor reserve"), "sender_unfunded", true},
		{status.Error(codes.FailedPrecondition, refusedPrefix+"sender_unlocking: sender 0x01 unlocks"), "sender_unlocking", true},
		{status.Error(codes.ResourceExhausted, refusedPrefix+"exposure: sender 0x01 would have 5 wei"), "exposure", true},
		{status.Error(codes.ResourceExhausted, refusedPrefix+"peer_refusals: too many"), "peer_refusals", true},
		{status.Error(codes.ResourceExhausted, "grpc: received message larger than max (20000 vs. 16384)"), "other", true},
		{status.Error(codes.InvalidArgument, malformedPrefix+": proto: cannot parse invalid wire-format data"), "malformed", true},
		{status.Error(codes.PermissionDenied, ErrForeignRecipient.Error()), "recipient", true},
		{status.Error(codes.InvalidArgument, rejectedPrefix+"Not A Rule: x"), "other", true},
		{status.Error(codes.InvalidArgument, rejectedPrefix+fmt.Sprintf("%041d: too long", 0)), "other", true},
		{status.Error(codes.FailedPrecondition, "no rule named"), "other", true},
		{status.Error(codes.Unavailable, "cannot judge the ticket now; not stored, retry"), "", false},
		{status.Error(codes.Internal, "storing ticket failed"), "", false},
		{status.Error(codes.Canceled, "request canceled"), "", false},
		{errors.New("not a status"), "", false},
		{nil, "", false},
	} {
		rule, ok := RejectedRule(c.err)
		if rule != c.rule || ok != c.ok {
			t.Errorf("RejectedRule(%v) = %q, %v; want %q, %v", c.err, rule, ok, c.rule, c.ok)
		}
	}
}

// countingSenders counts what intake asks about senders' state.
type countingSenders struct {
	Senders
	mu    sync.Mutex
	reads map[common.Address]int
}

func (c *countingSenders) FloatState(ctx context.Context, sender common.Address) (store.FloatState, bool, error) {
	c.mu.Lock()
	c.reads[sender]++
	c.mu.Unlock()
	return c.Senders.FloatState(ctx, sender)
}

func (c *countingSenders) count(sender common.Address) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads[sender]
}

// TestTrackedSenderStateReadOncePerChange: intake reads a tracked sender's
// stored state once and reuses it for every later ticket until a change of
// that sender is announced; then the next ticket is judged by the new
// state. The reuse window is set far beyond the test, so only the
// announcement can make intake read again.
func TestTrackedSenderStateReadOncePerChange(t *testing.T) {
	t.Parallel()
	counter := &countingSenders{reads: map[common.Address]int{}}
	in := newIntake(t, floatEnvOpts{intake: Config{SenderReuse: time.Hour},
		senders: func(s Senders) Senders { counter.Senders = s; return counter }})
	ctx := in.ctx
	s0, s1 := in.c.Senders()[0], in.c.Senders()[1]
	queue := func(from devchain.Account) {
		t.Helper()
		m, _ := in.c.ticket(t, from, big.NewInt(1e15), nil)
		if _, err := in.r.client.QueueTicket(ctx, m); err != nil {
			t.Fatalf("ticket of %s: %v", from.Address, err)
		}
	}
	for range 20 {
		queue(s0)
	}
	// The first ticket finds a sender nobody tracks (read from chain, then
	// stored: tracked); the second reads the stored row; the rest reuse it.
	if n := counter.count(s0.Address); n != 2 {
		t.Fatalf("20 tickets of one sender read its state %d times, want twice", n)
	}
	queue(s1)
	queue(s1)

	// s0's deposit grows; the leader stores it and announces it: the next
	// tickets of s0 are judged by the stored row read again.
	in.c.FundDeposit(s0, big.NewInt(1e18))
	in.lead.sync()
	waitUntil(t, 10*time.Second, "s0's change announced and its state read again", func() bool {
		queue(s0)
		return counter.count(s0.Address) > 2
	})
	// Another sender's change left s1's cached state alone.
	queue(s1)
	if n := counter.count(s1.Address); n != 2 {
		t.Fatalf("s1's state read %d times; another sender's announcement must not drop it", n)
	}
}
