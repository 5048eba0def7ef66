package xds

import (
	"bufio"
	"bytes"
	"errors"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kjdd/xds/internal/xsdtest"
)

// samplePath is the path of a file in ../shared/conformance/samples.
func samplePath(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(xsdtest.SharedDir(t), "conformance", "samples", name)
}

// readSample reads a file of the conformance corpus.
func readSample(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(samplePath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// capture is a raw MIME capture of the corpus: either a bare multipart body
// (it starts with its first delimiter) or an HTTP dump with a start line,
// headers and the body. Header is empty for a bare body.
type capture struct {
	Header textproto.MIMEHeader
	Body   []byte
}

// loadCapture parses a .txt capture. Lines a logger put before the HTTP
// start line (e.g. "DefaultHttpRequest(chunked: false)") are skipped.
func loadCapture(t testing.TB, name string) capture {
	t.Helper()
	data := readSample(t, name)
	if bytes.HasPrefix(data, []byte("--")) {
		return capture{Header: textproto.MIMEHeader{}, Body: data}
	}
	rest := data
	for {
		line, after, found := bytes.Cut(rest, []byte("\n"))
		if !found {
			t.Fatalf("%s: no HTTP start line", name)
		}
		rest = after
		if bytes.HasPrefix(line, []byte("POST ")) || bytes.HasPrefix(line, []byte("HTTP/")) {
			break
		}
	}
	under := bytes.NewReader(rest)
	br := bufio.NewReader(under)
	h, err := textproto.NewReader(br).ReadMIMEHeader()
	if err != nil {
		t.Fatalf("%s: headers: %v", name, err)
	}
	consumed := len(rest) - under.Len() - br.Buffered()
	body := rest[consumed:]
	return capture{Header: h, Body: body}
}

// bodyBoundary is the boundary the body itself uses: its first line
// without the leading "--".
func (c capture) bodyBoundary() string {
	line, _, _ := bytes.Cut(c.Body, []byte("\n"))
	return strings.TrimSuffix(strings.TrimPrefix(string(line), "--"), "\r")
}

// withoutLogTail cuts whatever a logger appended after the closing
// delimiter of the body's own boundary.
func (c capture) withoutLogTail() []byte {
	end := []byte("--" + c.bodyBoundary() + "--")
	if i := bytes.LastIndex(c.Body, end); i >= 0 {
		return c.Body[:i+len(end)]
	}
	return c.Body
}

// mtomType is a multipart/related Content-Type for boundary, with start
// when not empty.
func mtomType(boundary, start string) string {
	ct := `multipart/related; type="application/xop+xml"; start-info="application/soap+xml"; boundary="` + boundary + `"`
	if start != "" {
		ct += `; start="<` + start + `>"`
	}
	return ct
}

// wantFault checks that err is a *Fault with the given code, subcode and a
// reason containing reason.
func wantFault(t testing.TB, err error, code FaultCode, subcode, reason string) *Fault {
	t.Helper()
	var f *Fault
	if !errors.As(err, &f) {
		t.Fatalf("got error %v (%T), want a *Fault %s %q", err, err, code, reason)
	}
	if f.Code != code || f.Subcode != subcode || !strings.Contains(f.Reason, reason) {
		t.Fatalf("got fault %s %q %q, want %s %q reason containing %q", f.Code, f.Subcode, f.Reason, code, subcode, reason)
	}
	return f
}

// noSpooledFiles fails if dir still holds files.
func noSpooledFiles(t testing.TB, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("%d spooled files left in %s", len(entries), dir)
	}
}

// testEnvelope is a minimal SOAP 1.2 request around header blocks and a
// body root.
func testEnvelope(header, body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` +
		`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">` +
		`<s:Header>` + header + `</s:Header><s:Body>` + body + `</s:Body></s:Envelope>`
}

// actionHeader is the wsa:Action header of an ITI-18 request.
const actionHeader = `<a:Action s:mustUnderstand="1">urn:ihe:iti:2007:RegistryStoredQuery</a:Action>` +
	`<a:MessageID>urn:uuid:8d2ba4a6-4c1f-4a8e-9f0e-6f2b0f1c2d3e</a:MessageID>`

// queryBody is a small body root.
const queryBody = `<q:AdhocQueryRequest xmlns:q="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"/>`

// mimeMessage assembles a multipart body from parts, each given as its
// header lines and content; the boundary is "b0undary".
func mimeMessage(parts ...[2]string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("--b0undary\r\n" + p[0] + "\r\n\r\n" + p[1] + "\r\n")
	}
	b.WriteString("--b0undary--\r\n")
	return b.String()
}

// rootPartHeader is the header of a well-formed MTOM root part with
// Content-ID <root@test>.
const rootPartHeader = "Content-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"\r\n" +
	"Content-Transfer-Encoding: binary\r\nContent-ID: <root@test>"

// includeBody is a ProvideAndRegister body whose one Document refers to
// the MIME part cid (escaped as written).
func includeBody(href string) string {
	return `<x:ProvideAndRegisterDocumentSetRequest xmlns:x="urn:ihe:iti:xds-b:2007">` +
		`<x:Document id="Document01"><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="` + href + `"/></x:Document>` +
		`</x:ProvideAndRegisterDocumentSetRequest>`
}
