package helseid

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ReplayCache remembers keys (DPoP proof ids) for a while. Seen records key
// and reports whether it was already recorded and not yet expired; the
// check and the record are one atomic step, so that two instances sharing
// the cache cannot both accept the same proof. An error means the answer is
// unknown, and the caller refuses the request.
type ReplayCache interface {
	Seen(ctx context.Context, key string, ttl time.Duration) (alreadySeen bool, err error)
}

// ErrReplayCacheFull is returned by MemoryReplayCache when it holds its
// maximum number of unexpired keys. Evicting one would let its proof be
// replayed, so the cache refuses instead.
var ErrReplayCacheFull = errors.New("helseid: replay cache is full")

// MemoryReplayCache is an in-process ReplayCache. It protects one instance
// only: with more than one instance, use the Redis cache.
type MemoryReplayCache struct {
	max int
	now func() time.Time

	mu        sync.Mutex
	entries   map[string]time.Time // key -> expiry
	nextSweep time.Time
}

// NewMemoryReplayCache returns a cache holding at most maxEntries unexpired
// keys (default 100 000 when maxEntries <= 0).
func NewMemoryReplayCache(maxEntries int) *MemoryReplayCache {
	if maxEntries <= 0 {
		maxEntries = 100_000
	}
	return &MemoryReplayCache{max: maxEntries, now: time.Now, entries: make(map[string]time.Time)}
}

// Seen implements ReplayCache.
func (c *MemoryReplayCache) Seen(_ context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, errors.New("helseid: replay ttl must be positive")
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.entries[key]; ok && now.Before(exp) {
		return true, nil
	}
	if len(c.entries) >= c.max || now.After(c.nextSweep) {
		c.sweep(now)
	}
	if len(c.entries) >= c.max {
		return false, ErrReplayCacheFull
	}
	c.entries[key] = now.Add(ttl)
	return false, nil
}

// sweep drops expired keys; it runs at most once a second unless the cache
// is full, so that Seen stays cheap.
func (c *MemoryReplayCache) sweep(now time.Time) {
	for k, exp := range c.entries {
		if !now.Before(exp) {
			delete(c.entries, k)
		}
	}
	c.nextSweep = now.Add(time.Second)
}

var _ ReplayCache = (*MemoryReplayCache)(nil)
