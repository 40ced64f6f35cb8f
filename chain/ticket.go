// Package chain holds the Livepeer payment protocol as the service sees it on
// chain: tickets (hash, signature, winning rule), typed contract readers and,
// in sub-packages, the dev contracts and the simulated dev chain.
package chain

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// MaxWinProb is the win probability of a ticket that always wins (2^256 - 1).
var MaxWinProb = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// secp256k1HalfN bounds s in a canonical (low-s) signature; TicketBroker
// rejects high-s signatures, so intake must too or it would accept tickets
// that can never be redeemed.
var secp256k1HalfN = new(big.Int).Rsh(crypto.S256().Params().N, 1)

// SigLength is the length of a ticket signature: r ‖ s ‖ v.
const SigLength = 65

// Ticket is the part of a winning ticket that its hash covers, plus the
// params expiration block, which the hash does not cover but which decides
// when the ticket may be redeemed.
type Ticket struct {
	Recipient              common.Address
	Sender                 common.Address
	FaceValue              *big.Int
	WinProb                *big.Int
	SenderNonce            uint32
	RecipientRandHash      common.Hash
	CreationRound          int64
	CreationRoundBlockHash common.Hash
	ParamsExpirationBlock  *big.Int
}

// AuxData is creationRound (uint256) ‖ creationRoundBlockHash, or empty when
// both are zero, exactly as TicketBroker expects it.
func (t *Ticket) AuxData() []byte {
	if t.CreationRound == 0 && t.CreationRoundBlockHash == (common.Hash{}) {
		return []byte{}
	}
	aux := make([]byte, 64)
	new(big.Int).SetInt64(t.CreationRound).FillBytes(aux[:32])
	copy(aux[32:], t.CreationRoundBlockHash[:])
	return aux
}

// Hash is keccak256 over the tightly packed ticket fields; it equals
// TicketBroker.getTicketHash and is the key of usedTickets.
func (t *Ticket) Hash() common.Hash {
	buf := make([]byte, 0, 20+20+32*4+32+64)
	buf = append(buf, t.Recipient[:]...)
	buf = append(buf, t.Sender[:]...)
	buf = append(buf, word(t.FaceValue)...)
	buf = append(buf, word(t.WinProb)...)
	buf = append(buf, word(new(big.Int).SetUint64(uint64(t.SenderNonce)))...)
	buf = append(buf, t.RecipientRandHash[:]...)
	buf = append(buf, t.AuxData()...)
	return crypto.Keccak256Hash(buf)
}

// word encodes v as a 32-byte big-endian word. Callers validate ranges first;
// a nil value encodes as zero.
func word(v *big.Int) []byte {
	w := make([]byte, 32)
	if v != nil {
		v.FillBytes(w)
	}
	return w
}

// Word32 encodes v (0 <= v < 2^256) as a 32-byte big-endian word.
func Word32(v *big.Int) [32]byte {
	var w [32]byte
	if v != nil {
		v.FillBytes(w[:])
	}
	return w
}

// RandHash is the recipientRandHash committed to by a recipientRand.
func RandHash(rand *big.Int) common.Hash {
	return crypto.Keccak256Hash(word(rand))
}

// Wins reports whether a ticket with this signature and recipientRand wins at
// winProb: uint256(keccak256(sig ‖ rand)) < winProb.
func Wins(sig []byte, rand *big.Int, winProb *big.Int) bool {
	h := crypto.Keccak256(sig, word(rand))
	return new(big.Int).SetBytes(h).Cmp(winProb) < 0
}

// signedMessageHash is the digest a sender's wallet signs for a ticket hash.
func signedMessageHash(hash common.Hash) []byte {
	return crypto.Keccak256([]byte("\x19Ethereum Signed Message:\n32"), hash[:])
}

// Sign signs a ticket hash the way a broadcaster does: an Ethereum signed
// message, r ‖ s ‖ v with v in {27, 28}.
func Sign(hash common.Hash, key *ecdsa.PrivateKey) ([]byte, error) {
	sig, err := crypto.Sign(signedMessageHash(hash), key)
	if err != nil {
		return nil, fmt.Errorf("sign ticket hash: %w", err)
	}
	sig[64] += 27
	return sig, nil
}

// Signature errors name the rule that failed so intake can report it.
var (
	ErrSigLength  = errors.New("signature must be 65 bytes (r ‖ s ‖ v)")
	ErrSigV       = errors.New("signature v must be 27 or 28")
	ErrSigHighS   = errors.New("signature s must be in the lower half of the curve order")
	ErrSigRecover = errors.New("signature does not recover to a public key")
)

// RecoverSigner returns the address that signed hash, enforcing the same
// signature rules as TicketBroker.
func RecoverSigner(hash common.Hash, sig []byte) (common.Address, error) {
	if len(sig) != SigLength {
		return common.Address{}, ErrSigLength
	}
	v := sig[64]
	if v != 27 && v != 28 {
		return common.Address{}, ErrSigV
	}
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:64])
	if s.Cmp(secp256k1HalfN) > 0 {
		return common.Address{}, ErrSigHighS
	}
	if !crypto.ValidateSignatureValues(v-27, r, s, true) {
		return common.Address{}, ErrSigRecover
	}
	norm := make([]byte, SigLength)
	copy(norm, sig)
	norm[64] = v - 27
	pub, err := crypto.SigToPub(signedMessageHash(hash), norm)
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %w", ErrSigRecover, err)
	}
	return crypto.PubkeyToAddress(*pub), nil
}
