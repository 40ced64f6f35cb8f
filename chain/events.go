package chain

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Event topics (PROTOCOL.md, events).
var (
	TopicDepositFunded         = common.HexToHash("0x5159e237d952190e68d5215430f305831be7c9c8776d1377c76679ae4773413f")
	TopicReserveFunded         = common.HexToHash("0xb52b99b9e83551fcbd069b559cc3e823e2a1a3bad8ece46561ea77524394c850")
	TopicReserveClaimed        = common.HexToHash("0x5c2b394723f408a40a60335e24b71829642e35f350cebe2036a96a66e895ea98")
	TopicUnlock                = common.HexToHash("0xf7870c5b224cbc19873599e46ccfc7103934650509b1af0c3ce90138377c2004")
	TopicUnlockCancelled       = common.HexToHash("0xfa044b7b93a40365dc68049797c2eb06918523d694e5d56e406cac3eb35578e5")
	TopicWinningTicketRedeemed = common.HexToHash("0xc389eb51ed006dbf2528507f010efdf5225ea596e1e1741d74f550dab1925ee7")
	TopicWinningTicketTransfer = common.HexToHash("0x8b87351a208c06e3ceee59d80725fd77a23b4129e1b51ca231fc89b40712649c")
	TopicWithdrawal            = common.HexToHash("0xdf273cb619d95419a9cd0ec88123a0538c85064229baa6363788f743fff90deb")
	TopicNewRound              = common.HexToHash("0x22f2fc17c5daf07db2379b3a03a8ef20a183f761097a58fce219c8a14619e786")
)

// senderEventNames are the TicketBroker events that change a sender's
// state; each names the sender in its first indexed argument.
var senderEventNames = map[common.Hash]string{
	TopicDepositFunded:         "DepositFunded",
	TopicReserveFunded:         "ReserveFunded",
	TopicReserveClaimed:        "ReserveClaimed",
	TopicUnlock:                "Unlock",
	TopicUnlockCancelled:       "UnlockCancelled",
	TopicWinningTicketTransfer: "WinningTicketTransfer",
	TopicWithdrawal:            "Withdrawal",
}

// LogSummary is what a range of protocol logs changes for the service.
type LogSummary struct {
	// Senders whose TicketBroker state changed.
	Senders map[common.Address]bool
	// Funded are the senders that funded a deposit or reserve: a sender
	// refused for having no funds may now have some.
	Funded map[common.Address]bool
	// Protocol: a RoundsManager or BondingManager log (pool size, active
	// set or rounds may have changed).
	Protocol bool
	// Rounds are the rounds initialized (NewRound) with their block hashes.
	Rounds map[int64]common.Hash
	// Redeemed are the tickets of the recipient the summary was made for
	// that were redeemed.
	Redeemed []RedeemedLog
}

// RedeemedLog is one WinningTicketRedeemed log.
type RedeemedLog struct {
	TicketHash common.Hash
	Sender     common.Address
	Recipient  common.Address
	Block      uint64
	BlockHash  common.Hash
	TxHash     common.Hash
}

// SummarizeLogs sorts logs of the protocol contracts by what they change.
// Logs of other contracts, removed logs and unknown events are ignored; a
// known event whose fields do not decode is an error, since it means the
// contract is not the one the service was built for.
func SummarizeLogs(logs []types.Log, a Addresses, recipient common.Address) (LogSummary, error) {
	s := LogSummary{Senders: map[common.Address]bool{}, Funded: map[common.Address]bool{}, Rounds: map[int64]common.Hash{}}
	for i := range logs {
		l := &logs[i]
		if l.Removed || len(l.Topics) == 0 {
			continue
		}
		switch l.Address {
		case a.TicketBroker:
			if l.Topics[0] == TopicWinningTicketRedeemed {
				r, err := decodeRedeemed(l)
				if err != nil {
					return s, err
				}
				if r.Recipient == recipient {
					s.Redeemed = append(s.Redeemed, r)
				}
				continue
			}
			name, ok := senderEventNames[l.Topics[0]]
			if !ok {
				continue
			}
			if len(l.Topics) < 2 {
				return s, fmt.Errorf("chain: %s log in tx %s has no sender topic", name, l.TxHash)
			}
			sender, err := topicAddress(l.Topics[1])
			if err != nil {
				return s, fmt.Errorf("chain: %s log in tx %s: %w", name, l.TxHash, err)
			}
			s.Senders[sender] = true
			if l.Topics[0] == TopicDepositFunded || l.Topics[0] == TopicReserveFunded {
				s.Funded[sender] = true
			}
		case a.RoundsManager:
			s.Protocol = true
			if l.Topics[0] == TopicNewRound {
				if len(l.Topics) < 2 || len(l.Data) < 32 {
					return s, fmt.Errorf("chain: NewRound log in tx %s is malformed", l.TxHash)
				}
				round := new(big.Int).SetBytes(l.Topics[1][:])
				if !round.IsInt64() {
					return s, fmt.Errorf("chain: NewRound log in tx %s: round %s out of range", l.TxHash, round)
				}
				s.Rounds[round.Int64()] = common.BytesToHash(l.Data[:32])
			}
		case a.BondingManager:
			s.Protocol = true
		}
	}
	return s, nil
}

func decodeRedeemed(l *types.Log) (RedeemedLog, error) {
	ev, err := redeemedEvent()
	if err != nil {
		return RedeemedLog{}, err
	}
	h, err := redeemedTicketHash(ev, l)
	if err != nil {
		return RedeemedLog{}, fmt.Errorf("chain: WinningTicketRedeemed log %d of tx %s: %w", l.Index, l.TxHash, err)
	}
	sender, _ := topicAddress(l.Topics[1])
	recipient, _ := topicAddress(l.Topics[2])
	return RedeemedLog{TicketHash: h, Sender: sender, Recipient: recipient, Block: l.BlockNumber,
		BlockHash: l.BlockHash, TxHash: l.TxHash}, nil
}

// Payouts reads a redemption receipt's logs: for each ticket the broker
// redeemed, what it paid the recipient. A ticket is paid by the
// WinningTicketTransfer the broker emits for the same sender and recipient
// just before its WinningTicketRedeemed; a ticket redeemed with nothing to
// pay has no transfer and pays 0.
func Payouts(broker common.Address, logs []*types.Log) (map[common.Hash]*big.Int, error) {
	ev, err := redeemedEvent()
	if err != nil {
		return nil, err
	}
	out := map[common.Hash]*big.Int{}
	var pending *types.Log
	for _, l := range logs {
		if l == nil || l.Removed || l.Address != broker || len(l.Topics) == 0 {
			continue
		}
		switch l.Topics[0] {
		case TopicWinningTicketTransfer:
			pending = l
		case TopicWinningTicketRedeemed:
			h, err := redeemedTicketHash(ev, l)
			if err != nil {
				return nil, fmt.Errorf("chain: WinningTicketRedeemed log %d of tx %s: %w", l.Index, l.TxHash, err)
			}
			paid := new(big.Int)
			if pending != nil && len(pending.Topics) == 3 && pending.Topics[1] == l.Topics[1] &&
				pending.Topics[2] == l.Topics[2] && len(pending.Data) >= 32 {
				paid.SetBytes(pending.Data[:32])
			}
			pending = nil
			out[h] = paid
		}
	}
	return out, nil
}
