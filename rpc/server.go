// Package rpc is the gRPC face of the service: the wire types (rpc/pb), the
// TicketRedeemer server and its listener.
package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"redeemer/rpc/pb"
	"redeemer/store"
)

// ChainState is what intake reads from chain to judge a ticket.
// *chain.Protocol implements it.
type ChainState interface {
	LatestBlock(ctx context.Context) (uint64, error)
	CurrentRound(ctx context.Context) (*big.Int, error)
	TicketValidityPeriod(ctx context.Context) (*big.Int, error)
	BlockHashForRound(ctx context.Context, round *big.Int) (common.Hash, error)
	IsTicketUsed(ctx context.Context, ticketHash common.Hash) (bool, error)
}

// TicketStore is where accepted tickets go. *store.Store implements it.
// InsertTickets must commit all the tickets it is given in one statement, or
// none of them.
type TicketStore interface {
	InsertTickets(ctx context.Context, tickets []store.NewTicket) (inserted []bool, err error)
}

// Config wires a Server.
type Config struct {
	Recipient common.Address
	Chain     ChainState
	Store     TicketStore
	// Floats serves MaxFloat, MonitorMaxFloat and SenderInfo; without it
	// they answer Unimplemented.
	Floats FloatServer
	Logger *slog.Logger
	// ChainTimeout bounds one Ethereum call; DBTimeout one insert. Each is
	// tried up to Attempts times before the client gets Unavailable.
	ChainTimeout time.Duration
	DBTimeout    time.Duration
	Attempts     int
	Backoff      time.Duration
}

// Server implements net.TicketRedeemer.
type Server struct {
	pb.UnimplementedTicketRedeemerServer
	cfg    Config
	log    *slog.Logger
	codec  *malformedCodec
	rounds roundCache
	head   *headCache
	writes *ticketBatcher
}

// NewServer checks cfg and fills defaults.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Recipient == (common.Address{}) {
		return nil, errors.New("rpc: recipient address is required")
	}
	if cfg.Chain == nil || cfg.Store == nil {
		return nil, errors.New("rpc: chain and store are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ChainTimeout <= 0 {
		cfg.ChainTimeout = 5 * time.Second
	}
	if cfg.DBTimeout <= 0 {
		cfg.DBTimeout = 5 * time.Second
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 3
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 100 * time.Millisecond
	}
	return &Server{cfg: cfg, log: cfg.Logger, head: newHeadCache(),
		writes: newTicketBatcher(cfg.Store, cfg.DBTimeout)}, nil
}

// QueueTicket validates a winning ticket and stores it. OK means the ticket is
// committed; any error means nothing was stored by this call.
func (s *Server) QueueTicket(ctx context.Context, m *pb.Ticket) (*pb.QueueTicketRes, error) {
	if err := s.codec.take(m); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	t, err := DecodeTicket(m, s.cfg.Recipient)
	if err != nil {
		return nil, s.reject(err)
	}
	log := s.log.With("ticket_hash", t.Hash.Hex(), "sender", t.Sender.Hex())
	if err := s.checkOnChain(ctx, t); err != nil {
		log.Info("ticket rejected", "err", err)
		return nil, s.reject(err)
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

	var inserted bool
	// Retrying is safe: the insert is idempotent by ticket hash, so a commit
	// whose acknowledgement was lost is found, not duplicated, next time.
	// Concurrent tickets share statements (see ticketBatcher); OK still
	// means this ticket's row is committed.
	err = s.retry(ctx, s.cfg.DBTimeout, store.IsUnavailable, func(ctx context.Context) error {
		var err error
		inserted, err = s.writes.insert(ctx, nt)
		return err
	})
	if err != nil {
		log.Error("storing ticket failed", "err", err)
		if ctx.Err() != nil {
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		if store.IsUnavailable(err) {
			return nil, status.Error(codes.Unavailable, "database unavailable; ticket not stored, retry")
		}
		return nil, status.Error(codes.Internal, "storing ticket failed; ticket not stored")
	}
	log.Info("ticket queued", "face_value", t.FaceValue.String(), "new", inserted,
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

// chainError marks a failure to read chain state, as opposed to a ticket the
// chain proves invalid.
type chainError struct{ err error }

func (e *chainError) Error() string { return "ethereum node: " + e.err.Error() }
func (e *chainError) Unwrap() error { return e.err }

// checkOnChain applies the rules that need chain state. usedTickets is read
// fresh for every ticket; the round rules use per-block cached reads when
// they accept, and fresh reads before they refuse, so a cache can speed
// intake up but never cost a valid ticket. The reads run concurrently to
// keep intake latency at one round trip.
func (s *Server) checkOnChain(ctx context.Context, t *DecodedTicket) error {
	var (
		used     bool
		roundErr error
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return s.chainRead(gctx, func(ctx context.Context) (err error) {
			used, err = s.cfg.Chain.IsTicketUsed(ctx, t.Hash)
			return
		})
	})
	g.Go(func() error {
		round, validity, hash, err := s.roundState(gctx, t.CreationRound, true)
		if err != nil {
			return err
		}
		if roundErr = roundRules(t, round, validity, hash); roundErr == nil {
			return nil
		}
		s.rounds.forget()
		round, validity, hash, err = s.roundState(gctx, t.CreationRound, false)
		if err != nil {
			return err
		}
		roundErr = roundRules(t, round, validity, hash)
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	if used {
		return ruleErr("used", "ticket %s is already redeemed on chain", t.Hash.Hex())
	}
	return roundErr
}

// roundState reads the current round, the validity period and the creation
// round's block hash, from the cache when cached is true and it has them
// for the current head.
func (s *Server) roundState(ctx context.Context, creation int64, cached bool) (round, validity *big.Int, hash common.Hash, err error) {
	readHead := func(ctx context.Context) (block uint64, err error) {
		err = s.chainRead(ctx, func(ctx context.Context) (err error) {
			block, err = s.cfg.Chain.LatestBlock(ctx)
			return
		})
		return block, err
	}
	// The head only keys the round cache; concurrent callers share one
	// read of it. A fresh look (cached false) reads its own.
	var block uint64
	if cached {
		block, err = s.head.latest(ctx, readHead)
	} else {
		block, err = readHead(ctx)
	}
	if err != nil {
		return nil, nil, common.Hash{}, err
	}
	var haveRounds, haveHash bool
	if cached {
		round, validity, haveRounds = s.rounds.rounds(block)
		hash, haveHash = s.rounds.hash(creation)
	}
	g, gctx := errgroup.WithContext(ctx)
	if !haveRounds {
		g.Go(func() error {
			return s.chainRead(gctx, func(ctx context.Context) (err error) {
				round, err = s.cfg.Chain.CurrentRound(ctx)
				return
			})
		})
		g.Go(func() error {
			return s.chainRead(gctx, func(ctx context.Context) (err error) {
				validity, err = s.cfg.Chain.TicketValidityPeriod(ctx)
				return
			})
		})
	}
	if !haveHash {
		g.Go(func() error {
			return s.chainRead(gctx, func(ctx context.Context) (err error) {
				hash, err = s.cfg.Chain.BlockHashForRound(ctx, big.NewInt(creation))
				return
			})
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, common.Hash{}, err
	}
	if !haveRounds {
		s.rounds.putRounds(block, round, validity)
	}
	if !haveHash {
		s.rounds.putHash(creation, hash)
	}
	return round, validity, hash, nil
}

// roundRules: the creation round must not be in the future, must still be
// within the validity period, and its block hash must be the chain's.
func roundRules(t *DecodedTicket, round, validity *big.Int, hash common.Hash) error {
	creation := big.NewInt(t.CreationRound)
	if creation.Cmp(round) > 0 {
		return ruleErr("creation_round", "round %d is after the current round %s", t.CreationRound, round)
	}
	if new(big.Int).Add(creation, validity).Cmp(round) <= 0 {
		return ruleErr("creation_round", "round %d is past its validity period of %s rounds (current round %s)",
			t.CreationRound, validity, round)
	}
	if hash != t.CreationRoundBlockHash {
		return ruleErr("creation_round_block_hash", "%s is not the block hash of round %d (%s)",
			t.CreationRoundBlockHash.Hex(), t.CreationRound, hash.Hex())
	}
	return nil
}

// chainRead runs one chain read with the per-call timeout and retries, and
// marks its failure as the node's, not the ticket's.
func (s *Server) chainRead(ctx context.Context, fn func(context.Context) error) error {
	if err := s.retry(ctx, s.cfg.ChainTimeout, nil, fn); err != nil {
		return &chainError{err}
	}
	return nil
}

// retry runs fn with a per-attempt timeout, up to cfg.Attempts times with
// doubling backoff. retryable nil means every error except the caller's own
// cancellation is worth another try.
func (s *Server) retry(ctx context.Context, timeout time.Duration, retryable func(error) bool, fn func(context.Context) error) error {
	backoff := s.cfg.Backoff
	var err error
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, timeout)
		err = fn(actx)
		cancel()
		if err == nil || ctx.Err() != nil || attempt >= s.cfg.Attempts {
			return err
		}
		if retryable != nil && !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// reject maps an intake failure to its gRPC status.
func (s *Server) reject(err error) error {
	var re *RuleError
	var ce *chainError
	switch {
	case errors.As(err, &re):
		return status.Error(codes.InvalidArgument, "invalid ticket: "+re.Error())
	case errors.Is(err, ErrForeignRecipient):
		return status.Error(codes.PermissionDenied, err.Error())
	case errors.As(err, &ce):
		if errors.Is(err, context.Canceled) {
			return status.Error(codes.Canceled, "request canceled")
		}
		return status.Error(codes.Unavailable, fmt.Sprintf("cannot validate ticket against the chain: %v", ce.err))
	default:
		return status.Error(codes.Internal, err.Error())
	}
}
