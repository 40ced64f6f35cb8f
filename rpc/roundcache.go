package rpc

import (
	"context"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common"
)

// roundCache keeps the chain reads intake needs that change at most once
// per block (the current round, the validity period) keyed by the block
// they were read at, and the block hash of each round, which is fixed once
// the round is initialized. With it, a ticket costs one header read and one
// contract call (usedTickets) instead of four contract calls.
//
// It only ever helps to accept: a ticket the cached values would refuse is
// judged again on fresh reads, so a stale entry can never turn a valid
// ticket away (see Server.checkOnChain).
type roundCache struct {
	mu       sync.Mutex
	block    uint64
	round    *big.Int
	validity *big.Int
	hashes   map[int64]common.Hash
}

// maxCachedRounds bounds the block hashes kept: only the last few rounds
// can be within a ticket's validity period.
const maxCachedRounds = 64

// rounds returns the round and validity period read at block, if known.
func (c *roundCache) rounds(block uint64) (round, validity *big.Int, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.round == nil || c.block != block {
		return nil, nil, false
	}
	return c.round, c.validity, true
}

func (c *roundCache) putRounds(block uint64, round, validity *big.Int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.round != nil && block < c.block {
		return // an older read finishing late must not replace a newer one
	}
	c.block, c.round, c.validity = block, round, validity
}

// hash returns a round's block hash, if known.
func (c *roundCache) hash(round int64) (common.Hash, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.hashes[round]
	return h, ok
}

// putHash remembers a round's block hash. A zero hash (round not yet
// initialized) is not remembered: it will change.
func (c *roundCache) putHash(round int64, h common.Hash) {
	if h == (common.Hash{}) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hashes == nil || len(c.hashes) >= maxCachedRounds {
		c.hashes = map[int64]common.Hash{}
	}
	c.hashes[round] = h
}

// forget drops everything, before a refusal is confirmed on fresh reads.
func (c *roundCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.round, c.validity, c.hashes = nil, nil, nil
}

// headCache lets concurrent tickets share one read of the chain head: a
// caller that arrives while a read is in flight takes its answer instead of
// asking the node again. A read is never reused after it completes, so a
// ticket checked after a block is mined always sees that block, while
// under load the node answers about one head read per round trip instead
// of one per ticket.
type headCache struct {
	mu       sync.Mutex
	inFlight *headRead
}

// headRead is one read of the head that callers wait on.
type headRead struct {
	done   chan struct{}
	block  uint64
	err    error
	joined int // callers that took this read instead of their own; under headCache.mu
}

func newHeadCache() *headCache { return &headCache{} }

// latest returns the head number from a read started no earlier than the
// one in flight when the caller arrived, starting a read with read if none
// is in flight.
func (h *headCache) latest(ctx context.Context, read func(context.Context) (uint64, error)) (uint64, error) {
	h.mu.Lock()
	r := h.inFlight
	if r == nil {
		r = &headRead{done: make(chan struct{})}
		h.inFlight = r
		h.mu.Unlock()
		// Others may be waiting on this read: the caller going away must
		// not fail it for them (read has its own timeouts).
		r.block, r.err = read(context.WithoutCancel(ctx))
		h.mu.Lock()
		h.inFlight = nil
		h.mu.Unlock()
		close(r.done)
	} else {
		r.joined++
		h.mu.Unlock()
	}
	select {
	case <-r.done:
		return r.block, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
