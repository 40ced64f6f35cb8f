package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"

	"redeemer/chain"
	"redeemer/rpc/pb"
)

// This file holds what the bad-input tests share: a protobuf writer that can
// put any field on the wire in any shape, and a server reached over TLS whose
// requests are sent as raw bytes.

// wfield is one encoded field, kept apart from its neighbours so a case can
// drop, repeat, reorder or re-type it.
type wfield struct {
	num    protowire.Number
	typ    protowire.Type
	val    []byte // BytesType payload, unless sub is set
	n      uint64 // VarintType, Fixed32Type and Fixed64Type value
	sub    wmsg   // nested message (BytesType) or group body (StartGroupType)
	nested bool
}

// wmsg is a message as a list of fields, in wire order.
type wmsg []wfield

func bytesField(num protowire.Number, v []byte) wfield {
	return wfield{num: num, typ: protowire.BytesType, val: v}
}

func varintField(num protowire.Number, v uint64) wfield {
	return wfield{num: num, typ: protowire.VarintType, n: v}
}

func msgField(num protowire.Number, m wmsg) wfield {
	return wfield{num: num, typ: protowire.BytesType, sub: m, nested: true}
}

func (m wmsg) encode() []byte {
	var b []byte
	for _, f := range m {
		b = f.append(b)
	}
	return b
}

// Pseudo wire types for shapes no encoder writes.
const (
	rawBytes      protowire.Type = -1 // val, as is, with no tag
	openGroup     protowire.Type = -2 // a start-group tag never ended
	misendedGroup protowire.Type = -3 // a group ended by another field number
)

func (f wfield) append(b []byte) []byte {
	switch f.typ {
	case rawBytes:
		return append(b, f.val...)
	case openGroup:
		return protowire.AppendTag(b, f.num, protowire.StartGroupType)
	case misendedGroup:
		b = protowire.AppendTag(b, f.num, protowire.StartGroupType)
		return protowire.AppendTag(b, f.num+1, protowire.EndGroupType)
	}
	b = protowire.AppendTag(b, f.num, f.typ)
	switch f.typ {
	case protowire.VarintType:
		b = protowire.AppendVarint(b, f.n)
	case protowire.Fixed32Type:
		b = protowire.AppendFixed32(b, uint32(f.n))
	case protowire.Fixed64Type:
		b = protowire.AppendFixed64(b, f.n)
	case protowire.BytesType:
		v := f.val
		if f.nested {
			v = f.sub.encode()
		}
		b = protowire.AppendBytes(b, v)
	case protowire.StartGroupType:
		b = append(b, f.sub.encode()...)
		b = protowire.AppendTag(b, f.num, protowire.EndGroupType)
	}
	return b
}

// Field numbers, named as in rpc/pb/redeemer.proto.
const (
	fTicketParams     protowire.Number = 1
	fSender           protowire.Number = 2
	fExpirationParams protowire.Number = 3
	fSenderParams     protowire.Number = 4
	fRecipientRand    protowire.Number = 5

	fRecipient         protowire.Number = 1
	fFaceValue         protowire.Number = 2
	fWinProb           protowire.Number = 3
	fRecipientRandHash protowire.Number = 4
	fSeed              protowire.Number = 5
	fExpirationBlock   protowire.Number = 6
	fInnerExpiration   protowire.Number = 7

	fSenderNonce protowire.Number = 1
	fSig         protowire.Number = 2

	fCreationRound          protowire.Number = 1
	fCreationRoundBlockHash protowire.Number = 2

	fMaxFloatSender protowire.Number = 1
)

// wireTicket lays m out field by field, every field present (an empty bytes
// field on the wire decodes as the proto3 default, as an absent one does).
func wireTicket(m *pb.Ticket) wmsg {
	exp := func(e *pb.TicketExpirationParams) wmsg {
		return wmsg{
			varintField(fCreationRound, uint64(e.GetCreationRound())),
			bytesField(fCreationRoundBlockHash, e.GetCreationRoundBlockHash()),
		}
	}
	p := m.GetTicketParams()
	return wmsg{
		msgField(fTicketParams, wmsg{
			bytesField(fRecipient, p.GetRecipient()),
			bytesField(fFaceValue, p.GetFaceValue()),
			bytesField(fWinProb, p.GetWinProb()),
			bytesField(fRecipientRandHash, p.GetRecipientRandHash()),
			bytesField(fSeed, p.GetSeed()),
			bytesField(fExpirationBlock, p.GetExpirationBlock()),
			msgField(fInnerExpiration, exp(p.GetExpirationParams())),
		}),
		bytesField(fSender, m.GetSender()),
		msgField(fExpirationParams, exp(m.GetExpirationParams())),
		msgField(fSenderParams, wmsg{
			varintField(fSenderNonce, uint64(m.GetSenderParams().GetSenderNonce())),
			bytesField(fSig, m.GetSenderParams().GetSig()),
		}),
		bytesField(fRecipientRand, m.GetRecipientRand()),
	}
}

// msgAt returns the message at path (field numbers from the top), which
// must exist: a missing step is a mistake in the test, not in the server.
func (m *wmsg) msgAt(path ...protowire.Number) *wmsg {
	if len(path) == 0 {
		return m
	}
	f := m.fieldAt(path[0])
	return f.sub.msgAt(path[1:]...)
}

func (m *wmsg) fieldAt(num protowire.Number) *wfield {
	for i := range *m {
		if (*m)[i].num == num {
			return &(*m)[i]
		}
	}
	panic(fmt.Sprintf("test message has no field %d", num))
}

// field returns the first field at path.
func (m *wmsg) field(path ...protowire.Number) *wfield {
	return m.msgAt(path[:len(path)-1]...).fieldAt(path[len(path)-1])
}

// An edit changes a ticket's wire layout.
type edit func(w *wmsg)

func edits(es ...edit) edit {
	return func(w *wmsg) {
		for _, e := range es {
			e(w)
		}
	}
}

// setBytes replaces the payload of the bytes field at path; a nested
// message becomes those bytes.
func setBytes(v []byte, path ...protowire.Number) edit {
	return func(w *wmsg) {
		f := w.field(path...)
		f.val, f.nested, f.sub = v, false, nil
	}
}

// setVarint replaces the value of the varint field at path.
func setVarint(v uint64, path ...protowire.Number) edit {
	return func(w *wmsg) { w.field(path...).n = v }
}

// drop removes the field at path.
func drop(path ...protowire.Number) edit {
	return func(w *wmsg) {
		parent := w.msgAt(path[:len(path)-1]...)
		num := path[len(path)-1]
		out := (*parent)[:0]
		for _, f := range *parent {
			if f.num != num {
				out = append(out, f)
			}
		}
		*parent = out
	}
}

// retype sends the field at path with another wire type, keeping its number;
// a bytes field's payload becomes the value 1.
func retype(typ protowire.Type, path ...protowire.Number) edit {
	return func(w *wmsg) {
		f := w.field(path...)
		f.typ, f.n, f.nested, f.sub = typ, 1, false, nil
		if typ == protowire.StartGroupType {
			f.sub = wmsg{}
		}
	}
}

// add appends f to the message at path (the top when path is empty).
func add(f wfield, path ...protowire.Number) edit {
	return func(w *wmsg) {
		m := w.msgAt(path...)
		*m = append(*m, f)
	}
}

// addFirst puts f before every other field of the message at path.
func addFirst(f wfield, path ...protowire.Number) edit {
	return func(w *wmsg) {
		m := w.msgAt(path...)
		*m = append(wmsg{f}, *m...)
	}
}

// keepOnly keeps only the listed fields of the message at path.
func keepOnly(nums []protowire.Number, path ...protowire.Number) edit {
	return func(w *wmsg) {
		m := w.msgAt(path...)
		var out wmsg
		for _, f := range *m {
			for _, n := range nums {
				if f.num == n {
					out = append(out, f)
				}
			}
		}
		*m = out
	}
}

// rawServer is a Server on the dev chain and a fresh database, reached over
// TLS, with requests sent as raw bytes.
type rawServer struct {
	env  *floatEnv
	r    *floatReplica
	svc  *Server
	addr string
	conn *grpc.ClientConn
}

// newRawServer starts one replica (monitor, hub, float service, intake) on
// a fresh dev chain and database, with the chain state stored as the
// leader stores it, and a TLS gRPC server over it.
func newRawServer(t *testing.T, o floatEnvOpts) *rawServer {
	t.Helper()
	o.manual, o.tls, o.replicas = true, true, 1
	e := newFloatEnv(t, o)
	r := e.replicas[0]
	s := &rawServer{env: e, r: r, svc: r.svc, addr: r.addr}
	s.conn = s.dial(t)
	return s
}

// dial opens a new client connection, as go-livepeer's client does: TLS
// without verifying the certificate.
func (s *rawServer) dial(t testing.TB) *grpc.ClientConn {
	t.Helper()
	return s.dialFrom(t, "127.0.0.1")
}

// dialFrom is dial from another loopback address: another client as the
// server's per-address budgets see it.
func (s *rawServer) dialFrom(t testing.TB, local string) *grpc.ClientConn {
	t.Helper()
	return dialFrom(t, s.addr, local, s.r.dialCreds())
}

// expiry is the expiration block ticket gives a ticket of round: the
// middle of its window.
func (s *rawServer) expiry(t testing.TB, round int64) int64 {
	t.Helper()
	start, end := s.env.c.window(t, round)
	return start + (end-start)/2
}

// ticket signs a winning ticket from sender 0 (or the sender mutate
// names) in the current round, with an expiration block inside its window;
// mutate changes its fields before signing.
func (s *rawServer) ticket(t testing.TB, faceValue *big.Int, mutate func(*chain.Ticket)) (*pb.Ticket, common.Hash) {
	t.Helper()
	return s.env.c.ticket(t, s.env.c.Senders()[0], faceValue, mutate)
}

// unary sends body as the request of method and returns the raw response.
func unary(ctx context.Context, conn *grpc.ClientConn, method string, body []byte) ([]byte, error) {
	in, out := rawMessage(body), rawMessage(nil)
	err := conn.Invoke(ctx, method, &in, &out, grpc.ForceCodecV2(rawCodec{}))
	return out, err
}

// openStream sends body as a MonitorMaxFloat request and returns the first
// response: a stream is only known to be open, or refused, once the first
// message or the status arrives.
func openStream(ctx context.Context, conn *grpc.ClientConn, body []byte) (grpc.ClientStream, []byte, error) {
	st, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, pb.TicketRedeemer_MonitorMaxFloat_FullMethodName,
		grpc.ForceCodecV2(rawCodec{}))
	if err != nil {
		return nil, nil, err
	}
	in := rawMessage(body)
	if err := st.SendMsg(&in); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, err
	}
	if err := st.CloseSend(); err != nil {
		return nil, nil, err
	}
	var out rawMessage
	if err := st.RecvMsg(&out); err != nil {
		return nil, nil, err
	}
	return st, out, nil
}
