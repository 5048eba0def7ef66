package soap

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"

	"github.com/beevik/etree"
)

// contentTypeXOPRoot is the Content-Type of the root part of an MTOM
// message carrying a SOAP 1.2 envelope.
const contentTypeXOPRoot = `application/xop+xml; charset=UTF-8; type="application/soap+xml"`

// MTOMWriter writes an MTOM/XOP message (multipart/related) as a stream:
// the root part with the envelope first, then each attachment copied from
// its reader, so that a document is never held whole in memory. Use it in
// this order: ContentType (for the HTTP header), WriteRoot, WritePart for
// each attachment, Close.
type MTOMWriter struct {
	mw     *multipart.Writer
	action string
	rootID string
	root   bool // root part written
	closed bool
}

// NewMTOMWriter returns a writer of an MTOM message to w. action, when not
// empty, goes into the action parameter of the Content-Type.
func NewMTOMWriter(w io.Writer, action string) *MTOMWriter {
	mw := &MTOMWriter{mw: multipart.NewWriter(w), action: action}
	mw.rootID = "root." + mw.NewContentID()
	return mw
}

// ContentType is the HTTP Content-Type of the message: multipart/related
// with type, boundary, start, start-info and (when set) action. The
// parameters are in the sorted order mime.FormatMediaType gives them.
func (w *MTOMWriter) ContentType() string {
	params := map[string]string{
		"type":       "application/xop+xml",
		"boundary":   w.mw.Boundary(),
		"start":      "<" + w.rootID + ">",
		"start-info": "application/soap+xml",
	}
	if w.action != "" && isPlainParam(w.action) {
		params["action"] = w.action
	}
	return mime.FormatMediaType("multipart/related", params)
}

// NewContentID returns a fresh Content-ID (without angle brackets) that no
// other part of any message shares: 128 random bits.
func (w *MTOMWriter) NewContentID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:]) + "@kjdd"
}

// WriteRoot writes the root part: doc, serialised as is. It must be the
// first call after NewMTOMWriter.
func (w *MTOMWriter) WriteRoot(doc *etree.Document) error {
	b, err := doc.WriteToBytes()
	if err != nil {
		return err
	}
	return w.WriteRootBytes(b)
}

// WriteRootBytes writes the root part: envelope, a serialised SOAP
// envelope. It must be the first call after NewMTOMWriter.
func (w *MTOMWriter) WriteRootBytes(envelope []byte) error {
	if w.closed || w.root {
		return errors.New("xds: MTOM root part written twice or after Close")
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", contentTypeXOPRoot)
	h.Set("Content-Transfer-Encoding", "binary")
	h.Set("Content-ID", "<"+w.rootID+">")
	p, err := w.mw.CreatePart(h)
	if err != nil {
		return err
	}
	w.root = true
	_, err = p.Write(envelope)
	return err
}

// WritePart streams one attachment from r with binary transfer encoding
// and returns the number of bytes copied. contentID is the id an
// XOPInclude in the root refers to (as NewContentID made it); an empty or
// unparsable contentType is sent as application/octet-stream.
func (w *MTOMWriter) WritePart(contentID, contentType string, r io.Reader) (int64, error) {
	if !w.root || w.closed {
		return 0, errors.New("xds: MTOM attachment written before the root part or after Close")
	}
	if contentID == "" || strings.ContainsAny(contentID, "<>\r\n") || !isPlainParam(contentID) {
		return 0, errors.New("xds: invalid MTOM Content-ID")
	}
	if _, _, err := mime.ParseMediaType(contentType); err != nil || !isPlainParam(contentType) {
		contentType = "application/octet-stream"
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", contentType)
	h.Set("Content-Transfer-Encoding", "binary")
	h.Set("Content-ID", "<"+contentID+">")
	p, err := w.mw.CreatePart(h)
	if err != nil {
		return 0, err
	}
	return io.Copy(p, r)
}

// Close writes the closing boundary. It does not close the underlying
// writer.
func (w *MTOMWriter) Close() error {
	if w.closed {
		return nil
	}
	if !w.root {
		return errors.New("xds: MTOM message closed without a root part")
	}
	w.closed = true
	return w.mw.Close()
}
