package harness

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"kjdd/test/testkit/xsd"
)

// Server is a kjdd process owned by one test: stopped by t.Cleanup, its
// output printed when the test failed.
type Server struct {
	*Process
	// Headers are added to every request (credentials in later issues).
	Headers http.Header
	// Client is the HTTP client used for requests (keep-alive, loopback).
	Client *http.Client

	t        testing.TB
	opts     Options
	identity *Identity
	auth     Auth
}

// Start builds kjdd if needed and starts it for t with opts.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	xsd.Require(t) // every response is schema-checked; without xmllint there is no point
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	// kjdd refuses every request without HelseID credentials: trust a fake
	// issuer over loopback unless the test configures another.
	if opts.Identity == nil {
		opts.Identity = NewIdentity(t)
	}
	env := opts.Identity.Env()
	for k, v := range opts.Env {
		env[k] = v
	}
	opts.Env = env
	p, err := Launch(bin, opts)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		Process:  p,
		Headers:  opts.Headers.Clone(),
		Client:   &http.Client{Timeout: 2 * time.Minute},
		t:        t,
		opts:     opts,
		identity: opts.Identity,
		auth:     opts.Auth,
	}
	t.Cleanup(func() {
		if err := s.Process.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
		if t.Failed() {
			t.Logf("kjdd output (pid %d):\n%s", s.PID, s.Logs())
		}
	})
	return s
}

// Stop stops the process now (e.g. to read its store afterwards) and fails
// t unless it exits cleanly.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if err := s.Process.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// Post sends body to path without interpreting the answer. The caller owns
// the response body. Use it for HTTP-level checks; SOAP answers go through
// SOAP or SOAPStream so that they are schema-validated.
func (s *Server) Post(t testing.TB, path, contentType string, body io.Reader, header http.Header) *http.Response {
	t.Helper()
	hdr := http.Header{}
	for k, vs := range s.Headers {
		hdr[k] = append([]string(nil), vs...)
	}
	for k, vs := range header {
		hdr[k] = append([]string(nil), vs...)
	}
	if contentType != "" {
		hdr.Set("Content-Type", contentType)
	}
	// Credentials depend on the body (action, patient); the request is
	// made once they are attached.
	probe, err := http.NewRequest(http.MethodPost, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	probe.Header = hdr
	body = s.attach(t, probe, path, contentType, body)
	req, err := http.NewRequest(http.MethodPost, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = hdr
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return resp
}

// Get fetches path and returns status and body.
func (s *Server) Get(t testing.TB, path string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range s.Headers {
		req.Header[k] = append([]string(nil), vs...)
	}
	s.attach(t, req, path, "", nil)
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, b
}

// SOAP posts a SOAP request and returns the parsed, schema-validated
// response; see SOAPStream.
func (s *Server) SOAP(t testing.TB, path string, body []byte, contentType string) *Response {
	t.Helper()
	return s.SOAPStream(t, path, bytes.NewReader(body), contentType)
}

// maxResponse bounds what a test reads of one response.
const maxResponse = 256 << 20

// SOAPStream posts body to path and parses the answer as a SOAP 1.2
// message (plain or MTOM). The test fails when the answer is not a SOAP 1.2
// envelope, fails the schemas (validated as a whole and with the body's
// root element on its own, because the SOAP Body is lax), lacks wsa:Action,
// or is a Fault with an HTTP status other than 400/500.
func (s *Server) SOAPStream(t testing.TB, path string, body io.Reader, contentType string) *Response {
	t.Helper()
	resp := s.Post(t, path, contentType, body, nil)
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		t.Fatalf("read response of %s: %v", path, err)
	}
	if len(raw) > maxResponse {
		t.Fatalf("response of %s larger than %d bytes", path, maxResponse)
	}
	r := &Response{StatusCode: resp.StatusCode, Header: resp.Header, Raw: raw}
	msg, err := ParseMessage(resp.Header.Get("Content-Type"), raw)
	if err != nil {
		t.Fatalf("POST %s: HTTP %d: response is not a SOAP 1.2 message: %v\n%s", path, resp.StatusCode, err, clip(raw))
	}
	r.Message = msg
	if err := CheckMessage(msg); err != nil {
		t.Errorf("POST %s: HTTP %d: %v\n%s", path, resp.StatusCode, err, clip(msg.Root))
	}
	if f := msg.Fault(); f != nil && !faultStatusOK(f, resp.StatusCode) {
		t.Errorf("POST %s: SOAP Fault %s with HTTP %d, want 4xx for Sender, 500 otherwise", path, f, resp.StatusCode)
	}
	return r
}

// faultStatusOK applies the SOAP 1.2 HTTP binding (SOAP 1.2 Part 2
// §7.5.2.2, and soap.Fault's own default): a Sender fault is a client error
// (400, or a more specific 4xx such as 413 or 415); VersionMismatch,
// MustUnderstand, DataEncodingUnknown and Receiver are 500.
func faultStatusOK(f *SOAPFault, status int) bool {
	if f.Code == "Sender" {
		return status >= 400 && status <= 499
	}
	return status == http.StatusInternalServerError
}

// CheckMessage validates a parsed message against the schemas and checks
// the WS-Addressing Action is present.
func CheckMessage(msg *Message) error {
	bodyDoc, err := msg.BodyDocument()
	if err != nil {
		return err
	}
	if err := xsd.ValidateAll(msg.Root, bodyDoc); err != nil {
		return fmt.Errorf("response fails XSD (doc0 = envelope, doc1 = body root alone): %w", err)
	}
	if msg.Action == "" {
		return fmt.Errorf("response has no wsa:Action")
	}
	return nil
}

func clip(b []byte) string {
	const n = 4000
	if len(b) > n {
		return string(b[:n]) + fmt.Sprintf("... (%d more bytes)", len(b)-n)
	}
	return string(b)
}
