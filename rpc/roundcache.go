package rpc

import (
	"context"
	"math/big"
	"sync"
	"time"

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

// headMaxAge is how old a cached head number may be when it keys the round
// cache. It is shorter than any chain's block time that matters here, so
// the cache still follows every block, but concurrent tickets share one
// read of the head instead of asking the node once each.
const headMaxAge = 100 * time.Millisecond

// headCache holds the latest block number read from the node. Its lock is a
// channel so a caller waiting for another's read can give up with its
// context.
type headCache struct {
	lock  chan struct{}
	block uint64
	at    time.Time
}

func newHeadCache() *headCache { return &headCache{lock: make(chan struct{}, 1)} }

// latest returns a head number at most headMaxAge old, reading it with read
// when the cached one is older. Concurrent callers wait for one read.
func (h *headCache) latest(ctx context.Context, read func(context.Context) (uint64, error)) (uint64, error) {
	select {
	case h.lock <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-h.lock }()
	if !h.at.IsZero() && time.Since(h.at) < headMaxAge {
		return h.block, nil
	}
	block, err := read(ctx)
	if err != nil {
		return 0, err
	}
	h.block, h.at = block, time.Now()
	return block, nil
}
