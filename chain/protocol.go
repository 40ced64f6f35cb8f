package chain

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"redeemer/chain/contracts"
)

// Registry ids under which the Controller resolves the protocol contracts.
var (
	TicketBrokerID   = crypto.Keccak256Hash([]byte("TicketBroker"))
	RoundsManagerID  = crypto.Keccak256Hash([]byte("RoundsManager"))
	BondingManagerID = crypto.Keccak256Hash([]byte("BondingManager"))
)

// ErrContractNotDeployed means the Controller resolved a contract to the zero
// address or to an account without code: usually the wrong controller
// address or the wrong network.
var ErrContractNotDeployed = errors.New("protocol contract not deployed")

// Addresses are the protocol contracts the service talks to.
type Addresses struct {
	Controller     common.Address
	TicketBroker   common.Address
	RoundsManager  common.Address
	BondingManager common.Address
}

// SenderInfo is a sender's funds as TicketBroker reports them in the current
// round.
type SenderInfo struct {
	Deposit               *big.Int
	WithdrawRound         *big.Int
	FundsRemaining        *big.Int
	ClaimedInCurrentRound *big.Int
}

// Protocol reads the protocol contracts. It holds no state beyond the
// resolved addresses, so it is safe for concurrent use.
type Protocol struct {
	backend bind.ContractBackend
	addrs   Addresses
	broker  *contracts.TicketBroker
	rounds  *contracts.RoundsManager
	bonding *contracts.BondingManager
	control *contracts.Controller
}

// NewProtocol resolves the TicketBroker, RoundsManager and BondingManager
// through the Controller at controller. Addresses are resolved once: the
// Controller can repoint them, but only by a governance upgrade, after which
// the service is expected to restart.
func NewProtocol(ctx context.Context, backend bind.ContractBackend, controller common.Address) (*Protocol, error) {
	code, err := backend.CodeAt(ctx, controller, nil)
	if err != nil {
		return nil, fmt.Errorf("read controller code at %s: %w", controller, err)
	}
	if len(code) == 0 {
		return nil, fmt.Errorf("controller %s: %w (no code)", controller, ErrContractNotDeployed)
	}
	control, err := contracts.NewController(controller, backend)
	if err != nil {
		return nil, fmt.Errorf("bind controller: %w", err)
	}
	resolve := func(name string, id common.Hash) (common.Address, error) {
		addr, err := control.GetContract(&bind.CallOpts{Context: ctx}, id)
		if err != nil {
			return common.Address{}, fmt.Errorf("controller getContract(%s): %w", name, err)
		}
		if addr == (common.Address{}) {
			return common.Address{}, fmt.Errorf("%s: %w (controller %s returns the zero address)", name, ErrContractNotDeployed, controller)
		}
		code, err := backend.CodeAt(ctx, addr, nil)
		if err != nil {
			return common.Address{}, fmt.Errorf("read %s code at %s: %w", name, addr, err)
		}
		if len(code) == 0 {
			return common.Address{}, fmt.Errorf("%s at %s: %w (no code)", name, addr, ErrContractNotDeployed)
		}
		return addr, nil
	}
	p := &Protocol{backend: backend, control: control}
	p.addrs.Controller = controller
	if p.addrs.TicketBroker, err = resolve("TicketBroker", TicketBrokerID); err != nil {
		return nil, err
	}
	if p.addrs.RoundsManager, err = resolve("RoundsManager", RoundsManagerID); err != nil {
		return nil, err
	}
	if p.addrs.BondingManager, err = resolve("BondingManager", BondingManagerID); err != nil {
		return nil, err
	}
	if p.broker, err = contracts.NewTicketBroker(p.addrs.TicketBroker, backend); err != nil {
		return nil, fmt.Errorf("bind TicketBroker: %w", err)
	}
	if p.rounds, err = contracts.NewRoundsManager(p.addrs.RoundsManager, backend); err != nil {
		return nil, fmt.Errorf("bind RoundsManager: %w", err)
	}
	if p.bonding, err = contracts.NewBondingManager(p.addrs.BondingManager, backend); err != nil {
		return nil, fmt.Errorf("bind BondingManager: %w", err)
	}
	return p, nil
}

// Addresses returns the resolved contract addresses.
func (p *Protocol) Addresses() Addresses { return p.addrs }

// TicketBroker returns the raw binding, for transactions and event filters.
func (p *Protocol) TicketBroker() *contracts.TicketBroker { return p.broker }

// RoundsManager returns the raw binding.
func (p *Protocol) RoundsManager() *contracts.RoundsManager { return p.rounds }

// BondingManager returns the raw binding.
func (p *Protocol) BondingManager() *contracts.BondingManager { return p.bonding }

// Controller returns the raw binding.
func (p *Protocol) Controller() *contracts.Controller { return p.control }

// call binds every read to the caller's context, so callers own the timeouts.
func (p *Protocol) call(ctx context.Context) *bind.CallOpts { return &bind.CallOpts{Context: ctx} }

// LatestBlock is the number of the node's latest block: a header read,
// far cheaper than a contract call, so callers can key per-block caches on it.
func (p *Protocol) LatestBlock(ctx context.Context) (uint64, error) {
	h, err := p.backend.HeaderByNumber(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("latest header: %w", err)
	}
	return h.Number.Uint64(), nil
}

// CurrentRound is RoundsManager.currentRound at the latest block.
func (p *Protocol) CurrentRound(ctx context.Context) (*big.Int, error) {
	r, err := p.rounds.CurrentRound(p.call(ctx))
	if err != nil {
		return nil, fmt.Errorf("RoundsManager.currentRound: %w", err)
	}
	return r, nil
}

// LastInitializedRound is RoundsManager.lastInitializedRound.
func (p *Protocol) LastInitializedRound(ctx context.Context) (*big.Int, error) {
	r, err := p.rounds.LastInitializedRound(p.call(ctx))
	if err != nil {
		return nil, fmt.Errorf("RoundsManager.lastInitializedRound: %w", err)
	}
	return r, nil
}

// CurrentRoundInitialized reports whether the current round has been
// initialized; until it is, the broker refuses redemptions.
func (p *Protocol) CurrentRoundInitialized(ctx context.Context) (bool, error) {
	ok, err := p.rounds.CurrentRoundInitialized(p.call(ctx))
	if err != nil {
		return false, fmt.Errorf("RoundsManager.currentRoundInitialized: %w", err)
	}
	return ok, nil
}

// RoundLength is RoundsManager.roundLength, in (L1) blocks.
func (p *Protocol) RoundLength(ctx context.Context) (*big.Int, error) {
	n, err := p.rounds.RoundLength(p.call(ctx))
	if err != nil {
		return nil, fmt.Errorf("RoundsManager.roundLength: %w", err)
	}
	return n, nil
}

// BlockHashForRound is the block hash recorded when round was initialized,
// zero for a round never initialized.
func (p *Protocol) BlockHashForRound(ctx context.Context, round *big.Int) (common.Hash, error) {
	h, err := p.rounds.BlockHashForRound(p.call(ctx), round)
	if err != nil {
		return common.Hash{}, fmt.Errorf("RoundsManager.blockHashForRound(%s): %w", round, err)
	}
	return h, nil
}

// TicketValidityPeriod is the number of rounds a ticket stays redeemable
// after its creation round.
func (p *Protocol) TicketValidityPeriod(ctx context.Context) (*big.Int, error) {
	n, err := p.broker.TicketValidityPeriod(p.call(ctx))
	if err != nil {
		return nil, fmt.Errorf("TicketBroker.ticketValidityPeriod: %w", err)
	}
	return n, nil
}

// UnlockPeriod is the number of rounds between a sender's unlock and its
// withdrawal.
func (p *Protocol) UnlockPeriod(ctx context.Context) (*big.Int, error) {
	n, err := p.broker.UnlockPeriod(p.call(ctx))
	if err != nil {
		return nil, fmt.Errorf("TicketBroker.unlockPeriod: %w", err)
	}
	return n, nil
}

// IsTicketUsed reports whether the ticket with this hash was redeemed.
func (p *Protocol) IsTicketUsed(ctx context.Context, ticketHash common.Hash) (bool, error) {
	used, err := p.broker.UsedTickets(p.call(ctx), ticketHash)
	if err != nil {
		return false, fmt.Errorf("TicketBroker.usedTickets(%s): %w", ticketHash, err)
	}
	return used, nil
}

// SenderInfo is TicketBroker.getSenderInfo.
func (p *Protocol) SenderInfo(ctx context.Context, sender common.Address) (SenderInfo, error) {
	out, err := p.broker.GetSenderInfo(p.call(ctx), sender)
	if err != nil {
		return SenderInfo{}, fmt.Errorf("TicketBroker.getSenderInfo(%s): %w", sender, err)
	}
	return SenderInfo{
		Deposit:               out.Info.Deposit,
		WithdrawRound:         out.Info.WithdrawRound,
		FundsRemaining:        out.Reserve.FundsRemaining,
		ClaimedInCurrentRound: out.Reserve.ClaimedInCurrentRound,
	}, nil
}

// ClaimableReserve is what claimant may still draw from holder's reserve in
// the current round (0 when claimant is not an active transcoder). The
// contract subtracts without clamping, so the call reverts (arithmetic
// underflow) when the pool grew mid-round after claimant claimed more than
// its new share; the allocation is then 0.
func (p *Protocol) ClaimableReserve(ctx context.Context, holder, claimant common.Address) (*big.Int, error) {
	v, err := p.broker.ClaimableReserve(p.call(ctx), holder, claimant)
	if err != nil {
		return nil, fmt.Errorf("TicketBroker.claimableReserve(%s, %s): %w", holder, claimant, err)
	}
	return v, nil
}

// ClaimedReserve is what claimant has drawn from holder's reserve in the
// current round.
func (p *Protocol) ClaimedReserve(ctx context.Context, holder, claimant common.Address) (*big.Int, error) {
	v, err := p.broker.ClaimedReserve(p.call(ctx), holder, claimant)
	if err != nil {
		return nil, fmt.Errorf("TicketBroker.claimedReserve(%s, %s): %w", holder, claimant, err)
	}
	return v, nil
}

// IsUnlockInProgress reports whether sender has started an unlock.
func (p *Protocol) IsUnlockInProgress(ctx context.Context, sender common.Address) (bool, error) {
	ok, err := p.broker.IsUnlockInProgress(p.call(ctx), sender)
	if err != nil {
		return false, fmt.Errorf("TicketBroker.isUnlockInProgress(%s): %w", sender, err)
	}
	return ok, nil
}

// TranscoderPoolSize is BondingManager.getTranscoderPoolSize.
func (p *Protocol) TranscoderPoolSize(ctx context.Context) (*big.Int, error) {
	n, err := p.bonding.GetTranscoderPoolSize(p.call(ctx))
	if err != nil {
		return nil, fmt.Errorf("BondingManager.getTranscoderPoolSize: %w", err)
	}
	return n, nil
}

// IsActiveTranscoder is BondingManager.isActiveTranscoder.
func (p *Protocol) IsActiveTranscoder(ctx context.Context, addr common.Address) (bool, error) {
	ok, err := p.bonding.IsActiveTranscoder(p.call(ctx), addr)
	if err != nil {
		return false, fmt.Errorf("BondingManager.isActiveTranscoder(%s): %w", addr, err)
	}
	return ok, nil
}

// PendingFees is BondingManager.pendingFees: the fees credited to
// transcoder, where winning tickets are paid, and not yet withdrawn.
func (p *Protocol) PendingFees(ctx context.Context, transcoder common.Address) (*big.Int, error) {
	// The round argument is ignored by the contract, which always answers
	// for the current round.
	v, err := p.bonding.PendingFees(p.call(ctx), transcoder, new(big.Int))
	if err != nil {
		return nil, fmt.Errorf("BondingManager.pendingFees(%s): %w", transcoder, err)
	}
	return v, nil
}

// BrokerTicket converts t to the tuple redeemWinningTicket and getTicketHash
// take.
func BrokerTicket(t *Ticket) contracts.TicketBrokerTicket {
	return contracts.TicketBrokerTicket{
		Recipient:         t.Recipient,
		Sender:            t.Sender,
		FaceValue:         OrZero(t.FaceValue),
		WinProb:           OrZero(t.WinProb),
		SenderNonce:       new(big.Int).SetUint64(uint64(t.SenderNonce)),
		RecipientRandHash: t.RecipientRandHash,
		AuxData:           t.AuxData(),
	}
}
