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
	"github.com/ethereum/go-ethereum/crypto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	"redeemer/chain"
	"redeemer/rpc/pb"
	"redeemer/store"
)

// The fuzz targets here drive the real gRPC server (codec, size limit,
// handlers, intake) over an in-memory connection with arbitrary request
// bytes; the chain and the database are stand-ins, so each input costs a
// round trip in memory, not a query.

// fuzzRound and fuzzValidity are the stand-in chain's current round and
// validity period; testTicketFields' creation round (10) is current.
const (
	fuzzRound    = 10
	fuzzValidity = 2
)

// fuzzRoundHash is the stand-in chain's block hash of round r: that of
// testTicketFields for its round, a derived one for the others.
func fuzzRoundHash(r int64) common.Hash {
	if r == testTicketFields().CreationRound {
		return testTicketFields().CreationRoundBlockHash
	}
	return crypto.Keccak256Hash(big.NewInt(r).Bytes())
}

type fuzzChain struct{}

func (fuzzChain) LatestBlock(context.Context) (uint64, error) { return 100, nil }
func (fuzzChain) CurrentRound(context.Context) (*big.Int, error) {
	return big.NewInt(fuzzRound), nil
}
func (fuzzChain) TicketValidityPeriod(context.Context) (*big.Int, error) {
	return big.NewInt(fuzzValidity), nil
}
func (fuzzChain) BlockHashForRound(_ context.Context, r *big.Int) (common.Hash, error) {
	if !r.IsInt64() {
		return common.Hash{}, nil
	}
	return fuzzRoundHash(r.Int64()), nil
}
func (fuzzChain) IsTicketUsed(context.Context, common.Hash) (bool, error) { return false, nil }

// fuzzStore records every insert.
type fuzzStore struct {
	mu       sync.Mutex
	inserted []store.NewTicket
}

func (s *fuzzStore) InsertTickets(_ context.Context, ts []store.NewTicket) ([]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inserted = append(s.inserted, ts...)
	inserted := make([]bool, len(ts))
	for i := range inserted {
		inserted[i] = true
	}
	return inserted, nil
}

func (s *fuzzStore) since(n int) []store.NewTicket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]store.NewTicket{}, s.inserted[n:]...)
}

func (s *fuzzStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.inserted)
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

func newFuzzServer(tb testing.TB) (*Server, *fuzzStore, *fuzzFloats, *grpc.ClientConn) {
	tb.Helper()
	st, floats := &fuzzStore{}, &fuzzFloats{}
	svc, err := NewServer(Config{Recipient: testRecipient, Chain: fuzzChain{}, Store: st, Floats: floats, Logger: quietLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	return svc, st, floats, newMemServer(tb, svc)
}

// FuzzServerQueueTicket sends arbitrary bytes as a QueueTicket request. The
// code must be the one the bytes call for: ResourceExhausted over the size
// limit, InvalidArgument for bytes that are no Ticket or break a rule
// (judged by protobuf and DecodeTicket, and the round rules against the
// stand-in chain), PermissionDenied for a foreign recipient, OK for a valid
// ticket; never Internal or Unknown. A refused ticket is not stored; an
// accepted one is stored once, with the fields it was decoded to.
func FuzzServerQueueTicket(f *testing.F) {
	valid, _ := validWireTicket(f)
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
	previous := testTicketFields()
	previous.CreationRound = fuzzRound - 1
	previous.CreationRoundBlockHash = fuzzRoundHash(previous.CreationRound)
	if m, _, err := SignTicket(previous, testSenderKey(f), big.NewInt(5)); err == nil {
		b, _ := proto.Marshal(m)
		f.Add(b)
	}

	_, st, _, conn := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		before := st.count()
		_, err := unary(context.Background(), conn, pb.TicketRedeemer_QueueTicket_FullMethodName, data)
		code := status.Code(err)
		stored := st.since(before)

		var want codes.Code
		var d *DecodedTicket
		var m pb.Ticket
		switch {
		case len(data) > MaxMessageBytes:
			want = codes.ResourceExhausted
		case proto.Unmarshal(data, &m) != nil:
			want = codes.InvalidArgument
			if !strings.Contains(status.Convert(err).Message(), malformedMsg) {
				t.Fatalf("undecodable bytes answered %v", err)
			}
		default:
			var derr error
			d, derr = DecodeTicket(&m, testRecipient)
			switch {
			case errors.Is(derr, ErrForeignRecipient):
				want = codes.PermissionDenied
			case derr != nil:
				want = codes.InvalidArgument
			case d.CreationRound > fuzzRound || d.CreationRound+fuzzValidity <= fuzzRound ||
				d.CreationRoundBlockHash != fuzzRoundHash(d.CreationRound):
				want = codes.InvalidArgument
			default:
				want = codes.OK
			}
		}
		if code != want {
			t.Fatalf("code %s (%v), want %s", code, err, want)
		}
		if code != codes.OK {
			if len(stored) != 0 {
				t.Fatalf("a refused request stored %d tickets", len(stored))
			}
			return
		}
		if len(stored) != 1 {
			t.Fatalf("an accepted ticket stored %d times", len(stored))
		}
		got := stored[0]
		if got.TicketHash != d.Hash || got.Sender != d.Sender || got.Recipient != d.Recipient ||
			got.FaceValue.Cmp(d.FaceValue) != 0 || got.WinProb.Cmp(d.WinProb) != 0 || got.SenderNonce != d.SenderNonce ||
			got.CreationRound != d.CreationRound || got.ParamsExpirationBlock != d.ParamsExpirationBlock.Int64() ||
			string(got.Sig) != string(d.Sig) || string(got.Seed) != string(d.Seed) ||
			new(big.Int).SetBytes(got.RecipientRand[:]).Cmp(d.RecipientRand) != 0 {
			t.Fatalf("stored %+v, decoded %+v", got, d)
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
	_, _, floats, conn := newFuzzServer(f)
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
