package helseid

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// DPoPMode says whether access tokens must be sender-constrained with DPoP
// (KJDD_HELSEID_DPOP).
type DPoPMode string

// The DPoP modes.
const (
	// DPoPRequired accepts only "Authorization: DPoP" with a valid proof.
	DPoPRequired DPoPMode = "required"
	// DPoPOptional also accepts "Authorization: Bearer" for tokens that are
	// not DPoP-bound. A bound token always needs its proof.
	DPoPOptional DPoPMode = "optional"
)

// ParseDPoPMode reads a KJDD_HELSEID_DPOP value.
func ParseDPoPMode(s string) (DPoPMode, error) {
	switch m := DPoPMode(strings.ToLower(strings.TrimSpace(s))); m {
	case DPoPRequired, DPoPOptional:
		return m, nil
	}
	return "", fmt.Errorf("helseid: DPoP mode %q is neither required nor optional", s)
}

// UnmarshalText reads KJDD_HELSEID_DPOP as ParseDPoPMode does.
func (m *DPoPMode) UnmarshalText(b []byte) error {
	parsed, err := ParseDPoPMode(string(b))
	if err != nil {
		return err
	}
	*m = parsed
	return nil
}

// maxJTI bounds the proof identifier; RFC 9449 suggests 96 bits of
// randomness, a UUID or base64 of 16-32 bytes fits easily.
const maxJTI = 256

// dpopProof is a DPoP proof whose signature has been verified with the key
// in its own header.
type dpopProof struct {
	alg        string
	thumbprint string // RFC 7638, SHA-256, base64url
	claims     dpopClaims
}

type dpopClaims struct {
	JTI   string      `json:"jti"`
	HTM   string      `json:"htm"`
	HTU   string      `json:"htu"`
	IAT   json.Number `json:"iat"`
	ATH   string      `json:"ath"`
	Nonce string      `json:"nonce"`
}

// parseDPoPProof checks a proof's form and its signature by its own public
// key: typ dpop+jwt, an allowed asymmetric alg, a public jwk (a private key
// is refused outright: whoever sent it has leaked it), and the claims kjdd
// needs. It does not compare the proof with the request or the token.
func parseDPoPProof(proof string, allowed []string) (*dpopProof, error) {
	jwsMsg, err := parseCompactJWS(proof)
	if err != nil {
		return nil, err
	}
	h := jwsMsg.header
	if !typIs(h.Typ, "dpop+jwt") {
		return nil, errors.New("typ is not dpop+jwt")
	}
	if !slices.Contains(allowed, h.Alg) {
		return nil, fmt.Errorf("alg %q not allowed", truncate(h.Alg))
	}
	if len(h.JWK) == 0 {
		return nil, errors.New("no jwk in header")
	}
	if err := checkPublicJWK(h.JWK); err != nil {
		return nil, err
	}
	key, err := jwk.ParseKey(h.JWK)
	if err != nil {
		return nil, errors.New("jwk does not parse")
	}
	if private, err := jwk.IsPrivateKey(key); err != nil || private {
		return nil, errors.New("jwk is not an asymmetric public key")
	}
	alg, ok := jwa.LookupSignatureAlgorithm(h.Alg)
	if !ok {
		return nil, errors.New("unknown alg")
	}
	payload, err := jws.Verify([]byte(proof), jws.WithKey(alg, key))
	if err != nil {
		return nil, errors.New("signature does not verify with the jwk")
	}
	tp, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, errors.New("jwk thumbprint")
	}
	// json.Number would also take "iat": "1700000000".
	if err := checkNumericDates(payload); err != nil {
		return nil, err
	}
	var c dpopClaims
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return nil, errors.New("claims have wrong types")
	}
	if c.JTI == "" || len(c.JTI) > maxJTI {
		return nil, errors.New("jti missing or too long")
	}
	if c.HTM == "" || c.HTU == "" || c.IAT == "" {
		return nil, errors.New("htm, htu or iat missing")
	}
	return &dpopProof{alg: h.Alg, thumbprint: base64.RawURLEncoding.EncodeToString(tp), claims: c}, nil
}

// checkPublicJWK refuses a jwk that carries private or symmetric key
// material, before any library interprets it.
func checkPublicJWK(raw json.RawMessage) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return errors.New("jwk is not an object")
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
		if _, ok := m[private]; ok {
			return errors.New("jwk holds private key material")
		}
	}
	return nil
}

// issuedAt reads iat (NumericDate, possibly fractional).
func (p *dpopProof) issuedAt() (time.Time, error) {
	f, err := p.claims.IAT.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, errors.New("iat is not a NumericDate")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// accessTokenHash is the ath of RFC 9449 §4.2: base64url(SHA-256(token)).
func accessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// normalizeHTU reduces an HTTP URI to what RFC 9449 §4.3 compares: scheme
// and host in lower case, no default port, the path, and neither query nor
// fragment.
func normalizeHTU(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("htu is not a URL")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", errors.New("htu is not an http(s) URL")
	}
	hostname := strings.ToLower(u.Hostname())
	if hostname == "" {
		return "", errors.New("htu has no host")
	}
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	host := hostname
	if strings.Contains(hostname, ":") {
		host = "[" + hostname + "]"
	}
	if port != "" {
		host += ":" + port
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, nil
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}
