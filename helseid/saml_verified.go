package helseid

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"hash/maphash"
	"slices"
	"sync"
	"time"
)

// verifiedCacheSize bounds the cache of verified assertions. An entry
// keeps a copy of its assertion's bytes, a few kilobytes, so the cache
// holds tens of megabytes at most; the national gateway holds one assertion
// per user session.
const verifiedCacheSize = 10_000

// verifiedReuse bounds how long a verification is reused even when the
// assertion and certificates live longer.
const verifiedReuse = 15 * time.Minute

// verifiedCache remembers assertions whose signature verified, under the
// reuseKey of the bytes that determine their serialisation and the trusted
// certificates they verified under. XUA assertions are bearer tokens reused
// for the requests of a session; verifying the same bytes with the same
// certificates again can only give the same answer, so the expensive part
// (round-trip guard, canonicalisation, RSA) is done once per assertion. A
// changed byte, a changed trust set, the assertion's end or a trusted
// certificate's expiry all mean a fresh verification.
//
// Entries are indexed by a seeded hash of their key but used only after
// the key compared equal byte for byte: a hash collision, chance or
// crafted, costs a verification, never lends one. (A SHA-256 digest as
// the key cost more than the rest of a reused check.)
type verifiedCache struct {
	mu      sync.Mutex
	max     int
	seed    maphash.Seed
	entries map[uint64]verifiedAssertion
}

// verifiedAssertion is the outcome of one successful verification: what
// a reuse still checks (the assertion's lifetime) and the caller it names.
type verifiedAssertion struct {
	key       reuseKey // the cache's own copy
	lifetime  lifetime
	principal *Principal
	until     time.Time
}

func newVerifiedCache(max int) *verifiedCache {
	return &verifiedCache{max: max, seed: maphash.MakeSeed(), entries: map[uint64]verifiedAssertion{}}
}

// reuseKey is what a verification is reused by: head holds the namespace
// bindings the assertion inherits and the trust set's digest, body the
// assertion's own bytes. Each is length-prefixed or fixed in size where it
// could run into the next, so equal keys mean equal assertions under the
// same trust set.
type reuseKey struct{ head, body []byte }

func (k reuseKey) equal(o reuseKey) bool {
	return bytes.Equal(k.head, o.head) && bytes.Equal(k.body, o.body)
}

func (k reuseKey) hash(seed maphash.Seed) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.Write(k.head)
	h.Write(k.body)
	return h.Sum64()
}

// assertionKey identifies an assertion under a trust set: its bytes and
// the bindings it inherits determine its tree, and so the bytes serialise
// makes of it. It is the one way a verification is keyed. body aliases
// a.Raw.
func assertionKey(a Assertion, trust [sha256.Size]byte) reuseKey {
	head := make([]byte, 0, 256)
	head = append(head, trust[:]...)
	head = binary.AppendUvarint(head, uint64(len(a.Namespaces)))
	for _, ns := range a.Namespaces {
		head = appendField(head, ns[0])
		head = appendField(head, ns[1])
	}
	return reuseKey{head: head, body: a.Raw}
}

// trustDigest is a digest of a trust set: of each certificate's digest, in
// order. It is computed again only when the set changes (a key source
// hands out the same certificates until it refreshes).
func (v *SAMLValidator) trustDigest(certs []*x509.Certificate) [sha256.Size]byte {
	v.trustMu.Lock()
	defer v.trustMu.Unlock()
	if v.trustCerts != nil && slices.Equal(v.trustCerts, certs) {
		return v.trustSum
	}
	h := sha256.New()
	for _, c := range certs {
		sum := sha256.Sum256(c.Raw)
		h.Write([]byte{'C'})
		h.Write(sum[:])
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	v.trustCerts, v.trustSum = slices.Clone(certs), d
	return d
}

func appendField(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (c *verifiedCache) get(k reuseKey, now time.Time) (verifiedAssertion, bool) {
	h := k.hash(c.seed)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[h]
	if !ok || !e.key.equal(k) {
		return verifiedAssertion{}, false
	}
	if !now.Before(e.until) {
		delete(c.entries, h)
		return verifiedAssertion{}, false
	}
	return e, true
}

// put caches e under a copy of k, replacing whatever had the same hash.
func (c *verifiedCache) put(k reuseKey, e verifiedAssertion) {
	h := k.hash(c.seed)
	e.key = reuseKey{head: bytes.Clone(k.head), body: bytes.Clone(k.body)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		now := time.Now()
		for key, old := range c.entries {
			if !now.Before(old.until) {
				delete(c.entries, key)
			}
		}
		if len(c.entries) >= c.max {
			// Still full of live assertions: start over rather than let
			// a flood of distinct assertions grow memory.
			clear(c.entries)
		}
	}
	c.entries[h] = e
}

// reuseUntil is how long a verification may be reused: not past
// the assertion's own end (with the allowed skew), not past the expiry of
// any trusted certificate (the signature was checked against certificates
// valid now), and not longer than verifiedReuse.
func (v *SAMLValidator) reuseUntil(l lifetime, certs []*x509.Certificate) time.Time {
	now := v.cfg.Now()
	until := earliest(now.Add(verifiedReuse), l.notOnOrAfter.Add(v.cfg.Skew))
	for _, c := range certs {
		until = earliest(until, c.NotAfter)
	}
	return until
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// clone returns a copy of p that shares no slice or pointer with it, so a
// cached Principal can be handed to many requests.
func (p *Principal) clone() *Principal {
	c := *p
	c.Scopes = slices.Clone(p.Scopes)
	if p.DecisionRef.UserSelected != nil {
		b := *p.DecisionRef.UserSelected
		c.DecisionRef.UserSelected = &b
	}
	return &c
}
