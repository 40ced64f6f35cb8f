package pb_test

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"redeemer/rpc/pb"
)

// The expectations below are transcribed from shared/PROTOCOL.md, not from the
// generated code, so that editing redeemer.proto in a way go-livepeer's
// client would not understand makes this test fail.

func TestServiceMethods(t *testing.T) {
	fd := pb.File_redeemer_proto
	if got := fd.Package(); got != "net" {
		t.Fatalf("proto package = %q, want %q", got, "net")
	}
	svc := fd.Services().ByName("TicketRedeemer")
	if svc == nil {
		t.Fatal("service TicketRedeemer missing")
	}

	want := []struct {
		name, fullMethod, in, out string
		serverStreaming           bool
	}{
		{"QueueTicket", "/net.TicketRedeemer/QueueTicket", "net.Ticket", "net.QueueTicketRes", false},
		{"MaxFloat", "/net.TicketRedeemer/MaxFloat", "net.MaxFloatReq", "net.MaxFloatUpdate", false},
		{"MonitorMaxFloat", "/net.TicketRedeemer/MonitorMaxFloat", "net.MaxFloatReq", "net.MaxFloatUpdate", true},
		// Ours alone: go-livepeer's client never calls it, so adding it
		// leaves that client's view of the service unchanged.
		{"SenderInfo", "/net.TicketRedeemer/SenderInfo", "net.MaxFloatReq", "net.SenderInfoRes", false},
	}
	if got := svc.Methods().Len(); got != len(want) {
		t.Errorf("TicketRedeemer has %d methods, want %d", got, len(want))
	}
	for _, w := range want {
		m := svc.Methods().ByName(protoreflect.Name(w.name))
		if m == nil {
			t.Errorf("method %s missing", w.name)
			continue
		}
		full := "/" + string(svc.FullName()) + "/" + string(m.Name())
		if full != w.fullMethod {
			t.Errorf("full method = %q, want %q", full, w.fullMethod)
		}
		if got := string(m.Input().FullName()); got != w.in {
			t.Errorf("%s input = %s, want %s", w.name, got, w.in)
		}
		if got := string(m.Output().FullName()); got != w.out {
			t.Errorf("%s output = %s, want %s", w.name, got, w.out)
		}
		if m.IsStreamingClient() {
			t.Errorf("%s must not be client-streaming", w.name)
		}
		if m.IsStreamingServer() != w.serverStreaming {
			t.Errorf("%s server streaming = %v, want %v", w.name, m.IsStreamingServer(), w.serverStreaming)
		}
	}

	// The generated constants are what the server registers and the client
	// dials, so they must agree with the descriptor too.
	for got, want := range map[string]string{
		pb.TicketRedeemer_QueueTicket_FullMethodName:     "/net.TicketRedeemer/QueueTicket",
		pb.TicketRedeemer_MaxFloat_FullMethodName:        "/net.TicketRedeemer/MaxFloat",
		pb.TicketRedeemer_MonitorMaxFloat_FullMethodName: "/net.TicketRedeemer/MonitorMaxFloat",
		pb.TicketRedeemer_SenderInfo_FullMethodName:      "/net.TicketRedeemer/SenderInfo",
	} {
		if got != want {
			t.Errorf("generated full method name %q, want %q", got, want)
		}
	}
	if got := pb.TicketRedeemer_ServiceDesc.ServiceName; got != "net.TicketRedeemer" {
		t.Errorf("service desc name = %q, want net.TicketRedeemer", got)
	}
}

type field struct {
	number  protoreflect.FieldNumber
	name    string
	kind    protoreflect.Kind
	message string // full name, only for message-typed fields
}

func TestMessageFields(t *testing.T) {
	want := map[string][]field{
		"Ticket": {
			{1, "ticket_params", protoreflect.MessageKind, "net.TicketParams"},
			{2, "sender", protoreflect.BytesKind, ""},
			{3, "expiration_params", protoreflect.MessageKind, "net.TicketExpirationParams"},
			{4, "sender_params", protoreflect.MessageKind, "net.TicketSenderParams"},
			{5, "recipient_rand", protoreflect.BytesKind, ""},
		},
		"TicketParams": {
			{1, "recipient", protoreflect.BytesKind, ""},
			{2, "face_value", protoreflect.BytesKind, ""},
			{3, "win_prob", protoreflect.BytesKind, ""},
			{4, "recipient_rand_hash", protoreflect.BytesKind, ""},
			{5, "seed", protoreflect.BytesKind, ""},
			{6, "expiration_block", protoreflect.BytesKind, ""},
			{7, "expiration_params", protoreflect.MessageKind, "net.TicketExpirationParams"},
		},
		"TicketSenderParams": {
			{1, "sender_nonce", protoreflect.Uint32Kind, ""},
			{2, "sig", protoreflect.BytesKind, ""},
		},
		"TicketExpirationParams": {
			{1, "creation_round", protoreflect.Int64Kind, ""},
			{2, "creation_round_block_hash", protoreflect.BytesKind, ""},
		},
		"QueueTicketRes": {},
		"MaxFloatReq": {
			{1, "sender", protoreflect.BytesKind, ""},
		},
		"MaxFloatUpdate": {
			{1, "max_float", protoreflect.BytesKind, ""},
		},
		"SenderInfoRes": {
			{1, "deposit", protoreflect.BytesKind, ""},
			{2, "withdraw_round", protoreflect.BytesKind, ""},
			{3, "reserve_funds_remaining", protoreflect.BytesKind, ""},
			{4, "reserve_claimed_in_current_round", protoreflect.BytesKind, ""},
			{5, "claimed_by_recipient", protoreflect.BytesKind, ""},
			{6, "last_initialized_round", protoreflect.Int64Kind, ""},
			{7, "current_round", protoreflect.Int64Kind, ""},
			{8, "max_float", protoreflect.BytesKind, ""},
		},
	}

	msgs := pb.File_redeemer_proto.Messages()
	if msgs.Len() != len(want) {
		t.Errorf("file declares %d messages, want %d", msgs.Len(), len(want))
	}
	for name, fields := range want {
		md := msgs.ByName(protoreflect.Name(name))
		if md == nil {
			t.Errorf("message %s missing", name)
			continue
		}
		if md.Fields().Len() != len(fields) {
			t.Errorf("%s has %d fields, want %d", name, md.Fields().Len(), len(fields))
		}
		for _, w := range fields {
			fd := md.Fields().ByNumber(w.number)
			if fd == nil {
				t.Errorf("%s: no field number %d (%s)", name, w.number, w.name)
				continue
			}
			if string(fd.Name()) != w.name {
				t.Errorf("%s field %d is %q, want %q", name, w.number, fd.Name(), w.name)
			}
			if fd.Kind() != w.kind {
				t.Errorf("%s.%s kind = %v, want %v", name, w.name, fd.Kind(), w.kind)
			}
			if fd.Cardinality() == protoreflect.Repeated {
				t.Errorf("%s.%s must not be repeated", name, w.name)
			}
			if fd.HasPresence() && fd.Kind() != protoreflect.MessageKind {
				// proto3 "optional" changes nothing on the wire but would
				// diverge from go-livepeer's generated API.
				t.Errorf("%s.%s must be a plain proto3 scalar, not optional", name, w.name)
			}
			if w.message != "" {
				if got := string(fd.Message().FullName()); got != w.message {
					t.Errorf("%s.%s type = %s, want %s", name, w.name, got, w.message)
				}
			}
		}
	}
}

// A fixed encoding guards against accidental changes that descriptors alone
// might not reveal, such as a different wire type for the same number.
func TestWireBytes(t *testing.T) {
	m := &pb.TicketSenderParams{SenderNonce: 7, Sig: []byte{0xaa}}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x08, 0x07, 0x12, 0x01, 0xaa}
	if string(b) != string(want) {
		t.Fatalf("TicketSenderParams encodes as %x, want %x", b, want)
	}
}
