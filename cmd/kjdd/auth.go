package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"kjdd/adapter/access"
	"kjdd/adapter/config"
	"kjdd/helseid"
	"kjdd/helseid/devissuer"
)

// authentication is what serve needs of HelseID.
type authentication struct {
	authenticator access.Authenticator
	ready         func(context.Context) error
	devHandler    http.Handler // --dev's issuer under /dev/helseid/
}

// devIssuerPath is where serve --dev mounts its development issuer.
const devIssuerPath = "/dev/helseid"

// buildAuthentication wires HelseID: the issuer's keys by OpenID discovery,
// SAML trust from KJDD_SAML_CERTS or the keys' x5c certificates, the DPoP
// replay cache in Redis when there is one. Under --dev without an explicit
// issuer, kjdd is its own issuer: keys from KJDD_DEV_KEYS (created on first
// use), discovery and JWKS served under /dev/helseid, its SAML certificate
// trusted.
func buildAuthentication(ctx context.Context, cfg config.Config, addr net.Addr, rdb redis.UniversalClient, log *slog.Logger) (*authentication, error) {
	auth := &authentication{}
	var devCert helseid.StaticCertificates
	if cfg.Dev && cfg.HelseIDIssuer == "" {
		iss, err := startDevIssuer(cfg, addr)
		if err != nil {
			return nil, fmt.Errorf("development issuer: %w", err)
		}
		cfg.HelseIDIssuer = iss.Settings().Issuer
		auth.devHandler = iss.Handler()
		devCert = helseid.StaticCertificates{iss.SAMLCertificate()}
		log.Warn("DEVELOPMENT IDENTITY: kjdd is its own HelseID issuer and SAML signer; anyone with the keys can mint any identity",
			"issuer", cfg.HelseIDIssuer, "keys", cfg.DevKeys)
	}

	keys, err := helseid.NewHTTPKeySource(helseid.HTTPKeySourceConfig{Issuer: cfg.HelseIDIssuer})
	if err != nil {
		return nil, fmt.Errorf("KJDD_HELSEID_ISSUER: %w", err)
	}
	var trust helseid.CertificateSource = keys
	switch {
	case cfg.SAMLCerts != "":
		pemData, err := os.ReadFile(cfg.SAMLCerts)
		if err != nil {
			return nil, fmt.Errorf("KJDD_SAML_CERTS: %w", err)
		}
		certs, err := helseid.ParsePEMCertificates(pemData)
		if err != nil {
			return nil, fmt.Errorf("KJDD_SAML_CERTS: %w", err)
		}
		trust = append(certs, devCert...)
	case devCert != nil:
		trust = devCert
	}

	var replay helseid.ReplayCache
	if rdb != nil {
		replay = helseid.NewRedisReplayCache(rdb, "kjdd:dpop:")
	} else {
		replay = helseid.NewMemoryReplayCache(0)
	}
	dpop := cfg.HelseIDDPoP
	// DPoP proofs name the URL the client called; only configuration says
	// what that is (behind a TLS-terminating proxy the request's own scheme
	// and Host are the proxy's or the caller's). --dev is reached directly.
	publicURL := cfg.PublicURL
	if publicURL == "" && cfg.Dev {
		publicURL = "http://" + loopbackHostPort(addr)
	}
	h, err := access.NewHelseID(access.HelseIDConfig{
		Issuer:            cfg.HelseIDIssuer,
		Audience:          cfg.HelseIDAudience,
		DPoP:              dpop,
		PublicURL:         publicURL,
		ScopeRead:         cfg.ScopeRead,
		ScopeRegister:     cfg.ScopeRegister,
		ScopeAudit:        cfg.ScopeAudit,
		SAMLIssuer:        cfg.SAMLIssuer,
		SAMLAudience:      cfg.SAMLAudience,
		SAMLMaxLifetime:   cfg.SAMLMaxLifetime,
		TokenMaxLifetime:  cfg.TokenMaxLifetime,
		HospitalOrgNumber: cfg.HospitalOrgNumber,
		Keys:              keys,
		SAMLTrust:         trust,
		Replay:            replay,
	})
	if err != nil {
		return nil, err
	}
	auth.authenticator = h
	auth.ready = keys.Ready

	// Fetch the keys now, so that a wrong issuer shows in the first lines
	// of the log. Not fatal: readiness reports it until the issuer answers.
	// The development issuer is this process, which does not serve yet.
	if auth.devHandler == nil {
		fetchCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := keys.Refresh(fetchCtx); err != nil {
			log.Warn("HelseID keys not reachable at start; not ready until they are", "issuer", cfg.HelseIDIssuer, "err", err)
		}
	}
	log.Info("authentication", "helseid_issuer", cfg.HelseIDIssuer, "dpop", dpop, "public_url", publicURL, "saml_issuer", cfg.SAMLIssuer,
		"saml_trust", samlTrustName(cfg, devCert), "replay_cache", replayName(rdb))
	return auth, nil
}

// startDevIssuer loads or creates the development keys, records the
// settings this server checks (so that `kjdd dev token|saml` mint for it),
// and returns the issuer.
func startDevIssuer(cfg config.Config, addr net.Addr) (*devissuer.Issuer, error) {
	keys, err := devissuer.LoadOrCreate(cfg.DevKeys)
	if err != nil {
		return nil, err
	}
	s := devissuer.Settings{
		Issuer:            "http://" + loopbackHostPort(addr) + devIssuerPath,
		Audience:          cfg.HelseIDAudience,
		SAMLIssuer:        cfg.SAMLIssuer,
		SAMLAudience:      cfg.SAMLAudience,
		Scopes:            []string{cfg.ScopeRead, cfg.ScopeRegister, cfg.ScopeAudit},
		HospitalOrgNumber: cfg.HospitalOrgNumber,
	}
	if err := keys.SaveSettings(s); err != nil {
		return nil, err
	}
	return devissuer.New(keys, s)
}

// loopbackHostPort is the listener's address as this process reaches it:
// an unspecified address (0.0.0.0, [::]) becomes 127.0.0.1, and the
// issuer URL is then loopback http, which kjdd accepts.
func loopbackHostPort(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func samlTrustName(cfg config.Config, devCert helseid.StaticCertificates) string {
	var parts []string
	if cfg.SAMLCerts != "" {
		parts = append(parts, "KJDD_SAML_CERTS")
	}
	if devCert != nil {
		parts = append(parts, "development certificate")
	}
	if len(parts) == 0 {
		return "x5c of the HelseID JWKS"
	}
	return strings.Join(parts, " + ")
}

func replayName(rdb redis.UniversalClient) string {
	if rdb == nil {
		return "in-process (single instance only)"
	}
	return "redis"
}
