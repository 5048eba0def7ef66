package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// The key-list cache. A query for a patient's objects first reads their
// keys (seq, row_version; see cache.go), twenty rows for a typical patient,
// and that read was most of the store's cost per ITI-38. The keys only
// change when a transaction inserts or changes one of the patient's
// objects, and every such transaction raises the patient's row in
// registry_versions (migration 0004). So an instance remembers the keys it
// read under the version it read before them, and while the version is the
// same, one single-row read replaces the key query.
//
// Reading the version first is what makes this safe with several instances
// writing: keys read after version v are at least as new as v. If a write
// commits in between, they are newer than v, and v is never read again
// (versions only grow), so the entry is simply not used.

// maxKeyLists bounds the cache; it is cleared when full.
const maxKeyLists = 20_000

// keyListKey names one kind of query: a table, a patient and the statuses
// asked for.
type keyListKey struct {
	table, patientID, statuses string
}

type keyList struct {
	version int64
	keys    []cacheKey // shared, never modified
}

// keyListCache is safe for concurrent use. A nil *keyListCache caches
// nothing.
type keyListCache struct {
	mu    sync.Mutex
	lists map[keyListKey]keyList
}

func newKeyListCache() *keyListCache {
	return &keyListCache{lists: make(map[keyListKey]keyList)}
}

func (c *keyListCache) get(k keyListKey, version int64) ([]cacheKey, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.lists[k]
	if !ok || l.version != version {
		return nil, false
	}
	return l.keys, true
}

func (c *keyListCache) put(k keyListKey, version int64, keys []cacheKey) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lists) >= maxKeyLists {
		clear(c.lists)
	}
	c.lists[k] = keyList{version: version, keys: keys}
}

func (c *keyListCache) drop(k keyListKey) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.lists, k)
}

// registryVersion reads a patient's version (0 when none was recorded).
func registryVersion(ctx context.Context, d dialect, q querier, patientID string) (int64, error) {
	rows, err := q.QueryContext(d.pointRead(ctx), d.rebind(`SELECT version FROM registry_versions WHERE patient_id = ?`), patientID)
	if err != nil {
		return 0, fmt.Errorf("store: read registry version: %w", d.classify(err))
	}
	defer func() { _ = rows.Close() }()
	var v int64
	if rows.Next() {
		if err := rows.Scan(&v); err != nil {
			return 0, fmt.Errorf("store: read registry version: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: read registry version: %w", d.classify(err))
	}
	return v, nil
}

// raiseRegistryVersion raises a patient's version, inside the transaction
// that changes the patient's objects.
func raiseRegistryVersion(ctx context.Context, d dialect, q querier, patientID string) error {
	return raiseVersionsOf(ctx, d, q, []any{patientID})
}

// raiseVersionsOf raises the versions of distinct patients in one
// statement.
func raiseVersionsOf(ctx context.Context, d dialect, q querier, patients []any) error {
	values := strings.Repeat("(?, 1), ", len(patients)-1) + "(?, 1)"
	_, err := q.ExecContext(ctx, d.rebind(`INSERT INTO registry_versions (patient_id, version) VALUES `+values+`
		ON CONFLICT (patient_id) DO UPDATE SET version = registry_versions.version + 1`), patients...)
	if err != nil {
		return fmt.Errorf("store: raise registry version: %w", d.classify(err))
	}
	return nil
}

// patientKeys returns the keys of a patient's objects of one table: from
// lists while the patient's version is the one they were read under, else
// from the key query (byPatientQuery). The key list is the caller's to read
// only.
func patientKeys(ctx context.Context, d dialect, q querier, lists *keyListCache, table, patientID string, statuses []string) ([]cacheKey, keyListKey, error) {
	k := keyListKey{table: table, patientID: patientID, statuses: strings.Join(statuses, "\x00")}
	v, err := registryVersion(ctx, d, q, patientID)
	if err != nil {
		return nil, k, err
	}
	if keys, ok := lists.get(k, v); ok {
		return keys, k, nil
	}
	keyQuery, args := byPatientQuery(table, patientID, statuses)
	keys, err := selectKeys(ctx, d, q, table, keyQuery, args...)
	if err != nil {
		return nil, k, err
	}
	lists.put(k, v, keys)
	return keys, k, nil
}
