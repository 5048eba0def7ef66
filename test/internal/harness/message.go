package harness

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"

	"github.com/beevik/etree"
)

// Namespaces the harness reads.
const (
	nsSOAP12 = "http://www.w3.org/2003/05/soap-envelope"
	nsWSA    = "http://www.w3.org/2005/08/addressing"
	nsXOP    = "http://www.w3.org/2004/08/xop/include"
	nsRIM    = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
	nsRS     = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
	nsXDSB   = "urn:ihe:iti:xds-b:2007"
)

// Limits of the message parser (it also parses untrusted fuzz input).
const (
	maxParts    = 64
	maxPartSize = 256 << 20
)

// Message is a parsed SOAP 1.2 message, plain or MTOM.
type Message struct {
	// MTOM is true when the message was multipart/related.
	MTOM bool
	// Root is the SOAP envelope; for MTOM with every xop:Include replaced
	// by the base64 of the part it references.
	Root []byte
	// Doc is Root parsed; Envelope its root element.
	Doc      *etree.Document
	Envelope *etree.Element
	Header   *etree.Element
	// Body is the first element child of env:Body (nil for an empty body).
	Body *etree.Element
	// WS-Addressing headers.
	Action, MessageID, RelatesTo string
	// Attachments are the non-root MIME parts by Content-ID (without <>).
	Attachments map[string][]byte
}

// Response is an HTTP response carrying a SOAP message.
type Response struct {
	*Message
	StatusCode int
	Header     map[string][]string
	Raw        []byte
}

// ParseMessage parses an HTTP body with its Content-Type as a SOAP 1.2
// message: application/soap+xml, or multipart/related (MTOM/XOP) whose
// root part is found by the start parameter (else the first part).
func ParseMessage(contentType string, body []byte) (*Message, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, fmt.Errorf("content-type %q: %w", contentType, err)
	}
	switch mt {
	case "application/soap+xml":
		return parseEnvelope(body, false, nil)
	case "multipart/related":
		return parseMTOM(params, body)
	default:
		return nil, fmt.Errorf("content-type %q is neither application/soap+xml nor multipart/related", mt)
	}
}

func parseMTOM(params map[string]string, body []byte) (*Message, error) {
	if params["type"] != "application/xop+xml" {
		return nil, fmt.Errorf("multipart/related type %q, want application/xop+xml", params["type"])
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, errors.New("multipart/related without boundary")
	}
	start := strings.Trim(params["start"], "<>")
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var root []byte
	rootFound := false
	parts := map[string][]byte{}
	for i := 0; ; i++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("mime part %d: %w", i, err)
		}
		if i >= maxParts {
			return nil, fmt.Errorf("more than %d mime parts", maxParts)
		}
		b, err := io.ReadAll(io.LimitReader(p, maxPartSize+1))
		if err != nil {
			return nil, fmt.Errorf("mime part %d: %w", i, err)
		}
		if len(b) > maxPartSize {
			return nil, fmt.Errorf("mime part %d larger than %d bytes", i, maxPartSize)
		}
		if enc := strings.ToLower(p.Header.Get("Content-Transfer-Encoding")); enc == "base64" {
			dec, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
			if err != nil {
				return nil, fmt.Errorf("mime part %d: base64: %w", i, err)
			}
			b = dec
		}
		id := strings.Trim(p.Header.Get("Content-ID"), "<> ")
		isRoot := !rootFound && ((start == "" && i == 0) || (start != "" && id == start))
		if isRoot {
			ct, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
			if err != nil || ct != "application/xop+xml" {
				return nil, fmt.Errorf("root part content-type %q, want application/xop+xml", p.Header.Get("Content-Type"))
			}
			root, rootFound = b, true
			continue
		}
		if _, dup := parts[id]; dup {
			return nil, fmt.Errorf("duplicate Content-ID %q", id)
		}
		parts[id] = b
	}
	if !rootFound {
		return nil, fmt.Errorf("no root part (start=%q)", start)
	}
	return parseEnvelope(root, true, parts)
}

func parseEnvelope(root []byte, mtom bool, parts map[string][]byte) (*Message, error) {
	doc := etree.NewDocument()
	doc.ReadSettings.Permissive = false
	if err := doc.ReadFromBytes(root); err != nil {
		return nil, fmt.Errorf("xml: %w", err)
	}
	env := doc.Root()
	if env == nil || env.Tag != "Envelope" || env.NamespaceURI() != nsSOAP12 {
		return nil, errors.New("root element is not a SOAP 1.2 Envelope")
	}
	m := &Message{MTOM: mtom, Doc: doc, Envelope: env, Attachments: parts}
	if mtom {
		if err := resolveXOP(env, parts); err != nil {
			return nil, err
		}
		b, err := doc.WriteToBytes()
		if err != nil {
			return nil, err
		}
		m.Root = b
	} else {
		m.Root = root
	}
	var body *etree.Element
	for _, c := range env.ChildElements() {
		if c.NamespaceURI() != nsSOAP12 {
			continue
		}
		switch c.Tag {
		case "Header":
			m.Header = c
		case "Body":
			body = c
		}
	}
	if body == nil {
		return nil, errors.New("envelope has no Body")
	}
	if kids := body.ChildElements(); len(kids) > 0 {
		m.Body = kids[0]
	}
	if m.Header != nil {
		for _, h := range m.Header.ChildElements() {
			if h.NamespaceURI() != nsWSA {
				continue
			}
			switch h.Tag {
			case "Action":
				m.Action = strings.TrimSpace(h.Text())
			case "MessageID":
				m.MessageID = strings.TrimSpace(h.Text())
			case "RelatesTo":
				m.RelatesTo = strings.TrimSpace(h.Text())
			}
		}
	}
	return m, nil
}

// resolveXOP replaces each xop:Include by the base64 of the part its href
// names: the XOP infoset the schemas are written for.
func resolveXOP(root *etree.Element, parts map[string][]byte) error {
	var includes []*etree.Element
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		for _, c := range e.ChildElements() {
			if c.Tag == "Include" && c.NamespaceURI() == nsXOP {
				includes = append(includes, c)
				continue
			}
			walk(c)
		}
	}
	walk(root)
	for _, inc := range includes {
		href := inc.SelectAttrValue("href", "")
		if !strings.HasPrefix(href, "cid:") {
			return fmt.Errorf("xop:Include href %q is not a cid: URL", href)
		}
		id, err := url.PathUnescape(strings.TrimPrefix(href, "cid:"))
		if err != nil {
			return fmt.Errorf("xop:Include href %q: %w", href, err)
		}
		b, ok := parts[id]
		if !ok {
			return fmt.Errorf("xop:Include references missing part %q", id)
		}
		parent := inc.Parent()
		if len(parent.ChildElements()) != 1 || strings.TrimSpace(parent.Text()) != "" {
			return fmt.Errorf("xop:Include in <%s> is not its only content", parent.Tag)
		}
		parent.RemoveChild(inc)
		parent.SetText(base64.StdEncoding.EncodeToString(b))
	}
	return nil
}

// BodyDocument returns the body's root element as a document of its own,
// with the namespace declarations in scope copied onto it, so that it can be
// validated strictly (the SOAP Body itself is lax).
func (m *Message) BodyDocument() ([]byte, error) {
	if m.Body == nil {
		return nil, errors.New("empty SOAP Body")
	}
	c := m.Body.Copy()
	have := map[string]bool{}
	for _, a := range c.Attr {
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			have[a.FullKey()] = true
		}
	}
	for e := m.Body.Parent(); e != nil; e = e.Parent() {
		for _, a := range e.Attr {
			isNS := a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns")
			if isNS && !have[a.FullKey()] {
				have[a.FullKey()] = true
				c.CreateAttr(a.FullKey(), a.Value)
			}
		}
	}
	d := etree.NewDocument()
	d.SetRoot(c)
	return d.WriteToBytes()
}

// SOAPFault is the content of a SOAP 1.2 Fault.
type SOAPFault struct {
	Code    string // local part of env:Code/env:Value, e.g. "Sender"
	Subcode string // env:Subcode/env:Value as written, e.g. "wsa:ActionNotSupported"
	Reason  string
}

// String implements fmt.Stringer.
func (f *SOAPFault) String() string {
	return fmt.Sprintf("%s/%s %q", f.Code, f.Subcode, f.Reason)
}

// SubcodeLocal is the local part of the subcode QName.
func (f *SOAPFault) SubcodeLocal() string {
	if i := strings.LastIndex(f.Subcode, ":"); i >= 0 {
		return f.Subcode[i+1:]
	}
	return f.Subcode
}

// Fault returns the Fault in the body, or nil when the body is not one.
func (m *Message) Fault() *SOAPFault {
	if m == nil || m.Body == nil || m.Body.Tag != "Fault" || m.Body.NamespaceURI() != nsSOAP12 {
		return nil
	}
	f := &SOAPFault{}
	if code := child(m.Body, nsSOAP12, "Code"); code != nil {
		if v := child(code, nsSOAP12, "Value"); v != nil {
			f.Code = localName(strings.TrimSpace(v.Text()))
		}
		if sub := child(code, nsSOAP12, "Subcode"); sub != nil {
			if v := child(sub, nsSOAP12, "Value"); v != nil {
				f.Subcode = strings.TrimSpace(v.Text())
			}
		}
	}
	if r := child(m.Body, nsSOAP12, "Reason"); r != nil {
		if txt := child(r, nsSOAP12, "Text"); txt != nil {
			f.Reason = strings.TrimSpace(txt.Text())
		}
	}
	return f
}

// Status is the body root's status attribute (RegistryResponse,
// AdhocQueryResponse, RetrieveDocumentSetResponse/RegistryResponse).
func (m *Message) Status() string {
	if m == nil || m.Body == nil {
		return ""
	}
	if s := m.Body.SelectAttrValue("status", ""); s != "" {
		return s
	}
	if rr := child(m.Body, nsRS, "RegistryResponse"); rr != nil {
		return rr.SelectAttrValue("status", "")
	}
	return ""
}

// RegistryError is one rs:RegistryError of a response.
type RegistryError struct {
	Code, Severity, Location, Context string
}

// RegistryErrors returns every rs:RegistryError in the body.
func (m *Message) RegistryErrors() []RegistryError {
	var out []RegistryError
	if m == nil || m.Body == nil {
		return nil
	}
	for _, e := range descendants(m.Body, nsRS, "RegistryError") {
		out = append(out, RegistryError{
			Code:     e.SelectAttrValue("errorCode", ""),
			Severity: e.SelectAttrValue("severity", ""),
			Location: e.SelectAttrValue("location", ""),
			Context:  e.SelectAttrValue("codeContext", ""),
		})
	}
	return out
}

// ErrorCodes lists the errorCode of every RegistryError.
func (m *Message) ErrorCodes() []string {
	var out []string
	for _, e := range m.RegistryErrors() {
		out = append(out, e.Code)
	}
	return out
}

// Contents counts the objects of a query response's RegistryObjectList the
// way NIST's ExpectedContents does.
type Contents struct {
	Documents, SubmissionSets, Folders, Associations, ObjectRefs int
	// Unclassified counts RegistryPackages that are neither (an error).
	Unclassified int
}

// Contents counts the objects in the body's rim:RegistryObjectList.
func (m *Message) Contents() Contents {
	var c Contents
	list := m.RegistryObjectList()
	if list == nil {
		return c
	}
	ssNode := "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
	folNode := "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"
	kind := map[string]string{} // RegistryPackage id -> node of a top-level Classification
	for _, e := range list.ChildElements() {
		if e.Tag == "Classification" && e.NamespaceURI() == nsRIM {
			kind[e.SelectAttrValue("classifiedObject", "")] = e.SelectAttrValue("classificationNode", "")
		}
	}
	for _, e := range list.ChildElements() {
		if e.NamespaceURI() != nsRIM {
			continue
		}
		switch e.Tag {
		case "ExtrinsicObject":
			c.Documents++
		case "Association":
			c.Associations++
		case "ObjectRef":
			c.ObjectRefs++
		case "RegistryPackage":
			node := kind[e.SelectAttrValue("id", "")]
			for _, cl := range e.ChildElements() {
				if cl.Tag == "Classification" && cl.NamespaceURI() == nsRIM && cl.SelectAttrValue("classificationNode", "") != "" {
					node = cl.SelectAttrValue("classificationNode", "")
				}
			}
			switch node {
			case ssNode:
				c.SubmissionSets++
			case folNode:
				c.Folders++
			default:
				c.Unclassified++
			}
		}
	}
	return c
}

// RegistryObjectList returns the first rim:RegistryObjectList in the body
// (a query response's, or a submission's inside SubmitObjectsRequest), or nil.
func (m *Message) RegistryObjectList() *etree.Element {
	if m == nil || m.Body == nil {
		return nil
	}
	if l := descendants(m.Body, nsRIM, "RegistryObjectList"); len(l) > 0 {
		return l[0]
	}
	return nil
}

// Objects returns the element children of the RegistryObjectList.
func (m *Message) Objects() []*etree.Element {
	list := m.RegistryObjectList()
	if list == nil {
		return nil
	}
	return list.ChildElements()
}

// Documents returns the documents of a RetrieveDocumentSetResponse by
// DocumentUniqueId, decoded (after XOP reconstitution).
func (m *Message) Documents() (map[string][]byte, error) {
	out := map[string][]byte{}
	if m == nil || m.Body == nil {
		return out, nil
	}
	for _, dr := range m.Body.ChildElements() {
		if dr.Tag != "DocumentResponse" || dr.NamespaceURI() != nsXDSB {
			continue
		}
		uid := child(dr, nsXDSB, "DocumentUniqueId")
		doc := child(dr, nsXDSB, "Document")
		if uid == nil || doc == nil {
			return nil, errors.New("DocumentResponse without DocumentUniqueId or Document")
		}
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(doc.Text()), ""))
		if err != nil {
			return nil, fmt.Errorf("document %s: %w", strings.TrimSpace(uid.Text()), err)
		}
		out[strings.TrimSpace(uid.Text())] = b
	}
	return out, nil
}

func child(e *etree.Element, ns, tag string) *etree.Element {
	for _, c := range e.ChildElements() {
		if c.Tag == tag && c.NamespaceURI() == ns {
			return c
		}
	}
	return nil
}

func descendants(e *etree.Element, ns, tag string) []*etree.Element {
	var out []*etree.Element
	for _, c := range e.ChildElements() {
		if c.Tag == tag && c.NamespaceURI() == ns {
			out = append(out, c)
		}
		out = append(out, descendants(c, ns, tag)...)
	}
	return out
}

func localName(qname string) string {
	if i := strings.LastIndex(qname, ":"); i >= 0 {
		return qname[i+1:]
	}
	return qname
}
