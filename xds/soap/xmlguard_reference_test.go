package soap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"sync"
)

// guardXMLDecoder is the guard as it was written over encoding/xml's
// Decoder, kept as the oracle the scanner-based guardXML is held to: for
// every input both must accept or both refuse, and build the same tree.
// data must already be UTF-8 (see repairUTF8). It also builds the tree of
// the envelope from the same tokens (xmlScan.doc), so that the envelope is
// tokenised once: every token is checked before it is added to the tree,
// and a refused envelope's partial tree is dropped.
func guardXMLDecoder(data []byte, lim Limits) (*xmlScan, error) {
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
		scope    = newNSScope()
		elements int
		rootSeen bool
		// declOK: only whitespace so far, so an XML declaration may
		// still come (strictly it must be first; some stacks put a
		// newline before it, which is harmless).
		declOK = true
		// tree is nil once the builder gave up (maxTreeAttributes).
		tree = newTreeBuilder(new(sync.Pool))
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
			if dup, ok := decoderDuplicateAttr(t.Attr); ok {
				return nil, refuse("an XML element has a duplicate attribute", "attribute "+dup.Space+":"+dup.Local)
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
				scan.includes = append(scan.includes, decoderAttrValue(t.Attr, "href"))
			}
			names = append(names, t.Name)
			if tree != nil && !tree.start(decoderStart(t)) {
				tree = nil
			}
		case xml.EndElement:
			if len(names) == 0 || names[len(names)-1] != t.Name {
				return nil, refuse("the request is not well-formed XML", "mismatched end tag "+t.Name.Local)
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
				tree.text([]byte(t))
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

// decoderDuplicateAttr finds an attribute written twice.
func decoderDuplicateAttr(attrs []xml.Attr) (xml.Name, bool) {
	seen := make(map[xml.Name]bool, len(attrs))
	for _, a := range attrs {
		if seen[a.Name] {
			return a.Name, true
		}
		seen[a.Name] = true
	}
	return xml.Name{}, false
}

// decoderAttrValue returns the value of the unprefixed attribute local.
func decoderAttrValue(attrs []xml.Attr, local string) string {
	for _, a := range attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// decoderStart converts a decoder token for the tree builder.
func decoderStart(t xml.StartElement) (scanName, []scanAttr) {
	attrs := make([]scanAttr, len(t.Attr))
	for i, a := range t.Attr {
		attrs[i] = scanAttr{name: scanName{prefix: a.Name.Space, local: a.Name.Local}, value: a.Value}
	}
	return scanName{prefix: t.Name.Space, local: t.Name.Local}, attrs
}
