package helseid

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"kjdd/helseid/helseidtest"
	"kjdd/xds/soap"
)

// readXUA reads a SOAP message as kjdd does, the assertion kept as bytes,
// and returns what it offers as an XUA credential.
func readXUA(t testing.TB, msg []byte) SecurityHeader {
	t.Helper()
	m, err := soap.ReadMessage(bytes.NewReader(msg), soap.ContentTypeSOAP, soap.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	h := m.SecurityHeader()
	return SecurityHeader{Present: h.Present, Assertions: h.Assertions, Space: h.Space, Local: h.Local,
		InSecurity: h.InSecurity, Assertion: Assertion(h.Assertion)}
}

// TestSAMLDeferredAssertion: an assertion kept as bytes is verified from
// the tree its bytes make, once; then its verification is reused without
// building the tree. Wrapping and tampering are refused as for a whole tree.
func TestSAMLDeferredAssertion(t *testing.T) {
	signer := helseidtest.NewSAMLSigner(t)
	start := time.Now().UTC().Truncate(time.Second)
	v := newSAMLValidator(t, &switchableTrust{certs: trusting(t, signer)}, nil)
	msg := signer.Envelope(helseidtest.XUAValidity(start.Add(-time.Minute), start.Add(10*time.Minute)))

	h := readXUA(t, msg)
	if h.Assertion.Raw == nil {
		t.Fatal("the reader did not keep the assertion as bytes")
	}
	first, err := v.AuthenticateXUA(testCtx, h)
	if err != nil {
		t.Fatalf("first use: %v", err)
	}
	again, err := v.AuthenticateXUA(testCtx, readXUA(t, msg))
	if err != nil || again.HPRNumber != first.HPRNumber || again.PID != first.PID {
		t.Fatalf("reuse: %+v, %v", again, err)
	}
	if n := v.verifications.Load(); n != 1 {
		t.Fatalf("%d trees built for two requests with the same assertion, want 1", n)
	}

	// The same bytes under another binding of a prefix they inherit are
	// another assertion.
	inherit := strings.Replace(string(msg), `<s:Envelope `, `<s:Envelope xmlns:q="urn:kjdd:test:q" `, 1)
	if _, err := v.AuthenticateXUA(testCtx, readXUA(t, []byte(inherit))); err != nil {
		t.Fatalf("with an added inherited binding: %v", err)
	}
	if n := v.verifications.Load(); n != 2 {
		t.Fatalf("an assertion inheriting other bindings reused a verification (%d trees)", n)
	}

	refused := map[string]struct {
		msg    []byte
		kind   ErrorKind
		reason string
	}{
		"signed assertion inside an evil one": {signer.Envelope(helseidtest.WrappedInEvilAssertion()), InvalidSecurity, "assertions in the message"},
		"second unsigned assertion":           {signer.Envelope(helseidtest.SecondUnsignedAssertion()), InvalidSecurity, "assertions in the message"},
		"tampered":                            {signer.Envelope(helseidtest.Tampered()), FailedAuthentication, ""},
	}
	for name, tc := range refused {
		t.Run(name, func(t *testing.T) {
			_, err := v.AuthenticateXUA(testCtx, readXUA(t, tc.msg))
			wantKind(t, err, tc.kind, tc.reason)
		})
	}
}
