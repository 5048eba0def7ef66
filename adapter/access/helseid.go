package access

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"kjdd/helseid"
)

// AssertionAuthenticator verifies the XUA SAML assertion in a SOAP
// request's wsse:Security header (*helseid.SAMLValidator).
type AssertionAuthenticator interface {
	AuthenticateXUA(ctx context.Context, h helseid.SecurityHeader) (*helseid.Principal, error)
}

// TokenAuthenticator verifies the HelseID access token (and DPoP proof) of
// an HTTP request (*helseid.JWTValidator).
type TokenAuthenticator interface {
	Authenticate(ctx context.Context, r *http.Request) (*helseid.Principal, error)
}

// HelseID is the Authenticator of DESIGN.md §4 "Who may do what": it picks
// the credential each transaction requires and refuses every other.
//
//   - ITI-38, ITI-39 (/xca): the national gateway's XUA assertion, security
//     level 4, a purpose of use, and for a query that names a patient the
//     assertion's resource-id must be that patient.
//   - ITI-18, ITI-43 (/xds query and retrieve): a practitioner's access
//     token with the read scope, level 4, pid, HPR number and an attest
//     with a purpose of use whose practitioner is the token's pid.
//   - ITI-41, ITI-42 and the sperring API: a client-credentials token with
//     the register scope whose orgnr_parent is this hospital's.
//   - The audit API: a token with the audit scope.
//
// Each validator is configured for its surface (scope, caller kind,
// attest); HelseID adds the rules that need the request or kjdd's own
// configuration. An unknown transaction is refused.
type HelseID struct {
	// XCA verifies assertions on /xca.
	XCA AssertionAuthenticator
	// Read verifies practitioner tokens for query and retrieve.
	Read TokenAuthenticator
	// Register verifies client-credentials tokens for registration and the
	// sperring API.
	Register TokenAuthenticator
	// Audit verifies tokens for the audit API.
	Audit TokenAuthenticator
	// HospitalOrgNumber is the orgnr_parent a registering client must
	// carry (KJDD_HOSPITAL_ORGNR).
	HospitalOrgNumber string
}

// HelseIDConfig is what NewHelseID builds the validators of a HelseID from.
type HelseIDConfig struct {
	// Issuer, Audience and DPoP configure access tokens
	// (KJDD_HELSEID_ISSUER, KJDD_HELSEID_AUDIENCE, KJDD_HELSEID_DPOP).
	Issuer   string
	Audience string
	DPoP     helseid.DPoPMode
	// PublicURL is kjdd's external base URL, when DPoP's htu must be
	// compared with it rather than the request's Host.
	PublicURL string
	// ScopeRead, ScopeRegister and ScopeAudit are the scope names
	// (KJDD_SCOPE_READ, KJDD_SCOPE_REGISTER, KJDD_SCOPE_AUDIT).
	ScopeRead, ScopeRegister, ScopeAudit string
	// SAMLIssuer and SAMLAudience configure assertions (KJDD_SAML_ISSUER,
	// KJDD_SAML_AUDIENCE).
	SAMLIssuer, SAMLAudience string
	// SAMLMaxLifetime and TokenMaxLifetime are the longest credential
	// lifetimes accepted (KJDD_SAML_MAX_LIFETIME, KJDD_TOKEN_MAX_LIFETIME);
	// zero takes helseid's defaults.
	SAMLMaxLifetime, TokenMaxLifetime time.Duration
	// HospitalOrgNumber is KJDD_HOSPITAL_ORGNR.
	HospitalOrgNumber string
	// Keys gives the issuer's signing keys; SAMLTrust the certificates
	// that may sign assertions.
	Keys      helseid.KeySource
	SAMLTrust helseid.CertificateSource
	// Replay records DPoP proof ids (Redis when instances share it).
	Replay helseid.ReplayCache
}

// NewHelseID builds the validators of every surface from cfg.
func NewHelseID(cfg HelseIDConfig) (*HelseID, error) {
	if cfg.HospitalOrgNumber == "" {
		return nil, errors.New("access: the hospital's organisation number is required")
	}
	for name, s := range map[string]string{"read": cfg.ScopeRead, "register": cfg.ScopeRegister, "audit": cfg.ScopeAudit} {
		if s == "" {
			return nil, fmt.Errorf("access: the %s scope is required", name)
		}
	}
	jwtFor := func(caller helseid.CallerKind, scope string, attest bool) (*helseid.JWTValidator, error) {
		return helseid.NewJWTValidator(helseid.JWTConfig{
			Issuer:           cfg.Issuer,
			Audience:         cfg.Audience,
			RequiredScopes:   []string{scope},
			Caller:           caller,
			DPoP:             cfg.DPoP,
			PublicURL:        cfg.PublicURL,
			MaxTokenLifetime: cfg.TokenMaxLifetime,
			RequireAttest:    attest,
			Keys:             cfg.Keys,
			Replay:           cfg.Replay,
		})
	}
	h := &HelseID{HospitalOrgNumber: cfg.HospitalOrgNumber}
	var err error
	if h.Read, err = jwtFor(helseid.UserCaller, cfg.ScopeRead, true); err != nil {
		return nil, err
	}
	if h.Register, err = jwtFor(helseid.ClientCaller, cfg.ScopeRegister, false); err != nil {
		return nil, err
	}
	if h.Audit, err = jwtFor(helseid.AnyCaller, cfg.ScopeAudit, false); err != nil {
		return nil, err
	}
	if h.XCA, err = helseid.NewSAMLValidator(helseid.SAMLConfig{
		Issuer:      cfg.SAMLIssuer,
		Audience:    cfg.SAMLAudience,
		Trust:       cfg.SAMLTrust,
		MaxLifetime: cfg.SAMLMaxLifetime,
	}); err != nil {
		return nil, err
	}
	return h, nil
}

// Authenticate implements Authenticator.
func (h *HelseID) Authenticate(ctx context.Context, cred Credentials) (*Caller, error) {
	p, err := h.principal(ctx, cred)
	if err != nil {
		return nil, err
	}
	return &Caller{Transaction: cred.Transaction, Principal: p}, nil
}

func (h *HelseID) principal(ctx context.Context, cred Credentials) (*helseid.Principal, error) {
	switch cred.Transaction {
	case ITI38, ITI39:
		if h.XCA == nil {
			return nil, unconfigured(cred.Transaction)
		}
		p, err := h.XCA.AuthenticateXUA(ctx, cred.XUA)
		if err != nil {
			return nil, err
		}
		// A query naming a patient must name the assertion's. Queries by
		// id and retrieves name none; PatientBound then hides whatever is
		// not the assertion's patient's.
		if cred.PatientID != "" {
			if err := p.CheckPatient(cred.PatientID); err != nil {
				return nil, err
			}
		}
		return p, nil
	case ITI18, ITI43:
		return h.token(ctx, h.Read, cred)
	case ITI41, ITI42, SperringAPI:
		p, err := h.token(ctx, h.Register, cred)
		if err != nil {
			return nil, err
		}
		if err := p.RequireOrgNumber(h.HospitalOrgNumber); err != nil {
			return nil, err
		}
		return p, nil
	case AuditAPI:
		return h.token(ctx, h.Audit, cred)
	default:
		return nil, &helseid.AuthError{Kind: helseid.Forbidden, Reason: fmt.Sprintf("no credential rule for transaction %q", cred.Transaction)}
	}
}

func (h *HelseID) token(ctx context.Context, v TokenAuthenticator, cred Credentials) (*helseid.Principal, error) {
	if v == nil {
		return nil, unconfigured(cred.Transaction)
	}
	if cred.HTTP == nil {
		return nil, &helseid.AuthError{Kind: helseid.MissingCredentials, Reason: "no HTTP request to read a token from"}
	}
	return v.Authenticate(ctx, cred.HTTP)
}

// unconfigured refuses a transaction whose validator is missing: a gate
// wired without one must not let the caller through.
func unconfigured(tx Transaction) error {
	return &helseid.AuthError{Kind: helseid.Unavailable, Reason: fmt.Sprintf("no validator for transaction %q", tx)}
}

var _ Authenticator = (*HelseID)(nil)
