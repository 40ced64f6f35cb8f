package rpc

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"redeemer/chain"
	"redeemer/rpc/pb"
)

// RuleError is a ticket that breaks a protocol rule. Rule is a short stable
// name (for logs, metrics and the client's error message); the ticket is not
// stored.
type RuleError struct {
	Rule string
	Msg  string
}

func (e *RuleError) Error() string { return e.Rule + ": " + e.Msg }

func ruleErr(rule, format string, args ...any) error {
	return &RuleError{Rule: rule, Msg: fmt.Sprintf(format, args...)}
}

// ErrForeignRecipient means the ticket pays someone other than the recipient
// this service redeems for. It is reported as PermissionDenied, as
// go-livepeer's own server does.
var ErrForeignRecipient = errors.New("ticket recipient is not this service's recipient")

// DecodedTicket is a ticket that passed every check that needs no chain state.
type DecodedTicket struct {
	chain.Ticket
	Hash          common.Hash
	Sig           []byte
	RecipientRand *big.Int
	Seed          []byte
}

// DecodeTicket turns a wire ticket into a DecodedTicket, checking sizes,
// ranges, the recipient, the recipientRand commitment, the signature and the
// winning rule, in that order, so the first broken rule is the one reported.
// A ticket refused for its signature or for not winning is returned with
// the error, its hash set, so that the refusal can name it.
func DecodeTicket(m *pb.Ticket, recipient common.Address) (*DecodedTicket, error) {
	if m == nil {
		return nil, ruleErr("ticket", "missing")
	}
	params := m.GetTicketParams()
	if params == nil {
		return nil, ruleErr("ticket_params", "missing")
	}
	var d DecodedTicket
	var err error

	if d.Recipient, err = address("recipient", params.GetRecipient()); err != nil {
		return nil, err
	}
	if d.Recipient != recipient {
		return nil, fmt.Errorf("%w: got %s, want %s", ErrForeignRecipient, d.Recipient, recipient)
	}
	if d.Sender, err = address("sender", m.GetSender()); err != nil {
		return nil, err
	}
	if d.FaceValue, err = positiveUint256("face_value", params.GetFaceValue()); err != nil {
		return nil, err
	}
	if d.WinProb, err = positiveUint256("win_prob", params.GetWinProb()); err != nil {
		return nil, err
	}
	if d.RecipientRandHash, err = hash32("recipient_rand_hash", params.GetRecipientRandHash()); err != nil {
		return nil, err
	}
	if len(params.GetSeed()) > 32 {
		return nil, ruleErr("seed", "at most 32 bytes, got %d", len(params.GetSeed()))
	}
	d.Seed = append([]byte{}, params.GetSeed()...)
	if d.ParamsExpirationBlock, err = blockNumber("expiration_block", params.GetExpirationBlock()); err != nil {
		return nil, err
	}

	exp, err := expirationParams(m)
	if err != nil {
		return nil, err
	}
	d.CreationRound = exp.GetCreationRound()
	if d.CreationRound < 0 {
		return nil, ruleErr("creation_round", "must not be negative, got %d", d.CreationRound)
	}
	if d.CreationRoundBlockHash, err = hash32("creation_round_block_hash", exp.GetCreationRoundBlockHash()); err != nil {
		return nil, err
	}
	if d.CreationRoundBlockHash == (common.Hash{}) {
		return nil, ruleErr("creation_round_block_hash", "must not be zero")
	}

	sp := m.GetSenderParams()
	if sp == nil {
		return nil, ruleErr("sender_params", "missing")
	}
	d.SenderNonce = sp.GetSenderNonce()
	d.Sig = append([]byte{}, sp.GetSig()...)

	rr := m.GetRecipientRand()
	if len(rr) > 32 {
		return nil, ruleErr("recipient_rand", "at most 32 bytes, got %d", len(rr))
	}
	d.RecipientRand = new(big.Int).SetBytes(rr)
	if chain.RandHash(d.RecipientRand) != d.RecipientRandHash {
		return nil, ruleErr("recipient_rand", "keccak256(recipient_rand) does not equal recipient_rand_hash")
	}

	d.Hash = d.Ticket.Hash()
	signer, err := chain.RecoverSigner(d.Hash, d.Sig)
	if err != nil {
		return &d, ruleErr("sig", "%v", err)
	}
	if signer != d.Sender {
		return &d, ruleErr("sig", "signed by %s, not by the sender %s", signer, d.Sender)
	}
	if !chain.Wins(d.Sig, d.RecipientRand, d.WinProb) {
		return &d, ruleErr("winning", "ticket does not win: keccak256(sig ‖ recipient_rand) >= win_prob")
	}
	return &d, nil
}

// expirationParams reads the creation round from the Ticket (field 3), which
// go-livepeer's redeemer client fills, or from TicketParams (field 7). When
// both are set they must agree: the hash covers only one value.
func expirationParams(m *pb.Ticket) (*pb.TicketExpirationParams, error) {
	outer, inner := m.GetExpirationParams(), m.GetTicketParams().GetExpirationParams()
	switch {
	case outer == nil && inner == nil:
		return nil, ruleErr("expiration_params", "missing (creation round and its block hash are required)")
	case outer == nil:
		return inner, nil
	case inner != nil && (inner.GetCreationRound() != outer.GetCreationRound() ||
		string(inner.GetCreationRoundBlockHash()) != string(outer.GetCreationRoundBlockHash())):
		return nil, ruleErr("expiration_params", "ticket and ticket_params carry different creation rounds")
	}
	return outer, nil
}

func address(field string, b []byte) (common.Address, error) {
	if len(b) != common.AddressLength {
		return common.Address{}, ruleErr(field, "must be a 20-byte address, got %d bytes", len(b))
	}
	a := common.BytesToAddress(b)
	if a == (common.Address{}) {
		return common.Address{}, ruleErr(field, "must not be the zero address")
	}
	return a, nil
}

func hash32(field string, b []byte) (common.Hash, error) {
	if len(b) != common.HashLength {
		return common.Hash{}, ruleErr(field, "must be 32 bytes, got %d", len(b))
	}
	return common.BytesToHash(b), nil
}

func positiveUint256(field string, b []byte) (*big.Int, error) {
	if len(b) > 32 {
		return nil, ruleErr(field, "must fit in 256 bits, got %d bytes", len(b))
	}
	v := new(big.Int).SetBytes(b)
	if v.Sign() == 0 {
		return nil, ruleErr(field, "must be greater than zero")
	}
	return v, nil
}

func blockNumber(field string, b []byte) (*big.Int, error) {
	v := new(big.Int).SetBytes(b)
	if !v.IsInt64() {
		return nil, ruleErr(field, "must be a block number below 2^63")
	}
	return v, nil
}

// TicketToProto encodes a signed ticket for the wire, filling both places a
// creation round may travel so either reader finds it.
func TicketToProto(t *chain.Ticket, sig []byte, recipientRand *big.Int, seed []byte) *pb.Ticket {
	exp := &pb.TicketExpirationParams{
		CreationRound:          t.CreationRound,
		CreationRoundBlockHash: t.CreationRoundBlockHash.Bytes(),
	}
	var expBlock []byte
	if t.ParamsExpirationBlock != nil {
		expBlock = t.ParamsExpirationBlock.Bytes()
	}
	return &pb.Ticket{
		TicketParams: &pb.TicketParams{
			Recipient:         t.Recipient.Bytes(),
			FaceValue:         t.FaceValue.Bytes(),
			WinProb:           t.WinProb.Bytes(),
			RecipientRandHash: t.RecipientRandHash.Bytes(),
			Seed:              seed,
			ExpirationBlock:   expBlock,
			ExpirationParams:  exp,
		},
		Sender:           t.Sender.Bytes(),
		ExpirationParams: exp,
		SenderParams:     &pb.TicketSenderParams{SenderNonce: t.SenderNonce, Sig: sig},
		RecipientRand:    recipientRand.Bytes(),
	}
}

// SignTicket commits t to recipientRand, signs it with the sender's key and
// encodes it for the wire. Broadcasters sign tickets, not this service: this
// is for the dev tools and tests that play the broadcaster.
func SignTicket(t chain.Ticket, key *ecdsa.PrivateKey, recipientRand *big.Int) (*pb.Ticket, common.Hash, error) {
	t.Sender = crypto.PubkeyToAddress(key.PublicKey)
	t.RecipientRandHash = chain.RandHash(recipientRand)
	h := t.Hash()
	sig, err := chain.Sign(h, key)
	if err != nil {
		return nil, common.Hash{}, err
	}
	return TicketToProto(&t, sig, recipientRand, nil), h, nil
}
