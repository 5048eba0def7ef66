package helseid

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"kjdd/helseid/helseidtest"
)

// FuzzJWTHeader feeds arbitrary access tokens through the header parser
// and the whole validator. Seeds are tokens the validator refuses (wrong
// audience, alg none, HS256 with the public key); no mutation of them may
// be accepted, since none can carry a valid signature for our audience.
func FuzzJWTHeader(f *testing.F) {
	iss := helseidtest.NewIssuer(f)
	v := newJWTValidator(f, iss, func(c *JWTConfig) { c.DPoP = DPoPOptional })
	for _, tok := range []string{
		iss.Token(helseidtest.Unbound(), helseidtest.Claim("aud", "nhn:not-kjdd")),
		iss.Token(helseidtest.Unbound(), helseidtest.AlgNone()),
		iss.Token(helseidtest.Unbound(), helseidtest.HS256WithPublicKey()),
		"eyJhbGciOiJSUzI1NiIsImFsZyI6Im5vbmUifQ.e30.c2ln",
		"a.b.c", "..", "",
	} {
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, token string) {
		if m, err := parseCompactJWS(token); err == nil {
			if m.header.Crit != nil || m.header.Jku != nil {
				t.Fatal("refused header parameter passed the parser")
			}
			if checkJSONObject(m.payload) != nil {
				t.Fatal("payload passed the parser without being a JSON object")
			}
		}
		if _, err := v.Authenticate(testCtx, bearerRequest("GET", testURL, token)); err == nil {
			t.Fatalf("fuzzed token accepted: %q", token)
		}
	})
}

// FuzzParseDPoPHeader feeds arbitrary DPoP proofs to the proof parser.
// Whatever it accepts must carry a public key, a thumbprint and a bounded
// jti.
func FuzzParseDPoPHeader(f *testing.F) {
	iss := helseidtest.NewIssuer(f)
	tok := iss.Token()
	for _, p := range []string{
		iss.DPoPProof("GET", testURL, tok),
		iss.DPoPProofWith("GET", testURL, tok, helseidtest.ProofWithPrivateJWK()),
		iss.DPoPProofWith("GET", testURL, tok, helseidtest.ProofHeader("alg", "none")),
		tok,
		"e30.e30.", "x",
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, proof string) {
		p, err := parseDPoPProof(proof, DefaultAlgorithms)
		if err != nil {
			return
		}
		if p.thumbprint == "" || p.claims.JTI == "" || len(p.claims.JTI) > maxJTI {
			t.Fatalf("accepted proof lacks thumbprint or jti: %+v", p)
		}
		m, _ := parseCompactJWS(proof)
		if checkPublicJWK(m.header.JWK) != nil {
			t.Fatal("accepted a proof with private key material")
		}
	})
}

// FuzzSAMLReader feeds arbitrary SOAP messages to the SAML validator and
// the attribute reader. Seeds are NHN's captured messages and the test
// signer's valid and wrapped envelopes. Anything accepted must hold exactly
// one assertion, whose patient the Principal names.
func FuzzSAMLReader(f *testing.F) {
	signer := helseidtest.NewSAMLSigner(f)
	at := time.Now()
	v := newSAMLValidator(f, StaticCertificates{signer.Certificate}, func(c *SAMLConfig) {
		c.Now = func() time.Time { return at }
	})
	for _, opt := range []helseidtest.SAMLOption{
		helseidtest.XUAOldAttributeNames(), helseidtest.WrappedInEvilAssertion(),
		helseidtest.SecondUnsignedAssertion(), helseidtest.Tampered(), helseidtest.CommentInNameID(),
	} {
		f.Add(signer.Envelope(opt))
	}
	samples, _ := filepath.Glob(sharedPath(f, "conformance/samples/*saml*.xml"))
	for _, s := range samples {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		doc := etree.NewDocument()
		if doc.ReadFromBytes(msg) != nil || doc.Root() == nil {
			return
		}
		for _, a := range doc.FindElements("//Assertion") {
			if p, err := readAssertion(a); err == nil {
				_ = p.CheckPatient("13116900216")
			}
		}
		sec := doc.FindElement("//Security")
		if sec == nil {
			return
		}
		p, err := v.Authenticate(testCtx, sec)
		if err != nil {
			return
		}
		if n := len(doc.FindElements("//Assertion")); n != 1 {
			t.Fatalf("accepted a message with %d assertions", n)
		}
		if !strings.Contains(string(msg), strings.Split(p.PatientID, "^")[0]) {
			t.Fatal("accepted principal names a patient absent from the message")
		}
	})
}
