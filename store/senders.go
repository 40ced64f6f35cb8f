package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// FloatAllSenders is the FloatChannel payload that announces a change to
// every sender's float (a protocol value such as the pool size changed).
const FloatAllSenders = "*"

// FloatPayload is the FloatChannel payload naming one sender.
func FloatPayload(sender [20]byte) string {
	return "0x" + hex.EncodeToString(sender[:])
}

// SenderState is a sender's TicketBroker state as read at one block.
type SenderState struct {
	Sender         [20]byte
	Deposit        *big.Int
	WithdrawRound  *big.Int
	FundsRemaining *big.Int
	// ClaimedInRound is the reserve all recipients claimed in Round;
	// ClaimedByRecipient the part the service's recipient claimed.
	ClaimedInRound     *big.Int
	ClaimedByRecipient *big.Int
	// Round is the current round at Block: the round the claims belong to.
	Round *big.Int
	Block uint64
}

// Unfunded reports a sender with neither deposit nor reserve: none of its
// tickets can pay.
func (s *SenderState) Unfunded() bool {
	return s.Deposit.Sign() == 0 && s.FundsRemaining.Sign() == 0
}

// ProtocolState holds the protocol values every sender's float depends on,
// as read at one block.
type ProtocolState struct {
	Recipient            [20]byte
	RecipientActive      bool
	PoolSize             *big.Int
	CurrentRound         *big.Int
	LastInitializedRound *big.Int
	// TicketValidityPeriod (rounds), RoundLength (L1 blocks) and
	// RoundStartL1 (the L1 block the current round began at) are nil until
	// read; a reader that does not read them leaves the stored ones alone.
	TicketValidityPeriod *big.Int
	RoundLength          *big.Int
	RoundStartL1         *big.Int
	Block                uint64
	L1Block              uint64
}

// RoundInitialized reports whether the current round is initialized: until
// it is, the TicketBroker refuses every redemption.
func (p *ProtocolState) RoundInitialized() bool {
	return p.LastInitializedRound != nil && p.CurrentRound != nil && p.LastInitializedRound.Cmp(p.CurrentRound) == 0
}

// NextRoundL1 is the L1 block at which the next round begins, and false
// when the round length or start is not known.
func (p *ProtocolState) NextRoundL1() (uint64, bool) {
	if p.RoundStartL1 == nil || p.RoundLength == nil {
		return 0, false
	}
	next := new(big.Int).Add(p.RoundStartL1, p.RoundLength)
	if !next.IsUint64() {
		return 0, false
	}
	return next.Uint64(), true
}

// At is p as of L1 block l1: when l1 is past the end of p's round (the
// values were read before a round began), the round and its start block
// move on together by whole rounds, as the RoundsManager counts them. p
// itself when l1 is within the round, or when the round, its start or its
// length is not known.
func (p *ProtocolState) At(l1 uint64) *ProtocolState {
	if p == nil || p.CurrentRound == nil {
		return p
	}
	next, ok := p.NextRoundL1()
	if !ok || l1 < next || p.RoundLength.Sign() <= 0 || !p.RoundLength.IsUint64() {
		return p
	}
	moved := new(big.Int).SetUint64(1 + (l1-next)/p.RoundLength.Uint64())
	q := *p
	q.CurrentRound = new(big.Int).Add(p.CurrentRound, moved)
	q.RoundStartL1 = new(big.Int).Add(p.RoundStartL1, moved.Mul(moved, p.RoundLength))
	return &q
}

// ChainState is one batch of chain reads to store.
type ChainState struct {
	// Protocol is nil when the protocol values were not read.
	Protocol *ProtocolState
	Senders  []SenderState
	// Force overwrites rows read at a later block than this batch. Only a
	// rewrite after a reorg sets it: the later block may be gone.
	Force bool
}

// SaveResult says which stored values changed (and were announced).
type SaveResult struct {
	ProtocolChanged bool
	SendersChanged  [][20]byte
}

// SaveChainState stores cs in one transaction and, in the same transaction,
// announces on FloatChannel every sender whose stored values changed, and
// FloatAllSenders when the protocol values changed. Rewriting equal values
// announces nothing, so handlers may store the same reads again (after a
// redelivered head) for free. Values read at an older block than the stored
// ones are skipped unless cs.Force is set, so a slow reader cannot roll a
// row back.
func (s *Store) SaveChainState(ctx context.Context, cs ChainState) (res SaveResult, err error) {
	err = s.InTx(ctx, func(q Q) error {
		res, err = q.SaveChainState(ctx, cs)
		return err
	})
	return res, err
}

// SaveChainState is Store.SaveChainState inside the caller's transaction,
// so the leader stores chain state together with the cursor it was read up
// to.
func (q Q) SaveChainState(ctx context.Context, cs ChainState) (SaveResult, error) {
	senders, err := senderArgs(cs.Senders)
	if err != nil {
		return SaveResult{}, fmt.Errorf("store: save chain state: %w", err)
	}
	if cs.Protocol != nil {
		if err := checkProtocol(cs.Protocol); err != nil {
			return SaveResult{}, fmt.Errorf("store: save chain state: %w", err)
		}
	}
	res, err := q.saveChainState(ctx, cs, senders)
	if err != nil {
		return SaveResult{}, fmt.Errorf("store: save chain state: %w", err)
	}
	return res, nil
}

func (q Q) saveChainState(ctx context.Context, cs ChainState, senders senderColumns) (SaveResult, error) {
	tx := q.db
	var res SaveResult
	if cs.Protocol != nil {
		changed, err := saveProtocol(ctx, tx, cs.Protocol, cs.Force)
		if err != nil {
			return res, fmt.Errorf("protocol state: %w", err)
		}
		res.ProtocolChanged = changed
	}
	if len(senders.sender) > 0 {
		changed, err := saveSenders(ctx, tx, senders, cs.Force)
		if err != nil {
			return res, fmt.Errorf("sender state: %w", err)
		}
		res.SendersChanged = changed
	}
	if res.ProtocolChanged {
		if err := notifyFloat(ctx, tx, FloatAllSenders); err != nil {
			return res, err
		}
	}
	for _, a := range res.SendersChanged {
		if err := notifyFloat(ctx, tx, FloatPayload(a)); err != nil {
			return res, err
		}
	}
	return res, nil
}

func notifyFloat(ctx context.Context, tx DB, payload string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, FloatChannel, payload); err != nil {
		return fmt.Errorf("notify %s %s: %w", FloatChannel, payload, err)
	}
	return nil
}

func checkProtocol(p *ProtocolState) error {
	for name, v := range map[string]*big.Int{
		"pool size": p.PoolSize, "current round": p.CurrentRound, "last initialized round": p.LastInitializedRound,
	} {
		if v == nil || v.Sign() < 0 {
			return fmt.Errorf("protocol %s %v is not a non-negative integer", name, v)
		}
	}
	if _, err := headNumber(p.Block); err != nil {
		return err
	}
	_, err := headNumber(p.L1Block)
	return err
}

const protocolColumns = `recipient, recipient_active, pool_size, current_round, last_initialized_round,
	ticket_validity_period, round_length, round_start_l1, state_block, state_l1_block`

// protocolFrom builds a ProtocolState from protocolColumns' values.
func protocolFrom(recipient []byte, active bool, n [6]pgtype.Numeric, block, l1Block int64) (*ProtocolState, error) {
	p := ProtocolState{RecipientActive: active, Block: uint64(block), L1Block: uint64(l1Block)}
	copy(p.Recipient[:], recipient)
	var errs [6]error
	p.PoolSize, errs[0] = numericToBig(n[0])
	p.CurrentRound, errs[1] = numericToBig(n[1])
	p.LastInitializedRound, errs[2] = numericToBig(n[2])
	p.TicketValidityPeriod, errs[3] = numericOrNil(n[3])
	p.RoundLength, errs[4] = numericOrNil(n[4])
	p.RoundStartL1, errs[5] = numericOrNil(n[5])
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("protocol state: %w", err)
	}
	return &p, nil
}

func scanProtocol(row pgx.Row) (*ProtocolState, error) {
	var (
		recipient      []byte
		active         bool
		n              [6]pgtype.Numeric
		block, l1Block int64
	)
	if err := row.Scan(&recipient, &active, &n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &block, &l1Block); err != nil {
		return nil, err
	}
	return protocolFrom(recipient, active, n, block, l1Block)
}

// optionalNumeric passes a value that may be unknown (nil) as NULL.
func optionalNumeric(v *big.Int) (any, error) {
	if v == nil {
		return nil, nil
	}
	return bigToNumeric(v)
}

func sameOptional(a, b *big.Int) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Cmp(b) == 0
}

// saveProtocol writes p unless the stored row was read at a later block
// (and force is off), and reports whether a value other than the blocks
// changed.
func saveProtocol(ctx context.Context, tx DB, p *ProtocolState, force bool) (changed bool, err error) {
	// checkProtocol ruled out the only conversion errors (nil, negative).
	pool, _ := bigToNumeric(p.PoolSize)
	round, _ := bigToNumeric(p.CurrentRound)
	last, _ := bigToNumeric(p.LastInitializedRound)
	validity, _ := optionalNumeric(p.TicketValidityPeriod)
	length, _ := optionalNumeric(p.RoundLength)
	start, _ := optionalNumeric(p.RoundStartL1)
	args := []any{p.Recipient[:], p.RecipientActive, pool, round, last, validity, length, start,
		int64(p.Block), int64(p.L1Block)}

	lock := func() (*ProtocolState, error) {
		old, err := scanProtocol(tx.QueryRow(ctx, `SELECT `+protocolColumns+` FROM protocol_state FOR UPDATE`))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil
		}
		return old, err
	}
	old, err := lock()
	if err != nil {
		return false, err
	}
	if old == nil {
		tag, err := tx.Exec(ctx, `INSERT INTO protocol_state (`+protocolColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (singleton) DO NOTHING`, args...)
		if err != nil {
			return false, err
		}
		if tag.RowsAffected() == 1 {
			return true, nil
		}
		// Another transaction inserted the row first; it is committed now.
		if old, err = lock(); err != nil {
			return false, err
		}
	}
	if old.Block > p.Block && !force {
		return false, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE protocol_state SET recipient = $1, recipient_active = $2, pool_size = $3,
			current_round = $4, last_initialized_round = $5,
			ticket_validity_period = coalesce($6, ticket_validity_period), round_length = coalesce($7, round_length),
			round_start_l1 = coalesce($8, round_start_l1),
			state_block = $9, state_l1_block = $10, updated_at = now()`,
		args...); err != nil {
		return false, err
	}
	optionalChanged := func(old, new *big.Int) bool { return new != nil && !sameOptional(old, new) }
	return old.Recipient != p.Recipient || old.RecipientActive != p.RecipientActive ||
		old.PoolSize.Cmp(p.PoolSize) != 0 || old.CurrentRound.Cmp(p.CurrentRound) != 0 ||
		old.LastInitializedRound.Cmp(p.LastInitializedRound) != 0 ||
		optionalChanged(old.TicketValidityPeriod, p.TicketValidityPeriod) ||
		optionalChanged(old.RoundLength, p.RoundLength) || optionalChanged(old.RoundStartL1, p.RoundStartL1), nil
}

// senderColumns are the values that make up a sender's state, in the order
// of the unnest arguments below.
type senderColumns struct {
	sender                                                 [][]byte
	deposit, withdraw, funds, claimedRound, claimedBy, rnd []pgtype.Numeric
	block                                                  []int64
}

// senderArgs validates and converts the states to column arrays, sorted by
// sender and one per sender (the latest read wins): rows are then locked in
// one order by every writer, and no statement touches a row twice.
func senderArgs(states []SenderState) (senderColumns, error) {
	byAddr := make(map[[20]byte]SenderState, len(states))
	for _, st := range states {
		if prev, ok := byAddr[st.Sender]; ok && prev.Block > st.Block {
			continue
		}
		byAddr[st.Sender] = st
	}
	addrs := make([][20]byte, 0, len(byAddr))
	for a := range byAddr {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, func(a, b [20]byte) int { return bytes.Compare(a[:], b[:]) })

	var c senderColumns
	for _, a := range addrs {
		st := byAddr[a]
		vals := make([]pgtype.Numeric, 6)
		for i, v := range []*big.Int{st.Deposit, st.WithdrawRound, st.FundsRemaining, st.ClaimedInRound, st.ClaimedByRecipient, st.Round} {
			n, err := bigToNumeric(v)
			if err != nil {
				return c, fmt.Errorf("sender %x: %w", a, err)
			}
			vals[i] = n
		}
		block, err := headNumber(st.Block)
		if err != nil {
			return c, fmt.Errorf("sender %x: %w", a, err)
		}
		c.sender = append(c.sender, a[:])
		c.deposit = append(c.deposit, vals[0])
		c.withdraw = append(c.withdraw, vals[1])
		c.funds = append(c.funds, vals[2])
		c.claimedRound = append(c.claimedRound, vals[3])
		c.claimedBy = append(c.claimedBy, vals[4])
		c.rnd = append(c.rnd, vals[5])
		c.block = append(c.block, block)
	}
	return c, nil
}

const senderStateColumns = `sender, deposit, withdraw_round, reserve_funds_remaining, reserve_claimed_in_round,
	claimed_by_recipient, state_round, state_block`

func scanSenderState(row pgx.Row) (*SenderState, error) {
	var (
		sender []byte
		n      [6]pgtype.Numeric
		block  int64
	)
	if err := row.Scan(&sender, &n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &block); err != nil {
		return nil, err
	}
	return senderState(sender, n, block)
}

// senderState builds a SenderState from its columns in senderStateColumns
// order.
func senderState(sender []byte, n [6]pgtype.Numeric, block int64) (*SenderState, error) {
	st := SenderState{Block: uint64(block)}
	copy(st.Sender[:], sender)
	var errs [6]error
	st.Deposit, errs[0] = numericToBig(n[0])
	st.WithdrawRound, errs[1] = numericToBig(n[1])
	st.FundsRemaining, errs[2] = numericToBig(n[2])
	st.ClaimedInRound, errs[3] = numericToBig(n[3])
	st.ClaimedByRecipient, errs[4] = numericToBig(n[4])
	st.Round, errs[5] = numericToBig(n[5])
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("sender %x: %w", sender, err)
	}
	return &st, nil
}

func sameSenderValues(a, b *SenderState) bool {
	return a.Deposit.Cmp(b.Deposit) == 0 && a.WithdrawRound.Cmp(b.WithdrawRound) == 0 &&
		a.FundsRemaining.Cmp(b.FundsRemaining) == 0 && a.ClaimedInRound.Cmp(b.ClaimedInRound) == 0 &&
		a.ClaimedByRecipient.Cmp(b.ClaimedByRecipient) == 0 && a.Round.Cmp(b.Round) == 0
}

// saveSenders upserts the senders and returns those whose values changed.
// The old rows are locked first, so no other writer can change a row
// between the comparison and the write and leave a change unannounced.
func saveSenders(ctx context.Context, tx DB, c senderColumns, force bool) ([][20]byte, error) {
	rows, err := tx.Query(ctx, `SELECT `+senderStateColumns+` FROM senders
		WHERE sender = ANY($1) ORDER BY sender FOR UPDATE`, c.sender)
	if err != nil {
		return nil, err
	}
	oldRows, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*SenderState, error) { return scanSenderState(r) })
	if err != nil {
		return nil, err
	}
	old := make(map[[20]byte]*SenderState, len(oldRows))
	for _, o := range oldRows {
		old[o.Sender] = o
	}

	rows, err = tx.Query(ctx, `
		INSERT INTO senders AS s (`+senderStateColumns+`)
		SELECT * FROM unnest($1::bytea[], $2::numeric[], $3::numeric[], $4::numeric[], $5::numeric[],
			$6::numeric[], $7::numeric[], $8::bigint[])
		ON CONFLICT (sender) DO UPDATE SET
			deposit = EXCLUDED.deposit, withdraw_round = EXCLUDED.withdraw_round,
			reserve_funds_remaining = EXCLUDED.reserve_funds_remaining,
			reserve_claimed_in_round = EXCLUDED.reserve_claimed_in_round,
			claimed_by_recipient = EXCLUDED.claimed_by_recipient, state_round = EXCLUDED.state_round,
			state_block = EXCLUDED.state_block, updated_at = now()
		WHERE s.state_block <= EXCLUDED.state_block OR $9
		RETURNING `+senderStateColumns,
		c.sender, c.deposit, c.withdraw, c.funds, c.claimedRound, c.claimedBy, c.rnd, c.block, force)
	if err != nil {
		return nil, err
	}
	written, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*SenderState, error) { return scanSenderState(r) })
	if err != nil {
		return nil, err
	}
	var changed [][20]byte
	for _, w := range written {
		// A row missing from old was inserted now (or by a concurrent
		// writer after our lock; announcing it twice is harmless).
		if o, ok := old[w.Sender]; !ok || !sameSenderValues(o, w) {
			changed = append(changed, w.Sender)
		}
	}
	return changed, nil
}

// StoredProtocolState returns the stored protocol values, or nil when none
// were stored yet.
func (s *Store) StoredProtocolState(ctx context.Context) (*ProtocolState, error) {
	p, err := scanProtocol(s.pool.QueryRow(ctx, `SELECT `+protocolColumns+` FROM protocol_state`))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: protocol state: %w", err)
	}
	return p, nil
}

// FloatState is everything a sender's max float is computed from, read in
// one statement (one snapshot).
type FloatState struct {
	Sender [20]byte
	// State is nil for a sender the service does not track yet.
	State *SenderState
	// InLimbo is the sender's stored in-limbo amount, zero when it has none.
	InLimbo *big.Int
	// Protocol is nil until protocol values were stored.
	Protocol *ProtocolState
}

// FloatState reads one sender's float inputs.
func (s *Store) FloatState(ctx context.Context, sender [20]byte) (FloatState, error) {
	out, err := s.FloatStates(ctx, [][20]byte{sender})
	if err != nil {
		return FloatState{}, err
	}
	return out[0], nil
}

// FloatStates reads the float inputs of several senders in one statement,
// in the order given.
func (s *Store) FloatStates(ctx context.Context, senders [][20]byte) ([]FloatState, error) {
	keys := make([][]byte, len(senders))
	for i := range senders {
		keys[i] = senders[i][:]
	}
	rows, err := s.pool.Query(ctx, `
		SELECT i.sender,
			s.sender, s.deposit, s.withdraw_round, s.reserve_funds_remaining, s.reserve_claimed_in_round,
			s.claimed_by_recipient, s.state_round, s.state_block,
			coalesce(l.amount, 0),
			p.recipient, p.recipient_active, p.pool_size, p.current_round, p.last_initialized_round,
			p.ticket_validity_period, p.round_length, p.round_start_l1, p.state_block, p.state_l1_block
		FROM unnest($1::bytea[]) WITH ORDINALITY AS i(sender, ord)
		LEFT JOIN senders s ON s.sender = i.sender
		LEFT JOIN sender_limbo l ON l.sender = i.sender
		LEFT JOIN protocol_state p ON true
		ORDER BY i.ord`, keys)
	if err != nil {
		return nil, fmt.Errorf("store: float states: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FloatState, error) {
		var (
			fs                     FloatState
			key, sender, recipient []byte
			n                      [6]pgtype.Numeric
			block                  pgtype.Int8
			limbo                  pgtype.Numeric
			active                 pgtype.Bool
			p                      [6]pgtype.Numeric
			pBlock, pL1            pgtype.Int8
		)
		if err := r.Scan(&key, &sender, &n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &block, &limbo,
			&recipient, &active, &p[0], &p[1], &p[2], &p[3], &p[4], &p[5], &pBlock, &pL1); err != nil {
			return fs, err
		}
		copy(fs.Sender[:], key)
		var err error
		if fs.InLimbo, err = numericToBig(limbo); err != nil {
			return fs, fmt.Errorf("in-limbo amount: %w", err)
		}
		if sender != nil {
			if fs.State, err = senderState(sender, n, block.Int64); err != nil {
				return fs, err
			}
		}
		if recipient != nil {
			if fs.Protocol, err = protocolFrom(recipient, active.Bool, p, pBlock.Int64, pL1.Int64); err != nil {
				return fs, err
			}
		}
		return fs, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: float states: %w", err)
	}
	return out, nil
}

// TrackedSenders returns every sender the service knows: those with stored
// state and those that sent it a ticket.
func (q Q) TrackedSenders(ctx context.Context) ([][20]byte, error) {
	// The recursive part walks tickets' (sender, status) index one distinct
	// sender at a time (a loose index scan), so the cost grows with the
	// number of senders, not of tickets.
	rows, err := q.db.Query(ctx, `
		WITH RECURSIVE ticket_senders AS (
			(SELECT sender FROM tickets ORDER BY sender LIMIT 1)
			UNION ALL
			SELECT (SELECT t.sender FROM tickets t WHERE t.sender > ts.sender ORDER BY t.sender LIMIT 1)
			FROM ticket_senders ts WHERE ts.sender IS NOT NULL
		)
		SELECT sender FROM ticket_senders WHERE sender IS NOT NULL
		UNION
		SELECT sender FROM senders`)
	if err != nil {
		return nil, fmt.Errorf("store: tracked senders: %w", err)
	}
	return collectAddresses(rows, "store: tracked senders")
}

// FilterTracked returns the candidates the service tracks (see
// TrackedSenders), in no particular order.
func (q Q) FilterTracked(ctx context.Context, candidates [][20]byte) ([][20]byte, error) {
	if len(candidates) == 0 {
		return nil, nil
	}
	keys := make([][]byte, len(candidates))
	for i := range candidates {
		keys[i] = candidates[i][:]
	}
	rows, err := q.db.Query(ctx, `
		SELECT DISTINCT c.sender FROM unnest($1::bytea[]) AS c(sender)
		WHERE EXISTS (SELECT 1 FROM senders s WHERE s.sender = c.sender)
		   OR EXISTS (SELECT 1 FROM tickets t WHERE t.sender = c.sender)`, keys)
	if err != nil {
		return nil, fmt.Errorf("store: filter tracked senders: %w", err)
	}
	return collectAddresses(rows, "store: filter tracked senders")
}

func collectAddresses(rows pgx.Rows, what string) ([][20]byte, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([20]byte, error) {
		var b []byte
		var a [20]byte
		if err := r.Scan(&b); err != nil {
			return a, err
		}
		if len(b) != len(a) {
			return a, fmt.Errorf("address of %d bytes", len(b))
		}
		copy(a[:], b)
		return a, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// StoredAt returns the senders whose stored state was read at block, and
// whether the protocol values were.
func (s *Store) StoredAt(ctx context.Context, block uint64) (senders [][20]byte, protocol bool, err error) {
	b, err := headNumber(block)
	if err != nil {
		return nil, false, fmt.Errorf("store: state stored at block %d: %w", block, err)
	}
	var keys [][]byte
	err = s.pool.QueryRow(ctx, `SELECT
			array(SELECT sender FROM senders WHERE state_block = $1 ORDER BY sender),
			EXISTS (SELECT 1 FROM protocol_state WHERE state_block = $1)`, b).Scan(&keys, &protocol)
	if err != nil {
		return nil, false, fmt.Errorf("store: state stored at block %d: %w", block, err)
	}
	for _, k := range keys {
		if len(k) != 20 {
			return nil, false, fmt.Errorf("store: state stored at block %d: address of %d bytes", block, len(k))
		}
		senders = append(senders, [20]byte(k))
	}
	return senders, protocol, nil
}
