package devissuer

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Issuer mints development credentials from Keys for the server described
// by Settings, and serves the OpenID discovery document and JWKS a
// verifier reads them with.
type Issuer struct {
	keys     *Keys
	settings Settings
	// Now is the clock; time.Now unless a test sets it.
	Now func() time.Time
}

// New returns an issuer over k for s.
func New(k *Keys, s Settings) (*Issuer, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	s.Issuer = strings.TrimSuffix(s.Issuer, "/")
	return &Issuer{keys: k, settings: s, Now: time.Now}, nil
}

// Open loads the keys and the settings the server wrote in dir: what the
// CLI uses. It returns an error wrapping ErrNoKeys unless serve --dev has
// run with this directory.
func Open(dir string) (*Issuer, error) {
	k, err := Load(dir)
	if err != nil {
		return nil, err
	}
	s, err := k.Settings()
	if err != nil {
		return nil, err
	}
	return New(k, s)
}

// Settings returns the settings the issuer mints for.
func (i *Issuer) Settings() Settings { return i.settings }

// SAMLCertificate is the certificate assertions are signed with; a
// verifier of development assertions trusts it.
func (i *Issuer) SAMLCertificate() *x509.Certificate { return i.keys.SAMLCertificate }

// TokenKeyID is the kid of the access-token signing key.
func (i *Issuer) TokenKeyID() string { return "dev-" + thumbprint(&i.keys.TokenKey.PublicKey) }

// samlKeyID is the kid of the SAML signing key in the JWKS.
func (i *Issuer) samlKeyID() string { return "dev-saml-" + thumbprint(&i.keys.SAMLKey.PublicKey) }

// JWKSPath is where Handler serves the key set, relative to the issuer.
const JWKSPath = "/jwks"

// Handler serves /.well-known/openid-configuration and /jwks, relative to
// wherever it is mounted; the documents name Settings.Issuer, so mount it
// there (kjdd: /dev/helseid).
func (i *Issuer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                                i.settings.Issuer,
			"jwks_uri":                              i.settings.Issuer + JWKSPath,
			"scopes_supported":                      i.settings.Scopes,
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"dpop_signing_alg_values_supported":     []string{"RS256", "PS256", "ES256"},
		})
	})
	mux.HandleFunc("GET "+JWKSPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, i.jwks())
	})
	return mux
}

// JWKS returns the key set document: the token key, and the SAML key with
// its certificate as x5c (HelseID publishes its SAML certificates so).
func (i *Issuer) JWKS() []byte {
	b, _ := json.Marshal(i.jwks())
	return b
}

func (i *Issuer) jwks() map[string]any {
	token := rsaJWK(&i.keys.TokenKey.PublicKey)
	token["kid"], token["use"], token["alg"] = i.TokenKeyID(), "sig", "RS256"
	saml := rsaJWK(&i.keys.SAMLKey.PublicKey)
	saml["kid"], saml["use"], saml["alg"] = i.samlKeyID(), "sig", "RS256"
	saml["x5c"] = []string{base64.StdEncoding.EncodeToString(i.keys.SAMLCertificate.Raw)}
	return map[string]any{"keys": []any{token, saml}}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// signJWT makes a compact RS256 JWS of claims with the token key.
func (i *Issuer) signJWT(header, claims map[string]any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64url.EncodeToString(h) + "." + b64url.EncodeToString(c)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, i.keys.TokenKey, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return input + "." + b64url.EncodeToString(sig), nil
}

// randomID is 128 random bits in hex.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
