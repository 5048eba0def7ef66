package soap

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"strconv"
	"strings"
)

// MTOM/XOP reading (W3C XOP 1.0, SOAP MTOM, IHE ITI TF-2 Appendix V). The
// root part holds the envelope; every other part is an attachment that an
// xop:Include in the envelope may refer to by Content-ID.

// A Spool keeps the MTOM attachments that are too large to hold in memory
// while their request is handled. The package does no I/O itself: the
// adapter provides the spool (adapter/spool keeps files in KJDD_SPOOL_DIR).
// A spooled part is written once through the writer Create returns, which
// the reader closes, then opened by its name any number of times until its
// message is closed, which removes it. A Spool must be safe for concurrent
// use.
type Spool interface {
	Create() (w io.WriteCloser, name string, err error)
	Open(name string) (io.ReadCloser, error)
	Remove(name string) error
}

// Part is one attachment of an MTOM message: kept in memory up to
// Limits.MemoryPartBytes, in the reader's Spool above that. It is a Blob;
// the spooled copy goes away when the Message is closed.
type Part struct {
	// ContentID is the part's Content-ID without angle brackets.
	ContentID string
	// ContentType is the part's Content-Type header as sent.
	ContentType string

	size    int64
	data    []byte // when in memory
	spool   Spool  // when spooled: where, under name
	name    string
	removed bool
}

// Size is the decoded size of the part in bytes.
func (p *Part) Size() int64 { return p.size }

// Open returns a reader over the decoded bytes of the part.
func (p *Part) Open() (io.ReadCloser, error) {
	if p.removed {
		return nil, errors.New("xds: mime part opened after its message was closed")
	}
	if p.spool == nil {
		return io.NopCloser(bytes.NewReader(p.data)), nil
	}
	return p.spool.Open(p.name)
}

// remove deletes the spooled file, if any.
func (p *Part) remove() error {
	if p.removed {
		return nil
	}
	p.removed = true
	p.data = nil
	if p.spool == nil {
		return nil
	}
	return p.spool.Remove(p.name)
}

// readMTOM reads a multipart/related MTOM message.
func (rd *Reader) readMTOM(r io.Reader, params map[string]string) (*Message, error) {
	lim := rd.limits
	switch t := strings.ToLower(strings.TrimSpace(params["type"])); {
	case t == "application/xop+xml":
	case t == "text/xml":
		return nil, versionMismatch("SOAP 1.1 with attachments (type text/xml) is not supported; send SOAP 1.2 MTOM")
	case t == "":
		return nil, &Fault{Code: FaultSender, HTTPStatus: 415,
			Reason: `multipart/related needs the parameter type="application/xop+xml"`}
	default:
		return nil, &Fault{Code: FaultSender, HTTPStatus: 415,
			Reason: `unsupported multipart/related type; send MTOM (type="application/xop+xml")`,
			Detail: "type " + strconv.Quote(t)}
	}
	if strings.HasPrefix(strings.ToLower(params["start-info"]), "text/xml") {
		return nil, versionMismatch("SOAP 1.1 MTOM (start-info text/xml) is not supported; send SOAP 1.2")
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, refuse("multipart/related without a boundary parameter", "")
	}
	root, parts, err := readParts(r, boundary, trimAngle(params["start"]), lim, rd.spool)
	if err != nil {
		_ = closeParts(parts)
		return nil, err
	}
	m, err := rd.parseEnvelope(root, parts)
	if err != nil {
		_ = closeParts(parts)
		return nil, err
	}
	return m, nil
}

// readParts reads every MIME part: the root (by the start parameter, else
// the first part) into memory, the others into Parts. On error the parts
// read so far are returned for the caller to remove.
func readParts(r io.Reader, boundary, start string, lim Limits, sp Spool) ([]byte, map[string]*Part, error) {
	mr := multipart.NewReader(r, boundary)
	parts := make(map[string]*Part)
	// Many small parts must not add up to a large amount of memory: once
	// eight parts' worth is held, every further part goes to disk.
	memBudget := 8 * lim.MemoryPartBytes
	var (
		root  []byte
		found bool
		n     int
	)
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if n == 0 {
				return nil, parts, refusef("the multipart body has no part with the declared boundary", "%s", maskDigits(err.Error()))
			}
			return nil, parts, brokenMultipart(err)
		}
		n++
		if n > lim.MaxParts {
			return nil, parts, &Fault{Code: FaultSender, HTTPStatus: 413,
				Reason: "the multipart body has more than " + strconv.Itoa(lim.MaxParts) + " parts"}
		}
		cid := trimAngle(p.Header.Get("Content-ID"))
		isRoot := !found && (start == "" && n == 1 || start != "" && cid == start)
		max := lim.MaxPartBytes
		if isRoot {
			max = lim.MaxBodyBytes
		}
		body, err := transferDecoder(p, p.Header.Get("Content-Transfer-Encoding"), max)
		if err != nil {
			return nil, parts, err
		}
		if isRoot {
			if err := checkRootType(p.Header.Get("Content-Type")); err != nil {
				return nil, parts, err
			}
			if root, err = readPart(body, max, "the MTOM root part"); err != nil {
				return nil, parts, err
			}
			found = true
			continue
		}
		if cid == "" {
			return nil, parts, refuse("an MTOM attachment part has no Content-ID", "")
		}
		if _, dup := parts[cid]; dup {
			return nil, parts, refuse("two MIME parts have the same Content-ID", "")
		}
		part, err := spool(body, cid, p.Header.Get("Content-Type"), lim, sp, &memBudget)
		if err != nil {
			return nil, parts, err
		}
		parts[cid] = part
	}
	if n == 0 {
		return nil, parts, refuse("the multipart body has no part with the declared boundary", "")
	}
	if !found {
		return nil, parts, refusef("the MTOM root part named by the start parameter is missing", "start %q", maskDigits(start))
	}
	return root, parts, nil
}

// brokenMultipart is the fault for a multipart body that cannot be read.
func brokenMultipart(err error) *Fault {
	var f *Fault
	if errors.As(err, &f) {
		return f
	}
	var b64 base64.CorruptInputError
	if errors.As(err, &b64) {
		return refuse("a base64-encoded MIME part is not valid base64", "")
	}
	return refuse("the multipart body is malformed or truncated", maskDigits(err.Error()))
}

// trimAngle strips the angle brackets of a Content-ID or start parameter.
func trimAngle(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		return s[1 : len(s)-1]
	}
	return s
}

// checkRootType accepts application/xop+xml (of SOAP 1.2) and, from stacks
// that send a multipart without XOP, application/soap+xml.
func checkRootType(ct string) error {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return refuse("the MTOM root part has no valid Content-Type; send application/xop+xml", "")
	}
	switch mt {
	case "application/xop+xml":
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(params["type"])), "text/xml") {
			return versionMismatch("SOAP 1.1 MTOM (root type text/xml) is not supported; send SOAP 1.2")
		}
	case "application/soap+xml":
	case "text/xml":
		return versionMismatch("SOAP 1.1 (text/xml) is not supported; send SOAP 1.2")
	default:
		return refusef("the MTOM root part must be application/xop+xml", "root type %q", mt)
	}
	return checkCharset(params)
}

// errPartTooLarge stops reading an encoded part whose raw size alone is
// over the limit.
var errPartTooLarge = errors.New("mime part too large")

// capReader returns errPartTooLarge once more than n bytes were read.
type capReader struct {
	r io.Reader
	n int64
}

// Read implements io.Reader.
func (c *capReader) Read(p []byte) (int, error) {
	if c.n < 0 {
		return 0, errPartTooLarge
	}
	if int64(len(p)) > c.n+1 {
		p = p[:c.n+1]
	}
	k, err := c.r.Read(p)
	c.n -= int64(k)
	if c.n < 0 {
		return k, errPartTooLarge
	}
	return k, err
}

// transferDecoder decodes a part by its Content-Transfer-Encoding.
// NextRawPart leaves the encoding to us: NextPart would decode
// quoted-printable silently but never base64, which some stacks send. An
// encoded part may be at most three times its decoded limit on the wire.
func transferDecoder(r io.Reader, cte string, max int64) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "binary", "8bit", "7bit":
		return r, nil
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &capReader{r: r, n: 3 * max}), nil
	case "quoted-printable":
		return quotedprintable.NewReader(&capReader{r: r, n: 3 * max}), nil
	default:
		return nil, refusef("unsupported Content-Transfer-Encoding; send binary, base64 or quoted-printable", "encoding %q", cte)
	}
}

// readPart reads a whole (decoded) part into memory, at most max bytes.
func readPart(r io.Reader, max int64, what string) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if errors.Is(err, errPartTooLarge) || n > max {
		return nil, tooLarge(what, max)
	}
	if err != nil {
		return nil, brokenMultipart(err)
	}
	return buf.Bytes(), nil
}

// spool reads an attachment into memory or, when larger than
// lim.MemoryPartBytes or than what is left of memBudget, into sp. Without a
// spool such an attachment is refused.
func spool(r io.Reader, cid, ctype string, lim Limits, sp Spool, memBudget *int64) (*Part, error) {
	const what = "an MTOM attachment"
	p := &Part{ContentID: cid, ContentType: ctype}
	inMemory := min(lim.MemoryPartBytes, *memBudget)
	var head bytes.Buffer
	n, err := head.ReadFrom(io.LimitReader(r, inMemory+1))
	if errors.Is(err, errPartTooLarge) {
		return nil, tooLarge(what, lim.MaxPartBytes)
	}
	if err != nil {
		return nil, brokenMultipart(err)
	}
	if n <= inMemory {
		p.data, p.size = head.Bytes(), n
		*memBudget -= n
		return p, nil
	}
	if sp == nil {
		return nil, tooLarge(what+" (no spool is configured, so it must fit in memory)", inMemory)
	}
	w, name, err := sp.Create()
	if err != nil {
		return nil, &Fault{Code: FaultReceiver, Reason: "the attachment could not be stored", Detail: err.Error()}
	}
	p.spool, p.name = sp, name
	fail := func(f2 *Fault) (*Part, error) {
		_ = w.Close()
		_ = p.remove()
		return nil, f2
	}
	if _, err := w.Write(head.Bytes()); err != nil {
		return fail(&Fault{Code: FaultReceiver, Reason: "the attachment could not be stored", Detail: err.Error()})
	}
	rest, err := io.Copy(spoolWriter{w}, io.LimitReader(r, lim.MaxPartBytes-n+1))
	p.size = n + rest
	switch {
	case errors.Is(err, errPartTooLarge) || p.size > lim.MaxPartBytes:
		return fail(tooLarge(what, lim.MaxPartBytes))
	case err != nil:
		var se *spoolError
		if errors.As(err, &se) {
			return fail(&Fault{Code: FaultReceiver, Reason: "the attachment could not be stored", Detail: se.err.Error()})
		}
		return fail(brokenMultipart(err))
	}
	if err := w.Close(); err != nil {
		_ = p.remove()
		return nil, &Fault{Code: FaultReceiver, Reason: "the attachment could not be stored", Detail: err.Error()}
	}
	return p, nil
}

// spoolWriter tags the spool's write errors, which io.Copy returns mixed
// with the request's read errors: a failed write is kjdd's fault, a failed
// read the sender's.
type spoolWriter struct{ w io.Writer }

// spoolError is a write error of the spool.
type spoolError struct{ err error }

func (e *spoolError) Error() string { return e.err.Error() }

func (s spoolWriter) Write(b []byte) (int, error) {
	n, err := s.w.Write(b)
	if err != nil {
		err = &spoolError{err}
	}
	return n, err
}
