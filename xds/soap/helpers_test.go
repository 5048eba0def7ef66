package soap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strings"
	"sync"
	"testing"

	"kjdd/xds/internal/xdstest"
)

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
	data := xdstest.ReadSample(t, name)
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
func noSpooledFiles(t testing.TB, sp *memSpool) {
	t.Helper()
	if names := sp.names(); len(names) != 0 {
		t.Fatalf("%d spooled parts left: %v", len(names), names)
	}
}

// memSpool is a Spool in memory, for tests: what it holds is what a file
// spool (adapter/spool) would hold on disk.
type memSpool struct {
	mu    sync.Mutex
	n     int
	parts map[string]*bytes.Buffer
}

func newMemSpool() *memSpool { return &memSpool{parts: map[string]*bytes.Buffer{}} }

// spoolReader is a reader with limits lim spooling into sp.
func spoolReader(lim Limits, sp *memSpool) *Reader {
	return NewReader(ReaderConfig{Limits: lim, Spool: sp})
}

func (s *memSpool) Create() (io.WriteCloser, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	name := fmt.Sprintf("part-%d", s.n)
	b := new(bytes.Buffer)
	s.parts[name] = b
	return nopWriteCloser{b}, name, nil
}

func (s *memSpool) Open(name string) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.parts[name]
	if !ok {
		return nil, errors.New("no spooled part " + name)
	}
	return io.NopCloser(bytes.NewReader(b.Bytes())), nil
}

func (s *memSpool) Remove(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.parts, name)
	return nil
}

// names lists the parts the spool holds.
func (s *memSpool) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.parts {
		out = append(out, n)
	}
	return out
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

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
