package harness

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/textproto"
	"strings"
)

// MIMECapture splits a raw MIME capture from the conformance corpus into a
// Content-Type and a body. Two shapes occur: an HTTP dump (a request or
// status line, headers, an empty line, the body), and a bare multipart body
// starting with its boundary, for which the Content-Type is derived from
// the boundary line and the first part's Content-ID.
func MIMECapture(raw []byte) (contentType string, body []byte, err error) {
	trimmed := bytes.TrimLeft(raw, "\r\n")
	if bytes.HasPrefix(trimmed, []byte("--")) {
		return bareMultipart(trimmed)
	}
	// HTTP dump: skip lines until one looks like a request/status line.
	r := bufio.NewReader(bytes.NewReader(trimmed))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", nil, errors.New("no HTTP request or status line in capture")
		}
		if strings.HasPrefix(line, "HTTP/") || strings.Contains(line, " HTTP/1.") {
			break
		}
	}
	hdr, err := textproto.NewReader(r).ReadMIMEHeader()
	if err != nil {
		return "", nil, fmt.Errorf("capture headers: %w", err)
	}
	ct := hdr.Get("Content-Type")
	if ct == "" {
		return "", nil, errors.New("capture has no Content-Type header")
	}
	rest := new(bytes.Buffer)
	if _, err := rest.ReadFrom(r); err != nil {
		return "", nil, err
	}
	return ct, rest.Bytes(), nil
}

func bareMultipart(b []byte) (string, []byte, error) {
	end := bytes.IndexByte(b, '\n')
	if end < 0 {
		return "", nil, errors.New("capture has a single line")
	}
	boundary := strings.TrimSpace(string(b[2:end]))
	hdr, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(b[end+1:]))).ReadMIMEHeader()
	if err != nil {
		return "", nil, fmt.Errorf("first part headers: %w", err)
	}
	params := map[string]string{
		"type":       "application/xop+xml",
		"boundary":   boundary,
		"start-info": "application/soap+xml",
	}
	if id := hdr.Get("Content-ID"); id != "" {
		params["start"] = id
	}
	return mime.FormatMediaType("multipart/related", params), b, nil
}
