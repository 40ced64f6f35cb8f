package rpc

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"redeemer/rpc/pb"
)

// grpcFrame is one length-prefixed gRPC message: the compressed flag, the
// 4-byte length, the payload.
func grpcFrame(flag byte, length uint32, payload []byte) []byte {
	b := []byte{flag, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], length)
	return append(b, payload...)
}

// postRaw sends body as the whole HTTP/2 request body of a gRPC call and
// returns the grpc-status the server answers.
func postRaw(t *testing.T, addr, method string, headers map[string]string, body []byte) (codes.Code, string) {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+addr+method, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("content-type", "application/grpc")
	req.Header.Set("te", "trailers")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("%s: answered over %s, not HTTP/2", method, resp.Proto)
	}
	io.Copy(io.Discard, resp.Body)
	s, msg := resp.Trailer.Get("grpc-status"), resp.Trailer.Get("grpc-message")
	if s == "" { // a trailers-only answer
		s, msg = resp.Header.Get("grpc-status"), resp.Header.Get("grpc-message")
	}
	if s == "" {
		t.Fatalf("%s: HTTP %d without a grpc-status", method, resp.StatusCode)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("grpc-status %q", s)
	}
	return codes.Code(n), msg
}

// grpcFramingMessages are the messages gRPC itself answers Internal with
// for a request body that breaks its framing. gRPC writes that status while
// receiving, before any handler or interceptor of this server runs, so the
// server cannot answer InvalidArgument for these, as it does for every
// malformed protobuf message.
var grpcFramingMessages = []string{
	"cardinality violation",
	"grpc: compressed flag set",
	"grpc: received unexpected payload format",
	"unexpected EOF",
}

// TestMalformedFraming sends request bodies that break gRPC's framing, as a
// raw HTTP/2 client can. Each is refused with the code gRPC gives it (see
// grpcFramingMessages), never OK or Unknown; nothing is stored, no stream is
// left open, and the server goes on serving.
func TestMalformedFraming(t *testing.T) {
	t.Parallel()
	s := newRawServer(t, floatEnvOpts{})
	ctx := s.env.ctx
	m, hash := s.ticket(t, big.NewInt(1e15), nil)
	ticket, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	req := wmsg{bytesField(fMaxFloatSender, s.env.c.Senders()[0].Address.Bytes())}.encode()
	frame := func(b []byte) []byte { return grpcFrame(0, uint32(len(b)), b) }
	cases := []struct {
		name    string
		headers map[string]string
		body    func(msg []byte) []byte
		code    codes.Code
	}{
		{"no request message", nil, func([]byte) []byte { return nil }, codes.Internal},
		{"two request messages", nil, func(b []byte) []byte { return append(frame(b), frame(b)...) }, codes.Internal},
		{"compressed flag without an encoding", nil, func(b []byte) []byte { return grpcFrame(1, uint32(len(b)), b) }, codes.Internal},
		// An encoding the server lacks is Unimplemented, as gRPC specifies.
		{"gzip, which the server does not take", map[string]string{"grpc-encoding": "gzip"},
			func(b []byte) []byte { return grpcFrame(1, uint32(len(b)), b) }, codes.Unimplemented},
		{"unknown encoding", map[string]string{"grpc-encoding": "zz"},
			func(b []byte) []byte { return grpcFrame(1, uint32(len(b)), b) }, codes.Unimplemented},
		{"payload format 2", nil, func(b []byte) []byte { return grpcFrame(2, uint32(len(b)), b) }, codes.Internal},
		{"message cut short", nil, func(b []byte) []byte { return grpcFrame(0, uint32(len(b)+10), b) }, codes.Internal},
		{"length prefix cut short", nil, func([]byte) []byte { return []byte{0, 0, 0} }, codes.Internal},
		{"length 2^32-1", nil, func(b []byte) []byte { return grpcFrame(0, 1<<32-1, b) }, codes.ResourceExhausted},
	}
	for _, method := range append([]string{pb.TicketRedeemer_QueueTicket_FullMethodName}, senderMethods...) {
		msg := req
		if method == pb.TicketRedeemer_QueueTicket_FullMethodName {
			msg = ticket
		}
		for _, tc := range cases {
			t.Run(method[len("/net.TicketRedeemer/"):]+"/"+tc.name, func(t *testing.T) {
				code, text := postRaw(t, s.addr, method, tc.headers, tc.body(msg))
				if code != tc.code {
					t.Fatalf("code %s (%q), want %s", code, text, tc.code)
				}
				if code == codes.Internal && !slices.ContainsFunc(grpcFramingMessages, func(p string) bool { return strings.HasPrefix(text, p) }) {
					t.Fatalf("Internal %q is not gRPC's framing refusal", text)
				}
			})
		}
	}
	if n := s.countTickets(t); n != 0 {
		t.Fatalf("tickets = %d after framing errors, want 0", n)
	}
	if tracked, err := s.r.st.Q().TrackedSenders(ctx); err != nil || len(tracked) != 0 {
		t.Fatalf("tracked senders after framing errors: %x, %v", tracked, err)
	}
	waitFor(t, "no stream left", func() bool { return s.r.floats.Streams() == 0 })
	if _, err := pb.NewTicketRedeemerClient(s.conn).QueueTicket(ctx, m); err != nil {
		t.Fatalf("the ticket whose framing was broken, sent well: %v", err)
	}
	if _, err := s.r.st.TicketByHash(ctx, hash); err != nil {
		t.Fatal(err)
	}
}
