package helseid

import (
	"crypto/sha256"
	"crypto/x509"
	"slices"
	"sync"
	"time"

	"github.com/beevik/etree"
)

// verifiedCacheSize bounds the cache of verified assertions. An assertion
// is a few kilobytes; the national gateway holds one per user session.
const verifiedCacheSize = 10_000

// verifiedReuse bounds how long a verification is reused even when the
// assertion and certificates live longer.
const verifiedReuse = 15 * time.Minute

// verifiedCache remembers assertions whose signature verified, keyed by
// their exact serialised bytes and the trusted certificates they verified
// under. XUA assertions are bearer tokens reused for the requests of a
// session; verifying the same bytes with the same certificates again can
// only give the same answer, so the expensive part (round-trip guard,
// canonicalisation, RSA) is done once per assertion. A changed byte, a
// changed trust set, the assertion's end or a trusted certificate's expiry
// all mean a fresh verification.
type verifiedCache struct {
	mu      sync.Mutex
	max     int
	entries map[[sha256.Size]byte]verifiedAssertion
}

// verifiedAssertion is the outcome of one successful verification. signed
// is only read after it is cached.
type verifiedAssertion struct {
	signed    *etree.Element
	principal *Principal
	until     time.Time
}

func newVerifiedCache(max int) *verifiedCache {
	return &verifiedCache{max: max, entries: map[[sha256.Size]byte]verifiedAssertion{}}
}

// verifiedKey identifies an assertion's bytes under a trust set.
func verifiedKey(raw []byte, certs []*x509.Certificate) [sha256.Size]byte {
	h := sha256.New()
	h.Write(raw)
	for _, c := range certs {
		sum := sha256.Sum256(c.Raw)
		h.Write(sum[:])
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

func (c *verifiedCache) get(k [sha256.Size]byte, now time.Time) (verifiedAssertion, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return e, false
	}
	if !now.Before(e.until) {
		delete(c.entries, k)
		return e, false
	}
	return e, true
}

func (c *verifiedCache) put(k [sha256.Size]byte, e verifiedAssertion) {
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
	c.entries[k] = e
}

// reuseUntil is how long a verification of signed may be reused: not past
// the assertion's own end (with the allowed skew), not past the expiry of
// any trusted certificate (the signature was checked against certificates
// valid now), and not longer than verifiedReuse.
func (v *SAMLValidator) reuseUntil(signed *etree.Element, certs []*x509.Certificate) time.Time {
	now := v.cfg.Now()
	until := now.Add(verifiedReuse)
	for _, c := range samlChildren(signed, "Conditions") {
		if na, err := samlTime(c.SelectAttrValue("NotOnOrAfter", "")); err == nil {
			until = earliest(until, na.Add(v.cfg.Skew))
		}
	}
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
