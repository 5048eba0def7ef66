package helseid

import (
	"errors"
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

// Assertion is an XUA assertion as the SOAP reader kept it: its exact bytes,
// from "<" to the end of its end tag, and the namespace bindings in scope at
// its start tag (prefix, URI; the default namespace under ""), sorted by
// prefix. Together they determine its tree exactly; Tree builds it, and
// only when the assertion must be verified. It is the one form in which an
// assertion reaches helseid (soap.AssertionSource on the other side of the
// adapter, the same value), and what a verification is reused by. Raw is
// never modified by anyone.
type Assertion struct {
	Raw        []byte
	Namespaces [][2]string
}

// Tree builds the assertion's tree: the bytes are read inside an element
// that declares the inherited bindings, so that they mean what they meant
// in the message. The element returned is the assertion, a child of that
// wrapper.
func (a Assertion) Tree() (*etree.Element, error) {
	var b strings.Builder
	b.Grow(len(a.Raw) + 64)
	b.WriteString("<kjdd-wrapper")
	for _, ns := range a.Namespaces {
		if ns[0] == "" {
			b.WriteString(` xmlns="`)
		} else {
			b.WriteString(" xmlns:" + ns[0] + `="`)
		}
		b.WriteString(attrEscaper.Replace(ns[1]))
		b.WriteString(`"`)
	}
	b.WriteString(">")
	b.Write(a.Raw)
	b.WriteString("</kjdd-wrapper>")
	doc := etree.NewDocument()
	if err := doc.ReadFromString(b.String()); err != nil {
		return nil, fmt.Errorf("helseid: assertion does not parse: %w", err)
	}
	kids := doc.Root().ChildElements()
	if len(kids) != 1 || len(doc.Root().Child) != 1 {
		return nil, errors.New("helseid: assertion source is not one element")
	}
	return kids[0], nil
}

// attrEscaper escapes a value for a double-quoted attribute, keeping
// white space exactly (a reader would otherwise see a raw CR as LF).
var attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;", "\t", "&#9;", "\n", "&#10;", "\r", "&#13;")

// SecurityHeader is what a SOAP message offers as an XUA credential, as
// its reader saw it in one pass over the whole message (soap.SecurityHeader
// on the other side of the adapter).
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
	// Assertion is that first one when it is a SAML 2.0 saml:Assertion.
	Assertion Assertion
}

// sole applies the rules against signature wrapping: exactly one
// assertion in the whole message, a SAML 2.0 assertion that is a direct
// child of wsse:Security. It returns that assertion.
func (h SecurityHeader) sole() (Assertion, error) {
	switch {
	case !h.Present:
		return Assertion{}, authErr(InvalidSecurity, "no wsse:Security header")
	case h.Assertions == 0:
		return Assertion{}, authErr(InvalidSecurity, "no SAML assertion")
	case h.Assertions > 1:
		return Assertion{}, authErr(InvalidSecurity, fmt.Sprintf("%d assertions in the message", h.Assertions))
	case h.Local != "Assertion" || h.Space != nsSAML2 || h.Assertion.Raw == nil:
		return Assertion{}, authErr(InvalidSecurity, "assertion is not a SAML 2.0 assertion")
	case !h.InSecurity:
		return Assertion{}, authErr(InvalidSecurity, "assertion is not a direct child of wsse:Security")
	}
	return h.Assertion, nil
}

// SecurityHeaderOf reads the credential of a parsed envelope from its tree,
// for callers that hold one (tests, tools): security is the wsse:Security
// header element, or nil. The assertion is serialised with its in-scope
// namespaces declared on itself.
func SecurityHeaderOf(security *etree.Element) (SecurityHeader, error) {
	if security == nil {
		return SecurityHeader{}, nil
	}
	if security.Tag != "Security" || security.NamespaceURI() != nsWSSE {
		return SecurityHeader{}, authErr(InvalidSecurity, "header element is not wsse:Security")
	}
	h := SecurityHeader{Present: true}
	root := security
	for root.Parent() != nil {
		root = root.Parent()
	}
	var first *etree.Element
	var walk func(*etree.Element)
	walk = func(e *etree.Element) {
		if e.Tag == "Assertion" || e.Tag == "EncryptedAssertion" {
			h.Assertions++
			if first == nil {
				first = e
			}
		}
		for _, c := range e.Child {
			if c, ok := c.(*etree.Element); ok {
				walk(c)
			}
		}
	}
	walk(root)
	if first == nil {
		return h, nil
	}
	h.Space, h.Local, h.InSecurity = first.NamespaceURI(), first.Tag, first.Parent() == security
	if h.Local == "Assertion" && h.Space == nsSAML2 {
		raw, err := detach(first)
		if err != nil {
			return SecurityHeader{}, err
		}
		h.Assertion = Assertion{Raw: raw}
	}
	return h, nil
}
