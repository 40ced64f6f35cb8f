package contracts

import (
	_ "embed"
	"strings"

	"github.com/ethereum/go-ethereum/common"
)

//go:embed build/Multicall3.bin-runtime
var multicall3Runtime string

// Multicall3RuntimeCode is the deployed code of Multicall3, for a genesis
// state that holds the contract from the first block (as Arbitrum holds
// Multicall3 at its canonical address) without a deploying transaction.
func Multicall3RuntimeCode() []byte {
	return common.FromHex(strings.TrimSpace(multicall3Runtime))
}
