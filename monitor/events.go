package monitor

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Event topics (PROTOCOL.md, events) that change a sender's TicketBroker
// state. Each names the sender in its first indexed argument (topic 1).
var senderEventTopics = map[common.Hash]string{
	common.HexToHash("0x5159e237d952190e68d5215430f305831be7c9c8776d1377c76679ae4773413f"): "DepositFunded",
	common.HexToHash("0xb52b99b9e83551fcbd069b559cc3e823e2a1a3bad8ece46561ea77524394c850"): "ReserveFunded",
	common.HexToHash("0x5c2b394723f408a40a60335e24b71829642e35f350cebe2036a96a66e895ea98"): "ReserveClaimed",
	common.HexToHash("0xf7870c5b224cbc19873599e46ccfc7103934650509b1af0c3ce90138377c2004"): "Unlock",
	common.HexToHash("0xfa044b7b93a40365dc68049797c2eb06918523d694e5d56e406cac3eb35578e5"): "UnlockCancelled",
	common.HexToHash("0x8b87351a208c06e3ceee59d80725fd77a23b4129e1b51ca231fc89b40712649c"): "WinningTicketTransfer",
	common.HexToHash("0xdf273cb619d95419a9cd0ec88123a0538c85064229baa6363788f743fff90deb"): "Withdrawal",
}

// newRoundTopic is RoundsManager's NewRound(uint256 indexed round, bytes32).
var newRoundTopic = common.HexToHash("0x22f2fc17c5daf07db2379b3a03a8ef20a183f761097a58fce219c8a14619e786")

// headChanges is what one block's logs say needs re-reading.
type headChanges struct {
	senders map[common.Address]bool
	// protocol: a RoundsManager or BondingManager log (pool size, active
	// set or round parameters may have changed).
	protocol bool
	newRound bool
}

// classify sorts a block's logs by what they change. Logs of other
// contracts and unknown TicketBroker events are ignored; a sender event
// whose topic is not an address is reported, since it means the contract is
// not the one the service was built for.
func classify(logs []types.Log, contracts chainAddresses) (headChanges, error) {
	ch := headChanges{senders: map[common.Address]bool{}}
	for _, l := range logs {
		if l.Removed || len(l.Topics) == 0 {
			continue
		}
		switch l.Address {
		case contracts.broker:
			name, ok := senderEventTopics[l.Topics[0]]
			if !ok {
				continue
			}
			if len(l.Topics) < 2 {
				return ch, fmt.Errorf("%s log in tx %s has no sender topic", name, l.TxHash)
			}
			sender, err := topicAddress(l.Topics[1])
			if err != nil {
				return ch, fmt.Errorf("%s log in tx %s: %w", name, l.TxHash, err)
			}
			ch.senders[sender] = true
		case contracts.rounds:
			ch.protocol = true
			if l.Topics[0] == newRoundTopic {
				ch.newRound = true
			}
		case contracts.bonding:
			ch.protocol = true
		}
	}
	return ch, nil
}

func topicAddress(t common.Hash) (common.Address, error) {
	for _, b := range t[:common.HashLength-common.AddressLength] {
		if b != 0 {
			return common.Address{}, fmt.Errorf("topic %s is not an address", t)
		}
	}
	return common.BytesToAddress(t[common.HashLength-common.AddressLength:]), nil
}

type chainAddresses struct{ broker, rounds, bonding common.Address }
