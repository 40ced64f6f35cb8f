package chain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// TxSigner signs EIP-1559 transactions with the redemption account's key.
// It holds no mutable state, so it is safe for concurrent use; nonces are
// the caller's to allocate.
type TxSigner struct {
	key     *ecdsa.PrivateKey
	addr    common.Address
	chainID *big.Int
	signer  types.Signer
}

// NewTxSigner returns a signer for chainID. The chain id is fixed into every
// signature (EIP-155), so a transaction signed for one network cannot be
// replayed on another.
func NewTxSigner(key *ecdsa.PrivateKey, chainID *big.Int) *TxSigner {
	id := new(big.Int).Set(chainID)
	return &TxSigner{
		key:     key,
		addr:    crypto.PubkeyToAddress(key.PublicKey),
		chainID: id,
		signer:  types.NewLondonSigner(id),
	}
}

// Address is the account that pays for and sends the transactions.
func (s *TxSigner) Address() common.Address { return s.addr }

// ChainID is the chain the signer signs for.
func (s *TxSigner) ChainID() *big.Int { return new(big.Int).Set(s.chainID) }

// TxParams describe a contract call without value.
type TxParams struct {
	Nonce          uint64
	To             common.Address
	Data           []byte
	GasLimit       uint64
	TipCap, FeeCap *big.Int
}

// Sign returns the signed transaction and its raw typed-envelope bytes (what
// eth_sendRawTransaction takes), so callers can persist them before
// broadcasting and re-broadcast the exact bytes later: a re-signed
// transaction is the same one only if every field is reproduced.
func (s *TxSigner) Sign(p TxParams) (*types.Transaction, []byte, error) {
	switch {
	case p.TipCap == nil || p.FeeCap == nil:
		return nil, nil, errors.New("sign tx: tip cap and fee cap are required")
	case p.TipCap.Sign() < 0 || p.FeeCap.Sign() < 0:
		return nil, nil, fmt.Errorf("sign tx: negative fees (tip %s, fee cap %s)", p.TipCap, p.FeeCap)
	case p.TipCap.Cmp(p.FeeCap) > 0:
		// Every node rejects this; failing here keeps it out of the store.
		return nil, nil, fmt.Errorf("sign tx: tip cap %s above fee cap %s", p.TipCap, p.FeeCap)
	case p.GasLimit == 0:
		return nil, nil, errors.New("sign tx: gas limit is zero")
	}
	to := p.To
	tx, err := types.SignNewTx(s.key, s.signer, &types.DynamicFeeTx{
		ChainID:   new(big.Int).Set(s.chainID),
		Nonce:     p.Nonce,
		GasTipCap: new(big.Int).Set(p.TipCap),
		GasFeeCap: new(big.Int).Set(p.FeeCap),
		Gas:       p.GasLimit,
		To:        &to,
		Value:     new(big.Int),
		Data:      append([]byte(nil), p.Data...),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("sign tx nonce %d: %w", p.Nonce, err)
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		return nil, nil, fmt.Errorf("encode signed tx %s: %w", tx.Hash(), err)
	}
	return tx, raw, nil
}

// DecodeRawTx parses raw typed-envelope bytes back into a transaction, for
// re-broadcast through SendTransaction, which takes *types.Transaction.
func DecodeRawTx(raw []byte) (*types.Transaction, error) {
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(raw); err != nil {
		return nil, fmt.Errorf("decode raw tx: %w", err)
	}
	return tx, nil
}

// SendOutcome classifies a broadcast error.
type SendOutcome int

const (
	// SendOK means the node accepted the transaction.
	SendOK SendOutcome = iota
	// SendAlreadyKnown means the node already has this exact transaction:
	// as good as accepted.
	SendAlreadyKnown
	// SendNonceTooLow means the nonce is used: by this transaction if it
	// was mined, or by another one. Check the receipt before deciding.
	SendNonceTooLow
	// SendUnderpriced means a replacement did not raise the fees enough, or
	// the fees are below what the pool takes.
	SendUnderpriced
	// SendInsufficientFunds means the account cannot pay gas * fee cap.
	SendInsufficientFunds
	// SendFailed is anything else: retry later.
	SendFailed
)

func (o SendOutcome) String() string {
	switch o {
	case SendOK:
		return "ok"
	case SendAlreadyKnown:
		return "already known"
	case SendNonceTooLow:
		return "nonce too low"
	case SendUnderpriced:
		return "underpriced"
	case SendInsufficientFunds:
		return "insufficient funds"
	case SendFailed:
		return "failed"
	default:
		return fmt.Sprintf("SendOutcome(%d)", int(o))
	}
}

// sendErrorText maps fragments of the messages nodes return over JSON-RPC,
// where the error values themselves are lost. geth's txpool texts are what
// Arbitrum Nitro returns too; the others cover nodes worded differently.
// Order matters only for readability: no message matches two outcomes.
var sendErrorText = []struct {
	fragment string
	outcome  SendOutcome
}{
	{"already known", SendAlreadyKnown},
	{"known transaction", SendAlreadyKnown},
	{"already imported", SendAlreadyKnown},
	{"nonce too low", SendNonceTooLow},
	{"nonce is too low", SendNonceTooLow},
	{"underpriced", SendUnderpriced},
	{"gas price below minimum", SendUnderpriced},
	{"max fee per gas less than block base fee", SendUnderpriced},
	{"insufficient funds", SendInsufficientFunds},
}

// ClassifySendError classifies an error from SendTransaction /
// eth_sendRawTransaction; nil is SendOK. Error values are matched when the
// pool is in-process; otherwise only the message survives, so it is matched
// case-insensitively.
func ClassifySendError(err error) SendOutcome {
	switch {
	case err == nil:
		return SendOK
	case errors.Is(err, txpool.ErrAlreadyKnown):
		return SendAlreadyKnown
	case errors.Is(err, core.ErrNonceTooLow):
		return SendNonceTooLow
	case errors.Is(err, txpool.ErrReplaceUnderpriced), errors.Is(err, txpool.ErrUnderpriced),
		errors.Is(err, txpool.ErrTxGasPriceTooLow), errors.Is(err, core.ErrFeeCapTooLow):
		return SendUnderpriced
	case errors.Is(err, core.ErrInsufficientFunds), errors.Is(err, core.ErrInsufficientFundsForTransfer):
		return SendInsufficientFunds
	}
	msg := strings.ToLower(err.Error())
	for _, m := range sendErrorText {
		if strings.Contains(msg, m.fragment) {
			return m.outcome
		}
	}
	return SendFailed
}

// minPriceBump is geth's default txpool price bump: a replacement must raise
// both tip and fee cap by this percentage.
const minPriceBump = 10

// BumpFees returns fees for a replacement at the same nonce: tip and fee cap
// each raised by at least bumpPercent (at least 10, geth's default; rounded
// up, and by at least 1 wei, since geth also wants each strictly higher) and
// at least to the suggested values; the fee cap is never below the tip.
// The suggested fee cap is a target that gives way to maxFeeCap, as
// SuggestFees caps it; the bump does not, so if the bumped fee cap exceeds
// maxFeeCap, BumpFees returns the fees it would need with ok=false and the
// caller keeps waiting. A nil maxFeeCap means no cap.
func BumpFees(oldTip, oldFeeCap, suggestedTip, suggestedFeeCap *big.Int, bumpPercent int, maxFeeCap *big.Int) (tip, feeCap *big.Int, ok bool) {
	if bumpPercent < minPriceBump {
		bumpPercent = minPriceBump
	}
	tip = MaxBig(bumpFee(oldTip, bumpPercent), suggestedTip)
	feeCap = bumpFee(oldFeeCap, bumpPercent)
	target := OrZero(suggestedFeeCap)
	if maxFeeCap != nil && target.Cmp(maxFeeCap) > 0 {
		target = maxFeeCap
	}
	feeCap = MaxBig(MaxBig(feeCap, target), tip)
	if maxFeeCap != nil && feeCap.Cmp(maxFeeCap) > 0 {
		return tip, feeCap, false
	}
	return tip, feeCap, true
}

// bumpFee is ceil(v * (100+percent) / 100), and at least v+1.
func bumpFee(v *big.Int, percent int) *big.Int {
	v = OrZero(v)
	out := new(big.Int).Mul(v, big.NewInt(int64(100+percent)))
	out.Add(out, big.NewInt(99))
	out.Div(out, big.NewInt(100))
	if floor := new(big.Int).Add(v, big.NewInt(1)); out.Cmp(floor) < 0 {
		out = floor
	}
	return out
}

// ErrFeeCapTooLow means the configured maximum fee cap cannot cover the
// current base fee plus the tip: a transaction would not be included now.
var ErrFeeCapTooLow = errors.New("max fee cap below base fee + tip")

// FeeCapTooLowError carries the numbers behind ErrFeeCapTooLow so the
// caller can report them; errors.Is(err, ErrFeeCapTooLow) matches it.
type FeeCapTooLowError struct {
	MaxFeeCap, BaseFee, Tip *big.Int
}

func (e *FeeCapTooLowError) Error() string {
	return fmt.Sprintf("%v: max fee cap %s < base fee %s + tip %s", ErrFeeCapTooLow, e.MaxFeeCap, e.BaseFee, e.Tip)
}

func (e *FeeCapTooLowError) Unwrap() error { return ErrFeeCapTooLow }

// FeeSource is what SuggestFees needs from a client.
type FeeSource interface {
	SuggestGasTipCap(ctx context.Context) (*big.Int, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
}

// SuggestFees returns the node's suggested tip and a fee cap of twice the
// latest base fee plus the tip, which keeps the transaction includable
// through several blocks of rising base fee (it rises at most 12.5% a
// block). The fee cap is capped at maxFeeCap (nil: no cap); a cap below
// base fee + tip returns a *FeeCapTooLowError.
func SuggestFees(ctx context.Context, c FeeSource, maxFeeCap *big.Int) (tip, feeCap *big.Int, err error) {
	tip, err = c.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("suggest gas tip cap: %w", err)
	}
	head, err := c.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("latest header: %w", err)
	}
	if head.BaseFee == nil {
		return nil, nil, fmt.Errorf("latest block %s has no base fee: chain is not on EIP-1559", head.Number)
	}
	base := head.BaseFee
	feeCap = new(big.Int).Mul(base, big.NewInt(2))
	feeCap.Add(feeCap, tip)
	if maxFeeCap != nil && feeCap.Cmp(maxFeeCap) > 0 {
		if need := new(big.Int).Add(base, tip); maxFeeCap.Cmp(need) < 0 {
			return nil, nil, &FeeCapTooLowError{
				MaxFeeCap: new(big.Int).Set(maxFeeCap),
				BaseFee:   new(big.Int).Set(base),
				Tip:       new(big.Int).Set(tip),
			}
		}
		feeCap = new(big.Int).Set(maxFeeCap)
	}
	return new(big.Int).Set(tip), feeCap, nil
}
