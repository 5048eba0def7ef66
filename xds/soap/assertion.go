package soap

import (
	"bytes"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/beevik/etree"
)

// The XUA assertion in wsse:Security is two thirds of an ITI-38 request's
// bytes, and its tree is needed only the first time an assertion is seen:
// after that kjdd reuses the verification of its exact bytes (helseid). So
// the guard checks the assertion's content as it checks everything else,
// but builds only the saml:Assertion element itself, without children, and
// keeps the assertion's bytes and the namespace bindings it inherits:
// together they determine its tree exactly, and helseid builds that tree
// from them when it has to verify.

// AssertionSource is what determines a saml:Assertion's tree: its bytes as
// received (after the UTF-8 repair of prepareXML), from "<" to the end of
// its end tag, and the namespace bindings in scope at its start tag
// (prefix, URI; the default namespace under ""), sorted by prefix. It is a
// value: Raw is a copy of the request's bytes that nothing modifies (the
// reader's memo may share it with other messages), so it may be kept after
// the message is closed. helseid.Assertion is the same value on the other
// side of the adapter, where its tree is built when it must be verified.
type AssertionSource struct {
	Raw        []byte
	Namespaces [][2]string
}

// maxDeferredAssertions is how many assertions of one message the guard
// keeps as bytes; any further one is built as a tree (a message with more
// than one is refused anyway).
const maxDeferredAssertions = 4

// SecurityHeader is what a message offers as an XUA credential, as the
// guard saw it in its one pass over the whole message: signature wrapping
// attacks hide a second assertion anywhere, so the count covers every
// element, inside the assertion too. It is a value of its own, valid after
// Close.
type SecurityHeader struct {
	// Present reports a wsse:Security header block.
	Present bool
	// Assertions counts the elements named Assertion or
	// EncryptedAssertion, in any namespace, anywhere in the message.
	Assertions int
	// Space and Local name the first of them in document order, and
	// InSecurity tells whether it is a direct child of wsse:Security.
	Space, Local string
	InSecurity   bool
	// Assertion is the source of that first one when it is a SAML 2.0
	// saml:Assertion (Raw is nil otherwise).
	Assertion AssertionSource
}

// SecurityHeader returns what m offers as an XUA credential; after Close,
// the zero value.
func (m *Message) SecurityHeader() SecurityHeader { return m.xua }

// AssertionVerified tells the reader that the message's XUA assertion was
// verified (its signature, issuer, audience and lifetime), so that the
// guard may step over the same bytes when the session's next request
// brings them. Until then the assertion lives no longer than its message:
// the memo holds nothing an unauthenticated caller sent.
func (m *Message) AssertionVerified() {
	if m.remember != nil {
		m.memo.add(*m.remember)
		m.remember = nil
	}
}

// securityHeader assembles the credential of a message from the guard's
// facts; security is whether the message has a wsse:Security header.
func securityHeader(scan *xmlScan, security bool) SecurityHeader {
	x := scan.xua
	h := SecurityHeader{Present: security, Assertions: x.named, Space: x.space, Local: x.local, InSecurity: x.inSecurity}
	if x.first >= 0 && x.first < len(scan.assertions) {
		h.Assertion = scan.assertions[x.first].src
	}
	return h
}

// assertionSource returns the source of a saml:Assertion element of m whose
// children the guard did not build; ok is false for any other element,
// whose tree is complete.
func (m *Message) assertionSource(el *etree.Element) (AssertionSource, bool) {
	for _, a := range m.assertions {
		if a.el == el && el != nil {
			return a.src, true
		}
	}
	return AssertionSource{}, false
}

// isDeferredAssertion reports whether an element the guard is about to
// build is a saml:Assertion to keep as bytes.
func isDeferredAssertion(uri, local string) bool {
	return local == "Assertion" && uri == NSSAML2
}

// snapshot returns the namespace bindings in scope, sorted by prefix.
func (s *nsScope) snapshot() [][2]string {
	out := make([][2]string, 0, len(s.stack))
	if s.byPrefix == nil {
		// A dozen declarations: innermost first, each prefix once.
	next:
		for i := len(s.stack) - 1; i >= 0; i-- {
			b := s.stack[i]
			for _, o := range out {
				if o[0] == b.prefix {
					continue next
				}
			}
			out = append(out, [2]string{b.prefix, b.uri})
		}
	} else {
		for p, uris := range s.byPrefix {
			if len(uris) > 0 {
				out = append(out, [2]string{p, uris[len(uris)-1]})
			}
		}
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return out
}

// The guard's memo of scanned assertions. A session's requests carry the
// same assertion, byte for byte, and checking those bytes was most of the
// guard's work: two thirds of an ITI-38. The guard is a pure function of
// the bytes it reads and of the namespace bindings in scope, so bytes it
// scanned before under the same bindings pass again with the same effect:
// the elements they hold, how deep they nest, and nothing built (an
// assertion is kept as bytes). When a deferred assertion's start tag opens
// a run of bytes equal to one the guard passed, under equal bindings, and
// the message's element and depth limits leave room for what that run
// holds, the guard steps over it; otherwise it scans as always, so every
// refusal comes from the scan itself. TestAssertionMemoAgrees and
// FuzzAssertionMemo hold the guard with a memo to the guard without one.

// DefaultAssertionMemoBytes bounds the memo unless the reader is configured
// otherwise: a few thousand sessions' assertions, more than a gateway holds
// at once. The memo is cleared when full.
const DefaultAssertionMemoBytes = 16 << 20

// scannedAssertion is an assertion the guard passed.
type scannedAssertion struct {
	raw        []byte      // the assertion's bytes, start tag to end tag (the memo's copy)
	startTag   int         // the length of its start tag, by which it is found
	namespaces [][2]string // the bindings in scope inside its start tag
	elements   int         // elements inside it, not counting itself
	depth      int         // how much deeper than itself its content nests
	named      int         // elements inside it named Assertion or EncryptedAssertion
}

// size is what an entry counts against the memo's bound.
func (a *scannedAssertion) size() int { return len(a.raw) + 128 }

// assertionMemo is safe for concurrent use; its entries are never modified.
// A nil *assertionMemo remembers nothing.
type assertionMemo struct {
	mu       sync.Mutex
	seed     maphash.Seed
	maxBytes int
	bytes    int
	entries  map[uint64]*scannedAssertion
	hits     atomic.Uint64 // assertions stepped over
	misses   atomic.Uint64 // assertions scanned and remembered
}

// newAssertionMemo returns a memo of at most maxBytes, or nil when maxBytes
// is not positive.
func newAssertionMemo(maxBytes int) *assertionMemo {
	if maxBytes <= 0 {
		return nil
	}
	return &assertionMemo{seed: maphash.MakeSeed(), maxBytes: maxBytes, entries: make(map[uint64]*scannedAssertion)}
}

// find returns the assertion the guard passed that starts data, whose start
// tag is data[:startTag], under equal bindings.
func (m *assertionMemo) find(data []byte, startTag int, namespaces [][2]string) (*scannedAssertion, bool) {
	if m == nil {
		return nil, false
	}
	h := maphash.Bytes(m.seed, data[:startTag])
	m.mu.Lock()
	a := m.entries[h]
	m.mu.Unlock()
	if a == nil || a.startTag != startTag || !bytes.HasPrefix(data, a.raw) ||
		!slices.Equal(a.namespaces, namespaces) {
		return nil, false
	}
	return a, true
}

// add remembers a verified assertion the guard passed. a.raw is the
// message's own copy, which nothing modifies, so the memo shares it.
func (m *assertionMemo) add(a scannedAssertion) {
	if m == nil {
		return
	}
	m.misses.Add(1)
	if a.size() > m.maxBytes/64 {
		// An outsized assertion would evict many ordinary ones.
		return
	}
	a.namespaces = slices.Clone(a.namespaces)
	h := maphash.Bytes(m.seed, a.raw[:a.startTag])
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.entries[h]; ok {
		m.bytes -= old.size()
	}
	if m.bytes+a.size() > m.maxBytes {
		clear(m.entries)
		m.bytes = 0
	}
	m.entries[h] = &a
	m.bytes += a.size()
}

// stats reports the memo's use.
func (m *assertionMemo) stats() CacheStats {
	if m == nil {
		return CacheStats{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return CacheStats{Hits: m.hits.Load(), Misses: m.misses.Load(), Entries: len(m.entries), Bytes: m.bytes}
}
