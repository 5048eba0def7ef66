package consent

import (
	"context"
	"time"
)

// Defaults of the in-process caches.
const (
	// DefaultMemorySize is the default number of patients a MemoryCache
	// holds.
	DefaultMemorySize = 10000
	// DefaultMemoryTTL is how long a MemoryCache keeps a patient's inputs.
	// Changes made through this process reach it at once (Resolver.Changed);
	// the TTL only bounds how long a change made behind kjdd's back (directly
	// in the database) goes unseen.
	DefaultMemoryTTL = 5 * time.Minute
)

// MemoryCache is the in-process Cache for a single instance, used when
// KJDD_REDIS_URL is not set. It cannot tell other instances about changes:
// with more than one instance, use RedisCache.
type MemoryCache struct {
	lru *lru
}

// NewMemoryCache returns a MemoryCache holding up to size patients for ttl
// each; zero values take DefaultMemorySize and DefaultMemoryTTL.
func NewMemoryCache(size int, ttl time.Duration) *MemoryCache {
	if size <= 0 {
		size = DefaultMemorySize
	}
	if ttl <= 0 {
		ttl = DefaultMemoryTTL
	}
	return &MemoryCache{lru: newLRU(size, ttl, nil)}
}

// Get returns a copy of the patient's cached inputs.
func (c *MemoryCache) Get(_ context.Context, patient string) (Inputs, bool, error) {
	in, ok := c.lru.get(patient)
	if !ok {
		return Inputs{}, false, nil
	}
	return cloneInputs(in), true, nil
}

// Put stores a copy of in unless a newer version is cached.
func (c *MemoryCache) Put(_ context.Context, in Inputs) error {
	if !validPatient(in.Patient) {
		return invalid("patient must be an 11-digit fødselsnummer or D-number")
	}
	c.lru.put(in.Patient, cloneInputs(in))
	return nil
}

// Invalidate forgets the patient's inputs.
func (c *MemoryCache) Invalidate(_ context.Context, patient string) error {
	c.lru.remove(patient)
	return nil
}

// Len returns the number of patients cached, for metrics.
func (c *MemoryCache) Len() int { return c.lru.len() }

// Interface guards.
var _ Cache = (*MemoryCache)(nil)
