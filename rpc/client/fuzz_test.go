package client

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	"redeemer/rpc/pb"
)

// rawBytes and rawCodec let a stand-in server answer with any bytes at
// all, so the client's own decoding meets what a broken or hostile server
// could send.
type rawBytes []byte

type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*rawBytes))}, nil
}
func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*rawBytes) = data.Materialize()
	return nil
}
func (rawCodec) Name() string { return "proto" }

// rawAnswers is what the stand-in server sends: the unary answer, and the
// stream's messages, after which the stream stays open until the client
// leaves.
type rawAnswers struct {
	mu     sync.Mutex
	unary  []byte
	stream [][]byte
}

func (a *rawAnswers) set(unary []byte, stream ...[]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.unary, a.stream = unary, stream
}

func (a *rawAnswers) handle(_ any, ss grpc.ServerStream) error {
	var req rawBytes
	if err := ss.RecvMsg(&req); err != nil {
		return err
	}
	a.mu.Lock()
	unary, stream := a.unary, a.stream
	a.mu.Unlock()
	method, _ := grpc.MethodFromServerStream(ss)
	if method != pb.TicketRedeemer_MonitorMaxFloat_FullMethodName {
		out := rawBytes(unary)
		return ss.SendMsg(&out)
	}
	for _, m := range stream {
		out := rawBytes(m)
		if err := ss.SendMsg(&out); err != nil {
			return err
		}
	}
	<-ss.Context().Done()
	return nil
}

// startRaw serves a over an in-memory listener.
func startRaw(tb testing.TB, a *rawAnswers) *grpc.ClientConn {
	tb.Helper()
	srv := grpc.NewServer(grpc.UnknownServiceHandler(a.handle), grpc.ForceServerCodecV2(rawCodec{}))
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

func decodeFloat(b []byte) (*big.Int, bool) {
	var m pb.MaxFloatUpdate
	if proto.Unmarshal(b, &m) != nil {
		return nil, false
	}
	return new(big.Int).SetBytes(m.GetMaxFloat()), true
}

// FuzzClientMaxFloat has the server answer MaxFloat and the first two
// stream messages with arbitrary bytes. The client returns exactly the
// value the bytes encode (the stream's first when it opens, else the unary
// one), an error when the unary answer does not decode, caches a sender
// only once its stream delivered a value, follows the second message when
// it decodes and drops the sender when it does not.
func FuzzClientMaxFloat(f *testing.F) {
	enc := func(v int64) []byte {
		b, _ := proto.Marshal(&pb.MaxFloatUpdate{MaxFloat: big.NewInt(v).Bytes()})
		return b
	}
	f.Add(enc(5), enc(6), enc(7))
	f.Add([]byte{}, []byte{}, []byte{})
	f.Add(enc(5), []byte{0x0a, 0xff}, enc(7))
	f.Add([]byte{0x80}, enc(6), enc(7))
	f.Add(enc(5), enc(6), []byte{0x0a, 0x05, 1})
	f.Add(enc(1), append(enc(1<<40), 0x78, 0x01), enc(0))

	answers := &rawAnswers{}
	conn := startRaw(f, answers)
	sender := common.HexToAddress("0x5e")
	f.Fuzz(func(t *testing.T, unary, first, second []byte) {
		answers.set(unary, first, second)
		c := New(conn, Options{OpenTimeout: 5 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		defer c.Close()

		got, err := c.MaxFloat(context.Background(), sender)
		u, uOK := decodeFloat(unary)
		if !uOK {
			if err == nil {
				t.Fatalf("undecodable unary answer returned %v", got)
			}
			if c.Cached() != 0 {
				t.Fatal("cached a sender after the unary call failed")
			}
			return
		}
		if err != nil {
			t.Fatalf("MaxFloat: %v", err)
		}
		v1, firstOK := decodeFloat(first)
		if !firstOK {
			if got.Cmp(u) != 0 || c.Cached() != 0 {
				t.Fatalf("stream did not open: got %v (want the unary %v), %d cached", got, u, c.Cached())
			}
			return
		}
		if got.Cmp(v1) != 0 {
			t.Fatalf("got %v, want the stream's first value %v", got, v1)
		}

		v2, secondOK := decodeFloat(second)
		deadline := time.Now().Add(5 * time.Second)
		for {
			c.mu.Lock()
			e := c.cache[sender]
			var cached *big.Int
			if e != nil {
				cached = new(big.Int).Set(e.value)
			}
			c.mu.Unlock()
			if secondOK && cached != nil && cached.Cmp(v2) == 0 {
				return
			}
			if !secondOK && e == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("cache holds %v; second message decodes %v to %v", cached, secondOK, v2)
			}
			time.Sleep(time.Millisecond)
		}
	})
}

// FuzzClientSenderInfo has the server answer SenderInfo with arbitrary
// bytes: the client returns each field exactly as the bytes encode it or
// an error, and ValidateSender refuses exactly the senders whose unlock
// ends by the round after the last initialized one.
func FuzzClientSenderInfo(f *testing.F) {
	enc := func(m *pb.SenderInfoRes) []byte {
		b, _ := proto.Marshal(m)
		return b
	}
	f.Add(enc(&pb.SenderInfoRes{Deposit: []byte{1}, WithdrawRound: []byte{5}, LastInitializedRound: 4, CurrentRound: 4}))
	f.Add(enc(&pb.SenderInfoRes{WithdrawRound: []byte{5}, LastInitializedRound: 3}))
	f.Add(enc(&pb.SenderInfoRes{WithdrawRound: []byte{0xff, 0xff}, LastInitializedRound: -1 << 63}))
	f.Add([]byte{})
	f.Add([]byte{0x12, 0x80})

	answers := &rawAnswers{}
	conn := startRaw(f, answers)
	sender := common.HexToAddress("0x5e")
	c := New(conn, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	f.Cleanup(func() { c.Close() })
	f.Fuzz(func(t *testing.T, data []byte) {
		answers.set(data)
		info, err := c.SenderInfo(context.Background(), sender)
		verr := c.ValidateSender(context.Background(), sender)
		var m pb.SenderInfoRes
		if proto.Unmarshal(data, &m) != nil {
			if err == nil || verr == nil || errors.Is(verr, ErrSenderWithdrawing) {
				t.Fatalf("undecodable answer: SenderInfo %v, ValidateSender %v", err, verr)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []struct {
			got  *big.Int
			want []byte
		}{
			{info.Deposit, m.GetDeposit()}, {info.WithdrawRound, m.GetWithdrawRound()},
			{info.ReserveFundsRemaining, m.GetReserveFundsRemaining()},
			{info.ReserveClaimedInCurrentRound, m.GetReserveClaimedInCurrentRound()},
			{info.ClaimedByRecipient, m.GetClaimedByRecipient()}, {info.MaxFloat, m.GetMaxFloat()},
		} {
			if p.got.Cmp(new(big.Int).SetBytes(p.want)) != 0 {
				t.Fatalf("field decoded to %v from %x", p.got, p.want)
			}
		}
		if info.LastInitializedRound != m.GetLastInitializedRound() || info.CurrentRound != m.GetCurrentRound() {
			t.Fatalf("rounds %d, %d from %d, %d", info.LastInitializedRound, info.CurrentRound, m.GetLastInitializedRound(), m.GetCurrentRound())
		}
		w := info.WithdrawRound
		limit := new(big.Int).Add(big.NewInt(m.GetLastInitializedRound()), big.NewInt(1))
		withdrawing := w.Sign() != 0 && w.Cmp(limit) <= 0
		if withdrawing != errors.Is(verr, ErrSenderWithdrawing) || (!withdrawing && verr != nil) {
			t.Fatalf("ValidateSender %v for withdraw round %v, last initialized %d", verr, w, m.GetLastInitializedRound())
		}
	})
}
