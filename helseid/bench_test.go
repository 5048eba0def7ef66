package helseid

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"
	"time"

	"kjdd/helseid/helseidtest"
)

// BenchmarkJWTDPoPValidate is one full authentication: access token (RS256)
// and DPoP proof (ES256) verified, claims and attest checked, proof id
// recorded. Proofs are made before the timer starts.
func BenchmarkJWTDPoPValidate(b *testing.B) {
	iss := helseidtest.NewIssuer(b)
	v := newJWTValidator(b, iss, func(c *JWTConfig) {
		c.Replay = NewMemoryReplayCache(b.N + 10)
		c.DPoPProofLifetime = 5 * time.Minute
	})
	tok := iss.Token()
	proofs := make([]string, b.N)
	for i := range proofs {
		proofs[i] = iss.DPoPProof("GET", testURL, tok)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := v.Authenticate(testCtx, dpopRequest("GET", testURL, tok, proofs[i])); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSAMLVerify is one XUA authentication of an already parsed
// envelope: round-trip check, re-parse, shape check, exclusive C14N,
// RSA-SHA256 verification, conditions and attributes.
func BenchmarkSAMLVerify(b *testing.B) {
	signer := helseidtest.NewSAMLSigner(b)
	sec := securityOf(b, signer.Envelope())
	// first-use verifies the signature every time (a new assertion per
	// request); reused is an assertion seen before under the same trust set
	// (the requests of one session), where only the per-request rules run.
	b.Run("first-use", func(b *testing.B) {
		v := newSAMLValidator(b, StaticCertificates{signer.Certificate}, nil)
		b.ReportAllocs()
		for b.Loop() {
			clear(v.verified.entries)
			if _, err := v.Authenticate(testCtx, sec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reused", func(b *testing.B) {
		v := newSAMLValidator(b, StaticCertificates{signer.Certificate}, nil)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Authenticate(testCtx, sec); err != nil {
				b.Fatal(err)
			}
		}
	})
	// reused-as-bytes is what kjdd's SOAP reader hands over: the assertion
	// kept as bytes (soap.AssertionSource), its verification reused.
	b.Run("reused-as-bytes", func(b *testing.B) {
		v := newSAMLValidator(b, StaticCertificates{signer.Certificate}, nil)
		h := readXUA(b, signer.Envelope())
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.AuthenticateXUA(testCtx, h); err != nil {
				b.Fatal(err)
			}
		}
		if n := v.verifications.Load(); n != 1 {
			b.Fatalf("%d trees built, want 1", n)
		}
	})
}

// BenchmarkRSA2048Verify is the bare cryptographic floor both of the above
// stand on: one RSA-2048 PKCS#1 v1.5 verification of a SHA-256 digest.
func BenchmarkRSA2048Verify(b *testing.B) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("kjdd"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}
