package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"

	"kjdd/adapter/access"
	"kjdd/adapter/config"
	"kjdd/helseid"
	"kjdd/helseid/helseidtest"
	"kjdd/xds/soap"
)

// securityOf reads an envelope as the SOAP endpoint does and returns the
// XUA credential it offers.
func securityOf(t *testing.T, env []byte) helseid.SecurityHeader {
	t.Helper()
	m, err := soap.ReadMessage(bytes.NewReader(env), soap.ContentTypeSOAP, soap.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	return access.XUAFrom(m.SecurityHeader())
}

// TestSAMLTrust: KJDD_SAML_CERTS, when set, is the only SAML trust;
// otherwise the x5c certificates of the issuer's JWKS are.
func TestSAMLTrust(t *testing.T) {
	iss := helseidtest.NewIssuer(t) // its SAML signer's certificate is in the JWKS
	other := helseidtest.NewSAMLSigner(t)
	pemFile := filepath.Join(t.TempDir(), "saml.pem")
	if err := os.WriteFile(pemFile, other.CertificatePEM, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		samlCerts     string
		jwksSignerOK  bool
		otherSignerOK bool
	}{
		"x5c of the JWKS":  {jwksSignerOK: true},
		"KJDD_SAML_CERTS":  {samlCerts: pemFile, otherSignerOK: true},
		"missing PEM file": {samlCerts: filepath.Join(t.TempDir(), "absent.pem")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{
				"KJDD_HELSEID_ISSUER":       iss.URL,
				"KJDD_HELSEID_AUDIENCE":     helseidtest.DefaultAudience,
				"KJDD_HOME_COMMUNITY_ID":    "2.16.578.1.12.4.5.100.1",
				"KJDD_REPOSITORY_UNIQUE_ID": "2.16.578.1.12.4.5.100.1.2",
				"KJDD_HOSPITAL_ORGNR":       "983974880",
				"KJDD_AUDIT_KEY":            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
				"KJDD_PUBLIC_URL":           "https://kjdd.sykehus.no",
			}
			cfg, err := config.Load(nil, func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			// Set after Load: a missing file is config's error to report
			// at start; here buildAuthentication must refuse it too.
			cfg.SAMLCerts = tc.samlCerts
			ln := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
			auth, err := buildAuthentication(context.Background(), cfg, ln, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if name == "missing PEM file" {
				if err == nil {
					t.Fatal("started with an unreadable KJDD_SAML_CERTS")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if auth.devHandler != nil {
				t.Error("a development issuer outside --dev")
			}
			if err := auth.ready(context.Background()); err != nil {
				t.Fatalf("not ready with a reachable issuer: %v", err)
			}
			for signer, wantOK := range map[*helseidtest.SAMLSigner]bool{iss.SAML: tc.jwksSignerOK, other: tc.otherSignerOK} {
				_, err := auth.authenticator.Authenticate(context.Background(), access.Credentials{
					Transaction: access.ITI38, XUA: securityOf(t, signer.Envelope()), PatientID: helseidtest.DefaultPatient,
				})
				if wantOK && err != nil {
					t.Errorf("%s: refused: %v", signer.Certificate.Subject.CommonName, err)
				}
				if !wantOK {
					if ae, ok := helseid.AsAuthError(err); !ok || ae.Kind != helseid.FailedAuthentication {
						t.Errorf("%s: err = %v, want FailedAuthentication", signer.Certificate.Subject.CommonName, err)
					}
				}
			}
		})
	}
}
