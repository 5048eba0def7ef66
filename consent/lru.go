package consent

import (
	"sync"
	"time"

	lrucache "kjdd/internal/lru"
)

// lru is a size-bounded, time-bounded map of Inputs, least recently used
// out first (internal/lru under one mutex). It keeps a generation counter
// that every invalidation bumps, so that a reader who fetched inputs before
// an invalidation cannot put them back after it (see putIfGen), and it
// never lets an older version replace a live newer one.
type lru struct {
	mu    sync.Mutex
	size  int
	cache *lrucache.Cache[string, Inputs]
	gen   uint64
}

func newLRU(size int, ttl time.Duration, now func() time.Time) *lru {
	return &lru{size: size, cache: lrucache.New[string](lrucache.Options[Inputs]{Max: size, TTL: ttl, Now: now})}
}

// get returns the live entry for key.
func (c *lru) get(key string) (Inputs, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cache.Get(key)
}

// generation returns the current generation, to be passed to putIfGen.
func (c *lru) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put stores in under key unless a live entry holds a newer version.
func (c *lru) put(key string, in Inputs) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(key, in)
}

// putIfGen stores in under key only if nothing was invalidated since gen
// was read; it reports whether it stored.
func (c *lru) putIfGen(key string, in Inputs, gen uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return false
	}
	return c.putLocked(key, in)
}

func (c *lru) putLocked(key string, in Inputs) bool {
	if c.size <= 0 {
		return false
	}
	// Peek: a refused put does not count as a use.
	if old, ok := c.cache.Peek(key); ok && old.Version > in.Version {
		return false
	}
	c.cache.Add(key, in)
	return true
}

// remove drops key and bumps the generation.
func (c *lru) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.cache.Remove(key)
}

// purge drops everything and bumps the generation.
func (c *lru) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.cache.Clear()
}

func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cache.Len()
}
