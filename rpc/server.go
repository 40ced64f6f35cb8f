// Package rpc is the gRPC face of the service: the wire types (rpc/pb), the
// TicketRedeemer server and its listener.
package rpc

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"redeemer/chain"
	"redeemer/pipeline/ratelog"
	"redeemer/rpc/pb"
	"redeemer/store"
)

// Config wires a Server.
type Config struct {
	Recipient common.Address
	// Contracts are the protocol contracts (for the reads that confirm a
	// refusal).
	Contracts chain.Addresses
	Store     IntakeStore
	// Node confirms refusals the cached state would make; Senders gives
	// each sender's state. Both may be nil in tests of decoding alone, where
	// every ticket is judged by the store's state only.
	Node    IntakeNode
	Senders Senders
	// Floats serves MaxFloat, MonitorMaxFloat and SenderInfo; without it
	// they answer Unimplemented.
	Floats FloatServer
	Logger *slog.Logger
	// ExposurePercent caps a sender's exposure (queued plus in-limbo face
	// value, the new ticket included) at this percentage of what it can pay
	// now [200]; 0 keeps the default, a negative value turns the cap off.
	ExposurePercent int
	// RefusalsPerSecond and RefusalBurst are each client address's budget
	// of refused tickets; beyond it its tickets are refused at once with
	// ResourceExhausted [20, 100]. A negative rate turns it off.
	RefusalsPerSecond float64
	RefusalBurst      int
	// Timeout bounds one QueueTicket as a whole, retries included, so the
	// answer comes well inside go-livepeer's single 8 s attempt [3s].
	Timeout time.Duration
	// ChainTimeout bounds one Ethereum call; DBTimeout one database write.
	// A write that fails as unavailable is tried up to Attempts times.
	ChainTimeout time.Duration
	DBTimeout    time.Duration
	Attempts     int
	Backoff      time.Duration
	// SenderReuse bounds how long a tracked sender's stored state is
	// reused without a change announced for it [1s].
	SenderReuse time.Duration
}

// Server implements net.TicketRedeemer.
type Server struct {
	pb.UnimplementedTicketRedeemerServer
	cfg      Config
	log      *slog.Logger
	codec    *malformedCodec
	state    *intakeState
	senders  *senderCache
	refusals *peerBudgets
	writes   *ticketBatcher
	// logs lets one refusal line per rule through each second, with the
	// count of those held back: a flood of bad tickets must not flood the
	// log.
	logs *ratelog.Limiter
}

// NewServer checks cfg and fills defaults.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Recipient == (common.Address{}) {
		return nil, errors.New("rpc: recipient address is required")
	}
	if cfg.Store == nil {
		return nil, errors.New("rpc: store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ExposurePercent == 0 {
		cfg.ExposurePercent = 200
	}
	if cfg.RefusalsPerSecond == 0 {
		cfg.RefusalsPerSecond = 20
	}
	if cfg.RefusalBurst <= 0 {
		cfg.RefusalBurst = 100
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.ChainTimeout <= 0 {
		cfg.ChainTimeout = time.Second
	}
	if cfg.DBTimeout <= 0 {
		cfg.DBTimeout = time.Second
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 3
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 100 * time.Millisecond
	}
	if cfg.SenderReuse <= 0 {
		cfg.SenderReuse = time.Second
	}
	return &Server{cfg: cfg, log: cfg.Logger, state: &intakeState{st: cfg.Store}, senders: newSenderCache(cfg.SenderReuse),
		refusals: newPeerBudgets(cfg.RefusalsPerSecond, cfg.RefusalBurst),
		writes:   newTicketBatcher(cfg.Store, cfg.DBTimeout),
		logs:     ratelog.NewLimiter(cfg.Logger, time.Second)}, nil
}

// Changed drops what the server cached about sender (all: about every
// sender and the protocol values); the float hub calls it for every change
// announced.
func (s *Server) Changed(sender [20]byte, all bool) {
	if all {
		s.state.forget()
	}
	s.senders.drop(sender, all)
}

// QueueTicket validates a winning ticket and stores it. OK means the ticket is
// committed; any error means nothing was stored by this call. In steady
// state it asks the node nothing: the protocol values, the rounds' block
// hashes, the senders' state and the tickets the chain shows redeemed are
// what the leader follows and stores; the node is asked only to confirm a
// refusal that state would make.
func (s *Server) QueueTicket(ctx context.Context, m *pb.Ticket) (*pb.QueueTicketRes, error) {
	if err := s.codec.take(m); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	peerKey := peerKey(ctx)
	ch := &charge{budgets: s.refusals, key: peerKey}
	if s.refusals.spent(peerKey) {
		return nil, status.Error(codes.ResourceExhausted,
			"ticket refused: peer_refusals: too many refused tickets from this address; slow down")
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	t, err := DecodeTicket(m, s.cfg.Recipient)
	if err != nil {
		return nil, s.refuse(ctx, ch, t, err)
	}
	admit, err := s.judge(ctx, t, ch)
	if err != nil {
		return nil, s.refuse(ctx, ch, t, err)
	}
	nt := store.NewTicket{
		TicketHash:             t.Hash,
		Sender:                 t.Sender,
		Recipient:              t.Recipient,
		FaceValue:              t.FaceValue,
		WinProb:                t.WinProb,
		SenderNonce:            t.SenderNonce,
		RecipientRandHash:      t.RecipientRandHash,
		Seed:                   t.Seed,
		Sig:                    t.Sig,
		CreationRound:          t.CreationRound,
		CreationRoundBlockHash: t.CreationRoundBlockHash,
		ParamsExpirationBlock:  t.ParamsExpirationBlock.Int64(),
	}
	t.RecipientRand.FillBytes(nt.RecipientRand[:])

	var res store.Admitted
	// Retrying is safe: the insert is idempotent by ticket hash, so a commit
	// whose acknowledgement was lost is found, not duplicated, next time.
	// Concurrent tickets share statements (see ticketBatcher); OK still
	// means this ticket's row is committed.
	insert := func() error {
		return s.retry(ctx, s.cfg.DBTimeout, store.IsUnavailable, func(ctx context.Context) error {
			var err error
			res, err = s.writes.insert(ctx, store.Admit{Ticket: nt, Cap: admit.cap})
			return err
		})
	}
	err = insert()
	if err == nil && res.Capped {
		// The cap came from stored funds, which may be behind a deposit
		// the leader has not followed yet: confirm on chain before
		// refusing, as for the other rules.
		if fresh, ok := s.freshCap(ctx, t, admit, ch); ok {
			admit = fresh
			err = insert()
		}
	}
	log := s.log.With("ticket_hash", t.Hash.Hex(), "sender", t.Sender.Hex())
	if err != nil {
		log.Error("storing ticket failed", "err", err)
		if ctx.Err() != nil {
			return nil, status.Error(codes.Unavailable, "ticket not stored in time; retry")
		}
		if store.IsUnavailable(err) {
			return nil, status.Error(codes.Unavailable, "database unavailable; ticket not stored, retry")
		}
		return nil, status.Error(codes.Internal, "storing ticket failed; ticket not stored")
	}
	switch {
	case res.Used:
		return nil, s.refuse(ctx, ch, t, ruleErr("used", "ticket %s is already redeemed on chain", t.Hash.Hex()))
	case res.Capped:
		return nil, s.refuse(ctx, ch, t, &exposureError{sender: t.Sender, face: t.FaceValue,
			reach: res.Exposure, cap: admit.cap, canPay: admit.canPay, percent: s.cfg.ExposurePercent})
	}
	log.Info("ticket queued", "face_value", t.FaceValue.String(), "new", res.Inserted,
		"creation_round", t.CreationRound, "expiration_block", t.ParamsExpirationBlock.String())
	return &pb.QueueTicketRes{}, nil
}

// MaxFloat returns a sender's max float once (see FloatService). Without
// Config.Floats it answers Unimplemented, as go-livepeer's client expects
// from a server without float tracking.
func (s *Server) MaxFloat(ctx context.Context, m *pb.MaxFloatReq) (*pb.MaxFloatUpdate, error) {
	if err := s.codec.take(m); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if s.cfg.Floats == nil {
		return nil, status.Error(codes.Unimplemented, "max float is not served")
	}
	return s.cfg.Floats.MaxFloat(ctx, m)
}

// SenderInfo returns a sender's stored TicketBroker state (see
// FloatService); without Config.Floats it answers Unimplemented.
func (s *Server) SenderInfo(ctx context.Context, m *pb.MaxFloatReq) (*pb.SenderInfoRes, error) {
	if err := s.codec.take(m); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if s.cfg.Floats == nil {
		return nil, status.Error(codes.Unimplemented, "sender info is not served")
	}
	return s.cfg.Floats.SenderInfo(ctx, m)
}

// MonitorMaxFloat streams a sender's max float, like MaxFloat.
func (s *Server) MonitorMaxFloat(m *pb.MaxFloatReq, stream pb.TicketRedeemer_MonitorMaxFloatServer) error {
	if err := s.codec.take(m); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	if s.cfg.Floats == nil {
		return status.Error(codes.Unimplemented, "max float is not served")
	}
	return s.cfg.Floats.MonitorMaxFloat(m, stream)
}
