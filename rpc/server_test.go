package rpc

import (
	"context"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/rpc/pb"
	"redeemer/store"
	"redeemer/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// serveOnLoopback serves svc on a free loopback port until the test ends
// and returns the address.
func serveOnLoopback(t testing.TB, svc *Server, tlsCfg TLSConfig) string {
	t.Helper()
	return serveAllowed(t, svc, tlsCfg, nil)
}

// serveAllowed is serveOnLoopback behind an allow list (nil: everyone).
func serveAllowed(t testing.TB, svc *Server, tlsCfg TLSConfig, allow []*net.IPNet) string {
	t.Helper()
	srv, err := NewGRPCServer("127.0.0.1:0", tlsCfg, svc)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(AllowListener(lis, allow))
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func wantCode(t testing.TB, err error, code codes.Code, msgPart string) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code {
		t.Fatalf("code = %s (%v), want %s", st.Code(), err, code)
	}
	if msgPart != "" && !strings.Contains(st.Message(), msgPart) {
		t.Fatalf("message %q does not name %q", st.Message(), msgPart)
	}
}

// intake is a floatEnv seen from the ticket side: the first replica, its
// client, and the tickets it stored.
type intake struct {
	*floatEnv
	r *floatReplica
}

// newIntake starts one replica with the chain state stored by a leader
// the test drives, its node calls counted by a proxy.
func newIntake(t *testing.T, o floatEnvOpts) *intake {
	t.Helper()
	o.manual, o.proxied = true, true
	e := newFloatEnv(t, o)
	return &intake{floatEnv: e, r: e.replicas[0]}
}

// count returns the number of stored tickets.
func (in *intake) count(t testing.TB) int64 {
	t.Helper()
	n, err := in.r.st.CountTickets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// stored reports whether the ticket is stored.
func (in *intake) stored(t testing.TB, hash common.Hash) bool {
	t.Helper()
	_, err := in.r.st.TicketByHash(context.Background(), hash)
	switch {
	case err == nil:
		return true
	case errors.Is(err, store.ErrNotFound):
		return false
	}
	t.Fatal(err)
	return false
}

// tracked reports whether the service tracks sender.
func (in *intake) tracked(t testing.TB, sender common.Address) bool {
	t.Helper()
	fs, err := in.r.st.FloatState(context.Background(), sender)
	if err != nil {
		t.Fatal(err)
	}
	return fs.State != nil
}

// nodeCalls is the JSON-RPC calls the replicas sent the node so far.
func (in *intake) nodeCalls() int64 { return in.proxy.Stats().Calls }

// refused checks that err refuses the ticket with code, naming rule (and
// the parts given) in its message and in its metric label, and that the
// ticket left no row behind.
func (in *intake) refused(t testing.TB, err error, hash common.Hash, rowsBefore int64, code codes.Code, rule string, parts ...string) {
	t.Helper()
	prefix := rejectedPrefix
	if code != codes.InvalidArgument {
		prefix = refusedPrefix
	}
	wantCode(t, err, code, prefix+rule+": ")
	msg := status.Convert(err).Message()
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Fatalf("message %q does not carry %q", msg, p)
		}
	}
	if label, ok := RejectedRule(err); !ok || label != rule {
		t.Fatalf("RejectedRule = %q, %v; want %q", label, ok, rule)
	}
	if in.stored(t, hash) {
		t.Fatalf("refused ticket %s was stored", hash)
	}
	if n := in.count(t); n != rowsBefore {
		t.Fatalf("tickets = %d after a refusal, want %d", n, rowsBefore)
	}
}

func TestQueueTicketStoresOnceAndRejectsInvalid(t *testing.T) {
	t.Parallel()
	in := newIntake(t, floatEnvOpts{tls: true})
	ctx := in.ctx
	s0, s1 := in.c.Senders()[0], in.c.Senders()[1]
	conn := dialFrom(t, in.r.addr, "127.0.0.1", in.r.dialCreds())
	client := pb.NewTicketRedeemerClient(conn)

	round, _ := in.c.round(t)
	start, end := in.c.window(t, round)
	m, hash := in.c.ticket(t, s0, big.NewInt(1e15), nil)
	if _, err := client.QueueTicket(ctx, m); err != nil {
		t.Fatalf("valid ticket: %v", err)
	}
	got, err := in.r.st.TicketByHash(ctx, hash)
	if err != nil {
		t.Fatalf("stored ticket: %v", err)
	}
	if got.Status != store.StatusQueued || common.Address(got.Sender) != s0.Address ||
		got.FaceValue.Cmp(big.NewInt(1e15)) != 0 || got.ParamsExpirationBlock != start+(end-start)/2 ||
		got.CreationRound != round {
		t.Fatalf("stored ticket wrong: %+v", got)
	}
	if _, err := client.QueueTicket(ctx, m); err != nil {
		t.Fatalf("same ticket again: %v", err)
	}
	if n := in.count(t); n != 1 {
		t.Fatalf("tickets = %d after queueing the same ticket twice, want 1", n)
	}

	cases := []struct {
		name   string
		mutate func(*chain.Ticket)
		code   codes.Code
		msg    string
	}{
		{"foreign recipient", func(tk *chain.Ticket) { tk.Recipient = s1.Address }, codes.PermissionDenied, "recipient"},
		{"future creation round", func(tk *chain.Ticket) { tk.CreationRound = round + 1 }, codes.InvalidArgument, "creation_round"},
		{"wrong creation round block hash", func(tk *chain.Ticket) { tk.CreationRoundBlockHash = common.HexToHash("0x99") }, codes.InvalidArgument, "creation_round_block_hash"},
		{"losing ticket", func(tk *chain.Ticket) { tk.WinProb = big.NewInt(1) }, codes.InvalidArgument, "winning"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, hash := in.c.ticket(t, s0, big.NewInt(1e15), tc.mutate)
			_, err := client.QueueTicket(ctx, m)
			wantCode(t, err, tc.code, tc.msg)
			if in.stored(t, hash) {
				t.Fatal("a rejected ticket was stored")
			}
			if n := in.count(t); n != 1 {
				t.Fatalf("a rejected ticket was stored: %d rows", n)
			}
		})
	}

	t.Run("malformed bytes", func(t *testing.T) {
		// 0x0a 0xff...: field 1, length-delimited, with a length running past
		// the end of the message.
		err := conn.Invoke(ctx, "/net.TicketRedeemer/QueueTicket", &rawMessage{0x0a, 0xff, 0xff, 0x01}, new(rawMessage),
			grpc.ForceCodecV2(rawCodec{}))
		wantCode(t, err, codes.InvalidArgument, "protobuf")
	})
	t.Run("oversized message", func(t *testing.T) {
		m, _ := in.c.ticket(t, s0, big.NewInt(1e15), nil)
		m.TicketParams.Seed = make([]byte, MaxMessageBytes+1)
		_, err := client.QueueTicket(ctx, m)
		wantCode(t, err, codes.ResourceExhausted, "")
	})
	if n := in.count(t); n != 1 {
		t.Fatalf("tickets = %d, want 1", n)
	}
}

// TestQueueTicketUsedAndStale covers the rules that need the chain to move:
// a ticket the chain shows redeemed (in redeemed_tickets, as the leader
// records it), and one whose creation round has aged past the validity
// period.
func TestQueueTicketUsedAndStale(t *testing.T) {
	t.Parallel()
	in := newIntake(t, floatEnvOpts{chain: devchain.Options{RoundLength: 5}})
	ctx := in.ctx
	s0 := in.c.Senders()[0]

	// The sender is tracked: its first ticket was stored.
	first, _ := in.c.ticket(t, s0, big.NewInt(1e15), nil)
	if _, err := in.r.client.QueueTicket(ctx, first); err != nil {
		t.Fatal(err)
	}

	// Redeem a ticket directly on chain; the leader records it from the
	// WinningTicketRedeemed log. Then offer it to the service.
	m, hash := in.c.ticket(t, s0, big.NewInt(1e15), nil)
	d, err := DecodeTicket(m, in.c.Recipient().Address)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := in.c.Protocol().TicketBroker().RedeemWinningTicket(in.c.Transactor(in.c.Redeemer()),
		chain.BrokerTicket(&d.Ticket), d.Sig, d.RecipientRand)
	if err != nil {
		t.Fatal(err)
	}
	in.c.Commit()
	if rcpt, err := in.c.Client().TransactionReceipt(ctx, tx.Hash()); err != nil || rcpt.Status != 1 {
		t.Fatalf("direct redemption failed: %v %+v", err, rcpt)
	}
	in.lead.sync()
	var recorded bool
	if err := in.r.st.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM redeemed_tickets WHERE ticket_hash = $1)`,
		hash[:]).Scan(&recorded); err != nil || !recorded {
		t.Fatalf("the leader did not record the redeemed ticket: %v, %v", recorded, err)
	}
	calls := in.nodeCalls()
	_, err = in.r.client.QueueTicket(ctx, m)
	in.refused(t, err, hash, 1, codes.InvalidArgument, "used", hash.Hex())
	if n := in.nodeCalls(); n != calls {
		t.Fatalf("judging a used ticket cost %d node calls; redeemed_tickets holds the answer", n-calls)
	}

	// A ticket created now is valid for TicketValidityPeriod (2) rounds.
	// Each new round reaches intake as an announcement; the test waits for
	// it, as a replica's cache follows it (within a second otherwise).
	newRound := func() {
		t.Helper()
		n := in.r.hub.Notifications()
		if _, err := in.c.AdvanceRound(ctx); err != nil {
			t.Fatal(err)
		}
		in.lead.sync()
		waitUntil(t, 10*time.Second, "the new round announced", func() bool { return in.r.hub.Notifications() > n })
	}
	stale, _ := in.c.ticket(t, s0, big.NewInt(1e15), nil)
	newRound()
	if _, err := in.r.client.QueueTicket(ctx, stale); err != nil {
		t.Fatalf("ticket one round old must still be accepted: %v", err)
	}
	newRound()
	before := in.count(t)
	// stale was created two rounds ago now: creationRound + 2 <= currentRound.
	m2, hash2 := cloneWithNonce(t, in.c, stale, s0)
	_, err = in.r.client.QueueTicket(ctx, m2)
	in.refused(t, err, hash2, before, codes.InvalidArgument, "creation_round", "validity period")
}

// cloneWithNonce re-signs the ticket m with a new sender nonce, keeping its
// creation round and expiration block, so it is a new ticket from the same
// old round.
func cloneWithNonce(t *testing.T, c *testChain, m *pb.Ticket, from devchain.Account) (*pb.Ticket, common.Hash) {
	t.Helper()
	d, err := DecodeTicket(m, c.Recipient().Address)
	if err != nil {
		t.Fatal(err)
	}
	d.SenderNonce++
	w, hash, err := SignTicket(d.Ticket, from.Key, d.RecipientRand)
	if err != nil {
		t.Fatal(err)
	}
	return w, hash
}

// TestQueueTicketUnavailable: when what a ticket is judged by cannot be
// reached the client is told to retry, and nothing is stored; a ticket the
// stored state can judge alone does not need the node.
func TestQueueTicketUnavailable(t *testing.T) {
	t.Parallel()
	t.Run("ethereum node down", func(t *testing.T) {
		t.Parallel()
		in := newIntake(t, floatEnvOpts{intake: Config{ChainTimeout: time.Second, Attempts: 2, Backoff: 10 * time.Millisecond}})
		ctx := in.ctx
		s0, s1 := in.c.Senders()[0], in.c.Senders()[1]
		m, _ := in.c.ticket(t, s0, big.NewInt(1e15), nil)
		if _, err := in.r.client.QueueTicket(ctx, m); err != nil {
			t.Fatalf("with the node up: %v", err)
		}
		// Tickets built before the node goes.
		tracked, _ := in.c.ticket(t, s0, big.NewInt(1e15), nil)
		stranger, strangerHash := in.c.ticket(t, s1, big.NewInt(1e15), nil)
		badHash, badHashHash := in.c.ticket(t, s0, big.NewInt(1e15), func(tk *chain.Ticket) {
			tk.CreationRoundBlockHash = common.HexToHash("0x99")
		})
		in.c.Close()

		// The tracked sender's ticket is judged from stored state alone.
		if _, err := in.r.client.QueueTicket(ctx, tracked); err != nil {
			t.Fatalf("a tracked sender's ticket with the node down: %v", err)
		}
		// A sender never seen needs a chain read; a refusal by stored state
		// needs confirming.
		_, err := in.r.client.QueueTicket(ctx, stranger)
		wantCode(t, err, codes.Unavailable, "retry")
		_, err = in.r.client.QueueTicket(ctx, badHash)
		wantCode(t, err, codes.Unavailable, "retry")
		if in.stored(t, strangerHash) || in.stored(t, badHashHash) {
			t.Fatal("a ticket that could not be judged was stored")
		}
		if n := in.count(t); n != 2 {
			t.Fatalf("tickets = %d, want 2", n)
		}
	})
	t.Run("database down", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		c := newTestChain(t, devchain.Options{})
		// A pool pointed at a port nothing listens on: the real driver, a
		// real connection failure.
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := lis.Addr().String()
		lis.Close()
		pool, err := pgxpool.New(ctx, "postgres://postgres@"+addr+"/x?sslmode=disable&connect_timeout=1")
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		svc, err := NewServer(Config{Recipient: c.Recipient().Address, Contracts: c.Addresses(), Store: store.New(pool),
			Node: c.node, Logger: quietLogger(), DBTimeout: time.Second, Attempts: 2, Backoff: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		client := clientFrom(t, serveOnLoopback(t, svc, TLSConfig{Plaintext: true}), "127.0.0.1")
		m, _ := c.ticket(t, c.Senders()[0], big.NewInt(1e15), nil)
		_, err = client.QueueTicket(ctx, m)
		wantCode(t, err, codes.Unavailable, "database")
	})
}

// rawMessage and rawCodec send bytes as they are, to put a message on the
// wire that no protobuf encoder would produce.
type rawMessage []byte

type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*rawMessage))}, nil
}
func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*rawMessage) = data.Materialize()
	return nil
}
func (rawCodec) Name() string { return "proto" }
