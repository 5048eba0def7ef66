package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"kjdd/adapter/access"
	"kjdd/adapter/config"
	"kjdd/helseid"
	"kjdd/helseid/devissuer"
	"kjdd/helseid/helseidtest"
)

// devServer runs buildAuthentication as serve --dev does, on a loopback
// listener of its own, with the dev keys in a fresh directory, and serves
// the development issuer's handler there.
func devServer(t *testing.T) (keysDir string, auth *authentication) {
	t.Helper()
	keysDir = filepath.Join(t.TempDir(), "dev")
	env := map[string]string{"KJDD_DEV_KEYS": keysDir, "KJDD_STORE": "sqlite:" + filepath.Join(t.TempDir(), "kjdd.db")}
	cfg, err := config.Load([]string{"--dev"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	auth, err = buildAuthentication(context.Background(), cfg, ln.Addr(), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if auth.devHandler == nil {
		t.Fatal("no development issuer under --dev")
	}
	mux := http.NewServeMux()
	mux.Handle(devIssuerPath+"/", http.StripPrefix(devIssuerPath, auth.devHandler))
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	srv.Start()
	t.Cleanup(srv.Close)
	return keysDir, auth
}

func TestDevCommandsRefuseWithoutKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "none")
	env := func(k string) string { return map[string]string{"KJDD_DEV_KEYS": dir}[k] }
	for name, args := range map[string][]string{
		"token": {"token"},
		"saml":  {"saml", "--patient", "13116900216"},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errs bytes.Buffer
			if code := devCommand(args, env, &out, &errs); code != 1 {
				t.Fatalf("exit %d, want 1", code)
			}
			if out.Len() != 0 || !strings.Contains(errs.String(), "serve --dev") {
				t.Fatalf("stdout %q stderr %q", out.String(), errs.String())
			}
		})
	}
}

func TestDevCommandUsage(t *testing.T) {
	env := func(string) string { return "" }
	tests := map[string][]string{
		"no subcommand":             {},
		"unknown subcommand":        {"cookie"},
		"unknown flag":              {"token", "--bogus"},
		"stray argument":            {"token", "extra"},
		"saml without patient":      {"saml"},
		"client token with a pid":   {"token", "--client", "--pid", "13116900216"},
		"scope with a space":        {"token", "--scope", "a b"},
		"client token with purpose": {"token", "--client", "--purpose", "BTG"},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			var out, errs bytes.Buffer
			if code := devCommand(args, env, &out, &errs); code != 2 {
				t.Fatalf("exit %d, want 2 (stderr %q)", code, errs.String())
			}
		})
	}
}

// claimsOf decodes a JWT's payload without verifying it (the verification
// of what the issuer mints is tested in devissuer and end to end).
func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDevCommandsMintForTheServer(t *testing.T) {
	keysDir, _ := devServer(t)
	s, err := (&devissuer.Keys{Dir: keysDir}).Settings()
	if err != nil {
		t.Fatal(err)
	}
	env := func(k string) string { return map[string]string{"KJDD_DEV_KEYS": keysDir}[k] }
	run := func(t *testing.T, args ...string) string {
		t.Helper()
		var out, errs bytes.Buffer
		if code := devCommand(args, env, &out, &errs); code != 0 {
			t.Fatalf("exit %d: %s", code, errs.String())
		}
		if !strings.HasSuffix(out.String(), "\n") || strings.Count(out.String(), "\n") != 1 {
			t.Fatalf("want one line of output, got %q", out.String())
		}
		return strings.TrimSpace(out.String())
	}
	tests := map[string]struct {
		args  []string
		check func(t *testing.T, c map[string]any)
	}{
		"default practitioner token": {args: []string{"token"}, check: func(t *testing.T, c map[string]any) {
			if c["iss"] != s.Issuer || c["aud"] != s.Audience || c["helseid://claims/identity/pid"] != devissuer.DefaultPractitionerPID {
				t.Errorf("claims %v", c)
			}
			if scopes, _ := c["scope"].([]any); len(scopes) != 3 {
				t.Errorf("scopes %v, want every scope", c["scope"])
			}
			if _, ok := c["nhn:tillitsrammeverk:parameters"]; !ok {
				t.Error("no attest")
			}
		}},
		"practitioner token with options": {args: []string{"token", "--hpr", "123456", "--pid", "13116900216", "--purpose", "btg", "--scope", "nhn:kjdd/read"},
			check: func(t *testing.T, c map[string]any) {
				if c["helseid://claims/hpr/hpr_number"] != "123456" || c["helseid://claims/identity/pid"] != "13116900216" {
					t.Errorf("claims %v", c)
				}
				if scopes, _ := c["scope"].([]any); len(scopes) != 1 {
					t.Errorf("scopes %v", c["scope"])
				}
			}},
		"client token": {args: []string{"token", "--client"}, check: func(t *testing.T, c map[string]any) {
			if _, ok := c["helseid://claims/identity/pid"]; ok {
				t.Error("client token names a person")
			}
			if c["helseid://claims/client/claims/orgnr_parent"] != config.DevHospitalOrgNumber {
				t.Errorf("orgnr_parent %v", c["helseid://claims/client/claims/orgnr_parent"])
			}
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) { tc.check(t, claimsOf(t, run(t, tc.args...))) })
	}
	t.Run("assertion", func(t *testing.T) {
		a := run(t, "saml", "--patient", "13116900216", "--purpose", "ETREAT")
		if !strings.HasPrefix(a, "<saml:Assertion ") || !strings.Contains(a, "13116900216^^^&amp;2.16.578.1.12.4.1.4.1&amp;ISO") ||
			!strings.Contains(a, "ds:Signature") || !strings.Contains(a, s.SAMLIssuer) {
			t.Fatalf("assertion %.300s", a)
		}
	})
}

// TestDevAuthenticatorAcceptsDevCredentials: what `kjdd dev` mints is what
// serve --dev's authenticator accepts, keys read through its own served
// discovery.
func TestDevAuthenticatorAcceptsDevCredentials(t *testing.T) {
	keysDir, auth := devServer(t)
	iss, err := devissuer.Open(keysDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.ready(context.Background()); err != nil {
		t.Fatalf("not ready: %v", err)
	}
	tok, err := iss.Token(devissuer.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "http://localhost:8080/xds/registry", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	c, err := auth.authenticator.Authenticate(context.Background(), access.Credentials{Transaction: access.ITI18, HTTP: r})
	if err != nil || c.Principal.PID != devissuer.DefaultPractitionerPID {
		t.Fatalf("practitioner token: %v, %+v", err, c)
	}
	client, err := iss.Token(devissuer.TokenOptions{Client: true})
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+client)
	if _, err := auth.authenticator.Authenticate(context.Background(), access.Credentials{Transaction: access.ITI41, HTTP: r}); err != nil {
		t.Fatalf("client token for register: %v", err)
	}
}

func TestLoopbackHostPort(t *testing.T) {
	tests := map[string]struct {
		addr net.Addr
		want string
	}{
		"ipv4 loopback":      {addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, want: "127.0.0.1:8080"},
		"ipv4 any":           {addr: &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, want: "127.0.0.1:8080"},
		"ipv6 any":           {addr: &net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, want: "127.0.0.1:8080"},
		"ipv6 loopback":      {addr: &net.TCPAddr{IP: net.IPv6loopback, Port: 9}, want: "[::1]:9"},
		"no host (any port)": {addr: &net.TCPAddr{Port: 8080}, want: "127.0.0.1:8080"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := loopbackHostPort(tc.addr); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestDevPublicURLIsTheListener: under --dev with DPoP required and no
// KJDD_PUBLIC_URL, proofs are compared with the listener's own URL, as the
// development issuer's is; a proof for a host named in Host is refused.
func TestDevPublicURLIsTheListener(t *testing.T) {
	keysDir := filepath.Join(t.TempDir(), "dev")
	env := map[string]string{"KJDD_DEV_KEYS": keysDir, "KJDD_HELSEID_DPOP": "required",
		"KJDD_STORE": "sqlite:" + filepath.Join(t.TempDir(), "kjdd.db")}
	cfg, err := config.Load([]string{"--dev"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	auth, err := buildAuthentication(context.Background(), cfg, ln.Addr(), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(devIssuerPath+"/", http.StripPrefix(devIssuerPath, auth.devHandler))
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	srv.Start()
	t.Cleanup(srv.Close)

	keys, err := devissuer.Load(keysDir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := keys.Settings()
	if err != nil {
		t.Fatal(err)
	}
	iss, err := devissuer.New(keys, s)
	if err != nil {
		t.Fatal(err)
	}
	clientKey := helseidtest.NewECKey()
	prover := helseidtest.NewIssuer(t) // signs proofs with clientKey only
	base := "http://" + ln.Addr().String()
	try := func(host, htu string) error {
		tok, err := iss.Token(devissuer.TokenOptions{Client: true, JKT: helseidtest.Thumbprint(&clientKey.PublicKey)})
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodPost, base+"/xds/repository", nil)
		r.Host = host
		r.Header.Set("Authorization", "DPoP "+tok)
		r.Header.Set("DPoP", prover.DPoPProofWith(http.MethodPost, htu, tok, helseidtest.ProofKey(clientKey)))
		_, err = auth.authenticator.Authenticate(context.Background(), access.Credentials{Transaction: access.ITI41, HTTP: r})
		return err
	}
	if err := try(ln.Addr().String(), base+"/xds/repository"); err != nil {
		t.Fatalf("proof for the listener's URL refused: %v", err)
	}
	err = try("kjdd.example.org", "http://kjdd.example.org/xds/repository")
	if ae, ok := helseid.AsAuthError(err); !ok || ae.Kind != helseid.InvalidDPoPProof {
		t.Fatalf("proof for the Host header's host: %v, want invalid_dpop_proof", err)
	}
}
