package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"kjdd/helseid/devissuer"
	"kjdd/test/internal/harness"
)

// Settings of the identity the load runs kjdd with.
const (
	loadAudience     = "nhn:kjdd"
	loadSAMLIssuer   = "https://helseid-xdssaml.test.nhn.no"
	loadSAMLAudience = "nhn:dokumentdeling-saml"
)

// identity is the HelseID issuer and national-gateway SAML signer the
// loaded kjdd trusts: kjdd's own development issuer (keys under the load's
// directory), served on a loopback port of the load process. kjdd reads
// its keys by OpenID discovery and trusts the SAML certificate from the
// JWKS x5c, as in production.
type identity struct {
	iss  *devissuer.Issuer
	srv  *http.Server
	url  string
	auth bool
}

// startIdentity starts the issuer; with auth false the load sends no
// credentials at all (and measures kjdd refusing them).
func startIdentity(dir string, auth bool) (*identity, error) {
	keys, err := devissuer.LoadOrCreate(filepath.Join(dir, "dev-keys"))
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	url := "http://" + l.Addr().String()
	iss, err := devissuer.New(keys, devissuer.Settings{
		Issuer: url, Audience: loadAudience, SAMLIssuer: loadSAMLIssuer, SAMLAudience: loadSAMLAudience,
		Scopes:            []string{"nhn:kjdd/read", "nhn:kjdd/register", "nhn:kjdd/audit"},
		HospitalOrgNumber: harness.HospitalOrgNumber,
	})
	if err != nil {
		l.Close()
		return nil, err
	}
	srv := &http.Server{Handler: iss.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return &identity{iss: iss, srv: srv, url: url, auth: auth}, nil
}

// close stops the issuer's server.
func (id *identity) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = id.srv.Shutdown(ctx)
}

// env configures kjdd to trust the identity. Tokens are bearer tokens
// (DPoP optional): the load measures XUA SAML on ITI-38; the cost of a
// DPoP proof is in helseid's benchmarks.
func (id *identity) env() map[string]string {
	return map[string]string{
		"KJDD_HELSEID_ISSUER":   id.url,
		"KJDD_HELSEID_AUDIENCE": loadAudience,
		"KJDD_HELSEID_DPOP":     "optional",
		"KJDD_SAML_ISSUER":      loadSAMLIssuer,
		"KJDD_SAML_AUDIENCE":    loadSAMLAudience,
	}
}

// security is a wsse:Security header with a signed XUA assertion for
// patient, valid for an hour: the national gateway reuses an assertion
// for a user's session, and kjdd verifies it on every request.
func (id *identity) security(patient string) (string, error) {
	if !id.auth {
		return "", nil
	}
	a, err := id.iss.Assertion(devissuer.AssertionOptions{Patient: patient})
	if err != nil {
		return "", err
	}
	return `<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">` +
		string(a) + `</wsse:Security>`, nil
}

// authorization is the Authorization header value for a practitioner
// (client false) or the EPJ (client true), "" without auth.
func (id *identity) authorization(client bool) (string, error) {
	if !id.auth {
		return "", nil
	}
	tok, err := id.iss.Token(devissuer.TokenOptions{Client: client})
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return "Bearer " + tok, nil
}
