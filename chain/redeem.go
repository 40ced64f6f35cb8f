package chain

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"redeemer/chain/contracts"
)

// SignedTicket is a ticket with what redemption needs besides the hashed
// fields.
type SignedTicket struct {
	Ticket
	Sig           []byte
	RecipientRand *big.Int
}

// ErrNoTickets is returned for a redemption of nothing: sending it would
// spend gas to no effect.
var ErrNoTickets = errors.New("no tickets to redeem")

// brokerABI is the TicketBroker ABI; the bindings parse it once and cache it.
func brokerABI() (*abi.ABI, error) {
	a, err := contracts.TicketBrokerMetaData.GetAbi()
	if err != nil {
		return nil, fmt.Errorf("parse TicketBroker ABI: %w", err)
	}
	return a, nil
}

// RedeemCalldata returns calldata for TicketBroker: redeemWinningTicket for
// one ticket, batchRedeemWinningTickets for more. A single ticket is not sent
// as a batch of one because the batch swallows the ticket's revert, and the
// caller would then learn of a failure only from the missing event instead
// of from gas estimation's revert reason.
func RedeemCalldata(tickets []SignedTicket) ([]byte, error) {
	if len(tickets) == 0 {
		return nil, ErrNoTickets
	}
	a, err := brokerABI()
	if err != nil {
		return nil, err
	}
	if len(tickets) == 1 {
		t := &tickets[0]
		data, err := a.Pack("redeemWinningTicket", BrokerTicket(&t.Ticket), nonNilBytes(t.Sig), OrZero(t.RecipientRand))
		if err != nil {
			return nil, fmt.Errorf("pack redeemWinningTicket: %w", err)
		}
		return data, nil
	}
	bts := make([]contracts.TicketBrokerTicket, len(tickets))
	sigs := make([][]byte, len(tickets))
	rands := make([]*big.Int, len(tickets))
	for i := range tickets {
		bts[i] = BrokerTicket(&tickets[i].Ticket)
		sigs[i] = nonNilBytes(tickets[i].Sig)
		rands[i] = OrZero(tickets[i].RecipientRand)
	}
	data, err := a.Pack("batchRedeemWinningTickets", bts, sigs, rands)
	if err != nil {
		return nil, fmt.Errorf("pack batchRedeemWinningTickets (%d tickets): %w", len(tickets), err)
	}
	return data, nil
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// RedeemedTicketHashes decodes every WinningTicketRedeemed log emitted by
// broker among logs and returns the set of ticket hashes they prove
// redeemed. The event carries recipientRand rather than the ticket hash, so
// the hash is rebuilt from the event's fields. Logs from other addresses or
// with other topics are ignored, as are logs marked removed by a reorg,
// which prove nothing; a malformed matching log is an error, since it means
// the address is not the broker we think it is.
func RedeemedTicketHashes(broker common.Address, logs []*types.Log) (map[common.Hash]bool, error) {
	paid, err := Payouts(broker, logs)
	if err != nil {
		return nil, err
	}
	out := make(map[common.Hash]bool, len(paid))
	for h := range paid {
		out[h] = true
	}
	return out, nil
}

// redeemedEvent is the TicketBroker's WinningTicketRedeemed event.
func redeemedEvent() (abi.Event, error) {
	a, err := brokerABI()
	if err != nil {
		return abi.Event{}, err
	}
	ev, ok := a.Events["WinningTicketRedeemed"]
	if !ok {
		return abi.Event{}, errors.New("TicketBroker ABI has no WinningTicketRedeemed event")
	}
	return ev, nil
}

func redeemedTicketHash(ev abi.Event, l *types.Log) (common.Hash, error) {
	if len(l.Topics) != 3 {
		return common.Hash{}, fmt.Errorf("%d topics, want 3", len(l.Topics))
	}
	sender, err := topicAddress(l.Topics[1])
	if err != nil {
		return common.Hash{}, fmt.Errorf("sender topic: %w", err)
	}
	recipient, err := topicAddress(l.Topics[2])
	if err != nil {
		return common.Hash{}, fmt.Errorf("recipient topic: %w", err)
	}
	vals, err := ev.Inputs.NonIndexed().Unpack(l.Data)
	if err != nil {
		return common.Hash{}, fmt.Errorf("unpack data: %w", err)
	}
	if len(vals) != 5 {
		return common.Hash{}, fmt.Errorf("%d data fields, want 5", len(vals))
	}
	var words [4]*big.Int
	for i := range words {
		v, ok := vals[i].(*big.Int)
		if !ok {
			return common.Hash{}, fmt.Errorf("data field %d is %T, want uint256", i, vals[i])
		}
		words[i] = v
	}
	auxData, ok := vals[4].([]byte)
	if !ok {
		return common.Hash{}, fmt.Errorf("auxData is %T, want bytes", vals[4])
	}
	faceValue, winProb, senderNonce, recipientRand := words[0], words[1], words[2], words[3]

	// The event's senderNonce is a uint256, wider than Ticket.SenderNonce, so
	// the hash is packed here rather than through Ticket.Hash: another
	// redeemer's ticket may use a nonce we could not represent.
	randHash := RandHash(recipientRand)
	buf := make([]byte, 0, 20+20+32*4+32+len(auxData))
	buf = append(buf, recipient[:]...)
	buf = append(buf, sender[:]...)
	buf = append(buf, word(faceValue)...)
	buf = append(buf, word(winProb)...)
	buf = append(buf, word(senderNonce)...)
	buf = append(buf, randHash[:]...)
	buf = append(buf, auxData...)
	return crypto.Keccak256Hash(buf), nil
}

// topicAddress rejects topics with bits above the address: the ABI never
// produces them, so one means the log is not what its topic0 claims.
func topicAddress(t common.Hash) (common.Address, error) {
	for _, b := range t[:common.HashLength-common.AddressLength] {
		if b != 0 {
			return common.Address{}, fmt.Errorf("topic %s is not an address", t)
		}
	}
	return common.BytesToAddress(t[:]), nil
}
