package soap

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/beevik/etree"

	"kjdd/internal/checked"
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
	// assertions are the saml:Assertion elements kept as bytes
	// (assertion.go), in document order.
	assertions []keptAssertion
	// xua is what the message offers as an XUA credential.
	xua xuaFacts
	// includes are the href values of the xop:Include elements, in
	// document order.
	includes []string
	// doc is the envelope's tree, built from the same tokens the guard
	// checked (see treeBuilder), or nil when the guard gave up building
	// it.
	doc *etree.Document
	// slabs are the pooled slabs doc was built in.
	slabs *treeSlabs
}

// keptAssertion is an assertion the guard kept as bytes: el is its element
// in doc, built without children (nil when no tree was built).
type keptAssertion struct {
	el  *etree.Element
	src AssertionSource
	// memo is the memo entry of an assertion scanned in full, for the
	// reader's memo once it is verified; nil for one stepped over or
	// holding an xop:Include.
	memo *scannedAssertion
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
// and a refused envelope's partial tree is dropped. memo (nil: none) is
// the reader's memo of assertions passed before (assertion.go).
//
// One pass has three parts, each its own type: the scan checks every token
// (guard), the tree builder builds what passed (treeBuilder), and the
// deferral keeps saml:Assertion elements as bytes instead of trees
// (deferral).
func guardXML(data []byte, lim Limits, memo *assertionMemo, slabs *sync.Pool) (*xmlScan, error) {
	g := &guard{
		sc:     newXMLScanner(data),
		data:   data,
		lim:    lim,
		names:  make([]scanName, 0, 16), // room for the nesting of real messages
		scope:  newNSScope(),
		declOK: true,
		tree:   newTreeBuilder(slabs),
		def:    deferral{memo: memo, depth: -1},
		out:    &xmlScan{xua: xuaFacts{first: -1}},
	}
	if err := g.run(); err != nil {
		if g.tree != nil {
			g.tree.first.release()
		}
		return nil, err
	}
	if g.tree != nil {
		g.out.doc, g.out.slabs = g.tree.doc, g.tree.first
	} else {
		// etree's reader builds the whole tree instead; the kept
		// assertions have no element in it.
		for i := range g.out.assertions {
			g.out.assertions[i].el = nil
		}
	}
	return g.out, nil
}

// guard is the scan: the state of one pass over an envelope and the checks
// every token passes before the tree builder and the deferral see it.
type guard struct {
	sc       *xmlScanner
	data     []byte
	lim      Limits
	names    []scanName // open elements, as written (prefix, local)
	scope    nsScope
	elements int
	rootSeen bool
	// declOK: only whitespace so far, so an XML declaration may still
	// come (strictly it must be first; some stacks put a newline before
	// it, which is harmless).
	declOK bool
	// path holds the namespace and name of the open elements at the top
	// three levels, for telling where an assertion stands.
	path [3]struct{ uri, local string }
	// tree is nil once the builder gave up (maxTreeAttributes).
	tree *treeBuilder
	def  deferral
	out  *xmlScan
}

// xuaFacts is what the message offers as an XUA credential, seen in the
// one pass over all of it (Message.SecurityHeader).
type xuaFacts struct {
	// named counts the elements named Assertion or EncryptedAssertion,
	// in any namespace, anywhere in the message.
	named int
	// space, local: the first of them in document order; inSecurity:
	// it is a direct child of the wsse:Security header block.
	space, local string
	inSecurity   bool
	// first is its index in xmlScan.assertions when it was kept as bytes
	// (a SAML 2.0 saml:Assertion), else -1.
	first int
}

// isAssertionName reports whether a local name is one of the names under
// which an assertion can hide: signature wrapping attacks add a second one
// anywhere in the message.
func isAssertionName(local string) bool {
	return local == "Assertion" || local == "EncryptedAssertion"
}

// run scans the whole envelope.
func (g *guard) run() error {
	var t scanToken
	for {
		tokStart := g.sc.pos
		if err := g.sc.next(&t); err != nil {
			var enc *declaredEncoding
			if errors.As(err, &enc) {
				return encodingFault(enc.label)
			}
			return malformedXML(err)
		}
		if t.kind == scanEOF {
			break
		}
		wasDeclOK := g.declOK
		if g.declOK && (t.kind != scanText || len(bytes.TrimSpace(t.data)) > 0) {
			g.declOK = false
		}
		building := g.tree != nil && g.def.depth < 0
		switch t.kind {
		case scanStart:
			if err := g.start(&t, tokStart); err != nil {
				return err
			}
		case scanEnd:
			if err := g.end(&t); err != nil {
				return err
			}
		case scanText:
			if len(g.names) == 0 && len(bytes.TrimSpace(t.data)) > 0 {
				return refuse("the request is not well-formed XML", "text outside the root element")
			}
			if building {
				g.tree.text(t.data)
			}
		case scanDirective:
			// <!DOCTYPE ...>, and with it any internal or external entity
			// declaration, is never legitimate in SOAP (SOAP 1.2 Part 1 §5).
			return refuse("DTDs and entity declarations are not allowed", "")
		case scanProcInst:
			if t.name.local == "xml" && !wasDeclOK {
				return refuse("the request is not well-formed XML", "XML declaration not at the start")
			}
			if building {
				g.tree.top().CreateProcInst(t.name.local, string(t.data))
			}
		case scanComment:
			if building {
				g.tree.top().CreateComment(string(t.data))
			}
		}
	}
	if !g.rootSeen {
		return refuse("the request contains no XML element", "")
	}
	if len(g.names) != 0 {
		return refuse("the request is not well-formed XML", "unexpected end of input")
	}
	return nil
}

// start checks a start tag and hands it to the tree builder and the
// deferral.
func (g *guard) start(t *scanToken, tokStart int) error {
	if len(g.names) == 0 {
		if g.rootSeen {
			return refuse("the XML has more than one root element", "")
		}
		g.rootSeen = true
	}
	g.elements++
	if g.elements > g.lim.MaxElements {
		return &Fault{Code: FaultSender, HTTPStatus: 413,
			Reason: "the XML has more than " + strconv.Itoa(g.lim.MaxElements) + " elements"}
	}
	if len(g.names)+1 > g.lim.MaxDepth {
		return &Fault{Code: FaultSender, HTTPStatus: 413,
			Reason: "the XML nests elements deeper than " + strconv.Itoa(g.lim.MaxDepth) + " levels"}
	}
	if len(t.attrs) > maxAttributes {
		return &Fault{Code: FaultSender, HTTPStatus: 413,
			Reason: "an XML element has more than " + strconv.Itoa(maxAttributes) + " attributes"}
	}
	if dup, ok := duplicateAttr(t.attrs); ok {
		return refuse("an XML element has a duplicate attribute", "attribute "+dup.String())
	}
	var prefixes, uris []string
	for _, a := range t.attrs {
		switch {
		case a.name.prefix == "xmlns":
			if a.value == "" {
				return refuse("an XML namespace prefix is bound to an empty URI", "prefix "+a.name.local)
			}
			prefixes, uris = append(prefixes, a.name.local), append(uris, a.value)
		case a.name.prefix == "" && a.name.local == "xmlns":
			prefixes, uris = append(prefixes, ""), append(uris, a.value)
		}
	}
	g.scope.push(prefixes, uris)
	uri, ok := g.scope.resolve(t.name.prefix)
	if !ok {
		return refuse("the XML uses an undeclared namespace prefix", "prefix "+t.name.prefix)
	}
	for _, a := range t.attrs {
		if a.name.prefix == "" || a.name.prefix == "xmlns" {
			continue
		}
		if _, ok := g.scope.resolve(a.name.prefix); !ok {
			return refuse("the XML uses an undeclared namespace prefix", "prefix "+a.name.prefix)
		}
	}
	if d := len(g.names); d < len(g.path) {
		g.path[d].uri, g.path[d].local = uri, t.name.local
	}
	include := uri == NSXOP && t.name.local == "Include"
	if include {
		g.out.includes = append(g.out.includes, rawAttrValue(t.attrs, "href"))
	}
	if isAssertionName(t.name.local) {
		g.sawAssertion(uri, t.name.local)
	}
	if g.def.depth >= 0 {
		g.def.inside(len(g.names), include, isAssertionName(t.name.local))
	}
	building := g.tree != nil && g.def.depth < 0
	if building && !g.tree.start(t.name, t.attrs) {
		g.tree, building = nil, false
	}
	if g.def.depth < 0 && isDeferredAssertion(uri, t.name.local) && len(g.out.assertions) < maxDeferredAssertions {
		var el *etree.Element
		if building {
			el = g.tree.top()
		}
		g.def.begin(len(g.names), tokStart, g.sc.pos-tokStart, el, g.scope.snapshot())
		if !t.empty {
			if a, ok := g.def.memo.find(g.data[tokStart:], g.def.startTag, g.def.namespaces); ok &&
				g.elements+a.elements <= g.lim.MaxElements && len(g.names)+1+a.depth <= g.lim.MaxDepth {
				// Passed before, with room for it here: step over it
				// as its end tag would close it.
				g.def.memo.hits.Add(1)
				g.sc.pos = tokStart + len(a.raw)
				g.elements += a.elements
				g.out.xua.named += a.named
				g.scope.pop()
				g.keep(a.raw)
				if building {
					g.tree.end()
				}
				return nil
			}
		}
	}
	if t.empty {
		// <a/> opens and closes: as the decoder's two tokens.
		g.scope.pop()
		if g.def.depth == len(g.names) {
			g.keep(bytes.Clone(g.data[g.def.start:g.sc.pos]))
		}
		if building {
			g.tree.end()
		}
		return nil
	}
	g.names = append(g.names, t.name)
	return nil
}

// sawAssertion records an element named like an assertion: the first one
// is the message's XUA credential, if it stands where one must.
func (g *guard) sawAssertion(uri, local string) {
	x := &g.out.xua
	x.named++
	if x.named > 1 {
		return
	}
	x.space, x.local = uri, local
	x.inSecurity = len(g.names) == 3 &&
		g.path[0].uri == NSSOAP12 && g.path[0].local == "Envelope" &&
		g.path[1].uri == NSSOAP12 && g.path[1].local == "Header" &&
		g.path[2].uri == NSWSSE && g.path[2].local == "Security"
	if isDeferredAssertion(uri, local) && g.def.depth < 0 && len(g.out.assertions) < maxDeferredAssertions {
		x.first = len(g.out.assertions) // the deferral that starts now
	}
}

// end checks an end tag and closes the element in the tree builder and
// the deferral.
func (g *guard) end(t *scanToken) error {
	if len(g.names) == 0 || g.names[len(g.names)-1] != t.name {
		return refuse("the request is not well-formed XML", "mismatched end tag "+t.name.String())
	}
	g.names = g.names[:len(g.names)-1]
	g.scope.pop()
	switch {
	case g.def.depth == len(g.names):
		raw := g.data[g.def.start:g.sc.pos]
		var candidate *scannedAssertion
		if g.def.includes {
			// Holds an xop:Include: never remembered (the parts differ).
			raw = bytes.Clone(raw)
		} else {
			// A candidate for the memo, which keeps it only once the
			// assertion was verified (Message.AssertionVerified): what an
			// anonymous caller sends lives no longer than its request.
			raw = bytes.Clone(raw)
			candidate = &scannedAssertion{raw: raw, startTag: g.def.startTag,
				namespaces: g.def.namespaces, elements: g.def.elements, depth: g.def.nest, named: g.def.named}
		}
		g.keep(raw)
		g.out.assertions[len(g.out.assertions)-1].memo = candidate
		if g.tree != nil {
			g.tree.end()
		}
	case g.def.depth >= 0:
		// Inside a deferred assertion: nothing was built.
	case g.tree != nil:
		g.tree.end()
	}
	return nil
}

// keep ends the deferral, keeping the assertion's source: raw is a copy
// that nothing modifies (the memo's, or the message's own).
func (g *guard) keep(raw []byte) {
	g.out.assertions = append(g.out.assertions, keptAssertion{el: g.def.el,
		src: AssertionSource{Raw: raw, Namespaces: g.def.namespaces}})
	g.def.depth = -1
}

// deferral is the saml:Assertion being kept as bytes (assertion.go): its
// depth in the open elements (-1: none), the offset of its "<", the length
// of its start tag, its element (nil when no tree is built) and bindings,
// and for the memo what its content holds.
type deferral struct {
	memo                   *assertionMemo
	depth, start, startTag int
	el                     *etree.Element
	namespaces             [][2]string
	elements, nest, named  int
	includes               bool
}

// begin starts keeping an assertion whose start tag is at depth.
func (d *deferral) begin(depth, start, startTag int, el *etree.Element, namespaces [][2]string) {
	d.depth, d.start, d.startTag, d.el, d.namespaces = depth, start, startTag, el, namespaces
	d.elements, d.nest, d.named, d.includes = 0, 0, 0, false
}

// inside counts an element that starts inside the assertion, with depth
// open elements above it.
func (d *deferral) inside(depth int, include, assertionNamed bool) {
	d.elements++
	d.nest = max(d.nest, depth-d.depth)
	d.includes = d.includes || include
	if assertionNamed {
		d.named++
	}
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

// treeSlabs are a builder's first slabs. They come from the reader's pool,
// and the message built from them returns them in Close (Message.Close), so
// that the tree of every request does not cost fresh memory for the
// collector.
type treeSlabs struct {
	elements []etree.Element
	texts    []etree.CharData
	attrs    []etree.Attr
	children []etree.Token
	pool     *sync.Pool
}

// release returns the slabs to their pool. Nothing may use the tree built
// in them afterwards: in test and race builds they are poisoned and never
// reused, so that a use shows (poison.go); otherwise they are zeroed, so
// that they hold on to nothing of the tree.
func (s *treeSlabs) release() {
	if checked.Build() {
		poisonSlabs(s)
		return
	}
	clear(s.elements[:cap(s.elements)])
	clear(s.texts[:cap(s.texts)])
	clear(s.attrs[:cap(s.attrs)])
	clear(s.children[:cap(s.children)])
	s.pool.Put(s)
}

// newTreeBuilder returns a builder whose first slabs come from pool.
func newTreeBuilder(pool *sync.Pool) *treeBuilder {
	doc := etree.NewDocument()
	stack := make([]*etree.Element, 1, 16)
	stack[0] = &doc.Element
	first, ok := pool.Get().(*treeSlabs)
	if !ok {
		first = &treeSlabs{
			elements: make([]etree.Element, 0, firstElements),
			texts:    make([]etree.CharData, 0, firstTexts),
			attrs:    make([]etree.Attr, 0, firstAttrs),
			children: make([]etree.Token, 0, childRoom*firstElements),
			pool:     pool,
		}
	}
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
