package rpc

import (
	"context"
	"runtime"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"redeemer/rpc/pb"
)

// TestMalformedRequestsLeaveNothingBehind sends unary calls that gRPC ends
// between decoding the request and calling the handler: a malformed first
// request message, then a second one, which unary calls may not carry.
// Whatever the codec learnt about the first must go with the call: a mark
// kept by the server (the request and its decoding error, some 200 bytes)
// would grow its memory for as long as a client keeps sending such calls.
func TestMalformedRequestsLeaveNothingBehind(t *testing.T) {
	env := newFuzzServer(t)
	conn := env.conn
	ctx := context.Background()
	first := append(wmsg{bytesField(fSender, filled(1<<10, 0xab))}.encode(), 0x80)
	second := []byte{}
	const calls = 5000
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	send := func() {
		s, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true},
			pb.TicketRedeemer_QueueTicket_FullMethodName, grpc.ForceCodecV2(rawCodec{}))
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range [][]byte{first, second} {
			in := rawMessage(b)
			if err := s.SendMsg(&in); err != nil {
				break // the server may have answered already
			}
		}
		s.CloseSend()
		var out rawMessage
		err = s.RecvMsg(&out)
		// gRPC refuses the second message itself, before any handler.
		if c := status.Code(err); c != codes.Internal && c != codes.InvalidArgument {
			t.Fatalf("two request messages: %v", err)
		}
	}
	send() // warm the connection up
	before := heap()
	for range calls {
		send()
	}
	grown := int64(heap()) - int64(before)
	t.Logf("heap grew by %d KiB over %d calls", grown>>10, calls)
	if limit := int64(calls * 64); grown > limit {
		t.Fatalf("heap grew by %d bytes over %d calls: the server keeps something of each", grown, calls)
	}
	if env.count(t) != 0 {
		t.Fatal("a malformed request stored a ticket")
	}
}
