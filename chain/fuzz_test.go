package chain_test

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"redeemer/chain"
	"redeemer/chain/devchain"
)

// uint256 reads up to the last 32 bytes of b as an unsigned integer, so any
// fuzz input is a value the contract can take.
func uint256(b []byte) *big.Int {
	if len(b) > 32 {
		b = b[len(b)-32:]
	}
	return new(big.Int).SetBytes(b)
}

// FuzzTicketHash checks Ticket.Hash on arbitrary field values against the
// dev TicketBroker's getTicketHash, and the signing round trip over that
// hash: a fixed key's signature is canonical and recovers to the key, and
// its high-s twin is refused.
func FuzzTicketHash(f *testing.F) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	c, err := devchain.New(ctx, devchain.Options{})
	cancel()
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	broker := c.Protocol().TicketBroker()
	key, err := crypto.ToECDSA(crypto.Keccak256([]byte("chain-fuzz-ticket-hash")))
	if err != nil {
		f.Fatal(err)
	}
	halfN := new(big.Int).Rsh(crypto.S256().Params().N, 1)

	f.Add([]byte{1}, []byte{2}, []byte{3}, chain.MaxWinProb.Bytes(), uint32(7), []byte{4}, uint64(42), []byte{5})
	f.Add([]byte{}, []byte{}, []byte{}, []byte{}, uint32(0), []byte{}, uint64(0), []byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 20), bytes.Repeat([]byte{0xff}, 20), bytes.Repeat([]byte{0xff}, 32),
		bytes.Repeat([]byte{0xff}, 32), ^uint32(0), bytes.Repeat([]byte{0xff}, 32), uint64(1<<63-1), bytes.Repeat([]byte{0xff}, 32))
	f.Add([]byte{1}, []byte{2}, []byte{3}, []byte{4}, uint32(1), []byte{}, uint64(0), []byte{1}) // auxData with round 0
	f.Fuzz(func(t *testing.T, recipient, sender, faceValue, winProb []byte, nonce uint32, randHash []byte, round uint64, blockHash []byte) {
		tk := &chain.Ticket{
			Recipient:              common.BytesToAddress(recipient),
			Sender:                 common.BytesToAddress(sender),
			FaceValue:              uint256(faceValue),
			WinProb:                uint256(winProb),
			SenderNonce:            nonce,
			RecipientRandHash:      common.BytesToHash(randHash),
			CreationRound:          int64(round >> 1), // intake refuses negative rounds
			CreationRoundBlockHash: common.BytesToHash(blockHash),
		}
		aux := tk.AuxData()
		if empty := tk.CreationRound == 0 && tk.CreationRoundBlockHash == (common.Hash{}); empty != (len(aux) == 0) {
			t.Fatalf("auxData %x for round %d and block hash %s", aux, tk.CreationRound, tk.CreationRoundBlockHash)
		}
		h := tk.Hash()
		want, err := broker.GetTicketHash(&bind.CallOpts{Context: context.Background()}, chain.BrokerTicket(tk))
		if err != nil {
			t.Fatal(err)
		}
		if common.Hash(want) != h {
			t.Fatalf("Ticket.Hash %s, getTicketHash %x for %+v", h, want, tk)
		}

		sig, err := chain.Sign(h, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(sig) != chain.SigLength || (sig[64] != 27 && sig[64] != 28) || new(big.Int).SetBytes(sig[32:64]).Cmp(halfN) > 0 {
			t.Fatalf("non-canonical signature %x", sig)
		}
		signer, err := chain.RecoverSigner(h, sig)
		if err != nil || signer != crypto.PubkeyToAddress(key.PublicKey) {
			t.Fatalf("signature recovers to %s, %v", signer, err)
		}
		twin := append([]byte{}, sig...)
		new(big.Int).Sub(crypto.S256().Params().N, new(big.Int).SetBytes(sig[32:64])).FillBytes(twin[32:64])
		twin[64] = 55 - sig[64]
		if _, err := chain.RecoverSigner(h, twin); !errors.Is(err, chain.ErrSigHighS) {
			t.Fatalf("high-s twin: %v, want %v", err, chain.ErrSigHighS)
		}
	})
}

// FuzzRecoverSigner feeds arbitrary signatures to RecoverSigner: it never
// panics, and whatever it accepts is canonical (65 bytes, v 27 or 28, r and
// s in range, low s) and recovers, by go-ethereum's own Ecrecover, to the
// same address.
func FuzzRecoverSigner(f *testing.F) {
	key, err := crypto.ToECDSA(crypto.Keccak256([]byte("chain-fuzz-recover")))
	if err != nil {
		f.Fatal(err)
	}
	h := crypto.Keccak256Hash([]byte("ticket"))
	sig, err := chain.Sign(h, key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(h[:], sig)
	f.Add(h[:], sig[:64])
	f.Add(h[:], append(append([]byte{}, sig...), 0))
	f.Add([]byte{}, make([]byte, 65))
	f.Add(h[:], append(bytes.Repeat([]byte{0xff}, 64), 27))
	n := crypto.S256().Params().N
	halfN := new(big.Int).Rsh(n, 1)
	f.Fuzz(func(t *testing.T, hash, sig []byte) {
		hh := common.BytesToHash(hash)
		signer, err := chain.RecoverSigner(hh, sig)
		if err != nil {
			if signer != (common.Address{}) {
				t.Fatalf("an error with a signer: %s, %v", signer, err)
			}
			return
		}
		if len(sig) != chain.SigLength || (sig[64] != 27 && sig[64] != 28) {
			t.Fatalf("accepted a signature of %d bytes with v %d", len(sig), sig[len(sig)-1])
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64])
		if r.Sign() == 0 || r.Cmp(n) >= 0 || s.Sign() == 0 || s.Cmp(halfN) > 0 {
			t.Fatalf("accepted r %x, s %x", r, s)
		}
		norm := append([]byte{}, sig...)
		norm[64] -= 27
		digest := crypto.Keccak256([]byte("\x19Ethereum Signed Message:\n32"), hh[:])
		pub, err := crypto.Ecrecover(digest, norm)
		if err != nil {
			t.Fatalf("accepted a signature Ecrecover refuses: %v", err)
		}
		if got := common.BytesToAddress(crypto.Keccak256(pub[1:])[12:]); got != signer {
			t.Fatalf("RecoverSigner %s, Ecrecover %s", signer, got)
		}
	})
}
