package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"

	"kjdd/internal/checked"
	"kjdd/internal/lru"
)

// The decoded-object cache. Decoding a stored object's JSON is most of what
// a query costs in the store, and registry objects are immutable once
// registered except for their status (SetStatus) and a Folder's
// lastUpdateTime. Every write to an object row gives it a fresh row_version
// (migrations/0003_row_version.sql), so a row's (table, seq, row_version)
// names exactly one JSON value forever: rows are never deleted, seq is never
// reused, and a version is a random 63-bit number drawn anew by each insert
// and update. A query still runs its SELECT and reads the key columns of
// each row; only the decode is skipped when the key is cached. A cache entry
// therefore cannot be stale, not even when another instance updated the row:
// the update changed the key the next SELECT returns.
//
// Cached objects are shared between requests and must never be modified,
// and the store hands them out as they are: a copy per request was a fifth
// of the bytes an ITI-38 allocated. So every object a Store's reads return
// is read-only, with everything it points to (query.Source says so to its
// callers). Query execution, rendering and the sperring decision only read
// them; consent.Obfuscate builds a new object instead of masking in place;
// TestSharedObjectsStayUnchanged (adapter/registry) runs every stored query,
// the sperring gate and the renderer over cached objects and holds them to
// fresh decodes. In checked builds (internal/checked: every test, and the
// binary the end-to-end tests run) the cache also keeps each object's JSON
// and compares every hand-out with it, so that any reader that modifies a
// shared object panics at the next hand-out
// (TestModifiedSharedObjectFailsLoudly).
// Transactions (Tx) read without the cache: registration gets objects of
// its own.

// DefaultObjectCacheSize is the number of decoded registry objects a Store
// keeps unless configured otherwise (WithObjectCache): 100 to 150 MB of
// DocumentEntries (a decoded Norwegian entry takes 2 to 3 KB), enough that
// the documents of the patients being looked at now are decoded once.
const DefaultObjectCacheSize = 50_000

// Option configures Open.
type Option func(*options)

type options struct {
	cacheSize int
}

// WithObjectCache sets how many decoded registry objects the Store keeps
// in memory (least recently used ones go first); 0 or less disables the
// cache.
func WithObjectCache(objects int) Option {
	return func(o *options) { o.cacheSize = objects }
}

// cacheKey names one immutable version of one object row.
type cacheKey struct {
	table   string // one of the object table constants
	seq     int64
	version int64
}

// objectCache is a bounded LRU of decoded objects (internal/lru), safe for
// concurrent use: one mutex, so that getAll looks up a whole answer under
// one lock. A nil *objectCache caches nothing.
type objectCache struct {
	mu  sync.Mutex
	lru *lru.Cache[cacheKey, any] // values: *rim.DocumentEntry, *rim.SubmissionSet, …; never modified
	// snapshots hold, in checked builds only, each cached object's JSON as
	// it was cached: every hand-out is compared with it, so that a reader
	// that modifies a shared object fails loudly (internal/checked).
	snapshots map[cacheKey][]byte
}

// newObjectCache returns a cache of at most max objects, or nil when max is
// not positive.
func newObjectCache(max int) *objectCache {
	if max <= 0 {
		return nil
	}
	c := &objectCache{lru: lru.New[cacheKey](lru.Options[any]{Max: max})}
	if checked.Build() {
		c.snapshots = make(map[cacheKey][]byte)
	}
	return c
}

// verify panics, in checked builds, when a cached object no longer is what
// it was when cached. c.mu must be held.
func (c *objectCache) verify(k cacheKey, obj any) {
	if c.snapshots == nil || obj == nil {
		return
	}
	now, err := json.Marshal(obj)
	if err != nil || !bytes.Equal(now, c.snapshots[k]) {
		panic(fmt.Sprintf("store: a shared cached object (%s row %d) was modified by a reader", k.table, k.seq))
	}
}

// get returns the object cached under k and marks it recently used.
func (c *objectCache) get(k cacheKey) (any, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	obj, ok := c.lru.Get(k)
	c.verify(k, obj)
	return obj, ok
}

// getAll looks every key up under one lock, marking those found recently
// used, and calls found with each key's index and its object (nil when not
// cached). found must not call back into c.
func (c *objectCache) getAll(keys []cacheKey, found func(i int, obj any)) {
	if c == nil {
		for i := range keys {
			found(i, nil)
		}
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, k := range keys {
		obj, _ := c.lru.Get(k)
		c.verify(k, obj)
		found(i, obj)
	}
}

// put caches obj under k, evicting the least recently used objects beyond
// the bound. obj must not be modified afterwards.
func (c *objectCache) put(k cacheKey, obj any) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.lru.Get(k); ok {
		// A concurrent reader decoded the same row version: same value.
		return
	}
	if c.snapshots != nil {
		if b, err := json.Marshal(obj); err == nil {
			c.snapshots[k] = b
		}
	}
	c.lru.Add(k, obj)
}

// len is the number of cached objects.
func (c *objectCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// newRowVersion draws the row_version of a row being written. Random rather
// than counted so that a version never repeats for a seq, even if a
// database were restored under a running instance.
func newRowVersion() int64 {
	return rand.Int64()
}

// maxPreparedQueries bounds the statements a Store keeps prepared. Object
// queries differ only in table, column and the number of placeholders, so
// a registry's working set is a few dozen; anything beyond the bound runs
// unprepared.
const maxPreparedQueries = 256

// preparedReads is the read pool with its object queries prepared once
// instead of parsed and planned on every call (a sizeable part of a small
// query's cost in SQLite). database/sql prepares a statement on each
// connection it is used on and re-prepares transparently.
type preparedReads struct {
	*sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newPreparedReads(db *sql.DB) *preparedReads {
	return &preparedReads{DB: db, stmts: make(map[string]*sql.Stmt)}
}

// QueryContext runs query as a prepared statement.
func (p *preparedReads) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	stmt, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if stmt == nil {
		return p.DB.QueryContext(ctx, query, args...)
	}
	return stmt.QueryContext(ctx, args...)
}

// stmt returns the prepared statement of query, preparing it on first use;
// nil when the bound is reached.
func (p *preparedReads) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	p.mu.Lock()
	s, ok := p.stmts[query]
	full := len(p.stmts) >= maxPreparedQueries
	p.mu.Unlock()
	if ok || full {
		return s, nil
	}
	// Prepared without the lock: preparing waits for a connection.
	s, err := p.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if mine, ok := p.stmts[query]; ok {
		// A concurrent first use won the race.
		_ = s.Close()
		return mine, nil
	}
	if len(p.stmts) >= maxPreparedQueries {
		_ = s.Close()
		return nil, nil
	}
	p.stmts[query] = s
	return s, nil
}

// Close closes the prepared statements (not the pool).
func (p *preparedReads) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for q, s := range p.stmts {
		errs = append(errs, s.Close())
		delete(p.stmts, q)
	}
	return errors.Join(errs...)
}
