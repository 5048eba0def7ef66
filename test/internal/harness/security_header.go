package harness

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
)

const nsWSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"

// rewriteRoot applies edit to the SOAP envelope of a request: the whole
// body for application/soap+xml, the root part of an MTOM message
// (rebuilt with the same boundary and part headers) for multipart/related.
func rewriteRoot(contentType string, body []byte, edit func(root []byte) ([]byte, error)) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, err
	}
	if mt != "multipart/related" {
		return edit(body)
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, errors.New("multipart without boundary")
	}
	start := strings.Trim(params["start"], "<>")
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var out bytes.Buffer
	mw := multipart.NewWriter(&out)
	if err := mw.SetBoundary(boundary); err != nil {
		return nil, err
	}
	rootDone := false
	for i := 0; ; i++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if i >= maxParts {
			return nil, errors.New("too many parts")
		}
		content, err := io.ReadAll(io.LimitReader(p, maxPartSize))
		if err != nil {
			return nil, err
		}
		header := textproto.MIMEHeader{}
		for k, v := range p.Header {
			header[k] = append([]string(nil), v...)
		}
		id := strings.Trim(p.Header.Get("Content-ID"), "<> ")
		if !rootDone && ((start == "" && i == 0) || (start != "" && id == start)) {
			rootDone = true
			if content, err = edit(content); err != nil {
				return nil, err
			}
		}
		w, err := mw.CreatePart(header)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(content); err != nil {
			return nil, err
		}
	}
	if !rootDone {
		return nil, errors.New("no root part")
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// parseLenient parses a SOAP envelope for reading; bytes that are not
// UTF-8 are read as ISO-8859-1, as kjdd reads them.
func parseLenient(root []byte) (*etree.Element, error) {
	text := root
	if !utf8.Valid(root) {
		var b strings.Builder
		for _, c := range root {
			b.WriteRune(rune(c))
		}
		text = []byte(b.String())
	}
	doc := etree.NewDocument()
	doc.ReadSettings.Permissive = true
	doc.ReadSettings.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	if err := doc.ReadFromBytes(text); err != nil {
		return nil, err
	}
	env := doc.Root()
	if env == nil || env.Tag != "Envelope" || env.NamespaceURI() != nsSOAP12 {
		return nil, errors.New("not a SOAP 1.2 envelope")
	}
	return env, nil
}

// spliceSecurity puts security in place of the envelope's wsse:Security
// header(s), or at the end of its Header, working on the raw bytes so that
// everything else is sent exactly as the test wrote it.
func spliceSecurity(raw []byte, env *etree.Element, security string) ([]byte, error) {
	header := child(env, nsSOAP12, "Header")
	var existing []*etree.Element
	if header != nil {
		for _, h := range header.ChildElements() {
			if h.Tag == "Security" && h.NamespaceURI() == nsWSSE {
				existing = append(existing, h)
			}
		}
	}
	if len(existing) > 0 {
		out := raw
		cursor := 0
		for i, sec := range existing {
			start, end, err := elementSpan(out, sec.FullTag(), cursor)
			if err != nil {
				return nil, err
			}
			replacement := ""
			if i == 0 {
				replacement = security
			}
			out = append(append(append([]byte(nil), out[:start]...), replacement...), out[end:]...)
			cursor = start + len(replacement)
		}
		return out, nil
	}
	if header != nil {
		closing := regexp.MustCompile(`</` + regexp.QuoteMeta(header.FullTag()) + `\s*>`)
		loc := closing.FindIndex(raw)
		if loc == nil {
			// <soap:Header/>: replace it by a full one.
			start, end, err := elementSpan(raw, header.FullTag(), 0)
			if err != nil {
				return nil, err
			}
			full := "<" + header.FullTag() + ">" + security + "</" + header.FullTag() + ">"
			return append(append(append([]byte(nil), raw[:start]...), full...), raw[end:]...), nil
		}
		return append(append(append([]byte(nil), raw[:loc[0]]...), security...), raw[loc[0]:]...), nil
	}
	body := child(env, nsSOAP12, "Body")
	if body == nil {
		return nil, errors.New("envelope without Body")
	}
	opening := regexp.MustCompile(`<` + regexp.QuoteMeta(body.FullTag()) + `[\s/>]`)
	loc := opening.FindIndex(raw)
	if loc == nil {
		return nil, errors.New("start tag of the SOAP Body not found")
	}
	hdr := strings.TrimSuffix(body.FullTag(), "Body") + "Header"
	full := "<" + hdr + ">" + security + "</" + hdr + ">"
	return append(append(append([]byte(nil), raw[:loc[0]]...), full...), raw[loc[0]:]...), nil
}

// elementSpan finds the first element named qname at or after from in raw
// and returns the byte range of the whole element. It is meant for header
// blocks, which do not nest in themselves.
func elementSpan(raw []byte, qname string, from int) (int, int, error) {
	open := regexp.MustCompile(`<` + regexp.QuoteMeta(qname) + `[\s/>]`)
	loc := open.FindIndex(raw[from:])
	if loc == nil {
		return 0, 0, fmt.Errorf("<%s> not found", qname)
	}
	start := from + loc[0]
	gt := bytes.IndexByte(raw[start:], '>')
	if gt < 0 {
		return 0, 0, fmt.Errorf("<%s> start tag not closed", qname)
	}
	if raw[start+gt-1] == '/' {
		return start, start + gt + 1, nil
	}
	closing := regexp.MustCompile(`</` + regexp.QuoteMeta(qname) + `\s*>`)
	cl := closing.FindIndex(raw[start:])
	if cl == nil {
		return 0, 0, fmt.Errorf("</%s> not found", qname)
	}
	return start, start + cl[1], nil
}
