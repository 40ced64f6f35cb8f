package devchain

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"

	"redeemer/chain/contracts"
)

// RoundKeeper initializes the dev RoundsManager's rounds on a node that
// mines on its own, as orchestrators do on a live network. The embedded
// chain does this in Mine instead, where it controls block production.
type RoundKeeper struct {
	b       Backend
	rounds  *contracts.RoundsManager
	keeper  Account
	chainID *big.Int
	length  uint64
	l1Ratio uint64
	log     *slog.Logger
}

// NewRoundKeeper keeps the rounds of the RoundsManager at roundsAddr,
// sending as the dev keeper account (which FundAccounts pays).
func NewRoundKeeper(ctx context.Context, b Backend, roundsAddr common.Address, log *slog.Logger) (*RoundKeeper, error) {
	if log == nil {
		log = slog.Default()
	}
	rm, err := contracts.NewRoundsManager(roundsAddr, b)
	if err != nil {
		return nil, fmt.Errorf("devchain: RoundsManager at %s: %w", roundsAddr, err)
	}
	length, err := rm.RoundLength(&bind.CallOpts{Context: ctx})
	if err != nil {
		return nil, fmt.Errorf("devchain: RoundsManager.roundLength: %w", err)
	}
	if length.Sign() <= 0 || !length.IsUint64() {
		return nil, fmt.Errorf("devchain: RoundsManager at %s has round length %s", roundsAddr, length)
	}
	ratio, err := rm.L2BlocksPerL1(&bind.CallOpts{Context: ctx})
	if err != nil {
		return nil, fmt.Errorf("devchain: RoundsManager.l2BlocksPerL1: %w", err)
	}
	if ratio.Sign() <= 0 || !ratio.IsUint64() {
		return nil, fmt.Errorf("devchain: RoundsManager at %s has %s blocks per L1 block", roundsAddr, ratio)
	}
	id, err := b.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("devchain: chain id: %w", err)
	}
	return &RoundKeeper{
		b: b, rounds: rm, keeper: DevAccount("round-keeper"), chainID: id,
		length: length.Uint64(), l1Ratio: ratio.Uint64(), log: log,
	}, nil
}

// Run polls the head every interval until ctx ends. When the next block
// starts a round that is not initialized, it sends initializeRound at once,
// so the transaction lands in that first block whenever the node mines it
// next, and redemptions (which need an initialized round) are not refused
// in between. A round found already started and uninitialized is
// initialized late rather than never. Errors are logged and retried: a
// keeper that stops would stop the chain's rounds.
func (k *RoundKeeper) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	var lastHead uint64
	for {
		head, err := k.b.BlockNumber(ctx)
		if err != nil && ctx.Err() == nil {
			k.log.Warn("round keeper: block number", "err", err)
		}
		if err == nil && head != lastHead {
			lastHead = head
			if err := k.step(ctx, head); err != nil && ctx.Err() == nil {
				k.log.Warn("round keeper", "head", head, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (k *RoundKeeper) step(ctx context.Context, head uint64) error {
	call := &bind.CallOpts{Context: ctx}
	last, err := k.rounds.LastInitializedRound(call)
	if err != nil {
		return fmt.Errorf("last initialized round: %w", err)
	}
	// Rounds count L1 blocks: the next block's round is that of its L1
	// number. The round length is read once; the dev chain never changes it.
	next := (head + 1) / k.l1Ratio / k.length
	if last.Cmp(new(big.Int).SetUint64(next)) >= 0 {
		return nil
	}
	// One initializeRound at a time: while one waits in the pool a second
	// would only revert.
	pending, err := k.b.PendingNonceAt(ctx, k.keeper.Address)
	if err != nil {
		return fmt.Errorf("pending nonce: %w", err)
	}
	mined, err := k.b.NonceAt(ctx, k.keeper.Address, nil)
	if err != nil {
		return fmt.Errorf("nonce: %w", err)
	}
	if pending > mined {
		return nil
	}
	auth, err := bind.NewKeyedTransactorWithChainID(k.keeper.Key, k.chainID)
	if err != nil {
		return err
	}
	auth.Context = ctx
	auth.Nonce = new(big.Int).SetUint64(mined)
	// Estimation would run against the latest block, still in the previous
	// round, where initializeRound reverts.
	auth.GasLimit = initializeRoundGas
	tx, err := k.rounds.InitializeRound(auth)
	if err != nil {
		return fmt.Errorf("send initializeRound: %w", err)
	}
	k.log.Info("round keeper: initializeRound sent", "round", next, "head", head, "tx", tx.Hash())
	return nil
}
