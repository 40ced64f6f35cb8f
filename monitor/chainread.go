package monitor

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"golang.org/x/sync/errgroup"

	"redeemer/chain"
	"redeemer/store"
)

// ChainReader reads the float inputs from chain as they were at one block,
// so that values read together are consistent with each other and with the
// block they are stored under.
type ChainReader interface {
	// SenderState reads sender's funds and recipient's claims on them. The
	// Round field is left nil; the caller knows the round at block.
	SenderState(ctx context.Context, block uint64, sender, recipient common.Address) (store.SenderState, error)
	// ProtocolState reads the pool size, the rounds and whether recipient
	// is active. Block and L1Block are left zero.
	ProtocolState(ctx context.Context, block uint64, recipient common.Address) (store.ProtocolState, error)
}

// NewProtocolReader reads through p's contract bindings. chain.Protocol's
// own methods read the latest block; pinning every read to the block being
// processed keeps a refresh consistent when a block arrives mid-refresh.
func NewProtocolReader(p *chain.Protocol) ChainReader {
	return protocolReader{p: p}
}

type protocolReader struct{ p *chain.Protocol }

func at(ctx context.Context, block uint64) *bind.CallOpts {
	return &bind.CallOpts{Context: ctx, BlockNumber: new(big.Int).SetUint64(block)}
}

func (r protocolReader) SenderState(ctx context.Context, block uint64, sender, recipient common.Address) (store.SenderState, error) {
	st := store.SenderState{Sender: sender, Block: block}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		info, err := r.p.TicketBroker().GetSenderInfo(at(gctx, block), sender)
		if err != nil {
			return fmt.Errorf("TicketBroker.getSenderInfo(%s) at block %d: %w", sender, block, err)
		}
		st.Deposit, st.WithdrawRound = info.Info.Deposit, info.Info.WithdrawRound
		st.FundsRemaining, st.ClaimedInRound = info.Reserve.FundsRemaining, info.Reserve.ClaimedInCurrentRound
		return nil
	})
	g.Go(func() error {
		v, err := r.p.TicketBroker().ClaimedReserve(at(gctx, block), sender, recipient)
		if err != nil {
			return fmt.Errorf("TicketBroker.claimedReserve(%s, %s) at block %d: %w", sender, recipient, block, err)
		}
		st.ClaimedByRecipient = v
		return nil
	})
	if err := g.Wait(); err != nil {
		return store.SenderState{}, err
	}
	return st, nil
}

func (r protocolReader) ProtocolState(ctx context.Context, block uint64, recipient common.Address) (store.ProtocolState, error) {
	ps := store.ProtocolState{Recipient: recipient}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		if ps.PoolSize, err = r.p.BondingManager().GetTranscoderPoolSize(at(gctx, block)); err != nil {
			return fmt.Errorf("BondingManager.getTranscoderPoolSize at block %d: %w", block, err)
		}
		return nil
	})
	g.Go(func() (err error) {
		if ps.RecipientActive, err = r.p.BondingManager().IsActiveTranscoder(at(gctx, block), recipient); err != nil {
			return fmt.Errorf("BondingManager.isActiveTranscoder(%s) at block %d: %w", recipient, block, err)
		}
		return nil
	})
	g.Go(func() (err error) {
		if ps.CurrentRound, err = r.p.RoundsManager().CurrentRound(at(gctx, block)); err != nil {
			return fmt.Errorf("RoundsManager.currentRound at block %d: %w", block, err)
		}
		return nil
	})
	g.Go(func() (err error) {
		if ps.LastInitializedRound, err = r.p.RoundsManager().LastInitializedRound(at(gctx, block)); err != nil {
			return fmt.Errorf("RoundsManager.lastInitializedRound at block %d: %w", block, err)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return store.ProtocolState{}, err
	}
	return ps, nil
}
