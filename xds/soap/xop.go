package soap

import (
	"encoding/base64"
	"errors"
	"io"
	"net/url"
	"strings"

	"github.com/beevik/etree"
)

// SizedBlob is a Blob that knows its decoded size. Every Blob that
// Message.Blob returns is one.
type SizedBlob interface {
	Blob
	// Size is the decoded size in bytes.
	Size() int64
}

// Blob returns the content of el, an element of base64Binary type such as
// xds-b:Document: either its base64 text or, in an MTOM message, the MIME
// part its single xop:Include child refers to. The part must be in the
// message; base64 text must decode. Errors are *Fault (Sender).
func (m *Message) Blob(el *etree.Element) (Blob, error) {
	MustBeLive(el)
	if el == nil {
		return nil, errors.New("xds: Blob of a nil element")
	}
	var (
		include *etree.Element
		text    strings.Builder
	)
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.Element:
			if include != nil || t.Tag != "Include" || t.NamespaceURI() != NSXOP {
				return nil, refuse("binary content must be base64 text or a single xop:Include", "element "+el.Tag)
			}
			include = t
		case *etree.CharData:
			text.WriteString(t.Data)
		}
	}
	if include == nil {
		b, err := newInlineBlob(text.String())
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	if strings.TrimSpace(text.String()) != "" {
		return nil, refuse("binary content must be base64 text or a single xop:Include, not both", "element "+el.Tag)
	}
	if m.parts == nil {
		return nil, refuse("xop:Include is only allowed in an MTOM (multipart/related) message", "")
	}
	if m.closed {
		return nil, errors.New("xds: Blob of a closed message")
	}
	p, err := m.resolveInclude(include.SelectAttrValue("href", ""))
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Part returns the attachment with the given Content-ID (without angle
// brackets), or nil.
func (m *Message) Part(contentID string) *Part {
	return m.parts[contentID]
}

// resolveInclude finds the part an xop:Include href names. A cid: URL is
// URL-encoded while a Content-ID is not (RFC 2392); an href some stack
// forgot to encode is tried as written too.
func (m *Message) resolveInclude(href string) (*Part, error) {
	if len(href) < 4 || !strings.EqualFold(href[:4], "cid:") {
		return nil, refuse("xop:Include href must be a cid: URL", "")
	}
	raw := href[4:]
	if id, err := url.PathUnescape(raw); err == nil {
		if p := m.parts[id]; p != nil {
			return p, nil
		}
	}
	if p := m.parts[raw]; p != nil {
		return p, nil
	}
	return nil, refusef("xop:Include refers to a MIME part that is not in the message", "href %q", maskDigits(href))
}

// XOPInclude returns an xop:Include element referring to the MIME part
// with Content-ID cid, to be put inside an element such as xds-b:Document.
func XOPInclude(cid string) *etree.Element {
	el := etree.NewElement("xop:Include")
	el.CreateAttr("xmlns:xop", NSXOP)
	el.CreateAttr("href", "cid:"+url.PathEscape(cid))
	return el
}

// inlineBlob is base64 content inline in the envelope. It keeps the text
// as received and decodes on every Open, so that a large inline document
// is not held twice.
type inlineBlob struct {
	text string
	size int64
}

// newInlineBlob validates base64 text (white space allowed anywhere) and
// measures its decoded size.
func newInlineBlob(text string) (*inlineBlob, error) {
	b := &inlineBlob{text: text}
	rc, _ := b.Open()
	n, err := io.Copy(io.Discard, rc)
	if err != nil {
		return nil, refuse("binary content is not valid base64", "")
	}
	b.size = n
	return b, nil
}

// Open implements Blob.
func (b *inlineBlob) Open() (io.ReadCloser, error) {
	return io.NopCloser(base64.NewDecoder(base64.StdEncoding, &xmlSpaceSkipper{r: strings.NewReader(b.text)})), nil
}

// Size implements SizedBlob.
func (b *inlineBlob) Size() int64 { return b.size }

// xmlSpaceSkipper drops XML white space, which base64Binary allows between
// characters (line breaks and indentation of pretty-printed documents).
type xmlSpaceSkipper struct {
	r io.Reader
}

// Read implements io.Reader.
func (s *xmlSpaceSkipper) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		k := 0
		for _, c := range p[:n] {
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				p[k] = c
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}

// Blob is document content received in a request: inline base64 in the
// envelope, or an MTOM part (spooled, never held whole in memory when large).
type Blob interface {
	// Open returns a fresh reader over the decoded bytes. It may be called
	// more than once.
	Open() (io.ReadCloser, error)
}
