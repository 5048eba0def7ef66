package harness

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"regexp"
	"strings"
)

// Content types of SOAP requests.
const (
	ContentTypeSOAP = `application/soap+xml; charset=UTF-8`
)

// Endpoint paths of kjdd.
const (
	PathXCA        = "/xca"
	PathRegistry   = "/xds/registry"
	PathRepository = "/xds/repository"
)

type envelopeConfig struct {
	to, messageID, replyTo string
	headers                []string
	noAction               bool
}

// EnvelopeOption changes what Envelope writes.
type EnvelopeOption func(*envelopeConfig)

// WithTo sets wsa:To (default urn:kjdd:test).
func WithTo(to string) EnvelopeOption { return func(c *envelopeConfig) { c.to = to } }

// WithMessageID sets wsa:MessageID (default a fresh urn:uuid).
func WithMessageID(id string) EnvelopeOption { return func(c *envelopeConfig) { c.messageID = id } }

// WithReplyTo adds wsa:ReplyTo with the given address.
func WithReplyTo(addr string) EnvelopeOption { return func(c *envelopeConfig) { c.replyTo = addr } }

// WithHeader adds a raw XML header block (e.g. a wsse:Security element).
func WithHeader(xml string) EnvelopeOption {
	return func(c *envelopeConfig) { c.headers = append(c.headers, xml) }
}

// WithoutAction leaves out wsa:Action (a bad-input case).
func WithoutAction() EnvelopeOption { return func(c *envelopeConfig) { c.noAction = true } }

var prolog = regexp.MustCompile(`^\s*<\?xml[^>]*\?>`)

// StripProlog removes a leading XML declaration so a document can be
// embedded in an envelope.
func StripProlog(doc string) string {
	return strings.TrimSpace(prolog.ReplaceAllString(doc, ""))
}

// Envelope wraps body in a SOAP 1.2 envelope with WS-Addressing Action
// (mustUnderstand), MessageID and To headers.
func Envelope(action, body string, opts ...EnvelopeOption) []byte {
	c := envelopeConfig{to: "urn:kjdd:test", messageID: NewUUIDURN()}
	for _, o := range opts {
		o(&c)
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing">`)
	b.WriteString("<soap:Header>")
	if !c.noAction {
		fmt.Fprintf(&b, `<wsa:Action soap:mustUnderstand="1">%s</wsa:Action>`, escape(action))
	}
	fmt.Fprintf(&b, `<wsa:MessageID>%s</wsa:MessageID>`, escape(c.messageID))
	if c.replyTo != "" {
		fmt.Fprintf(&b, `<wsa:ReplyTo><wsa:Address>%s</wsa:Address></wsa:ReplyTo>`, escape(c.replyTo))
	}
	fmt.Fprintf(&b, `<wsa:To soap:mustUnderstand="1">%s</wsa:To>`, escape(c.to))
	for _, h := range c.headers {
		b.WriteString(h)
	}
	b.WriteString("</soap:Header><soap:Body>")
	b.WriteString(StripProlog(body))
	b.WriteString("</soap:Body></soap:Envelope>")
	return []byte(b.String())
}

func escape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// NewUUIDURN returns a random (version 4) UUID as urn:uuid:….
func NewUUIDURN() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return "urn:uuid:" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// XOPInclude is the element that stands for an MTOM part inside a
// base64Binary element such as xds-b:Document.
func XOPInclude(contentID string) string {
	return `<xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:` + escape(contentID) + `"/>`
}

// Part is one attachment of an MTOM message.
type Part struct {
	ContentID   string // without <>
	ContentType string // default application/octet-stream
	Body        io.Reader
}

// MTOMWriter streams an MTOM (multipart/related, XOP) message: the SOAP
// envelope as root part, then attachments, each copied from its reader so
// that large documents are never held in memory.
type MTOMWriter struct {
	mw     *multipart.Writer
	rootID string
	action string
}

// NewMTOMWriter starts an MTOM message on w. action, when set, is added
// to the Content-Type as the SOAP 1.2 action parameter.
func NewMTOMWriter(w io.Writer, action string) *MTOMWriter {
	return &MTOMWriter{mw: multipart.NewWriter(w), rootID: "root.message@kjdd.test", action: action}
}

// ContentType is the HTTP Content-Type of the message.
func (m *MTOMWriter) ContentType() string {
	start := `application/soap+xml`
	if m.action != "" {
		start += `; action="` + m.action + `"`
	}
	return mime.FormatMediaType("multipart/related", map[string]string{
		"type":       "application/xop+xml",
		"boundary":   m.mw.Boundary(),
		"start":      "<" + m.rootID + ">",
		"start-info": start,
	})
}

// WriteRoot writes the SOAP envelope as the root part.
func (m *MTOMWriter) WriteRoot(envelope []byte) error {
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", `application/xop+xml; charset=UTF-8; type="application/soap+xml"`)
	h.Set("Content-Transfer-Encoding", "binary")
	h.Set("Content-ID", "<"+m.rootID+">")
	w, err := m.mw.CreatePart(h)
	if err != nil {
		return err
	}
	_, err = w.Write(envelope)
	return err
}

// WritePart streams one attachment.
func (m *MTOMWriter) WritePart(p Part) error {
	ct := p.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", ct)
	h.Set("Content-Transfer-Encoding", "binary")
	h.Set("Content-ID", "<"+p.ContentID+">")
	w, err := m.mw.CreatePart(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, p.Body)
	return err
}

// Close writes the final boundary.
func (m *MTOMWriter) Close() error { return m.mw.Close() }

// MTOM builds a whole MTOM message in memory (for small test messages) and
// returns it with its Content-Type.
func MTOM(envelope []byte, action string, parts ...Part) (body []byte, contentType string, err error) {
	var buf bytes.Buffer
	w := NewMTOMWriter(&buf, action)
	if err := w.WriteRoot(envelope); err != nil {
		return nil, "", err
	}
	for _, p := range parts {
		if err := w.WritePart(p); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.ContentType(), nil
}
