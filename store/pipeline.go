package store

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// This file holds what the leader's pipeline stages keep besides tickets
// and redemptions: their cursors, the rounds' block hashes, the tickets
// the chain shows redeemed, and the housekeeping that bounds every table.

// Cursor is the last block a stage processed completely.
type Cursor struct {
	Number   uint64
	Hash     [32]byte
	L1Number uint64
}

// StageCursor returns stage's cursor, or nil when it has none yet.
func (q Q) StageCursor(ctx context.Context, stage string) (*Cursor, error) {
	var (
		c       Cursor
		num, l1 int64
		hash    []byte
	)
	err := q.db.QueryRow(ctx, `SELECT block_number, block_hash, l1_number FROM stage_cursors WHERE stage = $1`,
		stage).Scan(&num, &hash, &l1)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: cursor of stage %s: %w", stage, err)
	}
	if len(hash) != 32 {
		return nil, fmt.Errorf("store: cursor of stage %s: hash of %d bytes", stage, len(hash))
	}
	c.Number, c.L1Number, c.Hash = uint64(num), uint64(l1), [32]byte(hash)
	return &c, nil
}

// SetStageCursor moves stage's cursor to c. Call it in the Fenced
// transaction that stores what the stage derived up to c, so a crash leaves
// both or neither.
func (q Q) SetStageCursor(ctx context.Context, stage string, c Cursor, term Term) error {
	num, err := headNumber(c.Number)
	if err != nil {
		return fmt.Errorf("store: cursor of stage %s: %w", stage, err)
	}
	l1, err := headNumber(c.L1Number)
	if err != nil {
		return fmt.Errorf("store: cursor of stage %s: %w", stage, err)
	}
	_, err = q.db.Exec(ctx, `INSERT INTO stage_cursors (stage, block_number, block_hash, l1_number, leader_term)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (stage) DO UPDATE SET block_number = EXCLUDED.block_number, block_hash = EXCLUDED.block_hash,
			l1_number = EXCLUDED.l1_number, leader_term = EXCLUDED.leader_term, updated_at = now()`,
		stage, num, c.Hash[:], l1, int64(term))
	if err != nil {
		return fmt.Errorf("store: cursor of stage %s: %w", stage, err)
	}
	return nil
}

// SaveRoundHashes stores the block hashes of initialized rounds. A round's
// hash never changes once initialized, except by a reorg of the block that
// initialized it, so a later write wins.
func (q Q) SaveRoundHashes(ctx context.Context, hashes map[int64][32]byte) error {
	if len(hashes) == 0 {
		return nil
	}
	rounds, hs := make([]int64, 0, len(hashes)), make([][]byte, 0, len(hashes))
	for r, h := range hashes {
		rounds = append(rounds, r)
		hs = append(hs, append([]byte(nil), h[:]...))
	}
	_, err := q.db.Exec(ctx, `INSERT INTO round_hashes (round, block_hash)
		SELECT * FROM unnest($1::bigint[], $2::bytea[])
		ON CONFLICT (round) DO UPDATE SET block_hash = EXCLUDED.block_hash, seen_at = now()
		WHERE round_hashes.block_hash <> EXCLUDED.block_hash`, rounds, hs)
	if err != nil {
		return fmt.Errorf("store: save %d round hashes: %w", len(hashes), err)
	}
	return nil
}

// RoundHash returns round's stored block hash; ok is false when none is
// stored.
func (q Q) RoundHash(ctx context.Context, round int64) (hash [32]byte, ok bool, err error) {
	var b []byte
	err = q.db.QueryRow(ctx, `SELECT block_hash FROM round_hashes WHERE round = $1`, round).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return hash, false, nil
	}
	if err != nil {
		return hash, false, fmt.Errorf("store: hash of round %d: %w", round, err)
	}
	return [32]byte(b), true, nil
}

// RedeemedTicket is a WinningTicketRedeemed log for the service's recipient.
type RedeemedTicket struct {
	TicketHash [32]byte
	Sender     [20]byte
	Round      int64
	Block      uint64
	BlockHash  [32]byte
	TxHash     [32]byte
}

// RecordRedeemed stores tickets the chain shows redeemed, and ends queued
// copies of them as failed: someone redeemed them before this service did.
// Tickets in a redemption of this service are left to its settlement. It
// returns the queued tickets it failed.
func (q Q) RecordRedeemed(ctx context.Context, rs []RedeemedTicket) ([]int64, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	n := len(rs)
	hashes, senders, blockHashes, txs := make([][]byte, n), make([][]byte, n), make([][]byte, n), make([][]byte, n)
	rounds, blocks := make([]int64, n), make([]int64, n)
	for i := range rs {
		r := &rs[i]
		hashes[i], senders[i], blockHashes[i], txs[i] = r.TicketHash[:], r.Sender[:], r.BlockHash[:], r.TxHash[:]
		b, err := headNumber(r.Block)
		if err != nil {
			return nil, fmt.Errorf("store: record redeemed tickets: %w", err)
		}
		rounds[i], blocks[i] = r.Round, b
	}
	if _, err := q.db.Exec(ctx, `INSERT INTO redeemed_tickets (ticket_hash, sender, round, block_number, block_hash, tx_hash)
		SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bigint[], $4::bigint[], $5::bytea[], $6::bytea[])
		ON CONFLICT (ticket_hash) DO UPDATE SET round = EXCLUDED.round, block_number = EXCLUDED.block_number,
			block_hash = EXCLUDED.block_hash, tx_hash = EXCLUDED.tx_hash, seen_at = now()`,
		hashes, senders, rounds, blocks, blockHashes, txs); err != nil {
		return nil, fmt.Errorf("store: record redeemed tickets: %w", err)
	}
	rows, err := q.db.Query(ctx, `SELECT id FROM tickets WHERE ticket_hash = ANY($1) AND status = 'queued'`, hashes)
	if err != nil {
		return nil, fmt.Errorf("store: record redeemed tickets: %w", err)
	}
	queued, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("store: record redeemed tickets: %w", err)
	}
	es := make([]Ending, len(queued))
	for i, id := range queued {
		es[i] = Ending{TicketID: id, Status: StatusFailed,
			Reason: "redeemed on chain by another transaction before this service redeemed it"}
	}
	return q.EndQueuedTickets(ctx, es)
}

// ForgetRedeemedAbove deletes the redeemed tickets recorded from blocks
// above block: a reorg may have removed them, and the logs from there on
// are read again.
func (q Q) ForgetRedeemedAbove(ctx context.Context, block uint64) (int64, error) {
	b, err := headNumber(block)
	if err != nil {
		return 0, err
	}
	tag, err := q.db.Exec(ctx, `DELETE FROM redeemed_tickets WHERE block_number > $1`, b)
	if err != nil {
		return 0, fmt.Errorf("store: forget redeemed tickets above block %d: %w", block, err)
	}
	return tag.RowsAffected(), nil
}

// NotifySenders announces a float change for each sender, so every
// replica drops what it cached about them.
func (q Q) NotifySenders(ctx context.Context, senders [][20]byte) error {
	for _, a := range senders {
		if err := q.notifySender(ctx, a); err != nil {
			return fmt.Errorf("store: notify sender %x: %w", a, err)
		}
	}
	return nil
}

// SendersReadAfter returns up to limit tracked senders whose stored state
// was read at a block above block.
func (q Q) SendersReadAfter(ctx context.Context, block uint64, limit int) ([][20]byte, error) {
	b, err := headNumber(block)
	if err != nil {
		return nil, err
	}
	rows, err := q.db.Query(ctx, `SELECT sender FROM senders WHERE state_block > $1 ORDER BY state_block DESC, sender LIMIT $2`, b, limit)
	if err != nil {
		return nil, fmt.Errorf("store: senders read after %d: %w", block, err)
	}
	return collectAddresses(rows, "store: senders read after")
}

// SendersReadBefore returns up to limit tracked senders whose stored state
// was read before block, oldest first: the work list of a full re-read,
// whose progress is the rows themselves.
func (q Q) SendersReadBefore(ctx context.Context, block uint64, limit int) ([][20]byte, error) {
	b, err := headNumber(block)
	if err != nil {
		return nil, err
	}
	rows, err := q.db.Query(ctx, `SELECT sender FROM senders WHERE state_block < $1 ORDER BY state_block, sender LIMIT $2`, b, limit)
	if err != nil {
		return nil, fmt.Errorf("store: senders read before %d: %w", block, err)
	}
	return collectAddresses(rows, "store: senders read before")
}

// UnreadTicketSenders returns up to limit senders that have open tickets
// but no stored state (tickets stored before the sender was tracked).
func (q Q) UnreadTicketSenders(ctx context.Context, limit int) ([][20]byte, error) {
	rows, err := q.db.Query(ctx, `SELECT DISTINCT t.sender FROM tickets t
		WHERE t.status IN ('queued', 'redeeming')
		  AND NOT EXISTS (SELECT 1 FROM senders s WHERE s.sender = t.sender)
		LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: unread ticket senders: %w", err)
	}
	return collectAddresses(rows, "store: unread ticket senders")
}

// TouchSenders marks senders as wanted now (a replica streams their
// floats), so pruning keeps them tracked.
func (s *Store) TouchSenders(ctx context.Context, senders [][20]byte) error {
	if len(senders) == 0 {
		return nil
	}
	keys := make([][]byte, len(senders))
	for i := range senders {
		keys[i] = senders[i][:]
	}
	if _, err := s.pool.Exec(ctx, `UPDATE senders SET wanted_at = now() WHERE sender = ANY($1)`, keys); err != nil {
		return fmt.Errorf("store: touch %d senders: %w", len(senders), err)
	}
	return nil
}

// Retention bounds what housekeeping deletes in one call.
type Retention struct {
	// Before: events and attempts of final tickets and redemptions older
	// than this go.
	Before time.Time
	// SendersBefore: tracked senders with no open tickets not wanted since
	// this go.
	SendersBefore time.Time
	// RedeemedBeforeRound: redeemed_tickets rows of earlier rounds go.
	RedeemedBeforeRound int64
	// Limit is the most rows deleted per table per call, so a prune never
	// holds locks long enough to delay a claim.
	Limit int
}

// Pruned counts what one Prune call deleted.
type Pruned struct {
	Events, Attempts, Senders, Redeemed int64
}

// Total is the number of rows deleted.
func (p Pruned) Total() int64 { return p.Events + p.Attempts + p.Senders + p.Redeemed }

// Prune deletes one small batch per table of rows past retention: the
// ticket_events of final tickets, the tx_attempts of final redemptions
// finalized on chain, senders nobody wants, and redeemed_tickets from rounds
// whose tickets are all expired. Tickets and redemptions stay: they are the
// audit trail. Each table is its own statement, so the locks are short.
func (q Q) Prune(ctx context.Context, r Retention) (Pruned, error) {
	var p Pruned
	steps := []struct {
		n   *int64
		sql string
		arg any
	}{
		{&p.Events, `DELETE FROM ticket_events WHERE id IN (
			SELECT e.id FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
			WHERE e.at < $1 AND t.status IN ('redeemed', 'failed', 'expired')
			ORDER BY e.id LIMIT $2)`, r.Before},
		{&p.Attempts, `DELETE FROM tx_attempts WHERE id IN (
			SELECT a.id FROM tx_attempts a JOIN redemptions d ON d.id = a.redemption_id
			WHERE a.created_at < $1 AND (d.status = 'dropped' OR d.finalized_block IS NOT NULL)
			ORDER BY a.id LIMIT $2)`, r.Before},
		{&p.Senders, `DELETE FROM senders WHERE sender IN (
			SELECT s.sender FROM senders s
			WHERE s.wanted_at < $1
			  AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.sender = s.sender AND t.status IN ('queued', 'redeeming'))
			ORDER BY s.wanted_at LIMIT $2)`, r.SendersBefore},
		{&p.Redeemed, `DELETE FROM redeemed_tickets WHERE ticket_hash IN (
			SELECT ticket_hash FROM redeemed_tickets WHERE round < $1 ORDER BY round LIMIT $2)`, r.RedeemedBeforeRound},
	}
	for _, s := range steps {
		tag, err := q.db.Exec(ctx, s.sql, s.arg, r.Limit)
		if err != nil {
			return p, fmt.Errorf("store: prune: %w", err)
		}
		*s.n = tag.RowsAffected()
	}
	return p, nil
}

// protocolExtras are the protocol values added after the first schema;
// nil while never read.
func numericOrNil(n pgtype.Numeric) (*big.Int, error) {
	if !n.Valid {
		return nil, nil
	}
	return numericToBig(n)
}
