package helseid

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"slices"
	"strings"
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
// what determines their exact serialised bytes (assertionKey) and the
// trusted certificates they verified under. XUA assertions are bearer tokens reused for the requests of a
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

// digestBuffers holds the encodings assertionKey hashes, a few kilobytes
// each, between requests.
var digestBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// assertionKey identifies an assertion as it stands in the parsed envelope,
// under a trust set: its subtree, the namespace bindings it inherits from
// its ancestors, and the trusted certificates. serialise is a function of
// exactly the first two, so equal keys mean equal serialised bytes, and a
// verification of those bytes can be reused without serialising the
// assertion again (which cost more than the rest of a reused check). The
// encoding is length-prefixed throughout, so that distinct trees cannot
// run together into the same bytes.
func assertionKey(a *etree.Element, certs []*x509.Certificate) [sha256.Size]byte {
	bp := digestBuffers.Get().(*[]byte)
	b := append((*bp)[:0], 'T') // a tree, not deferredKey's bytes
	b = appendInherited(b, a)
	b = appendNode(b, a)
	b = appendTrust(b, certs)
	k := sha256.Sum256(b)
	if cap(b) <= 256<<10 {
		*bp = b
		digestBuffers.Put(bp)
	}
	return k
}

// deferredKey identifies a deferred assertion (AuthenticateDeferred) under
// a trust set: its Identity determines its tree, and so the bytes serialise
// makes of it.
func deferredKey(identity [sha256.Size]byte, certs []*x509.Certificate) [sha256.Size]byte {
	b := make([]byte, 0, 1+sha256.Size+len(certs)*(1+sha256.Size))
	b = append(b, 'R') // not assertionKey's bytes
	b = append(b, identity[:]...)
	return sha256.Sum256(appendTrust(b, certs))
}

// appendTrust encodes a trust set into a key: the digest of each
// certificate, in order.
func appendTrust(b []byte, certs []*x509.Certificate) []byte {
	for _, c := range certs {
		sum := sha256.Sum256(c.Raw)
		b = append(b, 'C')
		b = append(b, sum[:]...)
	}
	return b
}

// appendInherited encodes the namespace declarations in scope at a from its
// ancestors (the nearest declaration of each prefix), sorted by prefix.
func appendInherited(b []byte, a *etree.Element) []byte {
	var decls [][2]string
	seen := map[string]bool{}
	for e := a.Parent(); e != nil; e = e.Parent() {
		for _, at := range e.Attr {
			prefix, ok := "", false
			switch {
			case at.Space == "xmlns":
				prefix, ok = at.Key, true
			case at.Space == "" && at.Key == "xmlns":
				ok = true
			}
			if ok && !seen[prefix] {
				seen[prefix] = true
				decls = append(decls, [2]string{prefix, at.Value})
			}
		}
	}
	slices.SortFunc(decls, func(x, y [2]string) int { return strings.Compare(x[0], y[0]) })
	for _, d := range decls {
		b = appendField(append(b, 'N'), d[0])
		b = appendField(b, d[1])
	}
	return b
}

// appendNode encodes one token of the tree and, for an element, its
// attributes and children.
func appendNode(b []byte, t etree.Token) []byte {
	switch t := t.(type) {
	case *etree.Element:
		b = appendField(append(b, 'E'), t.Space)
		b = appendField(b, t.Tag)
		b = binary.AppendUvarint(b, uint64(len(t.Attr)))
		for _, at := range t.Attr {
			b = appendField(b, at.Space)
			b = appendField(b, at.Key)
			b = appendField(b, at.Value)
		}
		b = binary.AppendUvarint(b, uint64(len(t.Child)))
		for _, c := range t.Child {
			b = appendNode(b, c)
		}
	case *etree.CharData:
		kind := byte('T')
		if t.IsCData() {
			kind = 'D'
		}
		b = appendField(append(b, kind), t.Data)
	case *etree.Comment:
		b = appendField(append(b, 'c'), t.Data)
	case *etree.ProcInst:
		b = appendField(append(b, 'P'), t.Target)
		b = appendField(b, t.Inst)
	case *etree.Directive:
		b = appendField(append(b, 'd'), t.Data)
	default:
		// No other token exists; should one appear, it must not be
		// confused with nothing.
		b = append(b, '?')
	}
	return b
}

func appendField(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
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
