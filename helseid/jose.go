package helseid

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
)

// DefaultAlgorithms are the signature algorithms HelseID uses and
// advertises for DPoP proofs: asymmetric only. "none" and the HMAC family
// can never be allowed, whatever the configuration says.
var DefaultAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}

// maxCompactJWS bounds an access token or DPoP proof. HelseID tokens with a
// full attest are a few kilobytes.
const maxCompactJWS = 16 << 10

// joseHeader is the protected header of a compact JWS, as far as kjdd
// reads it.
type joseHeader struct {
	Alg string          `json:"alg"`
	Typ string          `json:"typ"`
	Kid string          `json:"kid"`
	JWK json.RawMessage `json:"jwk"`
	// Crit, B64, Jku, X5u: present means refused. kjdd supports no
	// critical extensions, no unencoded payloads, and never fetches keys
	// from a URL the token names.
	Crit json.RawMessage `json:"crit"`
	B64  json.RawMessage `json:"b64"`
	Jku  json.RawMessage `json:"jku"`
	X5u  json.RawMessage `json:"x5u"`
}

// compactJWS is a split, decoded compact JWS whose signature is not yet
// verified.
type compactJWS struct {
	raw     string
	header  joseHeader
	payload []byte
}

// parseCompactJWS splits a compact JWS and decodes its header and payload.
// It checks shape only: three non-empty base64url parts, a JSON object
// header and payload without duplicate member names (which different JSON
// parsers resolve differently), and no header parameter kjdd refuses.
func parseCompactJWS(token string) (*compactJWS, error) {
	if len(token) > maxCompactJWS {
		return nil, errors.New("token too large")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a compact JWS")
	}
	// An empty signature (alg "none") is left for the alg check to refuse.
	if parts[0] == "" || parts[1] == "" {
		return nil, errors.New("empty JWS part")
	}
	hdrBytes, err := base64.RawURLEncoding.Strict().DecodeString(parts[0])
	if err != nil {
		return nil, errors.New("header is not base64url")
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("payload is not base64url")
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(parts[2]); err != nil {
		return nil, errors.New("signature is not base64url")
	}
	if err := checkJSONObject(hdrBytes); err != nil {
		return nil, errors.New("header: " + err.Error())
	}
	if err := checkJSONObject(payload); err != nil {
		return nil, errors.New("payload: " + err.Error())
	}
	var h joseHeader
	if err := json.Unmarshal(hdrBytes, &h); err != nil {
		return nil, errors.New("header has wrong member types")
	}
	if h.Crit != nil || h.B64 != nil || h.Jku != nil || h.X5u != nil {
		return nil, errors.New("header uses a parameter kjdd refuses")
	}
	return &compactJWS{raw: token, header: h, payload: payload}, nil
}

// checkJSONObject checks that data is one JSON object whose members (at the
// top level) have distinct names.
func checkJSONObject(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return errors.New("not JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errors.New("not JSON")
		}
		name, _ := tok.(string)
		if seen[name] {
			return errors.New("duplicate member")
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return errors.New("not JSON")
		}
	}
	if _, err := dec.Token(); err != nil {
		return errors.New("not JSON")
	}
	if _, err := dec.Token(); err == nil {
		return errors.New("trailing data")
	}
	return nil
}

// checkAlgorithms validates a configured allowlist against the asymmetric
// algorithms kjdd knows; it refuses none, HMAC and anything unknown.
func checkAlgorithms(algs []string) error {
	if len(algs) == 0 {
		return errors.New("no algorithm allowed")
	}
	for _, a := range algs {
		if !slices.Contains(DefaultAlgorithms, a) {
			return errors.New("algorithm " + a + " is not an allowed asymmetric signature algorithm")
		}
	}
	return nil
}

// typIs compares a JOSE typ with an expected media type, case-insensitively
// and with or without the "application/" prefix (RFC 7515 §4.1.9).
func typIs(typ, want string) bool {
	typ = strings.TrimPrefix(strings.ToLower(typ), "application/")
	return typ == strings.ToLower(want)
}
