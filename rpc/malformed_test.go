package rpc

import (
	"bytes"
	"context"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"redeemer/chain"
	"redeemer/rpc/pb"
	"redeemer/store"
)

// What the server does with protobuf shapes that are not plainly invalid,
// as these tests pin it (protobuf-go's proto3 decoding, which the server
// keeps):
//   - unknown fields, of any wire type and number, are skipped: the ticket
//     is judged on its known fields alone and accepted when they are valid;
//   - a known field sent with another wire type than its own is treated as
//     an unknown field, so the field reads as absent (empty) and the rules
//     judge that;
//   - a repeated scalar field: the last occurrence wins; a repeated nested
//     message: the occurrences are merged field by field;
//   - big integers with leading zero bytes are accepted when they still fit
//     in 32 bytes (the value, not the encoding, is hashed and stored);
//   - bytes that are no protobuf message at all (bad tags, field number 0,
//     reserved wire types, unbalanced groups, lengths or varints running off
//     the end) get InvalidArgument naming the malformed request, never the
//     Internal that gRPC itself would answer.

// malformedMsg is the start of the status message for bytes that do not
// decode.
const malformedMsg = "not a valid protobuf message"

type ticketCase struct {
	name string
	// sign changes the ticket's fields before it is signed; edit changes
	// its wire layout after. raw, when set, is sent instead of the ticket.
	sign func(*chain.Ticket)
	edit edit
	raw  []byte
	code codes.Code
	// msg must appear in the status message (a rule name, or malformedMsg).
	msg string
	// check looks at the stored row of an accepted ticket.
	check func(t *testing.T, got *store.Ticket)
}

func padLeft(b []byte, n int) []byte {
	return append(make([]byte, n-len(b)), b...)
}

func filled(n int, v byte) []byte { return bytes.Repeat([]byte{v}, n) }

// TestMalformedTickets sends QueueTicket every malformed shape over a real
// TLS connection and checks the code, and that a refused ticket left no row
// while an accepted one left exactly its own.
func TestMalformedTickets(t *testing.T) {
	t.Parallel()
	// One client sends every shape, most of them refused: its refusal
	// budget is off here (TestPeerRefusalBudget covers it).
	s := newRawServer(t, floatEnvOpts{intake: Config{RefusalsPerSecond: -1}})
	ctx := s.env.ctx
	st := s.r.st
	recipient := s.env.c.Recipient().Address
	round, _ := s.env.c.round(t)
	expiry := s.expiry(t, round)

	// The writer must lay a ticket out as protobuf does, or every case
	// below tests the writer.
	base, _ := s.ticket(t, big.NewInt(1e15), nil)
	var back pb.Ticket
	if err := proto.Unmarshal(wireTicket(base).encode(), &back); err != nil || !proto.Equal(&back, base) {
		t.Fatalf("wire writer does not round-trip a ticket: %v", err)
	}

	const iv = codes.InvalidArgument
	tp, exp, sp := fTicketParams, fExpirationParams, fSenderParams
	both := func(e func(path ...protowire.Number) edit, path ...protowire.Number) edit {
		// The creation round travels in two places that must agree.
		return edits(e(append([]protowire.Number{exp}, path...)...), e(append([]protowire.Number{tp, fInnerExpiration}, path...)...))
	}
	setBoth := func(v []byte, f protowire.Number) edit {
		return both(func(p ...protowire.Number) edit { return setBytes(v, p...) }, f)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 256)
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	nestedOverrun := wmsg{bytesField(fRecipient, recipient.Bytes())}.encode()
	nestedOverrun[1] = 40 // recipient claims 40 bytes; its message holds 20
	// The high-s twin of a signature: s' = n - s with the other v. Valid
	// ECDSA, but TicketBroker refuses it.
	highS := func(sig []byte) []byte {
		out := append([]byte{}, sig...)
		s := new(big.Int).SetBytes(sig[32:64])
		new(big.Int).Sub(crypto.S256().Params().N, s).FillBytes(out[32:64])
		out[64] = 55 - sig[64]
		return out
	}
	withSig := func(f func(sig []byte) []byte) edit {
		return func(w *wmsg) {
			p := w.field(sp, fSig)
			p.val = f(p.val)
		}
	}

	cases := []ticketCase{
		// Not protobuf at all.
		{name: "text", raw: []byte("this is not a protobuf message"), code: iv, msg: malformedMsg},
		{name: "json", raw: []byte(`{"ticket_params":{"recipient":"0x01"}}`), code: iv, msg: malformedMsg},
		{name: "all 0xff", raw: filled(64, 0xff), code: iv, msg: malformedMsg},
		{name: "all zero bytes", raw: filled(64, 0), code: iv, msg: malformedMsg},
		{name: "random bytes", raw: random, code: iv},
		{name: "empty message", raw: []byte{}, code: iv, msg: "ticket_params"},

		// Truncated varints and lengths.
		{name: "tag varint truncated", raw: []byte{0x80}, code: iv, msg: malformedMsg},
		{name: "tag varint of 11 bytes", raw: append(filled(10, 0x80), 0x01), code: iv, msg: malformedMsg},
		{name: "length varint truncated", raw: []byte{0x12, 0x80}, code: iv, msg: malformedMsg},
		{name: "length beyond the buffer", raw: []byte{0x12, 0x14, 1, 2, 3}, code: iv, msg: malformedMsg},
		{name: "length of 2^32", raw: []byte{0x12, 0x80, 0x80, 0x80, 0x80, 0x10, 1}, code: iv, msg: malformedMsg},
		{name: "varint value truncated", raw: []byte{0x48, 0x80}, code: iv, msg: malformedMsg},
		{name: "fixed64 truncated", raw: []byte{0x49, 1, 2, 3}, code: iv, msg: malformedMsg},
		{name: "fixed32 truncated", raw: []byte{0x4d, 1}, code: iv, msg: malformedMsg},
		{name: "ticket cut one byte short", edit: func(w *wmsg) {
			b := w.encode()
			*w = wmsg{{typ: rawBytes, val: b[:len(b)-1]}}
		}, code: iv, msg: malformedMsg},
		{name: "nested length beyond its message", edit: setBytes(nestedOverrun, tp), code: iv, msg: malformedMsg},
		{name: "ticket_params not a message", edit: setBytes([]byte{0xff}, tp), code: iv, msg: malformedMsg},
		{name: "sender_params with a truncated field", edit: setBytes([]byte{0x12, 0x41, 0x01}, sp), code: iv, msg: malformedMsg},

		// Field numbers and wire types no message may carry.
		{name: "field number 0", edit: addFirst(bytesField(0, nil)), code: iv, msg: malformedMsg},
		{name: "field number 2^29", edit: add(bytesField(protowire.MaxValidNumber+1, nil)), code: iv, msg: malformedMsg},
		{name: "field number 0 in a nested message", edit: add(varintField(0, 1), sp), code: iv, msg: malformedMsg},
		{name: "reserved wire type 6", raw: []byte{0x0e, 0x00}, code: iv, msg: malformedMsg},
		{name: "reserved wire type 7", raw: []byte{0x0f, 0x00}, code: iv, msg: malformedMsg},
		{name: "end group without a start", edit: add(wfield{num: 9, typ: protowire.EndGroupType}), code: iv, msg: malformedMsg},
		{name: "group never ended", edit: add(wfield{num: 9, typ: openGroup}), code: iv, msg: malformedMsg},
		{name: "group ended by another number", edit: add(wfield{num: 9, typ: misendedGroup}), code: iv, msg: malformedMsg},

		// Known fields with another wire type: read as unknown, so absent.
		{name: "ticket_params as a group", edit: func(w *wmsg) {
			f := w.field(tp)
			f.typ, f.nested = protowire.StartGroupType, false
		}, code: iv, msg: "ticket_params"},
		{name: "ticket_params as varint", edit: retype(protowire.VarintType, tp), code: iv, msg: "ticket_params"},
		{name: "sender as varint", edit: retype(protowire.VarintType, fSender), code: iv, msg: "sender"},
		{name: "sender as fixed64", edit: retype(protowire.Fixed64Type, fSender), code: iv, msg: "sender"},
		{name: "recipient as fixed32", edit: retype(protowire.Fixed32Type, tp, fRecipient), code: iv, msg: "recipient"},
		{name: "face_value as varint", edit: retype(protowire.VarintType, tp, fFaceValue), code: iv, msg: "face_value"},
		{name: "win_prob as fixed64", edit: retype(protowire.Fixed64Type, tp, fWinProb), code: iv, msg: "win_prob"},
		{name: "recipient_rand_hash as varint", edit: retype(protowire.VarintType, tp, fRecipientRandHash), code: iv, msg: "recipient_rand_hash"},
		{name: "seed as varint (seed is not signed)", edit: edits(setBytes([]byte{7}, tp, fSeed), retype(protowire.VarintType, tp, fSeed)),
			code: codes.OK, check: func(t *testing.T, got *store.Ticket) {
				if len(got.Seed) != 0 {
					t.Fatalf("seed %x stored from a field of the wrong wire type", got.Seed)
				}
			}},
		{name: "expiration_block as varint (absent: zero, below its window)", edit: retype(protowire.VarintType, tp, fExpirationBlock),
			code: iv, msg: "expiration_block"},
		{name: "outer expiration_params as varint", edit: retype(protowire.VarintType, exp), code: codes.OK},
		{name: "both expiration_params as varint", edit: edits(retype(protowire.VarintType, exp), retype(protowire.VarintType, tp, fInnerExpiration)),
			code: iv, msg: "expiration_params"},
		{name: "creation_round as bytes", edit: both(func(p ...protowire.Number) edit { return retype(protowire.BytesType, p...) }, fCreationRound),
			code: iv, msg: "sig"},
		{name: "creation_round_block_hash as fixed64", edit: both(func(p ...protowire.Number) edit { return retype(protowire.Fixed64Type, p...) }, fCreationRoundBlockHash),
			code: iv, msg: "creation_round_block_hash"},
		{name: "sender_params as varint", edit: retype(protowire.VarintType, sp), code: iv, msg: "sender_params"},
		{name: "sender_nonce as bytes", edit: retype(protowire.BytesType, sp, fSenderNonce), code: iv, msg: "sig"},
		{name: "sig as varint", edit: retype(protowire.VarintType, sp, fSig), code: iv, msg: "sig"},
		{name: "recipient_rand as fixed32", edit: retype(protowire.Fixed32Type, fRecipientRand), code: iv, msg: "recipient_rand"},

		// Repeated fields: the last scalar wins, messages merge.
		{name: "sender twice, bad then good", edit: addFirst(bytesField(fSender, filled(19, 1))), code: codes.OK},
		{name: "sender twice, good then 21 bytes", edit: add(bytesField(fSender, filled(21, 1))), code: iv, msg: "sender"},
		{name: "face_value twice, signed value last", edit: addFirst(bytesField(fFaceValue, []byte{1}), tp), code: codes.OK},
		{name: "face_value twice, other value last", edit: add(bytesField(fFaceValue, []byte{1}), tp), code: iv, msg: "sig"},
		{name: "sender_nonce twice, signed value last", edit: addFirst(varintField(fSenderNonce, 12345), sp), code: codes.OK},
		{name: "sender_nonce twice, other value last", edit: add(varintField(fSenderNonce, 12345), sp), code: iv, msg: "sig"},
		{name: "expiration_block twice", edit: addFirst(bytesField(fExpirationBlock, []byte{5}), tp),
			code: codes.OK, check: wantExpirationBlock(expiry)},
		{name: "creation_round twice, signed value last", edit: addFirst(varintField(fCreationRound, 999), exp), code: codes.OK},
		{name: "ticket_params split in two, merged", edit: func(w *wmsg) {
			params := *w.msgAt(tp)
			first, second := wmsg{}, wmsg{}
			for _, f := range params {
				if f.num <= fWinProb {
					first = append(first, f)
				} else {
					second = append(second, f)
				}
			}
			w.field(tp).sub = first
			*w = append(*w, msgField(tp, second))
		}, code: codes.OK},
		{name: "ticket_params again with a face value, merged", edit: add(msgField(tp, wmsg{bytesField(fFaceValue, []byte{1})})),
			code: iv, msg: "sig"},
		{name: "sender_params again with a 64-byte sig, merged", edit: add(msgField(sp, wmsg{bytesField(fSig, filled(64, 1))})),
			code: iv, msg: "sig"},

		// Unknown fields are skipped.
		{name: "unknown bytes field", edit: add(bytesField(99, []byte("extra"))), code: codes.OK},
		{name: "unknown field of every wire type in every message", edit: edits(
			add(varintField(20, 1)), add(wfield{num: 21, typ: protowire.Fixed32Type, n: 7}),
			add(wfield{num: 22, typ: protowire.Fixed64Type, n: 7}, tp),
			add(wfield{num: 23, typ: protowire.StartGroupType, sub: wmsg{varintField(1, 1)}}, sp),
			add(bytesField(24, []byte{1}), exp), add(varintField(25, 1), tp, fInnerExpiration),
		), code: codes.OK},
		{name: "unknown field with the largest number", edit: add(bytesField(protowire.MaxValidNumber, []byte{1})), code: codes.OK},
		{name: "unknown field of 8 KiB", edit: add(bytesField(15, filled(8<<10, 0xab))), code: codes.OK},

		// Nested messages missing or empty.
		{name: "ticket_params missing", edit: drop(tp), code: iv, msg: "ticket_params"},
		{name: "ticket_params empty", edit: keepOnly(nil, tp), code: iv, msg: "recipient"},
		{name: "sender_params missing", edit: drop(sp), code: iv, msg: "sender_params"},
		{name: "sender_params empty", edit: keepOnly(nil, sp), code: iv, msg: "sig"},
		{name: "outer expiration_params missing", edit: drop(exp), code: codes.OK},
		{name: "inner expiration_params missing", edit: drop(tp, fInnerExpiration), code: codes.OK},
		{name: "both expiration_params missing", edit: edits(drop(exp), drop(tp, fInnerExpiration)), code: iv, msg: "expiration_params"},
		{name: "outer expiration_params empty", edit: keepOnly(nil, exp), code: iv, msg: "expiration_params"},
		{name: "both expiration_params empty", edit: edits(keepOnly(nil, exp), keepOnly(nil, tp, fInnerExpiration)),
			code: iv, msg: "creation_round_block_hash"},
		{name: "expiration_params disagree", edit: setVarint(1<<40, exp, fCreationRound), code: iv, msg: "expiration_params"},

		// Ticket fields: empty, too long, wrong size.
		{name: "recipient empty", edit: setBytes(nil, tp, fRecipient), code: iv, msg: "recipient"},
		{name: "recipient 19 bytes", edit: setBytes(recipient[1:], tp, fRecipient), code: iv, msg: "recipient"},
		{name: "recipient 21 bytes", edit: setBytes(append(recipient.Bytes(), 0), tp, fRecipient), code: iv, msg: "recipient"},
		{name: "recipient 21 bytes with a leading zero", edit: setBytes(append([]byte{0}, recipient.Bytes()...), tp, fRecipient), code: iv, msg: "recipient"},
		{name: "recipient zero address", edit: setBytes(make([]byte, 20), tp, fRecipient), code: iv, msg: "recipient"},
		{name: "recipient someone else", sign: func(tk *chain.Ticket) { tk.Recipient = common.HexToAddress("0x42") },
			code: codes.PermissionDenied, msg: "recipient"},
		{name: "sender empty", edit: setBytes(nil, fSender), code: iv, msg: "sender"},
		{name: "sender 19 bytes", edit: setBytes(filled(19, 1), fSender), code: iv, msg: "sender"},
		{name: "sender 21 bytes", edit: setBytes(filled(21, 1), fSender), code: iv, msg: "sender"},
		{name: "sender zero address", edit: setBytes(make([]byte, 20), fSender), code: iv, msg: "sender"},
		{name: "sender not the signer", edit: setBytes(common.HexToAddress("0x42").Bytes(), fSender), code: iv, msg: "sig"},
		{name: "signed by another sender's key", sign: func(tk *chain.Ticket) { tk.Sender = s.env.c.Senders()[1].Address },
			edit: setBytes(s.env.c.Senders()[0].Address.Bytes(), fSender), code: iv, msg: "sig"},
		{name: "face_value empty (zero)", edit: setBytes(nil, tp, fFaceValue), code: iv, msg: "face_value"},
		{name: "face_value 32 zero bytes", edit: setBytes(make([]byte, 32), tp, fFaceValue), code: iv, msg: "face_value"},
		{name: "face_value 33 bytes", edit: setBytes(filled(33, 0xff), tp, fFaceValue), code: iv, msg: "face_value"},
		{name: "face_value 33 bytes with a leading zero", edit: func(w *wmsg) {
			f := w.field(tp, fFaceValue)
			f.val = padLeft(f.val, 33)
		}, code: iv, msg: "face_value"},
		{name: "face_value 1 KiB", edit: setBytes(filled(1<<10, 1), tp, fFaceValue), code: iv, msg: "face_value"},
		{name: "face_value padded to 32 bytes", edit: func(w *wmsg) {
			f := w.field(tp, fFaceValue)
			f.val = padLeft(f.val, 32)
		}, code: codes.OK, check: func(t *testing.T, got *store.Ticket) {
			if got.FaceValue.Cmp(big.NewInt(1e15)) != 0 {
				t.Fatalf("face value stored as %s", got.FaceValue)
			}
		}},
		{name: "win_prob empty (zero)", edit: setBytes(nil, tp, fWinProb), code: iv, msg: "win_prob"},
		{name: "win_prob 32 zero bytes", edit: setBytes(make([]byte, 32), tp, fWinProb), code: iv, msg: "win_prob"},
		{name: "win_prob 33 bytes", edit: setBytes(filled(33, 0xff), tp, fWinProb), code: iv, msg: "win_prob"},
		{name: "win_prob 1 KiB", edit: setBytes(filled(1<<10, 1), tp, fWinProb), code: iv, msg: "win_prob"},
		{name: "losing ticket", sign: func(tk *chain.Ticket) { tk.WinProb = big.NewInt(1) }, code: iv, msg: "winning"},
		{name: "recipient_rand_hash empty", edit: setBytes(nil, tp, fRecipientRandHash), code: iv, msg: "recipient_rand_hash"},
		{name: "recipient_rand_hash 31 bytes", edit: setBytes(filled(31, 1), tp, fRecipientRandHash), code: iv, msg: "recipient_rand_hash"},
		{name: "recipient_rand_hash 33 bytes", edit: setBytes(filled(33, 1), tp, fRecipientRandHash), code: iv, msg: "recipient_rand_hash"},
		{name: "seed 32 bytes", edit: setBytes(filled(32, 9), tp, fSeed), code: codes.OK, check: func(t *testing.T, got *store.Ticket) {
			if !bytes.Equal(got.Seed, filled(32, 9)) {
				t.Fatalf("seed stored as %x", got.Seed)
			}
		}},
		{name: "seed 33 bytes", edit: setBytes(filled(33, 9), tp, fSeed), code: iv, msg: "seed"},
		{name: "seed 1 KiB", edit: setBytes(filled(1<<10, 9), tp, fSeed), code: iv, msg: "seed"},
		{name: "expiration_block empty (zero, below its window)", edit: setBytes(nil, tp, fExpirationBlock), code: iv, msg: "expiration_block"},
		{name: "expiration_block padded to 8 bytes", edit: func(w *wmsg) {
			f := w.field(tp, fExpirationBlock)
			f.val = padLeft(f.val, 8)
		}, code: codes.OK, check: wantExpirationBlock(expiry)},
		{name: "expiration_block 2^63-1 (above its window)", edit: setBytes(append([]byte{0x7f}, filled(7, 0xff)...), tp, fExpirationBlock),
			code: iv, msg: "expiration_block"},
		{name: "expiration_block 2^63", edit: setBytes(append([]byte{0x80}, make([]byte, 7)...), tp, fExpirationBlock), code: iv, msg: "expiration_block"},
		{name: "expiration_block 9 bytes", edit: setBytes(filled(9, 1), tp, fExpirationBlock), code: iv, msg: "expiration_block"},
		{name: "expiration_block 1 KiB", edit: setBytes(filled(1<<10, 1), tp, fExpirationBlock), code: iv, msg: "expiration_block"},
		{name: "creation_round negative", edit: both(func(p ...protowire.Number) edit { return setVarint(^uint64(0), p...) }, fCreationRound),
			code: iv, msg: "creation_round"},
		{name: "creation_round in the future, signed", sign: func(tk *chain.Ticket) { tk.CreationRound++ }, code: iv, msg: "creation_round"},
		{name: "creation_round 2^63-1, signed", sign: func(tk *chain.Ticket) { tk.CreationRound = 1<<63 - 1 }, code: iv, msg: "creation_round"},
		{name: "creation_round_block_hash empty", edit: setBoth(nil, fCreationRoundBlockHash), code: iv, msg: "creation_round_block_hash"},
		{name: "creation_round_block_hash 31 bytes", edit: setBoth(filled(31, 1), fCreationRoundBlockHash), code: iv, msg: "creation_round_block_hash"},
		{name: "creation_round_block_hash 33 bytes", edit: setBoth(filled(33, 1), fCreationRoundBlockHash), code: iv, msg: "creation_round_block_hash"},
		{name: "creation_round_block_hash zero", sign: func(tk *chain.Ticket) { tk.CreationRoundBlockHash = common.Hash{} },
			code: iv, msg: "creation_round_block_hash"},
		{name: "creation_round_block_hash wrong, signed", sign: func(tk *chain.Ticket) { tk.CreationRoundBlockHash = common.HexToHash("0x99") },
			code: iv, msg: "creation_round_block_hash"},
		{name: "sig empty", edit: setBytes(nil, sp, fSig), code: iv, msg: "sig"},
		{name: "sig 64 bytes", edit: withSig(func(b []byte) []byte { return b[:64] }), code: iv, msg: "sig"},
		{name: "sig 66 bytes", edit: withSig(func(b []byte) []byte { return append(b, 0) }), code: iv, msg: "sig"},
		{name: "sig 1 KiB", edit: setBytes(filled(1<<10, 1), sp, fSig), code: iv, msg: "sig"},
		{name: "sig all zero", edit: setBytes(make([]byte, 65), sp, fSig), code: iv, msg: "sig"},
		{name: "sig v 0", edit: withSig(func(b []byte) []byte { b[64] -= 27; return b }), code: iv, msg: "sig"},
		{name: "sig v 29", edit: withSig(func(b []byte) []byte { b[64] = 29; return b }), code: iv, msg: "sig"},
		{name: "sig high s", edit: withSig(highS), code: iv, msg: "sig"},
		{name: "sig r zero", edit: withSig(func(b []byte) []byte { copy(b[:32], make([]byte, 32)); return b }), code: iv, msg: "sig"},
		{name: "sender_nonce changed", edit: setVarint(1, sp, fSenderNonce), code: iv, msg: "sig"},
		{name: "sender_nonce above 2^32", edit: setVarint(1<<32, sp, fSenderNonce), code: iv, msg: "sig"},
		{name: "recipient_rand empty", edit: setBytes(nil, fRecipientRand), code: iv, msg: "recipient_rand"},
		{name: "recipient_rand 33 bytes", edit: func(w *wmsg) {
			f := w.field(fRecipientRand)
			f.val = padLeft(f.val, 33)
		}, code: iv, msg: "recipient_rand"},
		{name: "recipient_rand 1 KiB", edit: setBytes(filled(1<<10, 1), fRecipientRand), code: iv, msg: "recipient_rand"},
		{name: "recipient_rand another value", edit: setBytes([]byte{1}, fRecipientRand), code: iv, msg: "recipient_rand"},
		{name: "recipient_rand padded to 32 bytes", edit: func(w *wmsg) {
			f := w.field(fRecipientRand)
			f.val = padLeft(f.val, 32)
		}, code: codes.OK},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows := s.countTickets(t)
			m, hash := s.ticket(t, big.NewInt(1e15), tc.sign)
			body := tc.raw
			if body == nil {
				w := wireTicket(m)
				if tc.edit != nil {
					tc.edit(&w)
				}
				body = w.encode()
			}
			_, err := unary(ctx, s.conn, pb.TicketRedeemer_QueueTicket_FullMethodName, body)
			wantCode(t, err, tc.code, tc.msg)
			got, lookErr := st.TicketByHash(ctx, hash)
			if tc.code != codes.OK {
				if lookErr == nil {
					t.Fatalf("refused ticket %s was stored", hash)
				}
				if n := s.countTickets(t); n != rows {
					t.Fatalf("tickets = %d after a refusal, want %d", n, rows)
				}
				return
			}
			rows++
			if lookErr != nil {
				t.Fatalf("accepted ticket %s not found: %v", hash, lookErr)
			}
			if n := s.countTickets(t); n != rows {
				t.Fatalf("tickets = %d, want %d", n, rows)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

func wantExpirationBlock(want int64) func(t *testing.T, got *store.Ticket) {
	return func(t *testing.T, got *store.Ticket) {
		t.Helper()
		if got.ParamsExpirationBlock != want {
			t.Fatalf("expiration block stored as %d, want %d", got.ParamsExpirationBlock, want)
		}
	}
}

func (s *rawServer) countTickets(t testing.TB) int64 {
	t.Helper()
	n, err := s.r.st.CountTickets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// senderMethods are the RPCs that take a MaxFloatReq.
var senderMethods = []string{
	pb.TicketRedeemer_MaxFloat_FullMethodName,
	pb.TicketRedeemer_SenderInfo_FullMethodName,
	pb.TicketRedeemer_MonitorMaxFloat_FullMethodName,
}

// call sends body to method, a unary RPC or MonitorMaxFloat (then the
// stream's first message or status is the answer; an opened stream is
// closed).
func (s *rawServer) call(ctx context.Context, method string, body []byte) error {
	if method != pb.TicketRedeemer_MonitorMaxFloat_FullMethodName {
		_, err := unary(ctx, s.conn, method, body)
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, _, err := openStream(sctx, s.conn, body)
	return err
}

// TestMalformedSenderRequests sends every bad MaxFloatReq to MaxFloat,
// SenderInfo and MonitorMaxFloat: each is refused with InvalidArgument and
// leaves no sender tracked, no stream and no subscription behind.
func TestMalformedSenderRequests(t *testing.T) {
	t.Parallel()
	s := newRawServer(t, floatEnvOpts{})
	ctx := s.env.ctx
	sender := s.env.c.Senders()[0].Address
	req := func(fs ...wfield) []byte { return wmsg(fs).encode() }

	const iv = codes.InvalidArgument
	cases := []struct {
		name string
		body []byte
		msg  string
	}{
		{"text", []byte("sender=0x01"), malformedMsg},
		{"all 0xff", filled(16, 0xff), malformedMsg},
		{"tag varint truncated", []byte{0x80}, malformedMsg},
		{"length varint truncated", []byte{0x0a, 0x80}, malformedMsg},
		{"length beyond the buffer", []byte{0x0a, 0x14, 1, 2, 3}, malformedMsg},
		{"field number 0", req(bytesField(0, sender.Bytes())), malformedMsg},
		{"reserved wire type", []byte{0x0e, 0}, malformedMsg},
		{"group never ended", []byte{0x0b}, malformedMsg},
		{"end group without a start", []byte{0x0c}, malformedMsg},
		{"empty message", []byte{}, "sender"},
		{"sender empty", req(bytesField(fMaxFloatSender, nil)), "sender"},
		{"sender 1 byte", req(bytesField(fMaxFloatSender, []byte{1})), "sender"},
		{"sender 19 bytes", req(bytesField(fMaxFloatSender, sender[1:])), "sender"},
		{"sender 21 bytes", req(bytesField(fMaxFloatSender, append(sender.Bytes(), 0))), "sender"},
		{"sender 21 bytes with a leading zero", req(bytesField(fMaxFloatSender, append([]byte{0}, sender.Bytes()...))), "sender"},
		{"sender 32 bytes", req(bytesField(fMaxFloatSender, common.LeftPadBytes(sender.Bytes(), 32))), "sender"},
		{"sender 1 KiB", req(bytesField(fMaxFloatSender, filled(1<<10, 1))), "sender"},
		{"sender zero address", req(bytesField(fMaxFloatSender, make([]byte, 20))), "sender"},
		{"sender as varint", req(varintField(fMaxFloatSender, 1)), "sender"},
		{"sender as fixed64", req(wfield{num: fMaxFloatSender, typ: protowire.Fixed64Type, n: 1}), "sender"},
		{"sender as a group", req(wfield{num: fMaxFloatSender, typ: protowire.StartGroupType}), "sender"},
		{"sender twice, 19 bytes last", req(bytesField(fMaxFloatSender, sender.Bytes()), bytesField(fMaxFloatSender, sender[1:])), "sender"},
		{"sender twice, empty last", req(bytesField(fMaxFloatSender, sender.Bytes()), bytesField(fMaxFloatSender, nil)), "sender"},
		{"unknown field beside a 19-byte sender", req(bytesField(fMaxFloatSender, sender[1:]), bytesField(2, sender.Bytes())), "sender"},
		{"the address only under an unknown number", req(bytesField(2, sender.Bytes())), "sender"},
	}
	for _, method := range senderMethods {
		for _, tc := range cases {
			t.Run(method[strings.LastIndex(method, "/")+1:]+"/"+tc.name, func(t *testing.T) {
				wantCode(t, s.call(ctx, method, tc.body), iv, tc.msg)
			})
		}
	}
	tracked, err := s.r.st.Q().TrackedSenders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tracked) != 0 {
		t.Fatalf("refused requests left %d senders tracked", len(tracked))
	}
	waitFor(t, "no stream or subscription left", func() bool { return s.r.floats.Streams() == 0 && s.r.hub.Subscribers() == 0 })

	// The control: the same server answers a valid request, sent with an
	// unknown field and a repeated sender whose last value is good, and
	// tracks the sender for the stream (MaxFloat and SenderInfo only read
	// it), so the check above could have seen a row.
	good := req(bytesField(fMaxFloatSender, sender[1:]), bytesField(7, []byte("x")), bytesField(fMaxFloatSender, sender.Bytes()))
	for _, method := range senderMethods {
		if err := s.call(ctx, method, good); err != nil {
			t.Fatalf("%s with a valid sender: %v", method, err)
		}
	}
	tracked, err = s.r.st.Q().TrackedSenders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tracked) != 1 || tracked[0] != sender {
		t.Fatalf("tracked senders after a valid request: %x, want only %s", tracked, sender)
	}
}
