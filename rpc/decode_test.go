package rpc

import (
	"crypto/ecdsa"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"google.golang.org/protobuf/proto"

	"redeemer/chain"
	"redeemer/rpc/pb"
)

var testRecipient = common.HexToAddress("0x00000000000000000000000000000000000000aa")

func testSenderKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := crypto.ToECDSA(crypto.Keccak256([]byte("decode-test-sender")))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func testTicketFields() chain.Ticket {
	return chain.Ticket{
		Recipient:              testRecipient,
		FaceValue:              big.NewInt(1_000_000_000_000_000),
		WinProb:                chain.MaxWinProb,
		SenderNonce:            3,
		CreationRound:          10,
		CreationRoundBlockHash: common.HexToHash("0x1234"),
		ParamsExpirationBlock:  big.NewInt(500),
	}
}

// validWireTicket returns a winning ticket for testRecipient signed by a
// fixed key, so fuzz seeds are reproducible.
func validWireTicket(t testing.TB) (*pb.Ticket, common.Hash) {
	t.Helper()
	m, h, err := SignTicket(testTicketFields(), testSenderKey(t), big.NewInt(987654321))
	if err != nil {
		t.Fatal(err)
	}
	return m, h
}

func TestDecodeValidTicket(t *testing.T) {
	m, h := validWireTicket(t)
	d, err := DecodeTicket(m, testRecipient)
	if err != nil {
		t.Fatalf("valid ticket rejected: %v", err)
	}
	if d.Hash != h {
		t.Fatalf("hash = %s, want %s", d.Hash, h)
	}
	if d.FaceValue.Cmp(big.NewInt(1_000_000_000_000_000)) != 0 || d.SenderNonce != 3 || d.CreationRound != 10 ||
		d.ParamsExpirationBlock.Int64() != 500 || d.RecipientRand.Int64() != 987654321 {
		t.Fatalf("decoded fields wrong: %+v", d)
	}
}

// TestDecodeRejects proves every rule fires on its own: each case breaks one
// thing in an otherwise valid ticket and expects that rule named.
func TestDecodeRejects(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(t *testing.T, m *pb.Ticket, h common.Hash)
		rule   string
	}{
		{"nil params", func(t *testing.T, m *pb.Ticket, h common.Hash) { m.TicketParams = nil }, "ticket_params"},
		{"short recipient", func(t *testing.T, m *pb.Ticket, h common.Hash) {
			m.TicketParams.Recipient = m.TicketParams.Recipient[:19]
		}, "recipient"},
		{"short sender", func(t *testing.T, m *pb.Ticket, h common.Hash) { m.Sender = m.Sender[:19] }, "sender"},
		{"zero sender", func(t *testing.T, m *pb.Ticket, h common.Hash) { m.Sender = make([]byte, 20) }, "sender"},
		{"zero face value", func(t *testing.T, m *pb.Ticket, h common.Hash) { m.TicketParams.FaceValue = nil }, "face_value"},
		{"face value over 256 bits", func(t *testing.T, m *pb.Ticket, h common.Hash) { m.TicketParams.FaceValue = make([]byte, 33) }, "face_value"},
		{"zero win prob", func(t *testing.T, m *pb.Ticket, h common.Hash) { m.TicketParams.WinProb = []byte{0} }, "win_prob"},
		{"short rand hash", func(t *testing.T, m *pb.Ticket, h common.Hash) { m.TicketParams.RecipientRandHash = []byte{1} }, "recipient_rand_hash"},
		{"long seed", func(t *testing.T, m *pb.Ticket, h common.Hash) { m.TicketParams.Seed = make([]byte, 33) }, "seed"},
		{"huge expiration block", func(t *testing.T, m *pb.Ticket, h common.Hash) {
			m.TicketParams.ExpirationBlock = make([]byte, 9)
			m.TicketParams.ExpirationBlock[0] = 1
		}, "expiration_block"},
		{"no expiration params", func(t *testing.T, m *pb.Ticket, h common.Hash) {
			m.ExpirationParams = nil
			m.TicketParams.ExpirationParams = nil
		}, "expiration_params"},
		{"conflicting expiration params", func(t *testing.T, m *pb.Ticket, h common.Hash) {
			m.TicketParams.ExpirationParams = &pb.TicketExpirationParams{CreationRound: 11, CreationRoundBlockHash: m.ExpirationParams.CreationRoundBlockHash}
		}, "expiration_params"},
		{"negative creation round", func(t *testing.T, m *pb.Ticket, h common.Hash) {
			m.ExpirationParams = &pb.TicketExpirationParams{CreationRound: -1, CreationRoundBlockHash: m.ExpirationParams.CreationRoundBlockHash}
			m.TicketParams.ExpirationParams = nil
		}, "creation_round"},
		{"short block hash", func(t *testing.T, m *pb.Ticket, h common.Hash) {
			m.ExpirationParams = &pb.TicketExpirationParams{CreationRound: 10, CreationRoundBlockHash: []byte{1}}
			m.TicketParams.ExpirationParams = nil
		}, "creation_round_block_hash"},
		{"no sender params", func(t *testing.T, m *pb.Ticket, h common.Hash) { m.SenderParams = nil }, "sender_params"},
		{"long recipient rand", func(t *testing.T, m *pb.Ticket, h common.Hash) { m.RecipientRand = make([]byte, 33) }, "recipient_rand"},
		{"wrong recipient rand", func(t *testing.T, m *pb.Ticket, h common.Hash) { m.RecipientRand = big.NewInt(1).Bytes() }, "recipient_rand"},
		{"short sig", func(t *testing.T, m *pb.Ticket, h common.Hash) { m.SenderParams.Sig = m.SenderParams.Sig[:64] }, "sig"},
		{"forged sig", func(t *testing.T, m *pb.Ticket, h common.Hash) {
			other, err := crypto.GenerateKey()
			if err != nil {
				t.Fatal(err)
			}
			if m.SenderParams.Sig, err = chain.Sign(h, other); err != nil {
				t.Fatal(err)
			}
		}, "sig"},
		{"changed face value", func(t *testing.T, m *pb.Ticket, h common.Hash) { m.TicketParams.FaceValue = big.NewInt(2).Bytes() }, "sig"},
		{"losing ticket", func(t *testing.T, m *pb.Ticket, h common.Hash) {
			// Re-signed with a tiny win probability, so only the winning rule fails.
			tk := testTicketFields()
			tk.WinProb = big.NewInt(1)
			w, _, err := SignTicket(tk, testSenderKey(t), big.NewInt(987654321))
			if err != nil {
				t.Fatal(err)
			}
			proto.Reset(m)
			proto.Merge(m, w)
		}, "winning"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, h := validWireTicket(t)
			tc.mutate(t, m, h)
			_, err := DecodeTicket(m, testRecipient)
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a RuleError for %q", err, tc.rule)
			}
			if re.Rule != tc.rule {
				t.Fatalf("rule = %q (%v), want %q", re.Rule, re, tc.rule)
			}
		})
	}
}

func TestDecodeForeignRecipient(t *testing.T) {
	m, _ := validWireTicket(t)
	_, err := DecodeTicket(m, common.HexToAddress("0xbb"))
	if !errors.Is(err, ErrForeignRecipient) {
		t.Fatalf("err = %v, want ErrForeignRecipient", err)
	}
}

// TestDecodeInnerExpirationParams: a client that only fills the creation
// round inside TicketParams is understood too.
func TestDecodeInnerExpirationParams(t *testing.T) {
	m, h := validWireTicket(t)
	m.ExpirationParams = nil
	d, err := DecodeTicket(m, testRecipient)
	if err != nil {
		t.Fatal(err)
	}
	if d.Hash != h {
		t.Fatal("hash changed")
	}
}

// FuzzDecodeTicket feeds arbitrary bytes through the wire decoder and the
// validator: neither may panic, and anything accepted must satisfy every rule
// when checked independently.
func FuzzDecodeTicket(f *testing.F) {
	m, _ := validWireTicket(f)
	seed, err := proto.Marshal(m)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte{})
	f.Add(seed[:len(seed)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		var m pb.Ticket
		if err := proto.Unmarshal(data, &m); err != nil {
			return
		}
		d, err := DecodeTicket(&m, testRecipient)
		if err != nil {
			var re *RuleError
			if !errors.As(err, &re) && !errors.Is(err, ErrForeignRecipient) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			if re != nil && strings.TrimSpace(re.Msg) == "" {
				t.Fatalf("rule %q has no message", re.Rule)
			}
			return
		}
		if d.Recipient != testRecipient {
			t.Fatal("accepted a foreign recipient")
		}
		if d.Hash != d.Ticket.Hash() {
			t.Fatal("hash mismatch")
		}
		signer, err := chain.RecoverSigner(d.Hash, d.Sig)
		if err != nil || signer != d.Sender {
			t.Fatalf("accepted a ticket not signed by its sender: %v", err)
		}
		if !chain.Wins(d.Sig, d.RecipientRand, d.WinProb) {
			t.Fatal("accepted a losing ticket")
		}
		if chain.RandHash(d.RecipientRand) != d.RecipientRandHash {
			t.Fatal("accepted a wrong recipient rand")
		}
	})
}
