package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"redeemer/chain"
	"redeemer/monitor"
	"redeemer/store"
)

// admitted is what judge decided for a ticket that may be stored.
type admitted struct {
	// cap bounds the sender's exposure with this ticket (nil: no cap).
	cap    *big.Int
	canPay *big.Int
	// stored: judged by the state the leader stores, which may be behind
	// a funding on chain (else just read from chain).
	stored bool
}

// refusedError is a ticket refused for a reason of its sender's: the
// ticket itself is fine, the sender cannot back it now.
// FailedPrecondition.
type refusedError struct{ *RuleError }

// exposureError is a ticket beyond its sender's exposure cap.
// ResourceExhausted, with the figures.
type exposureError struct {
	sender                   common.Address
	face, reach, cap, canPay *big.Int
	percent                  int
}

func (e *exposureError) Error() string {
	return fmt.Sprintf("exposure: sender %s would have %s wei queued and in flight with this ticket (face value %s), "+
		"above its cap of %s wei (%d%% of the %s wei it can pay now: deposit plus reserve allocation)",
		e.sender.Hex(), e.reach, e.face, e.cap, e.percent, e.canPay)
}

// chainError marks a failure to read chain state, as opposed to a ticket the
// chain proves invalid.
type chainError struct{ err error }

func (e *chainError) Error() string { return "ethereum node: " + e.err.Error() }
func (e *chainError) Unwrap() error { return e.err }

// judge applies the rules that need state: the creation round (current,
// within its validity period, its block hash), the expiration block's
// window, and the sender's admission and exposure cap. Cached state may
// only accept: a refusal it would make is confirmed on fresh reads from the
// chain first, so a cache behind the chain never costs a valid ticket.
func (s *Server) judge(ctx context.Context, t *DecodedTicket, ch *charge) (admitted, error) {
	p, err := s.state.current(ctx)
	if err != nil {
		return admitted{}, &dbError{err}
	}
	hash, known, err := s.state.roundHash(ctx, t.CreationRound)
	if err != nil {
		return admitted{}, &dbError{err}
	}
	rules := func() error {
		if err := roundRules(t, p, hash, known); err != nil {
			return err
		}
		return expirationWindow(t, p)
	}
	roundErr := rules()
	if roundErr != nil && s.cfg.Node != nil {
		// Confirm on fresh reads: a round the leader has not stored yet, or
		// a refusal by state that may be behind (a round that began since
		// moves every expiration window).
		if !ch.take() {
			return admitted{}, roundErr
		}
		if p, hash, err = s.freshRounds(ctx, t.CreationRound); err != nil {
			return admitted{}, err
		}
		known = true
		roundErr = rules()
	}
	if roundErr != nil {
		return admitted{}, roundErr
	}
	if s.cfg.Senders == nil {
		return admitted{}, nil
	}
	fs, tracked, err := s.floatState(ctx, t.Sender)
	if err != nil {
		return admitted{}, &chainError{err}
	}
	if rule := admission(fs); rule != nil {
		if !tracked {
			// Just read from chain (or from a recent read): final.
			return admitted{}, &refusedError{rule}
		}
		// Stored state may be behind a funding the leader has not seen.
		if !ch.take() {
			return admitted{}, &refusedError{rule}
		}
		if fs, err = s.cfg.Senders.Fresh(ctx, t.Sender); err != nil {
			return admitted{}, &chainError{err}
		}
		if rule := admission(fs); rule != nil {
			return admitted{}, &refusedError{rule}
		}
	}
	if !tracked {
		// Its tickets are stored from now on: the leader must follow it.
		if err := s.cfg.Senders.TrackState(ctx, fs); err != nil {
			return admitted{}, &dbError{err}
		}
	}
	a := s.admit(fs)
	a.stored = tracked
	return a, nil
}

// floatState is the sender's state for judging: a tracked sender's stored
// state from this replica's cache (dropped on every change announced),
// else what Senders answers.
func (s *Server) floatState(ctx context.Context, sender common.Address) (store.FloatState, bool, error) {
	fs, ok, gen := s.senders.get(sender)
	if ok {
		return fs, true, nil
	}
	at := time.Now()
	fs, tracked, err := s.cfg.Senders.FloatState(ctx, sender)
	if err == nil && tracked {
		s.senders.put(sender, fs, gen, at)
	}
	return fs, tracked, err
}

// admit is what the sender in state fs may have queued and in limbo.
func (s *Server) admit(fs store.FloatState) admitted {
	a := admitted{canPay: canPay(fs)}
	if s.cfg.ExposurePercent > 0 {
		a.cap = new(big.Int).Mul(a.canPay, big.NewInt(int64(s.cfg.ExposurePercent)))
		a.cap.Quo(a.cap, big.NewInt(100))
	}
	return a
}

// freshCap confirms an exposure refusal made by stored state: the sender's
// funds read from chain now give the cap, which is used when it is larger.
// ok is false when nothing changed (or the read failed): the refusal
// stands.
func (s *Server) freshCap(ctx context.Context, t *DecodedTicket, a admitted, ch *charge) (admitted, bool) {
	if !a.stored || s.cfg.Senders == nil || s.cfg.Node == nil || !ch.take() {
		return a, false
	}
	fs, err := s.cfg.Senders.Fresh(ctx, t.Sender)
	if err != nil || admission(fs) != nil {
		return a, false
	}
	fresh := s.admit(fs)
	if fresh.cap == nil || a.cap == nil || fresh.cap.Cmp(a.cap) <= 0 {
		return a, false
	}
	return fresh, true
}

// freshRounds reads the protocol values and the creation round's block
// hash from the node now, and remembers the hash.
func (s *Server) freshRounds(ctx context.Context, creation int64) (*store.ProtocolState, common.Hash, error) {
	var (
		pr   chain.ProtocolReading
		hash common.Hash
	)
	err := s.chainRead(ctx, func(ctx context.Context) (err error) {
		pr, err = s.cfg.Node.ReadProtocol(ctx, s.cfg.Contracts, nil, s.cfg.Recipient)
		return err
	})
	if err != nil {
		return nil, common.Hash{}, err
	}
	err = s.chainRead(ctx, func(ctx context.Context) (err error) {
		hash, err = s.cfg.Node.ReadRoundHash(ctx, s.cfg.Contracts, creation)
		return err
	})
	if err != nil {
		return nil, common.Hash{}, err
	}
	s.state.remember(creation, hash)
	if hash != (common.Hash{}) {
		// The chain's, whoever stores it; the next replica finds it here.
		if err := s.cfg.Store.Q().SaveRoundHashes(ctx, map[int64][32]byte{creation: hash}); err != nil {
			s.log.Warn("round hash not stored", "round", creation, "err", err)
		}
	}
	return monitor.ProtocolState(s.cfg.Recipient, pr, chain.Head{}), hash, nil
}

// roundRules: the creation round must not be in the future, must still be
// within the validity period, and its block hash must be the chain's.
func roundRules(t *DecodedTicket, p *store.ProtocolState, hash common.Hash, known bool) error {
	round, validity := p.CurrentRound, p.TicketValidityPeriod
	if validity == nil {
		return &chainError{errors.New("ticket validity period not stored yet")}
	}
	creation := big.NewInt(t.CreationRound)
	if creation.Cmp(round) > 0 {
		return ruleErr("creation_round", "round %d is after the current round %s", t.CreationRound, round)
	}
	if new(big.Int).Add(creation, validity).Cmp(round) <= 0 {
		return ruleErr("creation_round", "round %d is past its validity period of %s rounds (current round %s)",
			t.CreationRound, validity, round)
	}
	if !known {
		return ruleErr("creation_round_block_hash", "round %d has no known block hash", t.CreationRound)
	}
	if hash != t.CreationRoundBlockHash {
		return ruleErr("creation_round_block_hash", "%s is not the block hash of round %d (%s)",
			t.CreationRoundBlockHash.Hex(), t.CreationRound, hash.Hex())
	}
	return nil
}

// expirationWindow bounds the expiration block, which the caller chooses
// (it is not signed) and which decides when the ticket falls due: not
// before its creation round began (params are issued in that round), and
// not after the round in which the ticket expires began (it would fall due
// only once it could no longer be redeemed).
func expirationWindow(t *DecodedTicket, p *store.ProtocolState) error {
	if p.RoundStartL1 == nil || p.RoundLength == nil || p.TicketValidityPeriod == nil {
		return nil // not read yet: nothing to bound by
	}
	back := new(big.Int).Sub(p.CurrentRound, big.NewInt(t.CreationRound))
	start := new(big.Int).Sub(p.RoundStartL1, new(big.Int).Mul(back, p.RoundLength))
	end := new(big.Int).Add(start, new(big.Int).Mul(p.TicketValidityPeriod, p.RoundLength))
	if t.ParamsExpirationBlock.Cmp(start) < 0 || t.ParamsExpirationBlock.Cmp(end) >= 0 {
		return ruleErr("expiration_block", "%s is outside the window of creation round %d: L1 blocks %s to %s",
			t.ParamsExpirationBlock, t.CreationRound, start, new(big.Int).Sub(end, big.NewInt(1)))
	}
	return nil
}

// dbError marks a database failure while judging a ticket.
type dbError struct{ err error }

func (e *dbError) Error() string { return "database: " + e.err.Error() }
func (e *dbError) Unwrap() error { return e.err }

// refuse maps an intake failure to its gRPC status, charges a refusal that
// is the caller's to its address's budget, and logs it (at most once a
// second per kind, with a count of those left out).
func (s *Server) refuse(ctx context.Context, ch *charge, t *DecodedTicket, err error) error {
	var (
		re  *RuleError
		rf  *refusedError
		ex  *exposureError
		ce  *chainError
		de  *dbError
		st  *status.Status
		who []any
	)
	if t != nil {
		who = []any{"ticket_hash", t.Hash.Hex(), "sender", t.Sender.Hex()}
	}
	switch {
	case errors.As(err, &rf):
		st = status.New(codes.FailedPrecondition, refusedPrefix+rf.RuleError.Error())
	case errors.As(err, &re):
		st = status.New(codes.InvalidArgument, rejectedPrefix+re.Error())
	case errors.As(err, &ex):
		st = status.New(codes.ResourceExhausted, refusedPrefix+ex.Error())
	case errors.Is(err, ErrForeignRecipient):
		st = status.New(codes.PermissionDenied, err.Error())
	case errors.As(err, &ce), errors.As(err, &de):
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
			return status.Error(codes.Canceled, "request canceled")
		}
		s.logs.Log(ctx, slog.LevelWarn, "unavailable", "ticket not judged: state unavailable", append(who, "err", err)...)
		return status.Error(codes.Unavailable, fmt.Sprintf("cannot judge the ticket now; not stored, retry: %v", err))
	default:
		s.log.Error("ticket not judged", append(who, "err", err)...)
		return status.Error(codes.Internal, "ticket not judged; not stored")
	}
	ch.take()
	rule, _ := RejectedRule(st.Err())
	s.logs.Log(ctx, slog.LevelInfo, rule, "ticket refused",
		append(who, "code", st.Code().String(), "rule", rule, "reason", st.Message(), "peer", ch.key)...)
	return st.Err()
}

// chainRead runs one chain read with the per-call timeout and retries, and
// marks its failure as the node's, not the ticket's.
func (s *Server) chainRead(ctx context.Context, fn func(context.Context) error) error {
	if err := s.retry(chain.WithPriority(ctx, chain.PriorityNormal), s.cfg.ChainTimeout, nil, fn); err != nil {
		return &chainError{err}
	}
	return nil
}

// retry runs fn with a per-attempt timeout, up to cfg.Attempts times with
// doubling backoff, within the call's own deadline. retryable nil means
// every error except the caller's own cancellation is worth another try.
func (s *Server) retry(ctx context.Context, timeout time.Duration, retryable func(error) bool, fn func(context.Context) error) error {
	backoff := chain.Backoff{Min: s.cfg.Backoff, Max: 8 * s.cfg.Backoff}
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
		case <-time.After(backoff.Delay(attempt)):
		}
	}
}
