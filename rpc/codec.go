package rpc

import (
	"errors"
	"strings"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	protov2 "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"redeemer/rpc/pb"
)

// malformedCodec is the proto codec, except that a request that does not
// decode reaches its handler marked as malformed instead of failing inside
// gRPC: gRPC would answer Internal, which tells a client the server is broken
// when the client's bytes are. The handler answers InvalidArgument.
//
// The mark travels inside the request message, as unknown-field bytes that
// no decoder produces (they open with field number 0, which protobuf
// refuses), so it lives and dies with the call. gRPC may end a call after
// decoding its request and before any handler runs (a second request
// message on a unary call, a cancelled stream); a mark kept beside the
// message would then never be taken.
type malformedCodec struct {
	encoding.CodecV2
}

func newMalformedCodec() *malformedCodec {
	return &malformedCodec{CodecV2: encoding.GetCodecV2(proto.Name)}
}

// malformedMark opens the unknown-field bytes of a marked request; the
// decoding error follows it.
const malformedMark = "\x00malformed request: "

func (c *malformedCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var m protov2.Message
	switch r := v.(type) {
	case *pb.Ticket:
		m = r
	case *pb.MaxFloatReq:
		m = r
	default:
		// Other services' handlers do not look for the mark.
		return err
	}
	// Drop whatever decoded before the error: the handler must not read
	// half a request, and a large one should not be held.
	protov2.Reset(m)
	m.ProtoReflect().SetUnknown(protoreflect.RawFields(malformedMark + err.Error()))
	return nil
}

// take reports whether request m failed to decode.
func (c *malformedCodec) take(m any) error {
	pm, ok := m.(protov2.Message)
	if !ok || pm == nil {
		return nil
	}
	detail, found := strings.CutPrefix(string(pm.ProtoReflect().GetUnknown()), malformedMark)
	if !found {
		return nil
	}
	return errors.New(malformedPrefix + ": " + detail)
}
