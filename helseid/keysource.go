package helseid

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// ErrUnknownKey is returned by a KeySource that has no key with the asked
// key id, even after refreshing.
var ErrUnknownKey = errors.New("helseid: no key with this key id")

// KeySource gives the public keys of one token issuer: the JWT signing keys
// by key id, and the X.509 certificates trusted for XUA SAML signatures.
type KeySource interface {
	// Key returns the issuer's public key with key id kid, or an error
	// wrapping ErrUnknownKey.
	Key(ctx context.Context, kid string) (jwk.Key, error)
	CertificateSource
}

// CertificateSource gives the certificates whose keys may sign XUA SAML
// assertions.
type CertificateSource interface {
	Certificates(ctx context.Context) ([]*x509.Certificate, error)
}

// StaticCertificates is a fixed set of trusted certificates, e.g. from
// KJDD_SAML_CERTS.
type StaticCertificates []*x509.Certificate

// Certificates implements CertificateSource.
func (s StaticCertificates) Certificates(context.Context) ([]*x509.Certificate, error) {
	return s, nil
}

// ParsePEMCertificates reads every CERTIFICATE block of a PEM file. It fails
// on a file without certificates, or with any block it does not understand,
// so that a misconfigured trust file is noticed at start.
func ParsePEMCertificates(data []byte) (StaticCertificates, error) {
	var certs StaticCertificates
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, errors.New("helseid: PEM block " + block.Type + " is not a certificate")
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("helseid: trailing data after the last PEM certificate")
	}
	if len(certs) == 0 {
		return nil, errors.New("helseid: no certificate in PEM data")
	}
	return certs, nil
}

// CheckIssuerURL accepts an issuer or endpoint URL when it is https, or
// http on a loopback host (development and tests). It refuses user info,
// queries and fragments, which an OpenID issuer never has.
func CheckIssuerURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("helseid: issuer is not a URL")
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return errors.New("helseid: issuer must be an absolute URL without user info, query or fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("helseid: an http:// issuer is accepted only on a loopback host")
	default:
		return errors.New("helseid: issuer must use https")
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
