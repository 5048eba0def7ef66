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
)

// The XML guard is a streaming pass over an envelope before it is built into
// a tree. It refuses what the tree builder would either accept silently or
// pay for in memory: DTDs and entity declarations, nesting and element counts
// beyond the limits, undeclared namespace prefixes, duplicate attributes,
// mismatched tags, and character encodings other than UTF-8.
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
// data must already be UTF-8 (see repairUTF8).
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
	var (
		names    []string // open elements, as written (prefix:local)
		scope    = nsScope{uris: make(map[string][]string)}
		elements int
		rootSeen bool
		// declOK: only whitespace so far, so an XML declaration may
		// still come (strictly it must be first; some stacks put a
		// newline before it, which is harmless).
		declOK = true
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
			names = append(names, rawName(t.Name))
		case xml.EndElement:
			if len(names) == 0 || names[len(names)-1] != rawName(t.Name) {
				return nil, refuse("the request is not well-formed XML", "mismatched end tag "+rawName(t.Name))
			}
			names = names[:len(names)-1]
			scope.pop()
		case xml.CharData:
			if len(names) == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, refuse("the request is not well-formed XML", "text outside the root element")
			}
		case xml.Directive:
			// <!DOCTYPE ...>, and with it any internal or external entity
			// declaration, is never legitimate in SOAP (SOAP 1.2 Part 1 §5).
			return nil, refuse("DTDs and entity declarations are not allowed", "")
		case xml.ProcInst:
			if t.Target == "xml" && !wasDeclOK {
				return nil, refuse("the request is not well-formed XML", "XML declaration not at the start")
			}
		}
	}
	if !rootSeen {
		return nil, refuse("the request contains no XML element", "")
	}
	if len(names) != 0 {
		return nil, refuse("the request is not well-formed XML", "unexpected end of input")
	}
	return scan, nil
}

// duplicateAttr finds an attribute written twice (the decoder keeps both;
// the tree builder would silently keep the last).
func duplicateAttr(attrs []xml.Attr) (xml.Name, bool) {
	if len(attrs) < 2 {
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
