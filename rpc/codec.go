package rpc

import (
	"fmt"
	"sync"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"

	"redeemer/rpc/pb"
)

// malformedCodec is the proto codec, except that a request that does not
// decode reaches its handler marked as malformed instead of failing inside
// gRPC: gRPC would answer Internal, which tells a client the server is broken
// when the client's bytes are. The handler answers InvalidArgument.
type malformedCodec struct {
	encoding.CodecV2
	mu  sync.Mutex
	bad map[any]error
}

func newMalformedCodec() *malformedCodec {
	return &malformedCodec{CodecV2: encoding.GetCodecV2(proto.Name), bad: map[any]error{}}
}

func (c *malformedCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	switch v.(type) {
	case *pb.Ticket, *pb.MaxFloatReq:
	default:
		// Other services' handlers do not look for the mark.
		return err
	}
	c.mu.Lock()
	c.bad[v] = err
	c.mu.Unlock()
	return nil
}

// take reports (once) whether request m failed to decode. A nil codec, as
// when a handler is called directly, knows of no malformed request.
func (c *malformedCodec) take(m any) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	err, ok := c.bad[m]
	if !ok {
		return nil
	}
	delete(c.bad, m)
	return fmt.Errorf("request is not a valid protobuf message: %w", err)
}
