package rpc

import (
	"context"
	"crypto/tls"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/rpc/pb"
	"redeemer/store"
	"redeemer/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// harness is one service on a fresh dev chain and database, reached over TLS
// like go-livepeer's client reaches it.
type harness struct {
	dc     *devchain.Chain
	st     *store.Store
	client pb.TicketRedeemerClient
	conn   *grpc.ClientConn
}

// serveOnLoopback serves svc on a free loopback port until the test ends
// and returns the address.
func serveOnLoopback(t testing.TB, svc *Server, tlsCfg TLSConfig) string {
	t.Helper()
	srv, err := NewGRPCServer("127.0.0.1:0", tlsCfg, svc)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func newHarness(t *testing.T, chainState ChainState, st *store.Store, dc *devchain.Chain) *harness {
	t.Helper()
	svc, err := NewServer(Config{
		Recipient: dc.Recipient().Address, Chain: chainState, Store: st,
		ChainTimeout: 2 * time.Second, DBTimeout: 2 * time.Second, Attempts: 2, Backoff: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveOnLoopback(t, svc, TLSConfig{DataDir: t.TempDir()})
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &harness{dc: dc, st: st, client: pb.NewTicketRedeemerClient(conn), conn: conn}
}

func newDevChain(t *testing.T, opts devchain.Options) *devchain.Chain {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dc, err := devchain.New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	return dc
}

// ticket builds a winning ticket from sender 0 in the current round, as a
// broadcaster would, then lets mutate change it before signing.
func (h *harness) ticket(t *testing.T, mutate func(*chain.Ticket)) (*pb.Ticket, common.Hash) {
	t.Helper()
	ctx := context.Background()
	p := h.dc.Protocol()
	round, err := p.CurrentRound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bh, err := p.BlockHashForRound(ctx, round)
	if err != nil {
		t.Fatal(err)
	}
	tk := chain.Ticket{
		Recipient:              h.dc.Recipient().Address,
		FaceValue:              big.NewInt(1e15),
		WinProb:                chain.MaxWinProb,
		SenderNonce:            uint32(time.Now().UnixNano()),
		CreationRound:          round.Int64(),
		CreationRoundBlockHash: bh,
		ParamsExpirationBlock:  big.NewInt(1000),
	}
	if mutate != nil {
		mutate(&tk)
	}
	m, hash, err := SignTicket(tk, h.dc.Senders()[0].Key, big.NewInt(time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	return m, hash
}

func (h *harness) count(t *testing.T) int64 {
	t.Helper()
	n, err := h.st.CountTickets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func wantCode(t *testing.T, err error, code codes.Code, msgPart string) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code {
		t.Fatalf("code = %s (%v), want %s", st.Code(), err, code)
	}
	if msgPart != "" && !strings.Contains(st.Message(), msgPart) {
		t.Fatalf("message %q does not name %q", st.Message(), msgPart)
	}
}

func TestQueueTicketStoresOnceAndRejectsInvalid(t *testing.T) {
	dc := newDevChain(t, devchain.Options{})
	st := storetest.NewStore(t)
	h := newHarness(t, dc.Protocol(), st, dc)
	ctx := context.Background()

	m, hash := h.ticket(t, nil)
	if _, err := h.client.QueueTicket(ctx, m); err != nil {
		t.Fatalf("valid ticket: %v", err)
	}
	got, err := st.TicketByHash(ctx, hash)
	if err != nil {
		t.Fatalf("stored ticket: %v", err)
	}
	if got.Status != store.StatusQueued || common.Address(got.Sender) != dc.Senders()[0].Address ||
		got.FaceValue.Cmp(big.NewInt(1e15)) != 0 || got.ParamsExpirationBlock != 1000 {
		t.Fatalf("stored ticket wrong: %+v", got)
	}
	if _, err := h.client.QueueTicket(ctx, m); err != nil {
		t.Fatalf("same ticket again: %v", err)
	}
	if n := h.count(t); n != 1 {
		t.Fatalf("tickets = %d after queueing the same ticket twice, want 1", n)
	}

	round, err := dc.Protocol().CurrentRound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		mutate func(*chain.Ticket)
		code   codes.Code
		msg    string
	}{
		{"foreign recipient", func(tk *chain.Ticket) { tk.Recipient = dc.Senders()[1].Address }, codes.PermissionDenied, "recipient"},
		{"future creation round", func(tk *chain.Ticket) { tk.CreationRound = round.Int64() + 1 }, codes.InvalidArgument, "creation_round"},
		{"wrong creation round block hash", func(tk *chain.Ticket) { tk.CreationRoundBlockHash = common.HexToHash("0x99") }, codes.InvalidArgument, "creation_round_block_hash"},
		{"losing ticket", func(tk *chain.Ticket) { tk.WinProb = big.NewInt(1) }, codes.InvalidArgument, "winning"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := h.ticket(t, tc.mutate)
			_, err := h.client.QueueTicket(ctx, m)
			wantCode(t, err, tc.code, tc.msg)
			if n := h.count(t); n != 1 {
				t.Fatalf("a rejected ticket was stored: %d rows", n)
			}
		})
	}

	t.Run("malformed bytes", func(t *testing.T) {
		// 0x0a 0xff...: field 1, length-delimited, with a length running past
		// the end of the message.
		err := h.conn.Invoke(ctx, "/net.TicketRedeemer/QueueTicket", &rawMessage{0x0a, 0xff, 0xff, 0x01}, new(rawMessage),
			grpc.ForceCodecV2(rawCodec{}))
		wantCode(t, err, codes.InvalidArgument, "protobuf")
	})
	t.Run("oversized message", func(t *testing.T) {
		m, _ := h.ticket(t, nil)
		m.TicketParams.Seed = make([]byte, MaxMessageBytes+1)
		_, err := h.client.QueueTicket(ctx, m)
		wantCode(t, err, codes.ResourceExhausted, "")
	})
	if n := h.count(t); n != 1 {
		t.Fatalf("tickets = %d, want 1", n)
	}
}

// TestQueueTicketUsedAndStale covers the rules that need the chain to move:
// a ticket already redeemed on chain, and one whose creation round has aged
// past the validity period.
func TestQueueTicketUsedAndStale(t *testing.T) {
	dc := newDevChain(t, devchain.Options{RoundLength: 5})
	st := storetest.NewStore(t)
	h := newHarness(t, dc.Protocol(), st, dc)
	ctx := context.Background()

	// Redeem a ticket directly on chain, then offer it to the service.
	m, hash := h.ticket(t, nil)
	d, err := DecodeTicket(m, dc.Recipient().Address)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := dc.Protocol().TicketBroker().RedeemWinningTicket(dc.Transactor(dc.Redeemer()),
		chain.BrokerTicket(&d.Ticket), d.Sig, d.RecipientRand)
	if err != nil {
		t.Fatal(err)
	}
	dc.Commit()
	if rcpt, err := dc.Client().TransactionReceipt(ctx, tx.Hash()); err != nil || rcpt.Status != 1 {
		t.Fatalf("direct redemption failed: %v %+v", err, rcpt)
	}
	_, err = h.client.QueueTicket(ctx, m)
	wantCode(t, err, codes.InvalidArgument, "used")
	if _, err := st.TicketByHash(ctx, hash); err == nil {
		t.Fatal("a used ticket was stored")
	}

	// A ticket created now is valid for TicketValidityPeriod (2) rounds.
	stale, _ := h.ticket(t, nil)
	if _, err := dc.AdvanceRound(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.QueueTicket(ctx, stale); err != nil {
		t.Fatalf("ticket one round old must still be accepted: %v", err)
	}
	if _, err := dc.AdvanceRound(ctx); err != nil {
		t.Fatal(err)
	}
	before := h.count(t)
	// stale was created two rounds ago now: creationRound + 2 <= currentRound.
	m2 := cloneWithNonce(t, h, stale)
	_, err = h.client.QueueTicket(ctx, m2)
	wantCode(t, err, codes.InvalidArgument, "validity period")
	if h.count(t) != before {
		t.Fatal("a stale ticket was stored")
	}
}

// cloneWithNonce re-signs the ticket m with a new sender nonce, keeping its
// creation round, so it is a new ticket from the same old round.
func cloneWithNonce(t *testing.T, h *harness, m *pb.Ticket) *pb.Ticket {
	t.Helper()
	d, err := DecodeTicket(m, h.dc.Recipient().Address)
	if err != nil {
		t.Fatal(err)
	}
	d.SenderNonce++
	w, _, err := SignTicket(d.Ticket, h.dc.Senders()[0].Key, d.RecipientRand)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestQueueTicketUnavailable: when the node or the database cannot be
// reached the client is told to retry, and nothing is stored.
func TestQueueTicketUnavailable(t *testing.T) {
	ctx := context.Background()
	t.Run("ethereum node down", func(t *testing.T) {
		dc, err := devchain.New(ctx, devchain.Options{RPCAddr: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		defer dc.Close()
		client, err := ethclient.DialContext(ctx, dc.RPCURL())
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		p, err := chain.NewProtocol(ctx, client, dc.Addresses().Controller)
		if err != nil {
			t.Fatal(err)
		}
		st := storetest.NewStore(t)
		h := newHarness(t, p, st, dc)
		m, _ := h.ticket(t, nil)
		// The same chain over HTTP accepts the ticket...
		if _, err := h.client.QueueTicket(ctx, m); err != nil {
			t.Fatalf("over JSON-RPC: %v", err)
		}
		m2, _ := h.ticket(t, nil)
		// ...and once the node is gone, the next one is Unavailable.
		dc.Close()
		_, err = h.client.QueueTicket(ctx, m2)
		wantCode(t, err, codes.Unavailable, "")
		if n := h.count(t); n != 1 {
			t.Fatalf("tickets = %d, want 1", n)
		}
	})
	t.Run("database down", func(t *testing.T) {
		dc := newDevChain(t, devchain.Options{})
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
		h := newHarness(t, dc.Protocol(), store.New(pool), dc)
		m, _ := h.ticket(t, nil)
		_, err = h.client.QueueTicket(ctx, m)
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

// countingChain is the real chain, counting the round reads intake makes.
type countingChain struct {
	ChainState
	mu     sync.Mutex
	rounds int
	hashes int
}

func (c *countingChain) CurrentRound(ctx context.Context) (*big.Int, error) {
	c.mu.Lock()
	c.rounds++
	c.mu.Unlock()
	return c.ChainState.CurrentRound(ctx)
}

func (c *countingChain) BlockHashForRound(ctx context.Context, round *big.Int) (common.Hash, error) {
	c.mu.Lock()
	c.hashes++
	c.mu.Unlock()
	return c.ChainState.BlockHashForRound(ctx, round)
}

// TestRoundReadsAreCachedPerBlock: tickets within one block share the
// round reads, a new block reads again, and a refusal the cache would make
// is confirmed on fresh reads first.
func TestRoundReadsAreCachedPerBlock(t *testing.T) {
	dc := newDevChain(t, devchain.Options{})
	st := storetest.NewStore(t)
	cc := &countingChain{ChainState: dc.Protocol()}
	h := newHarness(t, cc, st, dc)
	ctx := context.Background()

	for i := 0; i < 3; i++ {
		m, _ := h.ticket(t, nil)
		if _, err := h.client.QueueTicket(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if cc.rounds != 1 || cc.hashes != 1 {
		t.Fatalf("3 tickets in one block read the round %d and the hash %d times, want 1 and 1", cc.rounds, cc.hashes)
	}
	dc.Commit()
	m, _ := h.ticket(t, nil)
	if _, err := h.client.QueueTicket(ctx, m); err != nil {
		t.Fatal(err)
	}
	if cc.rounds != 2 || cc.hashes != 1 {
		t.Fatalf("after a new block: round read %d times (want 2), hash %d (want 1: fixed per round)", cc.rounds, cc.hashes)
	}

	// A wrong block hash is refused only after the hash is read afresh.
	bad, _ := h.ticket(t, func(tk *chain.Ticket) { tk.CreationRoundBlockHash = common.HexToHash("0x99") })
	_, err := h.client.QueueTicket(ctx, bad)
	wantCode(t, err, codes.InvalidArgument, "creation_round_block_hash")
	if cc.hashes != 2 {
		t.Fatalf("hash read %d times, want a fresh read before the refusal", cc.hashes)
	}
}
