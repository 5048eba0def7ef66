package xds

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
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
	// includes are the href values of the xop:Include elements, in
	// document order.
	includes []string
	// doc is the envelope's tree, built from the same tokens the guard
	// checked (see treeBuilder), or nil when the guard gave up building
	// it.
	doc *etree.Document
}

// maxAttributes bounds the attributes of one element. Real messages have
// fewer than twenty; the bound keeps namespace resolution (by kjdd and by
// the tree library, which walks ancestors' attributes) linear.
const maxAttributes = 256

// nsScope tracks the namespace declarations in scope: for each prefix a
// stack of URIs, so that resolving a prefix costs the same however many
// declarations there are.
type nsScope struct {
	uris     map[string][]string
	declared [][]string // per open element, the prefixes it declared
}

// push opens an element declaring prefixes (in the same order as uris).
func (s *nsScope) push(prefixes, uris []string) {
	for i, p := range prefixes {
		s.uris[p] = append(s.uris[p], uris[i])
	}
	s.declared = append(s.declared, prefixes)
}

// pop closes the innermost element.
func (s *nsScope) pop() {
	last := s.declared[len(s.declared)-1]
	for _, p := range last {
		s.uris[p] = s.uris[p][:len(s.uris[p])-1]
	}
	s.declared = s.declared[:len(s.declared)-1]
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
	if stack := s.uris[prefix]; len(stack) > 0 {
		return stack[len(stack)-1], true
	}
	return "", prefix == ""
}

// guardXML scans data and returns a *Fault for anything the guard refuses.
// data must already be UTF-8 (see repairUTF8). It also builds the tree of
// the envelope from the same tokens (xmlScan.doc), so that the envelope is
// tokenised once: every token is checked before it is added to the tree,
// and a refused envelope's partial tree is dropped.
func guardXML(data []byte, lim Limits) (*xmlScan, error) {
	var unsupported string
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if isASCIILabel(label) {
			return in, nil
		}
		unsupported = label
		return nil, errors.New("unsupported encoding")
	}

	scan := &xmlScan{}
	// Room for the nesting of real messages (ten levels) up front.
	var (
		names    = make([]xml.Name, 0, 16) // open elements, as written (prefix, local)
		scope    = nsScope{uris: make(map[string][]string, 8), declared: make([][]string, 0, 16)}
		elements int
		rootSeen bool
		// declOK: only whitespace so far, so an XML declaration may
		// still come (strictly it must be first; some stacks put a
		// newline before it, which is harmless).
		declOK = true
		// tree is nil once the builder gave up (maxTreeAttributes).
		tree = newTreeBuilder()
	)
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			if unsupported != "" {
				return nil, encodingFault(unsupported)
			}
			return nil, malformedXML(err)
		}
		wasDeclOK := declOK
		if cd, ok := tok.(xml.CharData); !ok || len(bytes.TrimSpace(cd)) > 0 {
			declOK = false
		}
		switch t := tok.(type) {
		case xml.StartElement:
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
			if len(t.Attr) > maxAttributes {
				return nil, &Fault{Code: FaultSender, HTTPStatus: 413,
					Reason: "an XML element has more than " + strconv.Itoa(maxAttributes) + " attributes"}
			}
			if dup, ok := duplicateAttr(t.Attr); ok {
				return nil, refuse("an XML element has a duplicate attribute", "attribute "+rawName(dup))
			}
			var prefixes, uris []string
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns":
					if a.Value == "" {
						return nil, refuse("an XML namespace prefix is bound to an empty URI", "prefix "+a.Name.Local)
					}
					prefixes, uris = append(prefixes, a.Name.Local), append(uris, a.Value)
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					prefixes, uris = append(prefixes, ""), append(uris, a.Value)
				}
			}
			scope.push(prefixes, uris)
			uri, ok := scope.resolve(t.Name.Space)
			if !ok {
				return nil, refuse("the XML uses an undeclared namespace prefix", "prefix "+t.Name.Space)
			}
			for _, a := range t.Attr {
				if a.Name.Space == "" || a.Name.Space == "xmlns" {
					continue
				}
				if _, ok := scope.resolve(a.Name.Space); !ok {
					return nil, refuse("the XML uses an undeclared namespace prefix", "prefix "+a.Name.Space)
				}
			}
			if uri == NSXOP && t.Name.Local == "Include" {
				scan.includes = append(scan.includes, rawAttrValue(t.Attr, "href"))
			}
			names = append(names, t.Name)
			if tree != nil && !tree.start(t) {
				tree = nil
			}
		case xml.EndElement:
			if len(names) == 0 || names[len(names)-1] != t.Name {
				return nil, refuse("the request is not well-formed XML", "mismatched end tag "+rawName(t.Name))
			}
			names = names[:len(names)-1]
			scope.pop()
			if tree != nil {
				tree.end()
			}
		case xml.CharData:
			if len(names) == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, refuse("the request is not well-formed XML", "text outside the root element")
			}
			if tree != nil {
				tree.text(t)
			}
		case xml.Directive:
			// <!DOCTYPE ...>, and with it any internal or external entity
			// declaration, is never legitimate in SOAP (SOAP 1.2 Part 1 §5).
			return nil, refuse("DTDs and entity declarations are not allowed", "")
		case xml.ProcInst:
			if t.Target == "xml" && !wasDeclOK {
				return nil, refuse("the request is not well-formed XML", "XML declaration not at the start")
			}
			if tree != nil {
				tree.top().CreateProcInst(t.Target, string(t.Inst))
			}
		case xml.Comment:
			if tree != nil {
				tree.top().CreateComment(string(t))
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
		scan.doc = tree.doc
	}
	return scan, nil
}

// duplicateAttr finds an attribute written twice (the decoder keeps both;
// the tree builder would silently keep the last).
func duplicateAttr(attrs []xml.Attr) (xml.Name, bool) {
	if len(attrs) < 2 {
		return xml.Name{}, false
	}
	if len(attrs) <= 8 {
		// Cheaper than a map for the few attributes real elements have.
		for i := 1; i < len(attrs); i++ {
			for j := range i {
				if attrs[i].Name == attrs[j].Name {
					return attrs[i].Name, true
				}
			}
		}
		return xml.Name{}, false
	}
	seen := make(map[xml.Name]bool, len(attrs))
	for _, a := range attrs {
		if seen[a.Name] {
			return a.Name, true
		}
		seen[a.Name] = true
	}
	return xml.Name{}, false
}

// rawName renders a raw (unresolved) name as written.
func rawName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// rawAttrValue returns the value of the unprefixed attribute local.
func rawAttrValue(attrs []xml.Attr, local string) string {
	for _, a := range attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
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
type treeBuilder struct {
	doc   *etree.Document
	stack []*etree.Element
}

func newTreeBuilder() *treeBuilder {
	doc := etree.NewDocument()
	stack := make([]*etree.Element, 1, 16)
	stack[0] = &doc.Element
	return &treeBuilder{doc: doc, stack: stack}
}

// top is the element tokens are added to.
func (b *treeBuilder) top() *etree.Element { return b.stack[len(b.stack)-1] }

// start adds an element; false means the builder gives up (see
// maxTreeAttributes).
func (b *treeBuilder) start(t xml.StartElement) bool {
	if len(t.Attr) > maxTreeAttributes {
		return false
	}
	e := &etree.Element{Space: t.Name.Space, Tag: t.Name.Local}
	if len(t.Attr) > 0 {
		e.Attr = make([]etree.Attr, 0, len(t.Attr))
	}
	for _, a := range t.Attr {
		// CreateAttr would split the key at its first colon, which for
		// names like ":a" or "a:" (kept whole by the decoder) differs
		// from the decoder's split that etree's reader uses: add under
		// an empty key, which no decoded attribute has, then name it.
		at := e.CreateAttr("", a.Value)
		at.Space, at.Key = a.Name.Space, a.Name.Local
	}
	b.top().AddChild(e)
	b.stack = append(b.stack, e)
	return true
}

// end closes the current element.
func (b *treeBuilder) end() { b.stack = b.stack[:len(b.stack)-1] }

// text adds character data, flagged as whitespace when it is only that.
func (b *treeBuilder) text(t xml.CharData) {
	b.top().CreateText("").SetData(string(t))
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
