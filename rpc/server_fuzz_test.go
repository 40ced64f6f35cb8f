package rpc

import (
	"context"
	"errors"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	"redeemer/chain"
	"redeemer/chain/devchain"
	"redeemer/rpc/pb"
	"redeemer/store"
	"redeemer/store/storetest"
)

// The fuzz targets here drive the real gRPC server (codec, size limit,
// handlers, intake) over an in-memory connection with arbitrary request
// bytes. Intake judges tickets by the protocol values and round hashes a
// leader stored from the dev chain; it has no node and no sender source,
// so every input costs a round trip in memory and a statement or two, and
// the rules that decide an input are the decoding, round and expiration
// ones.

// fuzzEnv is a server with the chain state stored, and what it stores.
type fuzzEnv struct {
	c        *testChain
	st       *store.Store
	protocol *store.ProtocolState
	floats   *fuzzFloats
	conn     *grpc.ClientConn
}

func newFuzzServer(tb testing.TB) *fuzzEnv {
	tb.Helper()
	c := newTestChain(tb, devchain.Options{})
	st := storetest.NewStore(tb)
	newLeader(tb, c, st).start()
	p, err := st.StoredProtocolState(context.Background())
	if err != nil || p == nil {
		tb.Fatalf("protocol state: %+v, %v", p, err)
	}
	floats := &fuzzFloats{}
	// Every input comes from one peer, most of them refused: the refusal
	// budget is off.
	svc, err := NewServer(Config{Recipient: c.Recipient().Address, Contracts: c.Addresses(), Store: st, Floats: floats,
		Logger: quietLogger(), RefusalsPerSecond: -1})
	if err != nil {
		tb.Fatal(err)
	}
	return &fuzzEnv{c: c, st: st, protocol: p, floats: floats, conn: newMemServer(tb, svc)}
}

// accepts is the oracle for a decoded ticket: whether the stored protocol
// values and round hashes let it in (no sender rules: the server has no
// sender source).
func (f *fuzzEnv) accepts(t *testing.T, d *DecodedTicket) bool {
	t.Helper()
	p := f.protocol
	cur, validity, length := p.CurrentRound.Int64(), p.TicketValidityPeriod.Int64(), p.RoundLength.Int64()
	if d.CreationRound > cur || d.CreationRound+validity <= cur {
		return false
	}
	hash, known, err := f.st.Q().RoundHash(context.Background(), d.CreationRound)
	if err != nil {
		t.Fatal(err)
	}
	if !known || common.Hash(hash) != d.CreationRoundBlockHash {
		return false
	}
	start := p.RoundStartL1.Int64() - (cur-d.CreationRound)*length
	exp := d.ParamsExpirationBlock.Int64()
	return exp >= start && exp < start+validity*length
}

func (f *fuzzEnv) count(t *testing.T) int64 {
	t.Helper()
	n, err := f.st.CountTickets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// fuzzFloats answers every float request with the sender it was asked
// about, and records the requests its handlers received.
type fuzzFloats struct {
	mu  sync.Mutex
	got []*pb.MaxFloatReq
}

func (f *fuzzFloats) record(m *pb.MaxFloatReq) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, proto.Clone(m).(*pb.MaxFloatReq))
}

func (f *fuzzFloats) take() []*pb.MaxFloatReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	got := f.got
	f.got = nil
	return got
}

func (f *fuzzFloats) MaxFloat(_ context.Context, m *pb.MaxFloatReq) (*pb.MaxFloatUpdate, error) {
	f.record(m)
	return &pb.MaxFloatUpdate{MaxFloat: m.GetSender()}, nil
}

func (f *fuzzFloats) SenderInfo(_ context.Context, m *pb.MaxFloatReq) (*pb.SenderInfoRes, error) {
	f.record(m)
	return &pb.SenderInfoRes{MaxFloat: m.GetSender()}, nil
}

func (f *fuzzFloats) MonitorMaxFloat(m *pb.MaxFloatReq, stream pb.TicketRedeemer_MonitorMaxFloatServer) error {
	f.record(m)
	return stream.Send(&pb.MaxFloatUpdate{MaxFloat: m.GetSender()})
}

// newMemServer serves svc over an in-memory listener and returns a client
// connection to it.
func newMemServer(tb testing.TB, svc *Server) *grpc.ClientConn {
	tb.Helper()
	srv, err := NewGRPCServer("127.0.0.1:0", TLSConfig{Plaintext: true}, svc)
	if err != nil {
		tb.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	go srv.Serve(lis)
	tb.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///memory",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}

// FuzzServerQueueTicket sends arbitrary bytes as a QueueTicket request. The
// code must be the one the bytes call for: ResourceExhausted over the size
// limit, InvalidArgument for bytes that are no Ticket or break a rule
// (judged by protobuf and DecodeTicket, and the round and expiration rules
// against the stored state), PermissionDenied for a foreign recipient, OK
// for a valid ticket; never Internal or Unknown. A refused ticket is not
// stored; an accepted one is stored once, with the fields it was decoded
// to.
func FuzzServerQueueTicket(f *testing.F) {
	env := newFuzzServer(f)
	sender := env.c.Senders()[0]
	valid, _ := env.c.ticket(f, sender, big.NewInt(1e15), nil)
	for _, w := range []wmsg{
		wireTicket(valid),
		append(wireTicket(valid), bytesField(99, []byte("unknown"))),
		append(wireTicket(valid), bytesField(fSender, []byte{1})),
	} {
		f.Add(w.encode())
	}
	seed, err := proto.Marshal(valid)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)-1])
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0xff, 0xff, 0x01})
	for _, mutate := range []func(*chain.Ticket){
		// The previous round, whose hash the leader did not see.
		func(tk *chain.Ticket) {
			tk.CreationRound--
			h, err := env.c.Protocol().BlockHashForRound(context.Background(), big.NewInt(tk.CreationRound))
			if err != nil {
				f.Fatal(err)
			}
			tk.CreationRoundBlockHash = h
		},
		// An expiration block just past its window.
		func(tk *chain.Ticket) {
			_, end := env.c.window(f, tk.CreationRound)
			tk.ParamsExpirationBlock = big.NewInt(end)
		},
	} {
		m, _ := env.c.ticket(f, sender, big.NewInt(1e15), mutate)
		b, _ := proto.Marshal(m)
		f.Add(b)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		var (
			want   codes.Code
			d      *DecodedTicket
			m      pb.Ticket
			malfmt bool
		)
		switch {
		case len(data) > MaxMessageBytes:
			want = codes.ResourceExhausted
		case proto.Unmarshal(data, &m) != nil:
			want, malfmt = codes.InvalidArgument, true
		default:
			var derr error
			d, derr = DecodeTicket(&m, env.c.Recipient().Address)
			switch {
			case errors.Is(derr, ErrForeignRecipient):
				want = codes.PermissionDenied
			case derr != nil:
				want = codes.InvalidArgument
			case !env.accepts(t, d):
				want = codes.InvalidArgument
			default:
				want = codes.OK
			}
		}
		existed := false
		if want == codes.OK {
			_, err := env.st.TicketByHash(context.Background(), d.Hash)
			existed = err == nil
		}
		before := env.count(t)

		_, err := unary(context.Background(), env.conn, pb.TicketRedeemer_QueueTicket_FullMethodName, data)
		if code := status.Code(err); code != want {
			t.Fatalf("code %s (%v), want %s", code, err, want)
		}
		if malfmt && !strings.Contains(status.Convert(err).Message(), malformedMsg) {
			t.Fatalf("undecodable bytes answered %v", err)
		}
		after := env.count(t)
		if want != codes.OK {
			if after != before {
				t.Fatalf("a refused request stored %d tickets", after-before)
			}
			return
		}
		if wantRows := before + map[bool]int64{false: 1, true: 0}[existed]; after != wantRows {
			t.Fatalf("an accepted ticket left %d rows, want %d (stored before: %v)", after, wantRows, existed)
		}
		got, err := env.st.TicketByHash(context.Background(), d.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if got.Sender != d.Sender || got.Recipient != d.Recipient ||
			got.FaceValue.Cmp(d.FaceValue) != 0 || got.WinProb.Cmp(d.WinProb) != 0 || got.SenderNonce != d.SenderNonce ||
			got.CreationRound != d.CreationRound || got.CreationRoundBlockHash != d.CreationRoundBlockHash ||
			got.ParamsExpirationBlock != d.ParamsExpirationBlock.Int64() ||
			string(got.Sig) != string(d.Sig) || string(got.Seed) != string(d.Seed) ||
			new(big.Int).SetBytes(got.RecipientRand[:]).Cmp(d.RecipientRand) != 0 {
			t.Fatalf("stored %+v, decoded %+v", got.NewTicket, d)
		}
		if chain.RandHash(new(big.Int).SetBytes(got.RecipientRand[:])) != got.RecipientRandHash {
			t.Fatal("stored a recipient rand that does not match its hash")
		}
	})
}

// FuzzServerSenderRequest sends arbitrary bytes to MaxFloat, SenderInfo or
// MonitorMaxFloat. Bytes that are no MaxFloatReq get InvalidArgument and
// never reach the float service; any others reach it as exactly the
// message protobuf decodes, and its answer comes back intact.
func FuzzServerSenderRequest(f *testing.F) {
	sender := testRecipient.Bytes()
	for i := range senderMethods {
		f.Add(uint8(i), wmsg{bytesField(fMaxFloatSender, sender)}.encode())
		f.Add(uint8(i), []byte{})
		f.Add(uint8(i), []byte{0x0a, 0x14, 1, 2})
		f.Add(uint8(i), wmsg{bytesField(fMaxFloatSender, sender), bytesField(3, sender), bytesField(fMaxFloatSender, sender[1:])}.encode())
	}
	env := newFuzzServer(f)
	floats, conn := env.floats, env.conn
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		method := senderMethods[int(which)%len(senderMethods)]
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var (
			res []byte
			err error
		)
		if method == pb.TicketRedeemer_MonitorMaxFloat_FullMethodName {
			_, res, err = openStream(ctx, conn, data)
		} else {
			res, err = unary(ctx, conn, method, data)
		}
		got := floats.take()

		var m pb.MaxFloatReq
		switch {
		case len(data) > MaxMessageBytes:
			if status.Code(err) != codes.ResourceExhausted || len(got) != 0 {
				t.Fatalf("oversized: %v, %d handler calls", err, len(got))
			}
			return
		case proto.Unmarshal(data, &m) != nil:
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), malformedMsg) {
				t.Fatalf("undecodable request: %v, want InvalidArgument", err)
			}
			if len(got) != 0 {
				t.Fatalf("an undecodable request reached the float service %d times", len(got))
			}
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if len(got) != 1 || !proto.Equal(got[0], &m) {
			t.Fatalf("the float service received %v, want %v", got, &m)
		}
		var back []byte
		if method == pb.TicketRedeemer_SenderInfo_FullMethodName {
			var r pb.SenderInfoRes
			if err := proto.Unmarshal(res, &r); err != nil {
				t.Fatal(err)
			}
			back = r.GetMaxFloat()
		} else {
			var r pb.MaxFloatUpdate
			if err := proto.Unmarshal(res, &r); err != nil {
				t.Fatal(err)
			}
			back = r.GetMaxFloat()
		}
		if string(back) != string(m.GetSender()) {
			t.Fatalf("answer carries %x, want %x", back, m.GetSender())
		}
	})
}
