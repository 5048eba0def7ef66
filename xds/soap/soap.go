package soap

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// SOAP 1.2 roles a header block may target (SOAP 1.2 Part 1 §2.2). Only
// blocks targeted at kjdd are checked for mustUnderstand.
const (
	roleNext             = NSSOAP12 + "/role/next"
	roleUltimateReceiver = NSSOAP12 + "/role/ultimateReceiver"
)

// wsaAnonymous is the WS-Addressing anonymous address: "answer on the
// HTTP response".
const wsaAnonymous = NSWSA + "/anonymous"

// Message is a SOAP 1.2 message read by ReadMessage: the parsed envelope,
// the WS-Addressing headers kjdd acts on, and, for MTOM, the MIME parts
// that xop:Include elements refer to. A Message that holds MIME parts must
// be closed to remove spooled files.
type Message struct {
	// Doc is the whole envelope. Signature verification of the SAML
	// assertion works on this tree.
	Doc *etree.Document
	// Envelope, Header and Body are the SOAP elements; Header is nil when
	// the message has none. BodyRoot is the first element in the Body.
	Envelope, Header, Body, BodyRoot *etree.Element

	// Action is wsa:Action (always present in a message ReadMessage
	// returns). MessageID, To, RelatesTo are the wsa headers of that name
	// and ReplyTo the wsa:Address inside wsa:ReplyTo; each is empty when
	// absent. All are trimmed of surrounding white space.
	Action, MessageID, To, ReplyTo, RelatesTo string

	// Security is the wsse:Security header element, or nil.
	Security *etree.Element

	// MTOM reports that the message arrived as multipart/related
	// (MTOM/XOP), even if it carried no attachment.
	MTOM bool
	// EncodingRepaired reports that the envelope declared UTF-8 but held
	// bytes that are not UTF-8, which were read as ISO-8859-1.
	EncodingRepaired bool

	parts map[string]*Part // by Content-ID, without angle brackets
	// assertions are the saml:Assertion elements built without children
	// (assertion.go).
	assertions []keptAssertion
	// xua is what the message offers as an XUA credential.
	xua SecurityHeader
	// remember is the memo entry of the XUA assertion, scanned in full by
	// this message's guard, and memo the reader's memo it goes into when
	// the assertion is verified (nil: nothing to remember).
	remember *scannedAssertion
	memo     *assertionMemo
	// slabs hold the tree's tokens; Close returns them.
	slabs  *treeSlabs
	closed bool
}

// Read reads a SOAP 1.2 message of the given HTTP Content-Type:
// application/soap+xml, or MTOM (multipart/related; type="application/xop+xml").
// Every refusal is a *Fault whose Reason tells the sender what to fix:
// SOAP 1.1 (text/xml, or the SOAP 1.1 envelope namespace) is a
// VersionMismatch; DTDs, oversized or over-deep XML, broken multipart and a
// missing wsa:Action are Sender faults; a mustUnderstand header kjdd does not
// understand is a MustUnderstand fault. The encoding rules are described in
// xmlguard.go.
func (rd *Reader) Read(r io.Reader, contentType string) (*Message, error) {
	lim := rd.limits
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, &Fault{Code: FaultSender, HTTPStatus: 415,
			Reason: "the Content-Type header is missing or malformed; send application/soap+xml or MTOM multipart/related"}
	}
	switch mediaType {
	case "application/soap+xml":
		if err := checkCharset(params); err != nil {
			return nil, err
		}
		// The body is read into a pooled buffer that goes back to the
		// pool once parsed: the tree and the assertion sources hold
		// copies of what they need (TestMessageOwnsItsBytes).
		buf := rd.body()
		defer rd.releaseBody(buf)
		data, err := readAtMost(buf, r, lim.MaxBodyBytes)
		if err != nil {
			return nil, err
		}
		return rd.parseEnvelope(data, nil)
	case "multipart/related":
		return rd.readMTOM(r, params)
	case "text/xml":
		return nil, versionMismatch("SOAP 1.1 (text/xml) is not supported; send SOAP 1.2 (application/soap+xml)")
	default:
		return nil, &Fault{Code: FaultSender, HTTPStatus: 415,
			Reason: "unsupported Content-Type; send application/soap+xml or MTOM multipart/related",
			Detail: "media type " + strconv.Quote(mediaType)}
	}
}

// readAtMost reads all of r into buf, refusing more than max bytes.
func readAtMost(buf *bytes.Buffer, r io.Reader, max int64) ([]byte, error) {
	buf.Reset()
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, &Fault{Code: FaultSender, Reason: "the request body could not be read", Detail: err.Error()}
	}
	if n > max {
		return nil, tooLarge("the SOAP envelope", max)
	}
	return buf.Bytes(), nil
}

// tooLarge is the fault for anything over a size limit.
func tooLarge(what string, max int64) *Fault {
	return &Fault{Code: FaultSender, HTTPStatus: 413,
		Reason: what + " is larger than the limit of " + strconv.FormatInt(max, 10) + " bytes"}
}

// checkCharset refuses a charset parameter other than UTF-8.
func checkCharset(params map[string]string) error {
	cs, ok := params["charset"]
	if !ok || isASCIILabel(cs) {
		return nil
	}
	return encodingFault(cs)
}

// versionMismatch is the SOAP 1.2 VersionMismatch fault.
func versionMismatch(reason string) *Fault {
	return &Fault{Code: FaultVersionMismatch, Reason: reason}
}

// parseEnvelope guards, parses and binds one envelope. parts is nil for a
// plain SOAP message; on error the caller still owns (and closes) parts.
func (rd *Reader) parseEnvelope(data []byte, parts map[string]*Part) (*Message, error) {
	lim := rd.limits
	data, repaired, err := prepareXML(data)
	if err != nil {
		return nil, err
	}
	// One pass: the guard checks each token and builds the tree from it.
	scan, err := guardXML(data, lim, rd.memo, &rd.slabs)
	if err != nil {
		return nil, err
	}
	doc := scan.doc
	if doc == nil {
		// The guard passed the envelope but did not build it (see
		// maxTreeAttributes): etree reads it, as it reads any envelope.
		doc = etree.NewDocument()
		doc.ReadSettings.MaxDepth = lim.MaxDepth + 1
		if err := doc.ReadFromBytes(data); err != nil {
			return nil, malformedXML(err)
		}
	}
	doc.ReadSettings.MaxDepth = lim.MaxDepth + 1
	m := &Message{Doc: doc, MTOM: parts != nil, EncodingRepaired: repaired, parts: parts, assertions: scan.assertions, slabs: scan.slabs}
	fail := func(err error) (*Message, error) {
		m.parts = nil // the caller's to close
		m.Close()
		return nil, err
	}
	for _, href := range scan.includes {
		if parts == nil {
			return fail(refuse("xop:Include is only allowed in an MTOM (multipart/related) message", ""))
		}
		if _, err := m.resolveInclude(href); err != nil {
			return fail(err)
		}
	}
	if err := m.bindEnvelope(); err != nil {
		return fail(err)
	}
	if err := m.bindHeaders(); err != nil {
		return fail(err)
	}
	m.xua = securityHeader(scan, m.Security != nil)
	if x := scan.xua.first; x >= 0 && x < len(scan.assertions) && rd.memo != nil {
		m.remember, m.memo = scan.assertions[x].memo, rd.memo
	}
	return m, nil
}

// isSOAP reports whether el is the SOAP 1.2 element local.
func isSOAP(el *etree.Element, local string) bool {
	return el.Tag == local && el.NamespaceURI() == NSSOAP12
}

// bindEnvelope checks the SOAP 1.2 envelope structure (Header?, Body, and
// nothing after it) and sets Envelope, Header, Body and BodyRoot.
func (m *Message) bindEnvelope() error {
	root := m.Doc.Root()
	if root == nil {
		return refuse("the request contains no XML element", "")
	}
	if root.Tag != "Envelope" || root.NamespaceURI() != NSSOAP12 {
		if root.NamespaceURI() == NSSOAP11 {
			return versionMismatch("SOAP 1.1 envelopes are not supported; send SOAP 1.2")
		}
		return versionMismatch("the root element is not a SOAP 1.2 Envelope")
	}
	m.Envelope = root
	children := root.ChildElements()
	i := 0
	if i < len(children) && isSOAP(children[i], "Header") {
		m.Header = children[i]
		i++
	}
	if i >= len(children) || !isSOAP(children[i], "Body") {
		return refuse("the SOAP envelope has no Body (or an element before it other than one Header)", "")
	}
	m.Body = children[i]
	if i+1 < len(children) {
		return refuse("the SOAP envelope has elements after the Body", "")
	}
	for el := range m.Body.ChildElementsSeq() {
		m.BodyRoot = el
		break
	}
	if m.BodyRoot == nil {
		return refuse("the SOAP Body is empty", "")
	}
	return nil
}

// bindHeaders reads the WS-Addressing headers and wsse:Security, and
// applies the mustUnderstand rule to every other header block.
func (m *Message) bindHeaders() error {
	var haveAction bool
	if m.Header != nil {
		for h := range m.Header.ChildElementsSeq() {
			mu, err := mustUnderstand(h)
			if err != nil {
				return err
			}
			switch ns := h.NamespaceURI(); {
			case ns == NSWSA:
				if err := m.bindAddressing(h, &haveAction); err != nil {
					return err
				}
			case ns == NSWSSE && h.Tag == "Security":
				if m.Security != nil {
					return &Fault{Code: FaultSender, Subcode: "wsse:InvalidSecurity",
						Reason: "the message has more than one wsse:Security header"}
				}
				m.Security = h
			case mu && targetsUs(h):
				return &Fault{Code: FaultMustUnderstand,
					Reason: "header {" + ns + "}" + h.Tag + " is marked mustUnderstand but is not understood"}
			}
		}
	}
	if !haveAction {
		return &Fault{Code: FaultSender, Subcode: "wsa:MessageAddressingHeaderRequired",
			Reason: "the wsa:Action header is required"}
	}
	return nil
}

// bindAddressing records one WS-Addressing header. Action, MessageID, To,
// ReplyTo and RelatesTo may each occur once (WS-Addressing Core §3.1).
func (m *Message) bindAddressing(h *etree.Element, haveAction *bool) error {
	var dst *string
	switch h.Tag {
	case "Action":
		if *haveAction {
			return invalidAddressing("the message has more than one wsa:Action header")
		}
		*haveAction = true
		dst = &m.Action
	case "MessageID":
		dst = &m.MessageID
	case "To":
		dst = &m.To
	case "RelatesTo":
		dst = &m.RelatesTo
	case "ReplyTo":
		if m.ReplyTo != "" {
			return invalidAddressing("the message has more than one wsa:ReplyTo header")
		}
		m.ReplyTo = wsaAnonymous
		for a := range h.ChildElementsSeq() {
			if a.Tag == "Address" && a.NamespaceURI() == NSWSA {
				m.ReplyTo = strings.TrimSpace(a.Text())
			}
		}
		return nil
	default:
		// From, FaultTo, ReferenceParameters... are understood in the
		// sense that kjdd always answers on the HTTP response.
		return nil
	}
	if *dst != "" {
		return invalidAddressing("the message has more than one wsa:" + h.Tag + " header")
	}
	*dst = strings.TrimSpace(h.Text())
	if *dst == "" {
		return invalidAddressing("the wsa:" + h.Tag + " header is empty")
	}
	return nil
}

// invalidAddressing is the WS-Addressing InvalidAddressingHeader fault.
func invalidAddressing(reason string) *Fault {
	return &Fault{Code: FaultSender, Subcode: "wsa:InvalidAddressingHeader", Reason: reason}
}

// mustUnderstand reads env:mustUnderstand (xs:boolean) of a header block.
func mustUnderstand(h *etree.Element) (bool, error) {
	for _, a := range h.Attr {
		if a.Key != "mustUnderstand" || a.NamespaceURI() != NSSOAP12 {
			continue
		}
		switch strings.TrimSpace(a.Value) {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		default:
			return false, refuse("env:mustUnderstand must be true, false, 1 or 0", "")
		}
	}
	return false, nil
}

// targetsUs reports whether a header block is for kjdd as the ultimate
// receiver: no role, or the next / ultimateReceiver role.
func targetsUs(h *etree.Element) bool {
	for _, a := range h.Attr {
		if a.Key == "role" && a.NamespaceURI() == NSSOAP12 {
			role := strings.TrimSpace(a.Value)
			return role == "" || role == roleNext || role == roleUltimateReceiver
		}
	}
	return true
}

// Close removes the files that MIME parts were spooled to and returns the
// memory of its tree for reuse. Nothing of the message's tree may be used
// afterwards, nor its blobs: its tree fields are cleared, and in test and
// race builds the released tree is poisoned so that an element kept
// elsewhere fails loudly (poison.go) instead of showing another request's
// content. What the message handed out as values stays valid: strings read
// from the tree, SecurityHeader. Close is idempotent.
func (m *Message) Close() error {
	if m == nil || m.closed {
		return nil
	}
	m.closed = true
	m.assertions, m.xua, m.remember, m.memo = nil, SecurityHeader{}, nil, nil
	m.Doc, m.Envelope, m.Header, m.Body, m.BodyRoot, m.Security = nil, nil, nil, nil, nil, nil
	if m.slabs != nil {
		m.slabs.release()
		m.slabs = nil
	}
	return closeParts(m.parts)
}

// closeParts removes every spooled part.
func closeParts(parts map[string]*Part) error {
	var errs []error
	for _, p := range parts {
		if err := p.remove(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
