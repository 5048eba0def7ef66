package devissuer

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// File names in the keys directory.
const (
	tokenKeyFile = "jwt-signing-key.pem"
	samlFile     = "saml-signer.pem"
	settingsFile = "issuer.json"
)

// ErrNoKeys is returned by Load when the directory holds no development
// keys yet.
var ErrNoKeys = errors.New("devissuer: no development keys; run `kjdd serve --dev` once to create them")

// Keys are the development issuer's signing keys, as kept in Dir.
type Keys struct {
	// Dir is the directory the keys were read from.
	Dir string
	// TokenKey signs access tokens (RS256).
	TokenKey *rsa.PrivateKey
	// SAMLKey signs XUA assertions; SAMLCertificate is its self-signed
	// certificate, put into every signature's KeyInfo and published as
	// x5c in the JWKS.
	SAMLKey         *rsa.PrivateKey
	SAMLCertificate *x509.Certificate
}

// LoadOrCreate reads the keys in dir, creating the directory (0700) and any
// missing key file (0600) first. Two processes starting at once end up
// with the same keys: a file is only ever created, never replaced.
func LoadOrCreate(dir string) (*Keys, error) {
	if dir == "" {
		return nil, errors.New("devissuer: no keys directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("devissuer: %w", err)
	}
	if err := createIfMissing(filepath.Join(dir, tokenKeyFile), newTokenKeyPEM); err != nil {
		return nil, err
	}
	if err := createIfMissing(filepath.Join(dir, samlFile), newSAMLSignerPEM); err != nil {
		return nil, err
	}
	return Load(dir)
}

// Load reads the keys in dir. It returns an error wrapping ErrNoKeys when
// they have not been created.
func Load(dir string) (*Keys, error) {
	k := &Keys{Dir: dir}
	tokenPEM, err := os.ReadFile(filepath.Join(dir, tokenKeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w (looked in %s)", ErrNoKeys, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("devissuer: %w", err)
	}
	if k.TokenKey, _, err = parseKeyPEM(tokenPEM); err != nil {
		return nil, fmt.Errorf("devissuer: %s: %w", tokenKeyFile, err)
	}
	samlPEM, err := os.ReadFile(filepath.Join(dir, samlFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w (looked in %s)", ErrNoKeys, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("devissuer: %w", err)
	}
	if k.SAMLKey, k.SAMLCertificate, err = parseKeyPEM(samlPEM); err != nil {
		return nil, fmt.Errorf("devissuer: %s: %w", samlFile, err)
	}
	if k.SAMLCertificate == nil || !k.SAMLKey.PublicKey.Equal(k.SAMLCertificate.PublicKey) {
		return nil, fmt.Errorf("devissuer: %s: no certificate of its key", samlFile)
	}
	return k, nil
}

// createIfMissing writes the output of gen to path unless path exists. The
// content goes to a temporary file first and is linked into place, so a
// reader never sees half a key and a concurrent creator's file wins.
func createIfMissing(path string, gen func() ([]byte, error)) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	data, err := gen()
	if err != nil {
		return fmt.Errorf("devissuer: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("devissuer: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("devissuer: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("devissuer: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("devissuer: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("devissuer: %w", err)
	}
	return nil
}

func newTokenKeyPEM() ([]byte, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// newSAMLSignerPEM makes the SAML key and its self-signed certificate, in
// one file so that they can never get out of step.
func newSAMLSignerPEM() ([]byte, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "kjdd development XUA signer", Organization: []string{"kjdd development"}, Country: []string{"NO"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...), nil
}

// parseKeyPEM reads one RSA private key (PKCS#8) and at most one
// certificate.
func parseKeyPEM(data []byte) (*rsa.PrivateKey, *x509.Certificate, error) {
	var (
		key  *rsa.PrivateKey
		cert *x509.Certificate
	)
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		switch block.Type {
		case "PRIVATE KEY":
			if key != nil {
				return nil, nil, errors.New("more than one key")
			}
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, nil, err
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, nil, errors.New("key is not RSA")
			}
			key = rk
		case "CERTIFICATE":
			if cert != nil {
				return nil, nil, errors.New("more than one certificate")
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, nil, err
			}
			cert = c
		default:
			return nil, nil, fmt.Errorf("unexpected PEM block %s", block.Type)
		}
	}
	if key == nil {
		return nil, nil, errors.New("no private key")
	}
	return key, cert, nil
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of an RSA public key,
// base64url: a stable key id that changes only with the key.
func thumbprint(pub *rsa.PublicKey) string {
	j := rsaJWK(pub)
	canon := `{"e":"` + j["e"].(string) + `","kty":"RSA","n":"` + j["n"].(string) + `"}`
	sum := sha256.Sum256([]byte(canon))
	return b64url.EncodeToString(sum[:])
}

var b64url = base64.RawURLEncoding

// rsaJWK is the public JWK members of an RSA key (RFC 7518 §6.3.1).
func rsaJWK(pub *rsa.PublicKey) map[string]any {
	return map[string]any{
		"kty": "RSA",
		"n":   b64url.EncodeToString(pub.N.Bytes()),
		"e":   b64url.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}
