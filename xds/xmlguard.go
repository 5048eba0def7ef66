package xds

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// The XML guard is a streaming pass over an envelope that builds its tree
// token by token, each token only after it passed. It refuses what a tree
// builder would either accept silently or pay for in memory: DTDs and entity
// declarations, nesting and element counts beyond the limits, undeclared
// namespace prefixes, duplicate attributes, mismatched tags, and character
// encodings other than UTF-8.
//
// Character encoding (xds.md §6.5): SOAP 1.2 over HTTP is UTF-8 (WS-I Basic
// Profile allows UTF-16 too, which no IHE peer sends). An encoding
// declaration or MIME charset other than UTF-8 or its subset US-ASCII is
// refused with a Sender fault. A document declared (or defaulted) as UTF-8
// that nevertheless contains bytes that are not valid UTF-8 is repaired by
// reading each such byte as ISO-8859-1: NHN's own captured ITI-39 carries a
// Latin-1 "Ø" in a SAML attribute value this way. The repair cannot widen what
// a signature covers: XML signatures are checked over the parsed text, so a
// repaired value either is what was signed or fails verification.
// Message.EncodingRepaired reports that it happened.

// utf8BOM is the byte order mark some stacks put before the XML declaration.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// xmlScan is what the guard learned about a well-formed envelope.
type xmlScan struct {
	// assertions are the saml:Assertion elements of doc built without
	// children, with their sources (assertion.go).
	assertions map[*etree.Element]AssertionSource
	// includes are the href values of the xop:Include elements, in
	// document order.
	includes []string
	// doc is the envelope's tree, built from the same tokens the guard
	// checked (see treeBuilder), or nil when the guard gave up building
	// it.
	doc *etree.Document
	// aliasOK: see guardXML.
	aliasOK bool
	// slabs are the pooled slabs doc was built in.
	slabs *treeSlabs
}

// maxAttributes bounds the attributes of one element. Real messages have
// fewer than twenty; the bound keeps namespace resolution (by kjdd and by
// the tree library, which walks ancestors' attributes) linear.
const maxAttributes = 256

// nsScope tracks the namespace declarations in scope. A real message has a
// dozen, searched fastest from the innermost outwards; a hostile one may
// have thousands in scope at once, so past linearScopeMax they are also
// indexed by prefix, and resolving costs the same however many there are.
type nsScope struct {
	stack    []nsBinding // every declaration in scope, innermost last
	declared []int       // per open element, how many of stack it declared
	// byPrefix is nil until stack outgrows linearScopeMax; then it holds,
	// for each prefix, the stack of its URIs.
	byPrefix map[string][]string
}

type nsBinding struct{ prefix, uri string }

// linearScopeMax is the most declarations in scope that are searched one by
// one.
const linearScopeMax = 32

func newNSScope() nsScope {
	return nsScope{stack: make([]nsBinding, 0, 16), declared: make([]int, 0, 16)}
}

// push opens an element declaring prefixes (in the same order as uris).
func (s *nsScope) push(prefixes, uris []string) {
	for i, p := range prefixes {
		s.stack = append(s.stack, nsBinding{p, uris[i]})
		if s.byPrefix != nil {
			s.byPrefix[p] = append(s.byPrefix[p], uris[i])
		}
	}
	s.declared = append(s.declared, len(prefixes))
	if s.byPrefix == nil && len(s.stack) > linearScopeMax {
		s.byPrefix = make(map[string][]string, len(s.stack))
		for _, b := range s.stack {
			s.byPrefix[b.prefix] = append(s.byPrefix[b.prefix], b.uri)
		}
	}
}

// pop closes the innermost element.
func (s *nsScope) pop() {
	n := s.declared[len(s.declared)-1]
	s.declared = s.declared[:len(s.declared)-1]
	if s.byPrefix != nil {
		// An element declares a prefix once (duplicate attributes are
		// refused before push), so each of its prefixes pops once.
		for _, b := range s.stack[len(s.stack)-n:] {
			u := s.byPrefix[b.prefix]
			s.byPrefix[b.prefix] = u[:len(u)-1]
		}
	}
	s.stack = s.stack[:len(s.stack)-n]
}

// resolve returns the namespace URI bound to prefix. The empty prefix is
// always resolvable (no default namespace means no namespace).
func (s *nsScope) resolve(prefix string) (string, bool) {
	switch prefix {
	case "xml":
		return "http://www.w3.org/XML/1998/namespace", true
	case "xmlns":
		return "http://www.w3.org/2000/xmlns/", true
	}
	if s.byPrefix != nil {
		if u := s.byPrefix[prefix]; len(u) > 0 {
			return u[len(u)-1], true
		}
		return "", prefix == ""
	}
	for i := len(s.stack) - 1; i >= 0; i-- {
		if s.stack[i].prefix == prefix {
			return s.stack[i].uri, true
		}
	}
	return "", prefix == ""
}

// guardXML scans data and returns a *Fault for anything the guard refuses.
// data must already be UTF-8 (see repairUTF8). It also builds the tree of
// the envelope from the same tokens (xmlScan.doc), so that the envelope is
// tokenised once: every token is checked before it is added to the tree,
// and a refused envelope's partial tree is dropped.
//
// aliasOK means data stays unchanged for as long as the message lives (it
// is the message's own buffer), so assertion sources may alias it.
func guardXML(data []byte, lim Limits, aliasOK bool) (*xmlScan, error) {
	return guardWith(data, lim, aliasOK, scannedAssertions)
}

// guardWith is guardXML stepping over assertions found in memo (nil: none)
// and adding those it scans to it (assertion.go).
func guardWith(data []byte, lim Limits, aliasOK bool, memo *assertionMemo) (*xmlScan, error) {
	sc := newXMLScanner(data)
	scan := &xmlScan{aliasOK: aliasOK}
	// Room for the nesting of real messages (ten levels) up front.
	var (
		names    = make([]scanName, 0, 16) // open elements, as written (prefix, local)
		scope    = newNSScope()
		elements int
		rootSeen bool
		// declOK: only whitespace so far, so an XML declaration may
		// still come (strictly it must be first; some stacks put a
		// newline before it, which is harmless).
		declOK = true
		// tree is nil once the builder gave up (maxTreeAttributes).
		tree = newTreeBuilder()
		t    scanToken
		// deferred is the assertion being kept as bytes (assertion.go):
		// its depth in names, the offset of its "<", the length of its
		// start tag, its element and bindings, and for the memo what its
		// content holds (elements, nesting below it, xop:Include);
		// depth -1 when there is none.
		deferred = struct {
			depth, start, startTag int
			el                     *etree.Element
			namespaces             [][2]string
			elements, nest         int
			includes               bool
		}{depth: -1}
	)
	for {
		tokStart := sc.pos
		if err := sc.next(&t); err != nil {
			var enc *declaredEncoding
			if errors.As(err, &enc) {
				return nil, encodingFault(enc.label)
			}
			return nil, malformedXML(err)
		}
		if t.kind == scanEOF {
			break
		}
		wasDeclOK := declOK
		if declOK && (t.kind != scanText || len(bytes.TrimSpace(t.data)) > 0) {
			declOK = false
		}
		switch t.kind {
		case scanStart:
			if len(names) == 0 {
				if rootSeen {
					return nil, refuse("the XML has more than one root element", "")
				}
				rootSeen = true
			}
			elements++
			if elements > lim.MaxElements {
				return nil, &Fault{Code: FaultSender, HTTPStatus: 413,
					Reason: "the XML has more than " + strconv.Itoa(lim.MaxElements) + " elements"}
			}
			if len(names)+1 > lim.MaxDepth {
				return nil, &Fault{Code: FaultSender, HTTPStatus: 413,
					Reason: "the XML nests elements deeper than " + strconv.Itoa(lim.MaxDepth) + " levels"}
			}
			if len(t.attrs) > maxAttributes {
				return nil, &Fault{Code: FaultSender, HTTPStatus: 413,
					Reason: "an XML element has more than " + strconv.Itoa(maxAttributes) + " attributes"}
			}
			if dup, ok := duplicateAttr(t.attrs); ok {
				return nil, refuse("an XML element has a duplicate attribute", "attribute "+dup.String())
			}
			var prefixes, uris []string
			for _, a := range t.attrs {
				switch {
				case a.name.prefix == "xmlns":
					if a.value == "" {
						return nil, refuse("an XML namespace prefix is bound to an empty URI", "prefix "+a.name.local)
					}
					prefixes, uris = append(prefixes, a.name.local), append(uris, a.value)
				case a.name.prefix == "" && a.name.local == "xmlns":
					prefixes, uris = append(prefixes, ""), append(uris, a.value)
				}
			}
			scope.push(prefixes, uris)
			uri, ok := scope.resolve(t.name.prefix)
			if !ok {
				return nil, refuse("the XML uses an undeclared namespace prefix", "prefix "+t.name.prefix)
			}
			for _, a := range t.attrs {
				if a.name.prefix == "" || a.name.prefix == "xmlns" {
					continue
				}
				if _, ok := scope.resolve(a.name.prefix); !ok {
					return nil, refuse("the XML uses an undeclared namespace prefix", "prefix "+a.name.prefix)
				}
			}
			include := uri == NSXOP && t.name.local == "Include"
			if include {
				scan.includes = append(scan.includes, rawAttrValue(t.attrs, "href"))
			}
			if deferred.depth >= 0 {
				deferred.elements++
				deferred.nest = max(deferred.nest, len(names)-deferred.depth)
				deferred.includes = deferred.includes || include
			}
			building := tree != nil && deferred.depth < 0
			if building && !tree.start(t.name, t.attrs) {
				tree, building = nil, false
			}
			if building && isDeferredAssertion(uri, t.name.local) && len(scan.assertions) < maxDeferredAssertions {
				deferred.depth, deferred.start, deferred.startTag, deferred.el = len(names), tokStart, sc.pos-tokStart, tree.top()
				deferred.namespaces = scope.snapshot()
				deferred.elements, deferred.nest, deferred.includes = 0, 0, false
				if a, ok := memo.find(data[tokStart:], deferred.startTag, deferred.namespaces); ok && !t.empty &&
					elements+a.elements <= lim.MaxElements && len(names)+1+a.depth <= lim.MaxDepth {
					// Passed before, with room for it here: step over it
					// as its end tag would close it.
					memo.hits.Add(1)
					sc.pos = tokStart + len(a.raw)
					elements += a.elements
					scope.pop()
					scan.keepAssertion(deferred.el, data[tokStart:sc.pos], deferred.namespaces)
					deferred.depth = -1
					tree.end()
					continue
				}
			}
			if t.empty {
				// <a/> opens and closes: as the decoder's two tokens.
				scope.pop()
				if deferred.depth == len(names) {
					scan.keepAssertion(deferred.el, data[deferred.start:sc.pos], deferred.namespaces)
					deferred.depth = -1
				}
				if building {
					tree.end()
				}
				continue
			}
			names = append(names, t.name)
		case scanEnd:
			if len(names) == 0 || names[len(names)-1] != t.name {
				return nil, refuse("the request is not well-formed XML", "mismatched end tag "+t.name.String())
			}
			names = names[:len(names)-1]
			scope.pop()
			switch {
			case deferred.depth == len(names):
				raw := data[deferred.start:sc.pos]
				scan.keepAssertion(deferred.el, raw, deferred.namespaces)
				if !deferred.includes {
					memo.add(scannedAssertion{raw: raw, startTag: deferred.startTag, namespaces: deferred.namespaces,
						elements: deferred.elements, depth: deferred.nest})
				}
				deferred.depth = -1
				if tree != nil {
					tree.end()
				}
			case deferred.depth >= 0:
				// Inside a deferred assertion: nothing was built.
			case tree != nil:
				tree.end()
			}
		case scanText:
			if len(names) == 0 && len(bytes.TrimSpace(t.data)) > 0 {
				return nil, refuse("the request is not well-formed XML", "text outside the root element")
			}
			if tree != nil && deferred.depth < 0 {
				tree.text(t.data)
			}
		case scanDirective:
			// <!DOCTYPE ...>, and with it any internal or external entity
			// declaration, is never legitimate in SOAP (SOAP 1.2 Part 1 §5).
			return nil, refuse("DTDs and entity declarations are not allowed", "")
		case scanProcInst:
			if t.name.local == "xml" && !wasDeclOK {
				return nil, refuse("the request is not well-formed XML", "XML declaration not at the start")
			}
			if tree != nil && deferred.depth < 0 {
				tree.top().CreateProcInst(t.name.local, string(t.data))
			}
		case scanComment:
			if tree != nil && deferred.depth < 0 {
				tree.top().CreateComment(string(t.data))
			}
		}
	}
	if !rootSeen {
		return nil, refuse("the request contains no XML element", "")
	}
	if len(names) != 0 {
		return nil, refuse("the request is not well-formed XML", "unexpected end of input")
	}
	if tree != nil {
		scan.doc, scan.slabs = tree.doc, tree.first
	} else {
		// etree's reader builds the whole tree instead.
		scan.assertions = nil
	}
	return scan, nil
}

// keepAssertion records the source of an assertion built without children.
// raw aliases the bytes being scanned, copied unless they are the message's
// own.
func (s *xmlScan) keepAssertion(el *etree.Element, raw []byte, namespaces [][2]string) {
	if s.assertions == nil {
		s.assertions = make(map[*etree.Element]AssertionSource, 1)
	}
	if !s.aliasOK {
		raw = bytes.Clone(raw)
	}
	s.assertions[el] = AssertionSource{Raw: raw, Namespaces: namespaces}
}

// duplicateAttr finds an attribute written twice (the tree builder would
// silently keep the last).
func duplicateAttr(attrs []scanAttr) (scanName, bool) {
	if len(attrs) < 2 {
		return scanName{}, false
	}
	if len(attrs) <= 8 {
		// Cheaper than a map for the few attributes real elements have.
		for i := 1; i < len(attrs); i++ {
			for j := range i {
				if attrs[i].name == attrs[j].name {
					return attrs[i].name, true
				}
			}
		}
		return scanName{}, false
	}
	seen := make(map[scanName]bool, len(attrs))
	for _, a := range attrs {
		if seen[a.name] {
			return a.name, true
		}
		seen[a.name] = true
	}
	return scanName{}, false
}

// String renders a name as written.
func (n scanName) String() string {
	if n.prefix == "" {
		return n.local
	}
	return n.prefix + ":" + n.local
}

// rawAttrValue returns the value of the unprefixed attribute local.
func rawAttrValue(attrs []scanAttr, local string) string {
	for _, a := range attrs {
		if a.name.prefix == "" && a.name.local == local {
			return a.value
		}
	}
	return ""
}

// maxTreeAttributes is the most attributes an element may have for the
// guard to build it. etree offers no way to add an attribute without
// searching the element's others, so a request of thousands of elements
// with hundreds of attributes each would cost quadratic time here; such a
// request (no real one comes near) is built by etree's own reader instead,
// after the guard has passed it.
const maxTreeAttributes = 32

// treeBuilder builds an etree document from raw tokens exactly as etree's
// own reader (Document.ReadFrom without PreserveCData or
// PreserveDuplicateAttrs) would from the same tokens: same elements,
// attributes in the same order with the same prefix and key, text with
// the same whitespace flag, comments and processing instructions in place.
// xmlparse_test.go holds it to that.
//
// Its tokens come from slabs, a few allocations per message instead of a
// few per token. A slab is never grown, only replaced when full, so a
// token's address never changes; slices handed to an element (its
// attributes, room for its first children) are capped at their length, so
// an append past them copies instead of overwriting a neighbour.
type treeBuilder struct {
	doc   *etree.Document
	stack []*etree.Element
	first *treeSlabs // the pooled first slabs, for Message.Close

	elements []etree.Element
	texts    []etree.CharData
	attrs    []etree.Attr
	children []etree.Token
}

// maxSlab bounds one slab, so that a large request costs memory as it is
// read rather than all at once. The first slab of each kind is at most
// its first* bound below, each later one twice the one before, up to
// maxSlab.
const maxSlab = 256

// The first slabs fit the part of an ITI-38 that is built: its XUA
// assertion, most of its "<" and "=", is kept as bytes (assertion.go),
// and the rest (a real one: 22 elements, 41 text runs, 20 attributes) is
// what these bound.
const (
	firstElements = 32
	firstTexts    = 48
	firstAttrs    = 32
)

// childRoom is the number of children an element has room for before its
// list is copied into a slice of its own.
const childRoom = 3

// treeSlabs are a builder's first slabs. They come from a pool, and the
// message built from them returns them in Close (Message.Close), so that
// the tree of every request does not cost fresh memory for the collector.
type treeSlabs struct {
	elements []etree.Element
	texts    []etree.CharData
	attrs    []etree.Attr
	children []etree.Token
}

var slabPool = sync.Pool{New: func() any {
	return &treeSlabs{
		elements: make([]etree.Element, 0, firstElements),
		texts:    make([]etree.CharData, 0, firstTexts),
		attrs:    make([]etree.Attr, 0, firstAttrs),
		children: make([]etree.Token, 0, childRoom*firstElements),
	}
}}

// release zeroes the slabs, so that they hold on to nothing of the tree
// built in them, and returns them to the pool. Nothing may use that tree
// afterwards.
func (s *treeSlabs) release() {
	clear(s.elements[:cap(s.elements)])
	clear(s.texts[:cap(s.texts)])
	clear(s.attrs[:cap(s.attrs)])
	clear(s.children[:cap(s.children)])
	slabPool.Put(s)
}

// newTreeBuilder returns a builder whose first slabs come from the pool.
func newTreeBuilder() *treeBuilder {
	doc := etree.NewDocument()
	stack := make([]*etree.Element, 1, 16)
	stack[0] = &doc.Element
	first := slabPool.Get().(*treeSlabs)
	return &treeBuilder{doc: doc, stack: stack, first: first,
		elements: first.elements[:0],
		texts:    first.texts[:0],
		attrs:    first.attrs[:0],
		children: first.children[:0],
	}
}

// top is the element tokens are added to.
func (b *treeBuilder) top() *etree.Element { return b.stack[len(b.stack)-1] }

// take returns the next n items of *slab, capped at n. A full slab is
// replaced by one twice its size, at most limit (and at least n).
func take[T any](slab *[]T, n, limit int) []T {
	if len(*slab)+n > cap(*slab) {
		*slab = make([]T, 0, max(min(2*cap(*slab), limit), n))
	}
	start := len(*slab)
	*slab = (*slab)[:start+n]
	return (*slab)[start : start+n : start+n]
}

// start adds an element; false means the builder gives up (see
// maxTreeAttributes).
func (b *treeBuilder) start(name scanName, attrs []scanAttr) bool {
	if len(attrs) > maxTreeAttributes {
		return false
	}
	e := &take(&b.elements, 1, maxSlab)[0]
	e.Space, e.Tag = name.prefix, name.local
	e.Child = take(&b.children, childRoom, childRoom*maxSlab)[:0]
	if len(attrs) > 0 {
		e.Attr = take(&b.attrs, len(attrs), maxSlab)[:0]
	}
	for _, a := range attrs {
		// CreateAttr would split the key at its first colon, which for
		// names like ":a" or "a:" (kept whole by the decoder) differs
		// from the decoder's split that etree's reader uses: add under
		// an empty key, which no decoded attribute has, then name it.
		at := e.CreateAttr("", a.value)
		at.Space, at.Key = a.name.prefix, a.name.local
	}
	b.top().AddChild(e)
	b.stack = append(b.stack, e)
	return true
}

// end closes the current element.
func (b *treeBuilder) end() { b.stack = b.stack[:len(b.stack)-1] }

// text adds character data, flagged as whitespace when it is only that.
func (b *treeBuilder) text(t []byte) {
	c := &take(&b.texts, 1, maxSlab)[0]
	c.SetData(textString(t))
	b.top().AddChild(c)
}

// indentation is the white space of pretty-printed XML between elements: a
// line break and spaces or tabs.
var (
	indentSpaces = "\n" + strings.Repeat(" ", 128)
	indentTabs   = "\n" + strings.Repeat("\t", 32)
)

// textString returns t as a string, shared when it is a line break and
// indentation (half of the text runs of a pretty-printed request).
func textString(t []byte) string {
	if len(t) == 0 || t[0] != '\n' {
		return string(t)
	}
	indent := indentSpaces
	if len(t) > 1 && t[1] == '\t' {
		indent = indentTabs
	}
	if len(t) <= len(indent) && string(t) == indent[:len(t)] {
		return indent[:len(t)]
	}
	return string(t)
}

// isASCIILabel reports whether an encoding label names UTF-8 or US-ASCII,
// the only encodings accepted.
func isASCIILabel(label string) bool {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return true
	}
	return false
}

// encodingFault refuses a character encoding other than UTF-8.
func encodingFault(label string) *Fault {
	return &Fault{Code: FaultSender, HTTPStatus: 415,
		Reason: "unsupported character encoding; send UTF-8",
		Detail: "encoding " + strconv.Quote(label)}
}

// malformedXML turns a decoder error into a Sender fault. The decoder's
// message goes to Detail (logs only), with long digit runs masked because
// it may quote a character reference.
func malformedXML(err error) *Fault {
	return refuse("the request is not well-formed XML", maskDigits(err.Error()))
}

// prepareXML strips a UTF-8 byte order mark, refuses UTF-16 and repairs
// stray non-UTF-8 bytes (see the comment at the top of this file). repaired
// reports whether bytes were reinterpreted.
func prepareXML(data []byte) (out []byte, repaired bool, err error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(data) >= 2 && (data[0] == 0xFE && data[1] == 0xFF || data[0] == 0xFF && data[1] == 0xFE) {
		return nil, false, encodingFault("UTF-16")
	}
	if utf8.Valid(data) {
		return data, false, nil
	}
	return repairUTF8(data), true, nil
}

// repairUTF8 re-encodes every byte that is not part of a valid UTF-8
// sequence as the ISO-8859-1 character of the same value.
func repairUTF8(data []byte) []byte {
	out := make([]byte, 0, len(data)+16)
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, rune(data[0]))
		} else {
			out = append(out, data[:size]...)
		}
		data = data[size:]
	}
	return out
}

// maskDigits replaces every run of six or more digits with "#", so that a
// log line can never carry a national identity number.
func maskDigits(s string) string {
	var b strings.Builder
	run := 0
	flush := func(end int) {
		if run >= 6 {
			b.WriteString("#")
		} else {
			b.WriteString(s[end-run : end])
		}
		run = 0
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			run++
			continue
		}
		flush(i)
		b.WriteByte(s[i])
	}
	flush(len(s))
	return b.String()
}

// refuse is a Sender fault without subcode.
func refuse(reason, detail string) *Fault {
	return &Fault{Code: FaultSender, Reason: reason, Detail: detail}
}

// refusef is a Sender fault whose detail is formatted.
func refusef(reason, format string, args ...any) *Fault {
	return refuse(reason, fmt.Sprintf(format, args...))
}
