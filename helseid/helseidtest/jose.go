package helseidtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"time"
)

var b64 = base64.RawURLEncoding

// signCompact builds a compact JWS from header and claims and signs it
// according to the key: RS256 for an RSA key, ES256 for a P-256 key, HS256
// for a []byte secret, and an empty signature for nil. The header's alg is
// written as given, so that a test can lie about it.
func signCompact(header, claims map[string]any, key any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(c)
	d := sha256.Sum256([]byte(input))
	var sig []byte
	switch k := key.(type) {
	case nil:
	case []byte:
		m := hmac.New(sha256.New, k)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d[:])
	case *ecdsa.PrivateKey:
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, k, d[:])
		if err == nil {
			sig = make([]byte, 64)
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:])
		}
	default:
		panic("helseidtest: unsupported signing key")
	}
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// publicJWK is the JWK of a public key (RFC 7517/7518), members in
// thumbprint order plus extras.
func publicJWK(pub crypto.PublicKey) map[string]any {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "n": b64.EncodeToString(k.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		// Uncompressed point: 0x04 || X || Y, 32 bytes each on P-256.
		pt, err := k.Bytes()
		if err != nil || len(pt) != 65 {
			panic("helseidtest: not a P-256 key")
		}
		return map[string]any{"kty": "EC", "crv": "P-256", "x": b64.EncodeToString(pt[1:33]), "y": b64.EncodeToString(pt[33:])}
	}
	panic("helseidtest: unsupported key type")
}

// privateJWK is the JWK of an EC private key: the public members plus d.
func privateJWK(k *ecdsa.PrivateKey) map[string]any {
	m := publicJWK(&k.PublicKey)
	d, err := k.Bytes()
	if err != nil {
		panic(err)
	}
	m["d"] = b64.EncodeToString(d)
	return m
}

// Thumbprint is the RFC 7638 SHA-256 JWK thumbprint of a public key,
// base64url: the value of cnf.jkt.
func Thumbprint(pub crypto.PublicKey) string {
	m := publicJWK(pub)
	var canon string
	switch m["kty"] {
	case "RSA":
		canon = `{"e":"` + m["e"].(string) + `","kty":"RSA","n":"` + m["n"].(string) + `"}`
	case "EC":
		canon = `{"crv":"P-256","kty":"EC","x":"` + m["x"].(string) + `","y":"` + m["y"].(string) + `"}`
	}
	sum := sha256.Sum256([]byte(canon))
	return b64.EncodeToString(sum[:])
}

// AccessTokenHash is the DPoP ath of an access token.
func AccessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return b64.EncodeToString(sum[:])
}

// NewECKey returns a fresh P-256 key, e.g. another client's DPoP key.
func NewECKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// newRSAKey returns a fresh RSA-2048 key.
func newRSAKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

// selfSigned makes a self-signed certificate for key, valid from a day ago
// for ten years, as HelseID publishes its signing certificates in x5c.
func selfSigned(key *rsa.PrivateKey, cn string) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"kjdd test"}, Country: []string{"NO"}},
		NotBefore:             time.Now().Add(-24 * time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return c
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return b64.EncodeToString(b)
}
