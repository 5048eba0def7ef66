package helseid

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"kjdd/helseid/helseidtest"
)

func TestHTTPKeySourceRotation(t *testing.T) {
	iss := helseidtest.NewIssuer(t)
	clk := newClock(time.Now())
	ks := newKeySource(t, iss, clk.Now)
	first := iss.KeyID()
	if _, err := ks.Key(testCtx, first); err != nil {
		t.Fatal(err)
	}
	fetches := iss.JWKSRequests()

	t.Run("known kid is served from the cache", func(t *testing.T) {
		if _, err := ks.Key(testCtx, first); err != nil {
			t.Fatal(err)
		}
		if n := iss.JWKSRequests(); n != fetches {
			t.Fatalf("JWKS fetched %d more times", n-fetches)
		}
	})

	t.Run("a new kid after rotation triggers one refetch", func(t *testing.T) {
		clk.Advance(31 * time.Second)
		second := iss.Rotate(true)
		if _, err := ks.Key(testCtx, second); err != nil {
			t.Fatal(err)
		}
		if n := iss.JWKSRequests(); n != fetches+1 {
			t.Fatalf("JWKS fetched %d times, want 1", n-fetches)
		}
		if _, err := ks.Key(testCtx, first); err != nil {
			t.Fatalf("old key kept by the issuer is gone: %v", err)
		}
		fetches = iss.JWKSRequests()
	})

	t.Run("unknown kids refetch at most once per interval", func(t *testing.T) {
		clk.Advance(31 * time.Second)
		for _, kid := range []string{"forged-1", "forged-2", "forged-3"} {
			if _, err := ks.Key(testCtx, kid); !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("Key(%s) = %v, want ErrUnknownKey", kid, err)
			}
		}
		if n := iss.JWKSRequests(); n != fetches+1 {
			t.Fatalf("JWKS fetched %d times for 3 unknown kids, want 1", n-fetches)
		}
		clk.Advance(31 * time.Second)
		_, _ = ks.Key(testCtx, "forged-4")
		if n := iss.JWKSRequests(); n != fetches+2 {
			t.Fatalf("no refetch after the interval (%d)", n-fetches)
		}
	})

	t.Run("a dropped key stops validating once the set is refreshed", func(t *testing.T) {
		current := iss.Rotate(false)
		clk.Advance(time.Hour + time.Second)
		if _, err := ks.Key(testCtx, first); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("dropped key still served: %v", err)
		}
		if _, err := ks.Key(testCtx, current); err != nil {
			t.Fatal(err)
		}
	})
}

func TestHTTPKeySourceIssuerDown(t *testing.T) {
	iss := helseidtest.NewIssuer(t)
	clk := newClock(time.Now())

	t.Run("cached keys survive an outage shorter than MaxStale", func(t *testing.T) {
		ks := newKeySource(t, iss, clk.Now)
		if _, err := ks.Key(testCtx, iss.KeyID()); err != nil {
			t.Fatal(err)
		}
		iss.SetDown(true)
		defer iss.SetDown(false)
		clk.Advance(2 * time.Hour)
		if _, err := ks.Key(testCtx, iss.KeyID()); err != nil {
			t.Fatalf("stale-but-young keys refused: %v", err)
		}
		clk.Advance(24 * time.Hour)
		if _, err := ks.Key(testCtx, iss.KeyID()); err == nil || errors.Is(err, ErrUnknownKey) {
			t.Fatalf("keys older than MaxStale still used (err %v)", err)
		}
	})

	t.Run("no keys yet means authentication is unavailable", func(t *testing.T) {
		iss.SetDown(true)
		defer iss.SetDown(false)
		if err := newKeySource(t, iss, nil).Ready(testCtx); err == nil {
			t.Fatal("ready without keys")
		}
		v := newJWTValidator(t, iss, nil)
		tok := iss.Token()
		_, err := v.Authenticate(testCtx, dpopRequest("GET", testURL, tok, iss.DPoPProof("GET", testURL, tok)))
		wantKind(t, err, Unavailable, "issuer keys")
	})
}

func TestHTTPKeySourceDiscovery(t *testing.T) {
	tests := map[string]struct {
		discovery string
		ok        bool
	}{
		"discovery names another issuer":     {`{"issuer":"https://evil.example","jwks_uri":"%s/jwks"}`, false},
		"jwks_uri over plain http elsewhere": {`{"issuer":"%s","jwks_uri":"http://jwks.example/keys"}`, false},
		"discovery is not JSON":              {`<html>`, false},
		"consistent discovery":               {`{"issuer":"%s","jwks_uri":"%s/jwks"}`, true},
	}
	signer := helseidtest.NewIssuer(t)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/.well-known/openid-configuration":
					_, _ = w.Write([]byte(strings.ReplaceAll(tc.discovery, "%s", srv.URL)))
				case "/jwks":
					_, _ = w.Write(signer.JWKS())
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			ks, err := NewHTTPKeySource(HTTPKeySourceConfig{Issuer: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			err = ks.Refresh(testCtx)
			if (err == nil) != tc.ok {
				t.Fatalf("Refresh = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestHTTPKeySourceCertificates(t *testing.T) {
	iss := helseidtest.NewIssuer(t)
	certs, err := newKeySource(t, iss, nil).Certificates(testCtx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range certs {
		if c.Equal(iss.SAML.Certificate) {
			found = true
		}
	}
	if !found || len(certs) != 2 {
		t.Fatalf("got %d certificates, SAML signer among them: %v", len(certs), found)
	}
}

func TestParseJWKSRefusesPrivateKeys(t *testing.T) {
	jwks := []byte(`{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0"}]}`)
	if _, _, err := parseJWKS(jwks); err == nil {
		t.Fatal("a JWKS holding a symmetric key was accepted")
	}
}

func TestCheckIssuerURL(t *testing.T) {
	tests := map[string]bool{
		"https://helseid-sts.test.nhn.no":   true,
		"http://127.0.0.1:8080":             true,
		"http://localhost:9000/dev/helseid": true,
		"http://[::1]:9000":                 true,
		"http://helseid-sts.test.nhn.no":    false,
		"ftp://helseid.example":             false,
		"https://user:pw@helseid.example":   false,
		"https://helseid.example?x=1":       false,
		"helseid.example":                   false,
		"":                                  false,
	}
	for in, ok := range tests {
		t.Run(in, func(t *testing.T) {
			if err := CheckIssuerURL(in); (err == nil) != ok {
				t.Fatalf("CheckIssuerURL(%q) = %v, want ok=%v", in, err, ok)
			}
		})
	}
}

func TestParsePEMCertificates(t *testing.T) {
	signer := helseidtest.NewSAMLSigner(t)
	tests := map[string]struct {
		pem []byte
		n   int
	}{
		"one certificate":  {signer.CertificatePEM, 1},
		"two certificates": {append(append([]byte{}, signer.CertificatePEM...), signer.CertificatePEM...), 2},
		"empty":            {nil, 0},
		"a private key":    {[]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0},
		"trailing garbage": {append(append([]byte{}, signer.CertificatePEM...), "garbage"...), 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			certs, err := ParsePEMCertificates(tc.pem)
			if tc.n == 0 {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil || len(certs) != tc.n {
				t.Fatalf("got %d, %v; want %d", len(certs), err, tc.n)
			}
		})
	}
}

// TestHTTPKeySourceConcurrentRotation: many requests naming a new kid at
// once cause exactly one refetch, and all of them get the key.
func TestHTTPKeySourceConcurrentRotation(t *testing.T) {
	iss := helseidtest.NewIssuer(t)
	clk := newClock(time.Now())
	ks := newKeySource(t, iss, clk.Now)
	if err := ks.Refresh(testCtx); err != nil {
		t.Fatal(err)
	}
	before := iss.JWKSRequests()
	kid := iss.Rotate(true)
	clk.Advance(31 * time.Second)
	errs := make(chan error, 32)
	for range 32 {
		go func() {
			_, err := ks.Key(testCtx, kid)
			errs <- err
		}()
	}
	for range 32 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := iss.JWKSRequests() - before; n != 1 {
		t.Fatalf("%d JWKS fetches for 32 concurrent lookups, want 1", n)
	}
}
