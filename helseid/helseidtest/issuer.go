package helseidtest

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Defaults of the tokens an Issuer mints. The practitioner and organisation
// numbers are NHN's synthetic test data (they appear in NHN's published
// test assertions), not real people.
const (
	DefaultAudience       = "kjdd"
	DefaultClientID       = "kjdd-test-client"
	DefaultPractitionerID = "06828399789"
	DefaultPractitioner   = "KVART GREVLING"
	DefaultHPRNumber      = "565505933"
	DefaultOrgNrParent    = "960510542"
	DefaultOrgNrChild     = "874593842"
	DefaultDecisionRef    = "07b4b65f-a538-4c88-b845-c8fd18702f83"
)

// DefaultScopes are granted to every token unless overridden.
var DefaultScopes = []string{"nhn:kjdd/read", "nhn:kjdd/register", "nhn:kjdd/audit"}

type signingKey struct {
	kid  string
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

// Issuer is a fake HelseID: an httptest server on loopback serving
// /.well-known/openid-configuration and the JWKS it names, minting RS256
// access tokens and, for its client, ES256 DPoP proofs.
type Issuer struct {
	// URL is the issuer identifier (iss) and the server's base URL.
	URL string
	// Audience goes into aud; default DefaultAudience.
	Audience string
	// Scopes go into scope; default DefaultScopes.
	Scopes []string
	// ClientKey is the client's DPoP key: tokens are bound to it by default
	// and DPoPProof signs with it.
	ClientKey *ecdsa.PrivateKey
	// SAML signs XUA assertions; its certificate is published as x5c in the
	// JWKS, as HelseID's are.
	SAML *SAMLSigner
	// Server is the underlying test server.
	Server *httptest.Server

	mu           sync.Mutex
	keys         []signingKey // keys[0] signs; all are published
	jwksRequests atomic.Int64
	down         atomic.Bool
}

// NewIssuer starts a fake issuer, stopped when the test ends.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	i := &Issuer{Audience: DefaultAudience, Scopes: DefaultScopes, ClientKey: NewECKey(), SAML: NewSAMLSigner(t)}
	i.Rotate(false)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", i.serveDiscovery)
	mux.HandleFunc("GET /.well-known/openid-configuration/jwks", i.serveJWKS)
	i.Server = httptest.NewServer(mux)
	i.URL = i.Server.URL
	t.Cleanup(i.Server.Close)
	return i
}

// Rotate makes a new signing key current and returns its key id. With
// keepOld the previous keys stay published (a normal rotation); without,
// they are dropped, and tokens they signed stop validating once a verifier
// refreshes.
func (i *Issuer) Rotate(keepOld bool) string {
	k := newRSAKey()
	sk := signingKey{kid: randomID(), key: k, cert: selfSigned(k, "kjdd test HelseID")}
	i.mu.Lock()
	defer i.mu.Unlock()
	if keepOld {
		i.keys = append([]signingKey{sk}, i.keys...)
	} else {
		i.keys = []signingKey{sk}
	}
	return sk.kid
}

// KeyID is the key id of the current signing key.
func (i *Issuer) KeyID() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.keys[0].kid
}

// PublicKeyPEM is the current signing key's public key in PEM, the secret
// an HS256 algorithm-confusion attack signs with.
func (i *Issuer) PublicKeyPEM() []byte {
	i.mu.Lock()
	defer i.mu.Unlock()
	der, _ := x509.MarshalPKIXPublicKey(&i.keys[0].key.PublicKey)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// JWKSRequests counts how often the JWKS has been fetched.
func (i *Issuer) JWKSRequests() int { return int(i.jwksRequests.Load()) }

// SetDown makes discovery and JWKS answer 503 (true) or work again.
func (i *Issuer) SetDown(down bool) { i.down.Store(down) }

func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	if i.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, map[string]any{
		"issuer":                                i.URL,
		"jwks_uri":                              i.URL + "/.well-known/openid-configuration/jwks",
		"token_endpoint":                        i.URL + "/connect/token",
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"dpop_signing_alg_values_supported":     []string{"RS256", "PS256", "ES256"},
	})
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	i.jwksRequests.Add(1)
	if i.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, map[string]any{"keys": i.jwks()})
}

// JWKS returns the published key set document.
func (i *Issuer) JWKS() []byte {
	b, _ := json.Marshal(map[string]any{"keys": i.jwks()})
	return b
}

func (i *Issuer) jwks() []map[string]any {
	i.mu.Lock()
	defer i.mu.Unlock()
	var keys []map[string]any
	for _, k := range i.keys {
		keys = append(keys, keyEntry(k.kid, &k.key.PublicKey, k.cert))
	}
	keys = append(keys, keyEntry("saml-"+Thumbprint(&i.SAML.Key.PublicKey)[:16], &i.SAML.Key.PublicKey, i.SAML.Certificate))
	return keys
}

func keyEntry(kid string, pub *rsa.PublicKey, cert *x509.Certificate) map[string]any {
	m := publicJWK(pub)
	m["kid"] = kid
	m["use"] = "sig"
	m["alg"] = "RS256"
	m["x5c"] = []string{base64.StdEncoding.EncodeToString(cert.Raw)}
	return m
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// TokenOption changes one aspect of a minted token.
type TokenOption func(*tokenSpec)

type tokenSpec struct {
	header map[string]any
	claims map[string]any
	sign   string // "", "none", "hs256-public-key"
	now    time.Time
}

// Claim sets a claim (nil removes it).
func Claim(name string, value any) TokenOption {
	return func(s *tokenSpec) {
		if value == nil {
			delete(s.claims, name)
			return
		}
		s.claims[name] = value
	}
}

// Header sets a JOSE header parameter (nil removes it).
func Header(name string, value any) TokenOption {
	return func(s *tokenSpec) {
		if value == nil {
			delete(s.header, name)
			return
		}
		s.header[name] = value
	}
}

// At mints the token as if now were t: iat and nbf are t, exp t+5 min.
func At(t time.Time) TokenOption { return func(s *tokenSpec) { s.now = t } }

// Validity sets nbf and exp relative to the time the token is minted
// (iat): Validity(4*time.Second, 3*time.Second) is a window that ends
// before it begins, both bounds within a verifier's leeway.
func Validity(nbf, exp time.Duration) TokenOption {
	return func(s *tokenSpec) {
		s.claims["nbf"] = s.now.Add(nbf).Unix()
		s.claims["exp"] = s.now.Add(exp).Unix()
	}
}

// Lifetime sets exp to d after the time the token is minted (iat, nbf).
func Lifetime(d time.Duration) TokenOption {
	return func(s *tokenSpec) { s.claims["exp"] = s.now.Add(d).Unix() }
}

// ClientCredentials mints a client-credentials token: no person, no attest.
func ClientCredentials() TokenOption {
	return func(s *tokenSpec) {
		for _, c := range userClaims {
			delete(s.claims, c)
		}
		delete(s.claims, "nhn:tillitsrammeverk:parameters")
	}
}

// Unbound mints a bearer token without cnf.
func Unbound() TokenOption { return Claim("cnf", nil) }

// BoundTo binds the token to another DPoP key.
func BoundTo(k *ecdsa.PrivateKey) TokenOption {
	return Claim("cnf", map[string]any{"jkt": Thumbprint(&k.PublicKey)})
}

// Purpose sets the attest's purpose_of_use code (HL7 20448); "" removes
// it.
func Purpose(code string) TokenOption {
	return func(s *tokenSpec) {
		a, ok := s.claims["nhn:tillitsrammeverk:parameters"].(map[string]any)
		if !ok {
			return
		}
		care := a["care_relationship"].(map[string]any)
		if code == "" {
			delete(care, "purpose_of_use")
			return
		}
		care["purpose_of_use"] = map[string]any{"code": code, "system": "urn:oid:2.16.840.1.113883.1.11.20448"}
	}
}

// AttestPractitioner sets the pid the attest names as its practitioner.
func AttestPractitioner(pid string) TokenOption {
	return func(s *tokenSpec) {
		if a, ok := s.claims["nhn:tillitsrammeverk:parameters"].(map[string]any); ok {
			a["practitioner"].(map[string]any)["identifier"] = map[string]any{"id": pid, "system": "urn:oid:2.16.578.1.12.4.1.4.1", "name": DefaultPractitioner}
		}
	}
}

// AlgNone mints an unsigned token with alg "none".
func AlgNone() TokenOption {
	return func(s *tokenSpec) { s.sign = "none"; s.header["alg"] = "none" }
}

// HS256WithPublicKey signs with HMAC-SHA256 using the issuer's public key
// PEM as the secret: the classic algorithm-confusion attack.
func HS256WithPublicKey() TokenOption {
	return func(s *tokenSpec) { s.sign = "hs256-public-key"; s.header["alg"] = "HS256" }
}

var userClaims = []string{
	"helseid://claims/identity/pid", "helseid://claims/identity/security_level",
	"helseid://claims/identity/assurance_level", "helseid://claims/hpr/hpr_number", "name", "sub",
}

// DefaultAttest is the tillitsrammeverk attest minted into user tokens, in
// HelseID's enriched form.
func DefaultAttest() map[string]any {
	return map[string]any{
		"practitioner": map[string]any{
			"identifier":    map[string]any{"id": DefaultPractitionerID, "system": "urn:oid:2.16.578.1.12.4.1.4.1", "name": DefaultPractitioner, "authority": "https://www.skatteetaten.no"},
			"hpr_nr":        map[string]any{"id": DefaultHPRNumber, "system": "urn:oid:2.16.578.1.12.4.1.4.4"},
			"authorization": map[string]any{"code": "LE", "text": "Lege", "system": "urn:oid:2.16.578.1.12.4.1.1.9060"},
			"legal_entity":  map[string]any{"id": DefaultOrgNrParent, "name": "VOSS HERAD", "system": "urn:oid:2.16.578.1.12.4.1.4.101"},
			"point_of_care": map[string]any{"id": DefaultOrgNrChild, "name": "VOSS SJUKEHEIM", "system": "urn:oid:2.16.578.1.12.4.1.4.101"},
			"department":    map[string]any{"id": "4211607", "name": "Testavdeling", "system": "urn:oid:2.16.578.1.12.4.1.4.102"},
		},
		"care_relationship": map[string]any{
			"healthcare_service":     map[string]any{"code": "KP01", "text": "Legetjeneste ved sykehjem mv.", "system": "urn:oid:2.16.578.1.12.4.1.1.8663"},
			"purpose_of_use":         map[string]any{"code": "TREAT", "text": "Treatment", "system": "urn:oid:2.16.840.1.113883.1.11.20448"},
			"purpose_of_use_details": map[string]any{"code": "BEHANDLER", "system": "urn:AuditEventHL7Norway/CodeSystem/carerelation"},
			"decision_ref":           map[string]any{"id": DefaultDecisionRef, "user_selected": true},
		},
		"patients": []any{map[string]any{
			"point_of_care": map[string]any{"id": DefaultOrgNrChild, "system": "urn:oid:2.16.578.1.12.4.1.4.101"},
		}},
	}
}

// Token mints an access token. By default it is a practitioner's token
// (security level 4, pid, HPR number, attest) for Audience with every
// scope, valid for five minutes and DPoP-bound to ClientKey; options change
// any part of it.
func (i *Issuer) Token(opts ...TokenOption) string {
	i.mu.Lock()
	sk := i.keys[0]
	i.mu.Unlock()
	s := &tokenSpec{now: time.Now()}
	s.header = map[string]any{"alg": "RS256", "typ": "at+jwt", "kid": sk.kid}
	s.claims = map[string]any{
		"iss":                           i.URL,
		"aud":                           i.Audience,
		"client_id":                     DefaultClientID,
		"scope":                         i.Scopes,
		"jti":                           randomID(),
		"sub":                           "n8S0sHYEJ7r0bE6G2Bz6bFQ0DL6lHIkMp1q8iDiZiBg=",
		"name":                          DefaultPractitioner,
		"helseid://claims/identity/pid": DefaultPractitionerID,
		"helseid://claims/identity/security_level":    "4",
		"helseid://claims/identity/assurance_level":   "high",
		"helseid://claims/hpr/hpr_number":             DefaultHPRNumber,
		"helseid://claims/client/client_name":         "kjdd test EPJ",
		"helseid://claims/client/claims/orgnr_parent": DefaultOrgNrParent,
		"helseid://claims/client/claims/orgnr_child":  DefaultOrgNrChild,
		"cnf":                             map[string]any{"jkt": Thumbprint(&i.ClientKey.PublicKey)},
		"nhn:tillitsrammeverk:parameters": DefaultAttest(),
	}
	// Times first, so that options may override them.
	times := func() {
		s.claims["iat"] = s.now.Unix()
		s.claims["nbf"] = s.now.Unix()
		s.claims["exp"] = s.now.Add(5 * time.Minute).Unix()
	}
	times()
	for _, o := range opts {
		before := s.now
		o(s)
		if !s.now.Equal(before) {
			times()
		}
	}
	var key any = sk.key
	switch s.sign {
	case "none":
		key = nil
	case "hs256-public-key":
		key = i.PublicKeyPEM()
	}
	tok, err := signCompact(s.header, s.claims, key)
	if err != nil {
		panic(err)
	}
	return tok
}

// ProofOption changes one aspect of a DPoP proof.
type ProofOption func(*proofSpec)

type proofSpec struct {
	header     map[string]any
	claims     map[string]any
	key        *ecdsa.PrivateKey
	privateJWK bool
}

// ProofClaim sets a proof claim (nil removes it): htm, htu, iat, ath, jti.
func ProofClaim(name string, value any) ProofOption {
	return func(s *proofSpec) {
		if value == nil {
			delete(s.claims, name)
			return
		}
		s.claims[name] = value
	}
}

// ProofHeader sets a proof header parameter (nil removes it).
func ProofHeader(name string, value any) ProofOption {
	return func(s *proofSpec) {
		if value == nil {
			delete(s.header, name)
			return
		}
		s.header[name] = value
	}
}

// ProofIssuedAt sets the proof's iat.
func ProofIssuedAt(t time.Time) ProofOption { return ProofClaim("iat", t.Unix()) }

// ProofKey signs the proof with another key (and puts that key in jwk).
func ProofKey(k *ecdsa.PrivateKey) ProofOption { return func(s *proofSpec) { s.key = k } }

// ProofWithPrivateJWK puts the private key, d included, into the jwk
// header: a client that leaks its key this way must be refused.
func ProofWithPrivateJWK() ProofOption { return func(s *proofSpec) { s.privateJWK = true } }

// DPoPProof makes a valid proof for a request with method to rawURL (query
// and fragment are dropped from htu), bound to token by ath, signed with
// ClientKey.
func (i *Issuer) DPoPProof(method, rawURL, token string) string {
	return i.DPoPProofWith(method, rawURL, token)
}

// DPoPProofWith makes a proof as DPoPProof does, changed by opts.
func (i *Issuer) DPoPProofWith(method, rawURL, token string, opts ...ProofOption) string {
	htu := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		u.RawQuery, u.Fragment = "", ""
		htu = u.String()
	}
	s := &proofSpec{
		header: map[string]any{"typ": "dpop+jwt", "alg": "ES256"},
		claims: map[string]any{"jti": randomID(), "htm": method, "htu": htu, "iat": time.Now().Unix()},
		key:    i.ClientKey,
	}
	if token != "" {
		s.claims["ath"] = AccessTokenHash(token)
	}
	for _, o := range opts {
		o(s)
	}
	if _, set := s.header["jwk"]; !set {
		if s.privateJWK {
			s.header["jwk"] = privateJWK(s.key)
		} else {
			s.header["jwk"] = publicJWK(&s.key.PublicKey)
		}
	}
	p, err := signCompact(s.header, s.claims, s.key)
	if err != nil {
		panic(err)
	}
	return p
}
