package store

import (
	"testing"

	"kjdd/xds/rim"
)

// The object cache is on the hot read path of every query: these measure a
// patient's twenty entries found warm, one by one and in one getAll, and a
// put that evicts.
func BenchmarkObjectCache(b *testing.B) {
	const n = 20
	keys := make([]cacheKey, n)
	c := newObjectCache(1000)
	for i := range keys {
		keys[i] = cacheKey{table: tableDocumentEntries, seq: int64(i), version: int64(i) * 7}
		c.put(keys[i], &rim.DocumentEntry{})
	}
	b.Run("get", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, ok := c.get(keys[i%n]); !ok {
				b.Fatal("miss")
			}
		}
	})
	b.Run("getAll", func(b *testing.B) {
		b.ReportAllocs()
		found := 0
		for b.Loop() {
			c.getAll(keys, func(_ int, obj any) {
				if obj != nil {
					found++
				}
			})
		}
		if found == 0 {
			b.Fatal("nothing found")
		}
	})
	b.Run("put evicting", func(b *testing.B) {
		b.ReportAllocs()
		small := newObjectCache(n)
		obj := &rim.DocumentEntry{}
		for i := 0; b.Loop(); i++ {
			small.put(cacheKey{table: tableDocumentEntries, seq: int64(i)}, obj)
		}
	})
}
