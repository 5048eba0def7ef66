package xds

import (
	"bytes"
	"errors"
	"fmt"
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
// (prefix, URI; the default namespace under ""), sorted by prefix.
type AssertionSource struct {
	Raw        []byte
	Namespaces [][2]string
}

// maxDeferredAssertions is how many assertions of one message the guard
// keeps as bytes; any further one is built as a tree (a message with more
// than one is refused anyway).
const maxDeferredAssertions = 4

// AssertionSource returns the source of a saml:Assertion element of m whose
// children the guard did not build; ok is false for any other element, whose
// tree is complete.
func (m *Message) AssertionSource(el *etree.Element) (AssertionSource, bool) {
	s, ok := m.assertions[el]
	return s, ok
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

// Tree builds the assertion's tree: the bytes are read inside an element
// that declares the inherited bindings, so that they mean what they meant
// in the message. The element returned is the assertion, a child of that
// wrapper.
func (s AssertionSource) Tree() (*etree.Element, error) {
	var b strings.Builder
	b.WriteString("<kjdd-wrapper")
	for _, ns := range s.Namespaces {
		if ns[0] == "" {
			b.WriteString(` xmlns="`)
		} else {
			b.WriteString(" xmlns:" + ns[0] + `="`)
		}
		b.WriteString(attrEscaper.Replace(ns[1]))
		b.WriteString(`"`)
	}
	b.WriteString(">")
	b.Write(s.Raw)
	b.WriteString("</kjdd-wrapper>")
	doc := etree.NewDocument()
	if err := doc.ReadFromString(b.String()); err != nil {
		return nil, fmt.Errorf("xds: assertion does not parse: %w", err)
	}
	kids := doc.Root().ChildElements()
	if len(kids) != 1 || len(doc.Root().Child) != 1 {
		return nil, errors.New("xds: assertion source is not one element")
	}
	return kids[0], nil
}

// attrEscaper escapes a value for a double-quoted attribute, keeping
// white space exactly (a reader would otherwise see a raw CR as LF).
var attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;", "\t", "&#9;", "\n", "&#10;", "\r", "&#13;")

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

// maxScannedAssertions bounds the memo: a few megabytes of assertions, more
// sessions than a gateway holds at once. It is cleared when full.
const maxScannedAssertions = 1024

// scannedAssertion is an assertion the guard passed.
type scannedAssertion struct {
	raw        []byte      // the assertion's bytes, start tag to end tag (the memo's copy)
	startTag   int         // the length of its start tag, by which it is found
	namespaces [][2]string // the bindings in scope inside its start tag
	elements   int         // elements inside it, not counting itself
	depth      int         // how much deeper than itself its content nests
}

// assertionMemo is safe for concurrent use; its entries are never modified.
type assertionMemo struct {
	mu      sync.Mutex
	seed    maphash.Seed
	entries map[uint64]*scannedAssertion
	hits    atomic.Uint64 // assertions stepped over, for tests
}

func newAssertionMemo() *assertionMemo {
	return &assertionMemo{seed: maphash.MakeSeed(), entries: make(map[uint64]*scannedAssertion)}
}

// scannedAssertions is the process's memo.
var scannedAssertions = newAssertionMemo()

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

// add remembers an assertion the guard passed; raw is copied.
func (m *assertionMemo) add(a scannedAssertion) {
	if m == nil {
		return
	}
	a.raw = bytes.Clone(a.raw)
	a.namespaces = slices.Clone(a.namespaces)
	h := maphash.Bytes(m.seed, a.raw[:a.startTag])
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) >= maxScannedAssertions {
		clear(m.entries)
	}
	m.entries[h] = &a
}
