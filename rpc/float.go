package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"redeemer/monitor"
	"redeemer/rpc/pb"
	"redeemer/store"
)

// FloatServer serves max floats and sender state; Server delegates
// MaxFloat, MonitorMaxFloat and SenderInfo to it. *FloatService implements it.
type FloatServer interface {
	MaxFloat(ctx context.Context, m *pb.MaxFloatReq) (*pb.MaxFloatUpdate, error)
	MonitorMaxFloat(m *pb.MaxFloatReq, stream pb.TicketRedeemer_MonitorMaxFloatServer) error
	SenderInfo(ctx context.Context, m *pb.MaxFloatReq) (*pb.SenderInfoRes, error)
}

// FloatOptions tune a FloatService. Zero values take the defaults in
// brackets.
type FloatOptions struct {
	// MaxStreams caps the MonitorMaxFloat streams open in this process, and
	// MaxStreamsPerConn those of one client connection; a stream beyond
	// either gets ResourceExhausted [10000, 1000]. An orchestrator needs one
	// stream per sender it serves.
	MaxStreams, MaxStreamsPerConn int
	// Timeout bounds the work before a float is known: the database read
	// and, for a sender not tracked yet, the chain reads [10s].
	Timeout time.Duration
	// StrangersPerSecond and StrangerBurst are each client address's
	// budget of requests about senders the service does not track that
	// turn out to have neither deposit nor reserve (each cost a chain read
	// and can never matter); beyond it every request about a sender not
	// tracked gets ResourceExhausted [10, 50]. Requests about funded
	// senders are not charged: there are only as many as the chain holds,
	// and each is read once per cache period. A negative rate turns the
	// budget off.
	StrangersPerSecond float64
	StrangerBurst      int
	Logger             *slog.Logger
}

// FloatService answers MaxFloat from the database (any replica can) and
// streams MonitorMaxFloat from the hub's notifications.
type FloatService struct {
	mon  *monitor.Monitor
	hub  *monitor.Hub
	opts FloatOptions
	log  *slog.Logger

	strangers *peerBudgets

	mu      sync.Mutex
	streams int
	perConn map[string]int
}

// NewFloatService serves floats from mon (unary, and tracking new senders)
// and hub (streams). The hub must be running; when its Run returns, every
// stream ends with OK and new ones get Unavailable.
func NewFloatService(mon *monitor.Monitor, hub *monitor.Hub, opts FloatOptions) (*FloatService, error) {
	if mon == nil || hub == nil {
		return nil, errors.New("rpc: float service needs a monitor and a hub")
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = 10000
	}
	if opts.MaxStreamsPerConn <= 0 {
		opts.MaxStreamsPerConn = 1000
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.StrangersPerSecond == 0 {
		opts.StrangersPerSecond = 10
	}
	if opts.StrangerBurst <= 0 {
		opts.StrangerBurst = 50
	}
	return &FloatService{mon: mon, hub: hub, opts: opts, log: opts.Logger.With("component", "rpc.floats"),
		strangers: newPeerBudgets(opts.StrangersPerSecond, opts.StrangerBurst), perConn: map[string]int{}}, nil
}

// WireFloat encodes a float for MaxFloatUpdate: big-endian, zero as empty.
// A negative float (more in limbo than the allocation) is sent as 0: the
// field is unsigned, and big.Int's Bytes would drop the sign and advertise
// the deficit as credit.
func WireFloat(v *big.Int) []byte {
	if v == nil || v.Sign() <= 0 {
		return []byte{}
	}
	return v.Bytes()
}

// MaxFloat returns the sender's current max float, reading it from chain
// first when the service does not track the sender yet.
func (f *FloatService) MaxFloat(ctx context.Context, m *pb.MaxFloatReq) (*pb.MaxFloatUpdate, error) {
	sender, err := address("sender", m.GetSender())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, "invalid request: "+err.Error())
	}
	fs, err := f.floatState(ctx, sender)
	if err != nil {
		return nil, err
	}
	return &pb.MaxFloatUpdate{MaxFloat: WireFloat(monitor.MaxFloat(fs))}, nil
}

// floatState returns a sender's state: stored for a tracked sender, read
// from chain (briefly cached, not stored) for any other, within the
// caller's budget of such reads.
func (f *FloatService) floatState(ctx context.Context, sender common.Address) (store.FloatState, error) {
	tctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	fs, tracked, err := f.mon.Stored(tctx, sender)
	if err != nil {
		return fs, f.unavailable(ctx, "max float", sender.Hex(), err)
	}
	if tracked {
		return fs, nil
	}
	return f.stranger(tctx, ctx, sender, fs)
}

// stranger reads a sender nobody tracks from chain (briefly cached),
// charging the caller's budget when it has neither deposit nor reserve; a
// caller with no budget left is refused before any read.
func (f *FloatService) stranger(tctx, ctx context.Context, sender common.Address, stored store.FloatState) (store.FloatState, error) {
	peer := peerKey(ctx)
	if f.strangers.spent(peer) {
		return stored, errStrangers
	}
	fs, err := f.mon.Stranger(tctx, sender, stored)
	if err != nil {
		return fs, f.unavailable(ctx, "max float", sender.Hex(), err)
	}
	if fs.State == nil || fs.State.Unfunded() {
		// Not read at all, or with nothing to pay from: it can never matter.
		f.strangers.take(peer)
	}
	return fs, nil
}

// errStrangers refuses a caller over its budget of requests about unknown,
// unfunded senders.
var errStrangers = status.Error(codes.ResourceExhausted,
	"too many requests about senders this service does not track from this address; slow down")

// SenderInfo returns the sender's stored TicketBroker state, reading it
// from chain first when the service does not track the sender yet. Every
// value comes from one stored snapshot, so max_float agrees with the rest.
func (f *FloatService) SenderInfo(ctx context.Context, m *pb.MaxFloatReq) (*pb.SenderInfoRes, error) {
	sender, err := address("sender", m.GetSender())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, "invalid request: "+err.Error())
	}
	fs, err := f.floatState(ctx, sender)
	if err != nil {
		return nil, err
	}
	res, err := senderInfo(fs)
	if err != nil {
		f.log.Error("stored sender state does not fit the wire", "sender", sender.Hex(), "err", err)
		return nil, status.Error(codes.Internal, "stored sender state does not fit the wire")
	}
	return res, nil
}

// senderInfo encodes a usable float state (State and Protocol set).
func senderInfo(fs store.FloatState) (*pb.SenderInfoRes, error) {
	s, p := fs.State, fs.Protocol
	if !p.CurrentRound.IsInt64() || !p.LastInitializedRound.IsInt64() {
		return nil, fmt.Errorf("round %s or last initialized round %s exceeds int64", p.CurrentRound, p.LastInitializedRound)
	}
	claimedInRound, claimedBy := s.ClaimedInRound, s.ClaimedByRecipient
	if s.Round.Cmp(p.CurrentRound) < 0 {
		// Read in an earlier round: the chain has reset these claims
		// already, as monitor.ReserveAlloc assumes too.
		claimedInRound, claimedBy = new(big.Int), new(big.Int)
	}
	return &pb.SenderInfoRes{
		Deposit:                      wireUint(s.Deposit),
		WithdrawRound:                wireUint(s.WithdrawRound),
		ReserveFundsRemaining:        wireUint(s.FundsRemaining),
		ReserveClaimedInCurrentRound: wireUint(claimedInRound),
		ClaimedByRecipient:           wireUint(claimedBy),
		LastInitializedRound:         p.LastInitializedRound.Int64(),
		CurrentRound:                 p.CurrentRound.Int64(),
		MaxFloat:                     WireFloat(monitor.MaxFloat(fs)),
	}, nil
}

// wireUint encodes a chain amount or round, never negative, big-endian
// with zero as empty.
func wireUint(v *big.Int) []byte {
	if v == nil || v.Sign() <= 0 {
		return []byte{}
	}
	return v.Bytes()
}

// MonitorMaxFloat sends the sender's current max float, then every change,
// until the client leaves (or the server stops: the stream then ends OK).
func (f *FloatService) MonitorMaxFloat(m *pb.MaxFloatReq, stream pb.TicketRedeemer_MonitorMaxFloatServer) error {
	ctx := stream.Context()
	sender, err := address("sender", m.GetSender())
	if err != nil {
		return status.Error(codes.InvalidArgument, "invalid request: "+err.Error())
	}
	release, err := f.acquire(connKey(ctx))
	if err != nil {
		return err
	}
	defer release()

	tctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	fs, tracked, err := f.mon.Stored(tctx, sender)
	if err == nil && tracked {
		// Marks it wanted, so retention keeps it while streams follow it.
		err = f.mon.Track(tctx, sender)
	} else if err == nil {
		// Following a new sender costs a chain read now and its changes
		// from now on: an unfunded one within the caller's budget.
		fs, err = f.stranger(tctx, ctx, sender, fs)
		if err != nil {
			cancel()
			return err
		}
		if fs.State == nil {
			err = f.mon.Track(tctx, sender)
		} else {
			err = f.mon.TrackState(tctx, fs)
		}
	}
	cancel()
	if err != nil {
		return f.unavailable(ctx, "track sender", sender.Hex(), err)
	}
	sub, err := f.hub.Subscribe(sender)
	if err != nil {
		return status.Error(codes.Unavailable, "server is stopping")
	}
	defer sub.Close()
	var sent []byte
	for {
		select {
		case v := <-sub.C():
			// Two negative floats are both 0 on the wire: one is enough.
			w := WireFloat(v)
			if sent != nil && bytes.Equal(w, sent) {
				continue
			}
			if err := stream.Send(&pb.MaxFloatUpdate{MaxFloat: w}); err != nil {
				return err
			}
			sent = w
		case <-sub.Done():
			return nil
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		}
	}
}

// Streams returns the number of open MonitorMaxFloat streams.
func (f *FloatService) Streams() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.streams
}

// acquire takes a stream slot for the client connection key.
func (f *FloatService) acquire(key string) (release func(), err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.streams >= f.opts.MaxStreams {
		return nil, status.Errorf(codes.ResourceExhausted, "too many max float streams on this server (%d)", f.opts.MaxStreams)
	}
	if f.perConn[key] >= f.opts.MaxStreamsPerConn {
		return nil, status.Errorf(codes.ResourceExhausted, "too many max float streams on this connection (%d)", f.opts.MaxStreamsPerConn)
	}
	f.streams++
	f.perConn[key]++
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.streams--
		if f.perConn[key]--; f.perConn[key] == 0 {
			delete(f.perConn, key)
		}
	}, nil
}

// connKey names the client connection: its remote address and port.
func connKey(ctx context.Context) string {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return p.Addr.Network() + ":" + p.Addr.String()
	}
	return ""
}

// unavailable maps a failure to learn a float: the caller's own end stays
// its own, anything else (node or database) is worth a retry.
func (f *FloatService) unavailable(ctx context.Context, what, sender string, err error) error {
	if ctx.Err() != nil {
		return status.FromContextError(ctx.Err()).Err()
	}
	f.log.Warn(what+" failed", "sender", sender, "err", err)
	return status.Error(codes.Unavailable, fmt.Sprintf("%s of %s unavailable; retry", what, sender))
}
