package chain

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

func testTicket(t *testing.T) (*Ticket, *big.Int) {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	rand := big.NewInt(123456789)
	return &Ticket{
		Recipient:              common.HexToAddress("0x1111111111111111111111111111111111111111"),
		Sender:                 crypto.PubkeyToAddress(key.PublicKey),
		FaceValue:              big.NewInt(1e18),
		WinProb:                MaxWinProb,
		SenderNonce:            7,
		RecipientRandHash:      RandHash(rand),
		CreationRound:          42,
		CreationRoundBlockHash: common.HexToHash("0xabcdef"),
		ParamsExpirationBlock:  big.NewInt(100),
	}, rand
}

func TestSignRecoverRoundTrip(t *testing.T) {
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	tk, _ := testTicket(t)
	tk.Sender = crypto.PubkeyToAddress(key.PublicKey)
	sig, err := Sign(tk.Hash(), key)
	if err != nil {
		t.Fatal(err)
	}
	if v := sig[64]; v != 27 && v != 28 {
		t.Fatalf("v = %d, want 27 or 28", v)
	}
	got, err := RecoverSigner(tk.Hash(), sig)
	if err != nil {
		t.Fatal(err)
	}
	if got != tk.Sender {
		t.Fatalf("recovered %s, want %s", got, tk.Sender)
	}

	// A changed field changes the hash, so the signature no longer recovers
	// to the sender.
	tk.FaceValue = big.NewInt(2e18)
	got, err = RecoverSigner(tk.Hash(), sig)
	if err == nil && got == tk.Sender {
		t.Fatal("signature still recovers to the sender after the face value changed")
	}
}

func TestRecoverSignerRejectsNonCanonical(t *testing.T) {
	key, _ := crypto.GenerateKey()
	tk, _ := testTicket(t)
	sig, err := Sign(tk.Hash(), key)
	if err != nil {
		t.Fatal(err)
	}

	// The same signature with s' = n - s and the other v is valid ECDSA but
	// high-s; TicketBroker refuses it, so must we.
	n := crypto.S256().Params().N
	s := new(big.Int).SetBytes(sig[32:64])
	high := make([]byte, 65)
	copy(high, sig)
	new(big.Int).Sub(n, s).FillBytes(high[32:64])
	high[64] = 55 - sig[64] // 27 <-> 28
	if _, err := RecoverSigner(tk.Hash(), high); err != ErrSigHighS {
		t.Fatalf("high-s: err = %v, want %v", err, ErrSigHighS)
	}

	badV := append([]byte(nil), sig...)
	badV[64] = 1
	if _, err := RecoverSigner(tk.Hash(), badV); err != ErrSigV {
		t.Fatalf("v=1: err = %v, want %v", err, ErrSigV)
	}
	if _, err := RecoverSigner(tk.Hash(), sig[:64]); err != ErrSigLength {
		t.Fatalf("short: err = %v, want %v", err, ErrSigLength)
	}
}

func TestAuxData(t *testing.T) {
	tk, _ := testTicket(t)
	aux := tk.AuxData()
	if len(aux) != 64 {
		t.Fatalf("aux len = %d, want 64", len(aux))
	}
	if new(big.Int).SetBytes(aux[:32]).Int64() != 42 || common.BytesToHash(aux[32:]) != tk.CreationRoundBlockHash {
		t.Fatalf("aux = %x", aux)
	}
	tk.CreationRound, tk.CreationRoundBlockHash = 0, common.Hash{}
	if len(tk.AuxData()) != 0 {
		t.Fatal("aux data must be empty when creation round and block hash are zero")
	}
}

func TestWins(t *testing.T) {
	sig := make([]byte, 65)
	rand := big.NewInt(5)
	v := new(big.Int).SetBytes(crypto.Keccak256(sig, common.LeftPadBytes(rand.Bytes(), 32)))
	if Wins(sig, rand, v) {
		t.Fatal("a ticket whose value equals winProb must lose")
	}
	if !Wins(sig, rand, new(big.Int).Add(v, big.NewInt(1))) {
		t.Fatal("a ticket whose value is below winProb must win")
	}
	if Wins(sig, rand, big.NewInt(0)) {
		t.Fatal("winProb 0 never wins")
	}
}

func TestRandHash(t *testing.T) {
	rand := big.NewInt(0xdead)
	want := crypto.Keccak256Hash(common.LeftPadBytes(rand.Bytes(), 32))
	if got := RandHash(rand); got != want {
		t.Fatalf("RandHash = %s, want %s", got, want)
	}
}
