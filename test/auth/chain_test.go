package auth

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"kjdd/adapter/access"
	"kjdd/helseid"
	"kjdd/helseid/helseidtest"
	"kjdd/test/internal/harness"
	"kjdd/test/testkit/paths"
	"kjdd/xds/soap"
)

// The authentication chain of an /xca request, in process: the SOAP reader
// (with its memo of assertions, or without), and the SAML validator (with
// its cache of verified assertions and the trust-set digest, or verifying
// every assertion from scratch). helseid/doc.go describes the three
// caches; TestAuthChainAgrees and FuzzAuthChain hold the cached chain to
// the uncached one, answer for answer.

// chain is one reader and one validator.
type chain struct {
	reader *soap.Reader
	saml   *helseid.SAMLValidator
}

// switchTrust is a trust set the test can change between requests.
type switchTrust struct {
	mu    sync.Mutex
	certs []*x509.Certificate
}

func (s *switchTrust) Certificates(context.Context) ([]*x509.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.certs, nil
}

func (s *switchTrust) set(certs ...*x509.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.certs = certs
}

// newChain returns the chain with every cache (cached) or with none.
func newChain(t testing.TB, cached bool, trust helseid.CertificateSource, now func() time.Time) chain {
	t.Helper()
	cfg := helseid.SAMLConfig{Issuer: helseidtest.DefaultSAMLIssuer, Audience: helseidtest.DefaultSAMLAudience,
		Trust: trust, Now: now, ReuseEntries: -1}
	rc := soap.ReaderConfig{}
	if cached {
		cfg.ReuseEntries = 0 // the default cache
		rc.AssertionMemoBytes = soap.DefaultAssertionMemoBytes
	}
	v, err := helseid.NewSAMLValidator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return chain{reader: soap.NewReader(rc), saml: v}
}

// outcome is what the chain answers to msg, as text two chains must agree
// on: the reader's fault, the validator's refusal, or the Principal.
func (c chain) outcome(msg []byte, contentType string) string {
	m, err := c.reader.Read(bytes.NewReader(msg), contentType)
	if err != nil {
		return fmt.Sprintf("read: %+v", err)
	}
	defer m.Close()
	p, err := c.saml.AuthenticateXUA(context.Background(), access.XUAFrom(m.SecurityHeader()))
	if err == nil {
		m.AssertionVerified() // as the SOAP endpoint does once it served the request
	}
	if err != nil {
		if ae, ok := helseid.AsAuthError(err); ok {
			return fmt.Sprintf("refused: %s %s", ae.Kind, ae.Reason)
		}
		return "error: " + err.Error()
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "principal: " + err.Error()
	}
	return "principal: " + string(b)
}

// agree sends msg through the cached chain (twice, so that the second
// time its caches answer) and the uncached one, and wants one answer.
func agree(t testing.TB, cached, oracle chain, name string, msg []byte, contentType string) string {
	t.Helper()
	want := oracle.outcome(msg, contentType)
	for i := range 2 {
		if got := cached.outcome(msg, contentType); got != want {
			t.Fatalf("%s (pass %d): with the caches\n  %s\nwithout\n  %s", name, i+1, got, want)
		}
	}
	return want
}

// bindingVariants are envelope for msg with the prefix ds, which the
// assertion's signature uses, declared on the envelope instead of on the
// signature: bound as it should be, bound to another namespace, and not
// bound at all. The assertion's bytes are the same in all three; only what
// they inherit differs, and with it the answer.
func bindingVariants(t testing.TB, msg []byte) map[string][]byte {
	t.Helper()
	const decl = ` xmlns:ds="http://www.w3.org/2000/09/xmldsig#"`
	s := string(msg)
	if !strings.Contains(s, "<ds:Signature"+decl) {
		t.Fatal("the signer's assertion does not declare ds: on its signature")
	}
	s = strings.Replace(s, "<ds:Signature"+decl, "<ds:Signature", 1)
	return map[string][]byte{
		"ds inherited from the envelope": []byte(strings.Replace(s, "<s:Envelope ", "<s:Envelope"+decl+" ", 1)),
		"ds inherited, bound elsewhere":  []byte(strings.Replace(s, "<s:Envelope ", `<s:Envelope xmlns:ds="urn:kjdd:test:not-dsig" `, 1)),
		"ds not bound at all":            []byte(s),
	}
}

// TestAuthChainAgrees: the reader with its memo and the validator with its
// caches answer every request as the chain without caches does: valid
// assertions for several patients, every refused case of
// TestAssertionRefused, assertions whose bytes stay while the bindings they
// inherit change, in three orders, and across a change of the trust set;
// and every XUA sample of the corpus.
func TestAuthChainAgrees(t *testing.T) {
	signer, other := helseidtest.NewSAMLSigner(t), helseidtest.NewSAMLSigner(t)
	trust := &switchTrust{certs: []*x509.Certificate{signer.Certificate}}
	cached, oracle := newChain(t, true, trust, nil), newChain(t, false, trust, nil)

	type input struct {
		name string
		msg  []byte
	}
	var inputs []input
	patients := []string{harness.CX(newFNR(t)), harness.CX(newFNR(t)), harness.CX(newFNR(t))}
	for i, p := range patients {
		inputs = append(inputs, input{fmt.Sprintf("valid, patient %d", i), signer.Envelope(helseidtest.XUAPatient(p))})
	}
	for name, tc := range refusedAssertions(t, signer, patients[0], patients[1]) {
		inputs = append(inputs, input{"refused: " + name, tc.envelope()})
	}
	for name, msg := range bindingVariants(t, signer.Envelope(helseidtest.XUAPatient(patients[2]))) {
		inputs = append(inputs, input{name, msg})
	}
	inputs = append(inputs, input{"signed by another signer", other.Envelope(helseidtest.XUAPatient(patients[0]))})

	accepted := 0
	run := func(order []input) {
		for _, in := range order {
			if strings.HasPrefix(agree(t, cached, oracle, in.name, in.msg, soap.ContentTypeSOAP), "principal:") {
				accepted++
			}
		}
	}
	run(inputs)
	reversed := make([]input, len(inputs))
	for i, in := range inputs {
		reversed[len(inputs)-1-i] = in
	}
	run(reversed)
	shuffled := append([]input(nil), inputs...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	run(shuffled)
	// A rotation: what the caches hold for the first signer must not
	// outlive its trust, nor keep the second one out.
	trust.set(other.Certificate)
	run(inputs)
	trust.set(signer.Certificate, other.Certificate)
	run(shuffled)
	if accepted == 0 {
		t.Fatal("no input was accepted: the comparison saw refusals only")
	}
	if s := cached.reader.AssertionMemo(); s.Hits == 0 {
		t.Fatalf("the reader's memo was never used (%+v): the comparison did not reach it", s)
	}
	if verified, reused := cached.saml.Verifications(); reused == 0 || verified == 0 {
		t.Fatalf("verified %d, reused %d: the comparison did not reach the cache of verified assertions", verified, reused)
	}

	t.Run("corpus", func(t *testing.T) {
		for name, msg := range corpusXUA(t) {
			// The samples' assertions expired long ago: each is judged at
			// its own NotBefore, trusting the certificates the corpus
			// carries.
			at := notBefore(t, msg)
			now := func() time.Time { return at }
			trust := helseid.StaticCertificates(corpusCertificates(t))
			agree(t, newChain(t, true, trust, now), newChain(t, false, trust, now), name, msg, soap.ContentTypeSOAP)
		}
	})
}

// FuzzAuthChain: whatever bytes arrive, the chain with its caches answers
// as the chain without them. The chains live across inputs, so that what
// one input left in the caches meets the next.
func FuzzAuthChain(f *testing.F) {
	signer := helseidtest.NewSAMLSigner(f)
	trust := helseid.StaticCertificates{signer.Certificate}
	cached, oracle := newChain(f, true, trust, nil), newChain(f, false, trust, nil)
	patient := harness.CX(newFNR(f))
	valid := signer.Envelope(helseidtest.XUAPatient(patient))
	f.Add(valid)
	for _, msg := range bindingVariants(f, valid) {
		f.Add(msg)
	}
	for _, opt := range []helseidtest.SAMLOption{helseidtest.Tampered(), helseidtest.SecondUnsignedAssertion(),
		helseidtest.WrappedInEvilAssertion(), helseidtest.SignedMovedUnderWrapper(), helseidtest.SignedMovedToBody()} {
		f.Add(signer.Envelope(helseidtest.XUAPatient(patient), opt))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		agree(t, cached, oracle, "input", msg, soap.ContentTypeSOAP)
	})
}

// corpusXUA returns the plain SOAP samples of the corpus that carry an
// assertion, by file name.
func corpusXUA(t *testing.T) map[string][]byte {
	t.Helper()
	dir, err := paths.Conformance("samples")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("Assertion")) {
			out[filepath.Base(f)] = b
		}
	}
	if len(out) < 4 {
		t.Fatalf("only %d corpus samples carry an assertion", len(out))
	}
	return out
}

var (
	x509Element  = regexp.MustCompile(`<(?:\w+:)?X509Certificate>([A-Za-z0-9+/=\s]+)</(?:\w+:)?X509Certificate>`)
	notBeforeRef = regexp.MustCompile(`NotBefore="([^"]+)"`)
)

// corpusCertificates are the certificates the corpus's assertions carry.
func corpusCertificates(t *testing.T) []*x509.Certificate {
	t.Helper()
	var certs []*x509.Certificate
	for _, msg := range corpusXUA(t) {
		for _, m := range x509Element.FindAllSubmatch(msg, -1) {
			der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(m[1])), ""))
			if err != nil {
				continue
			}
			if c, err := x509.ParseCertificate(der); err == nil {
				certs = append(certs, c)
			}
		}
	}
	if len(certs) == 0 {
		t.Fatal("the corpus carries no certificate")
	}
	return certs
}

// notBefore is the first NotBefore of a sample, or now when it has none.
func notBefore(t *testing.T, msg []byte) time.Time {
	t.Helper()
	m := notBeforeRef.FindSubmatch(msg)
	if m == nil {
		return time.Now()
	}
	at, err := time.Parse(time.RFC3339Nano, string(m[1]))
	if err != nil {
		return time.Now()
	}
	return at.Add(time.Second)
}
