package rim

import (
	"bytes"
	"slices"
	"sync"
	"sync/atomic"

	"kjdd/internal/checked"
	"kjdd/internal/lru"
	"kjdd/xds/soap"
)

// The fragment cache. The LeafClass XML of a registry object is a pure
// function of the object and of the responding gateway's home: the same
// object renders to the same bytes in every answer (derived ids included).
// The same patient's documents are listed again and again, so the writer
// keeps recently rendered objects' XML and copies it instead of rendering
// again.
//
// A fragment is found by the object's Revision: the store never writes two
// different objects under one (model.go), so nothing needs comparing and
// nothing needs copying. An object without a Revision (new, or made in
// memory like an obfuscated copy) is rendered every time and never cached.
// In checked builds (poison.go: tests, race, kjdd_poison) every reuse is
// rendered afresh as well and must give the same bytes, so that an object
// modified under its Revision fails loudly instead of being answered from
// a stale fragment.

// DefaultFragmentCacheBytes bounds the fragment cache unless the writer is
// configured otherwise: about six thousand typical DocumentEntries, a few
// hundred patients' document lists.
const DefaultFragmentCacheBytes = 32 << 20

// Writer writes kjdd's answers: query responses, registry responses and
// retrieve responses, as bytes (rim_write.go). It holds the fragment cache;
// the process builds one (cmd/kjdd, sized from configuration). A Writer is
// safe for concurrent use; a nil *Writer writes without a cache.
type Writer struct {
	fragments *fragmentCache
}

// WriterConfig configures NewWriter.
type WriterConfig struct {
	// FragmentCacheBytes bounds the fragment cache; 0 or less keeps none.
	FragmentCacheBytes int
}

// NewWriter returns a writer configured by cfg.
func NewWriter(cfg WriterConfig) *Writer {
	return &Writer{fragments: newFragmentCache(cfg.FragmentCacheBytes)}
}

// FragmentCache reports the use of the fragment cache.
func (w *Writer) FragmentCache() soap.CacheStats {
	if w == nil {
		return soap.CacheStats{}
	}
	return w.fragments.stats()
}

// fragmentKind tells the four cached object types apart.
type fragmentKind uint8

const (
	fragmentDocumentEntry fragmentKind = iota + 1
	fragmentSubmissionSet
	fragmentFolder
	fragmentAssociation
)

// fragmentKey is what a fragment is found by: one stored version of one
// object, rendered for one home.
type fragmentKey struct {
	kind     fragmentKind
	revision Revision
	home     string // rimWriter.home
}

// fragmentCache is a byte-bounded LRU of fragments (internal/lru), safe
// for concurrent use. A nil *fragmentCache caches nothing.
type fragmentCache struct {
	mu           sync.Mutex
	maxBytes     int
	lru          *lru.Cache[fragmentKey, []byte]
	hits, misses atomic.Uint64
}

// fragmentSize is what a fragment counts against the bound: its XML and a
// rough allowance for the bookkeeping.
func fragmentSize(xml []byte) int { return len(xml) + 128 }

// newFragmentCache returns a cache of at most maxBytes, or nil when
// maxBytes is not positive.
func newFragmentCache(maxBytes int) *fragmentCache {
	if maxBytes <= 0 {
		return nil
	}
	return &fragmentCache{maxBytes: maxBytes, lru: lru.New[fragmentKey](lru.Options[[]byte]{Max: maxBytes, Cost: fragmentSize})}
}

// get returns the fragment cached under k, shared: it must not be modified.
func (c *fragmentCache) get(k fragmentKey) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	xml, ok := c.lru.Get(k)
	c.mu.Unlock()
	if ok {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	return xml, ok
}

// put caches a copy of xml under k.
func (c *fragmentCache) put(k fragmentKey, xml []byte) {
	if c == nil || fragmentSize(xml) > c.maxBytes/64 {
		// An outsized object would evict many ordinary ones.
		return
	}
	xml = slices.Clone(xml)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Add(k, xml)
}

func (c *fragmentCache) stats() soap.CacheStats {
	if c == nil {
		return soap.CacheStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return soap.CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Entries: c.lru.Len(), Bytes: c.lru.Cost()}
}

// flush ends a start tag still open, so that what follows can be copied
// in as it is.
func (w *rimWriter) flush() {
	if w.Open {
		w.B = append(w.B, '>')
		w.Open = false
	}
}

// writeCached writes obj from the fragment cache when its revision was
// rendered before, or renders it with render (and caches the result when
// it has a revision).
func writeCached[T any](w *rimWriter, kind fragmentKind, revision Revision, obj T, render func(T)) {
	w.flush()
	if revision.IsZero() || w.cache == nil {
		render(obj)
		return
	}
	k := fragmentKey{kind: kind, revision: revision, home: w.home}
	if xml, ok := w.cache.get(k); ok {
		if checked.Build() {
			start := len(w.B)
			render(obj)
			if !bytes.Equal(w.B[start:], xml) {
				panic("xds: a registry object changed under its Revision: the fragment cache would answer stale XML")
			}
			w.B = w.B[:start]
		}
		w.B = append(w.B, xml...)
		return
	}
	start := len(w.B)
	render(obj)
	w.cache.put(k, w.B[start:])
}
