package helseid

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"kjdd/helseid/helseidtest"
	"kjdd/xds"
)

// readDeferred reads a SOAP message as kjdd does, the assertion kept as
// bytes, and returns its wsse:Security and the lookup of deferred
// assertions, counting the trees built.
func readDeferred(t testing.TB, msg []byte, trees *int) (*etree.Element, Deferred) {
	t.Helper()
	m, err := xds.ReadMessage(bytes.NewReader(msg), xds.ContentTypeSOAP, xds.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return m.Security, func(el *etree.Element) (DeferredAssertion, bool) {
		src, ok := m.AssertionSource(el)
		if !ok {
			return DeferredAssertion{}, false
		}
		return DeferredAssertion{Namespaces: src.Namespaces, Raw: src.Raw, Tree: func() (*etree.Element, error) {
			*trees++
			return src.Tree()
		}}, true
	}
}

// TestSAMLDeferredAssertion: an assertion kept as bytes is verified from
// the tree its bytes make, once; then its verification is reused without
// building the tree. Wrapping and tampering are refused as for a whole tree.
func TestSAMLDeferredAssertion(t *testing.T) {
	signer := helseidtest.NewSAMLSigner(t)
	start := time.Now().UTC().Truncate(time.Second)
	v := newSAMLValidator(t, &switchableTrust{certs: trusting(t, signer)}, nil)
	msg := signer.Envelope(helseidtest.XUAValidity(start.Add(-time.Minute), start.Add(10*time.Minute)))

	trees := 0
	sec, deferred := readDeferred(t, msg, &trees)
	if a := sec.SelectElement("Assertion"); a == nil || len(a.Child) != 0 {
		t.Fatal("the reader did not keep the assertion as bytes")
	}
	first, err := v.AuthenticateDeferred(testCtx, sec, deferred)
	if err != nil {
		t.Fatalf("first use: %v", err)
	}
	sec, deferred = readDeferred(t, msg, &trees)
	again, err := v.AuthenticateDeferred(testCtx, sec, deferred)
	if err != nil || again.HPRNumber != first.HPRNumber || again.PID != first.PID {
		t.Fatalf("reuse: %+v, %v", again, err)
	}
	if trees != 1 {
		t.Fatalf("%d trees built for two requests with the same assertion, want 1", trees)
	}

	// The same bytes under another binding of a prefix they inherit are
	// another assertion.
	inherit := strings.Replace(string(msg), `<s:Envelope `, `<s:Envelope xmlns:q="urn:kjdd:test:q" `, 1)
	sec, deferred = readDeferred(t, []byte(inherit), &trees)
	if _, err := v.AuthenticateDeferred(testCtx, sec, deferred); err != nil {
		t.Fatalf("with an added inherited binding: %v", err)
	}
	if trees != 2 {
		t.Fatalf("an assertion inheriting other bindings reused a verification (%d trees)", trees)
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
			sec, deferred := readDeferred(t, tc.msg, &trees)
			_, err := v.AuthenticateDeferred(testCtx, sec, deferred)
			wantKind(t, err, tc.kind, tc.reason)
		})
	}
}
