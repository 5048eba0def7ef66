package helseid

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// CallerKind restricts which kind of HelseID token a surface accepts.
type CallerKind int

// The caller kinds.
const (
	// AnyCaller accepts user and client-credentials tokens.
	AnyCaller CallerKind = iota
	// UserCaller accepts only tokens of a logged-in practitioner.
	UserCaller
	// ClientCaller accepts only client-credentials tokens (a system).
	ClientCaller
)

// JWTConfig configures a JWTValidator. Zero values take the defaults
// documented on each field; Validate reports what is missing or unsafe.
type JWTConfig struct {
	// Issuer is the exact expected iss (KJDD_HELSEID_ISSUER).
	Issuer string
	// Audience is the one audience the token must name, and no other
	// (KJDD_HELSEID_AUDIENCE).
	Audience string
	// RequiredScopes must all be granted.
	RequiredScopes []string
	// Caller restricts the token kind; default AnyCaller.
	Caller CallerKind
	// DPoP is KJDD_HELSEID_DPOP; default DPoPRequired.
	DPoP DPoPMode
	// Leeway is the clock skew allowed on exp, nbf, iat and DPoP iat.
	// Default 5 s; at most one minute.
	Leeway time.Duration
	// AllowedAlgs are the accepted signature algorithms for access tokens
	// and DPoP proofs; default DefaultAlgorithms. Only asymmetric ones may
	// be listed.
	AllowedAlgs []string
	// DPoPProofLifetime is how old a proof's iat may be (plus Leeway).
	// Default 10 s; at most five minutes.
	DPoPProofLifetime time.Duration
	// PublicURL is kjdd's external base URL (https://host[/prefix],
	// KJDD_PUBLIC_URL): a proof's htu must be this URL followed by the
	// request's path. The request's Host header and scheme are never used:
	// behind a TLS-terminating proxy they are the proxy's, and a caller
	// names Host freely. Required when DPoP is required; when it is empty
	// (DPoP optional) every DPoP proof is refused.
	PublicURL string
	// MaxTokenLifetime is the longest lifetime an access token may have,
	// from the earlier of iat and nbf (now when it has neither) to exp
	// (KJDD_TOKEN_MAX_LIFETIME). Default DefaultTokenMaxLifetime; at most
	// 24 hours.
	MaxTokenLifetime time.Duration
	// MinSecurityLevel is required of user tokens; default 4.
	MinSecurityLevel int
	// RequireAttest refuses user tokens without a tillitsrammeverk attest
	// stating a purpose of use (the /xds read surfaces).
	RequireAttest bool
	// Keys gives the issuer's signing keys.
	Keys KeySource
	// Replay records DPoP proof ids; required unless DPoP is never used.
	Replay ReplayCache
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Validate fills defaults and reports the first problem, naming the
// setting.
func (c *JWTConfig) Validate() error {
	if err := CheckIssuerURL(c.Issuer); err != nil {
		return fmt.Errorf("KJDD_HELSEID_ISSUER: %w", err)
	}
	if strings.TrimSpace(c.Audience) == "" {
		return errors.New("KJDD_HELSEID_AUDIENCE: audience is required")
	}
	if c.DPoP == "" {
		c.DPoP = DPoPRequired
	}
	if _, err := ParseDPoPMode(string(c.DPoP)); err != nil {
		return fmt.Errorf("KJDD_HELSEID_DPOP: %w", err)
	}
	if c.Leeway == 0 {
		c.Leeway = 5 * time.Second
	}
	if c.Leeway < 0 || c.Leeway > time.Minute {
		return errors.New("helseid: leeway must be between 0 and one minute")
	}
	if c.DPoPProofLifetime == 0 {
		c.DPoPProofLifetime = 10 * time.Second
	}
	if c.DPoPProofLifetime < 0 || c.DPoPProofLifetime > 5*time.Minute {
		return errors.New("helseid: DPoP proof lifetime must be between 0 and five minutes")
	}
	if c.MaxTokenLifetime == 0 {
		c.MaxTokenLifetime = DefaultTokenMaxLifetime
	}
	if c.MaxTokenLifetime < 0 || c.MaxTokenLifetime > MaxLifetimeBound {
		return errors.New("KJDD_TOKEN_MAX_LIFETIME: must be between 0 and 24 hours")
	}
	if c.AllowedAlgs == nil {
		c.AllowedAlgs = DefaultAlgorithms
	}
	if err := checkAlgorithms(c.AllowedAlgs); err != nil {
		return fmt.Errorf("helseid: allowed algorithms: %w", err)
	}
	if c.MinSecurityLevel == 0 {
		c.MinSecurityLevel = 4
	}
	if c.PublicURL == "" && c.DPoP == DPoPRequired {
		return errors.New("KJDD_PUBLIC_URL: kjdd's external base URL is required when DPoP is required")
	}
	if c.PublicURL != "" {
		if err := CheckPublicURL(c.PublicURL); err != nil {
			return fmt.Errorf("KJDD_PUBLIC_URL: %w", err)
		}
	}
	if c.Keys == nil {
		return errors.New("helseid: a key source is required")
	}
	if c.Replay == nil {
		return errors.New("helseid: a DPoP replay cache is required")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// CheckPublicURL accepts kjdd's external base URL, the base of every
// DPoP htu: an absolute https URL, or http on a loopback host (development
// and tests), with a path prefix at most: no user info, query or fragment,
// which an htu never carries (RFC 9449 §4.2).
func CheckPublicURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("helseid: public URL is not a URL")
	}
	if u.Host == "" || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return errors.New("helseid: public URL must be an absolute URL without user info, query or fragment")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return errors.New("helseid: an http:// public URL is accepted only on a loopback host")
		}
	default:
		return errors.New("helseid: public URL must use https")
	}
	if _, err := normalizeHTU(raw); err != nil {
		return errors.New("helseid: public URL must be an absolute http(s) URL")
	}
	return nil
}

// JWTValidator authenticates HTTP requests carrying a HelseID access token,
// following HelseID's rules for APIs and RFC 9449 for DPoP.
type JWTValidator struct {
	cfg       JWTConfig
	publicURL *url.URL
}

// NewJWTValidator validates cfg and returns a validator.
func NewJWTValidator(cfg JWTConfig) (*JWTValidator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v := &JWTValidator{cfg: cfg}
	if cfg.PublicURL != "" {
		u, _ := url.Parse(cfg.PublicURL)
		v.publicURL = u
	}
	return v, nil
}

// Authenticate establishes the caller of r from its Authorization (and
// DPoP) header. On failure it returns an *AuthError whose challenge matches
// the configured DPoP mode.
func (v *JWTValidator) Authenticate(ctx context.Context, r *http.Request) (*Principal, error) {
	scheme := SchemeBearer
	p, err := v.authenticate(ctx, r, &scheme)
	if err == nil {
		return p, nil
	}
	ae, ok := AsAuthError(err)
	if !ok {
		ae = authErrWrap(InvalidToken, "unexpected", err)
	}
	ae.Scheme = SchemeBearer
	if v.cfg.DPoP == DPoPRequired || scheme == SchemeDPoP {
		ae.Scheme = SchemeDPoP
		ae.Algs = v.cfg.AllowedAlgs
	}
	return nil, ae
}

func (v *JWTValidator) authenticate(ctx context.Context, r *http.Request, scheme *string) (*Principal, error) {
	authz := r.Header.Values("Authorization")
	if len(authz) == 0 {
		return nil, authErr(MissingCredentials, "no Authorization header")
	}
	if len(authz) > 1 {
		return nil, authErr(InvalidToken, "several Authorization headers")
	}
	s, token, _ := strings.Cut(authz[0], " ")
	token = strings.TrimLeft(token, " ")
	switch {
	case strings.EqualFold(s, SchemeDPoP):
		*scheme = SchemeDPoP
	case strings.EqualFold(s, SchemeBearer):
		if v.cfg.DPoP == DPoPRequired {
			return nil, authErr(InvalidToken, "bearer scheme used where DPoP is required")
		}
	default:
		return nil, authErr(MissingCredentials, "unsupported authorization scheme")
	}
	if token == "" || strings.ContainsAny(token, " ,\t") {
		return nil, authErr(InvalidToken, "malformed credentials")
	}

	claims, p, err := v.validateToken(ctx, token)
	if err != nil {
		return nil, err
	}
	bound := claims.Cnf != nil && claims.Cnf.JKT != ""
	var replayKey string
	if *scheme == SchemeBearer {
		if bound {
			// Challenge with DPoP: that is how this token must be used.
			*scheme = SchemeDPoP
			return nil, authErr(InvalidToken, "DPoP-bound token presented as bearer")
		}
	} else {
		if !bound {
			return nil, authErr(InvalidToken, "DPoP scheme with a token that is not DPoP-bound")
		}
		replayKey, err = v.checkProof(r, token, claims.Cnf.JKT)
		if err != nil {
			return nil, err
		}
		p.KeyThumbprint = claims.Cnf.JKT
	}

	if err := v.authorize(p, claims); err != nil {
		return nil, err
	}

	// Last, so that proofs of refused requests are not recorded and
	// nothing but a fully valid request consumes a proof id.
	if replayKey != "" {
		seen, err := v.cfg.Replay.Seen(ctx, replayKey, v.cfg.DPoPProofLifetime+2*v.cfg.Leeway)
		if err != nil {
			return nil, authErrWrap(Unavailable, "DPoP replay cache", err)
		}
		if seen {
			return nil, authErr(InvalidDPoPProof, "DPoP proof replayed")
		}
	}
	return p, nil
}

// validateToken checks the access token's signature and claims and builds
// the Principal's identity part.
func (v *JWTValidator) validateToken(ctx context.Context, token string) (*accessClaims, *Principal, error) {
	msg, err := parseCompactJWS(token)
	if err != nil {
		return nil, nil, authErr(InvalidToken, "access token: "+err.Error())
	}
	h := msg.header
	if !slices.Contains(v.cfg.AllowedAlgs, h.Alg) {
		return nil, nil, authErr(InvalidToken, fmt.Sprintf("access token alg %q not allowed", truncate(h.Alg)))
	}
	if !typIs(h.Typ, "at+jwt") && !typIs(h.Typ, "jwt") {
		return nil, nil, authErr(InvalidToken, "access token typ is neither at+jwt nor JWT")
	}
	if h.Kid == "" {
		return nil, nil, authErr(InvalidToken, "access token has no kid")
	}
	key, err := v.cfg.Keys.Key(ctx, h.Kid)
	if errors.Is(err, ErrUnknownKey) {
		return nil, nil, authErr(InvalidToken, fmt.Sprintf("unknown kid %q", truncate(h.Kid)))
	}
	if err != nil {
		return nil, nil, authErrWrap(Unavailable, "issuer keys", err)
	}
	if ka, ok := key.Algorithm(); ok && ka.String() != h.Alg {
		return nil, nil, authErr(InvalidToken, "alg differs from the key's alg")
	}
	alg, ok := jwa.LookupSignatureAlgorithm(h.Alg)
	if !ok {
		return nil, nil, authErr(InvalidToken, "unknown alg")
	}
	// jwx also reads a time claim given as a string of digits; RFC 7519
	// §2 makes them NumericDates, JSON numbers.
	if err := checkNumericDates(msg.payload); err != nil {
		return nil, nil, authErr(InvalidToken, "access token "+err.Error())
	}
	tok, err := jwt.Parse([]byte(token),
		jwt.WithKey(alg, key),
		jwt.WithValidate(true),
		jwt.WithIssuer(v.cfg.Issuer),
		jwt.WithRequiredClaim("exp"),
		jwt.WithAcceptableSkew(v.cfg.Leeway),
		jwt.WithClock(jwt.ClockFunc(v.cfg.Now)),
	)
	if err != nil {
		return nil, nil, authErrWrap(InvalidToken, "access token "+jwtFailure(err), err)
	}

	var c accessClaims
	if err := json.Unmarshal(msg.payload, &c); err != nil {
		return nil, nil, authErr(InvalidToken, "access token claims have wrong types")
	}
	if len(c.Aud) != 1 || c.Aud[0] != v.cfg.Audience {
		return nil, nil, authErr(InvalidToken, "access token audience is not exactly ours")
	}
	p := &Principal{
		Kind:       TokenJWTClient,
		Issuer:     c.Iss,
		Subject:    cleanID(c.Sub),
		TokenID:    cleanID(c.Jti),
		ClientID:   cleanID(c.ClientID),
		ClientName: cleanText(c.ClientName),
		Scopes:     []string(c.Scope),
		OrgNumbers: OrgNumbers{
			Parent:   cleanID(c.OrgNrParent),
			Child:    cleanID(c.OrgNrChild),
			Supplier: cleanID(c.OrgNrSupplier),
		},
	}
	if err := v.checkLifetime(tok); err != nil {
		return nil, nil, err
	}
	if exp, ok := tok.Expiration(); ok {
		p.ExpiresAt = exp
	}
	if iat, ok := tok.IssuedAt(); ok {
		p.IssuedAt = iat
	}
	if p.OrgNumbers.Parent != "" {
		p.LegalEntity = Organization{ID: p.OrgNumbers.Parent, System: OIDOrgNumber}
	}
	if p.OrgNumbers.Child != "" {
		p.PointOfCare = Organization{ID: p.OrgNumbers.Child, System: OIDOrgNumber}
	}
	return &c, p, nil
}

// timeClaims are the registered claims that hold a NumericDate.
var timeClaims = []string{"exp", "nbf", "iat"}

// checkNumericDates refuses a payload whose exp, nbf or iat, when present,
// is anything but a JSON number (a string, a boolean, an object, null).
func checkNumericDates(payload []byte) error {
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil {
		return errors.New("claims are not a JSON object")
	}
	for _, name := range timeClaims {
		raw, ok := claims[name]
		if !ok {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var val any
		if err := dec.Decode(&val); err != nil {
			return fmt.Errorf("%s is not a NumericDate", name)
		}
		n, isNumber := val.(json.Number)
		if !isNumber {
			return fmt.Errorf("%s is not a NumericDate (a JSON number)", name)
		}
		if f, err := n.Float64(); err != nil || f < 0 || f > 1e11 {
			return fmt.Errorf("%s is not a NumericDate in range", name)
		}
	}
	return nil
}

// checkLifetime refuses an access token whose validity is inverted (nbf
// or iat after exp) or longer than MaxTokenLifetime.
func (v *JWTValidator) checkLifetime(tok jwt.Token) error {
	exp, ok := tok.Expiration()
	if !ok {
		return authErr(InvalidToken, "access token lacks a required claim")
	}
	start := v.cfg.Now()
	if nbf, ok := tok.NotBefore(); ok {
		if !nbf.Before(exp) {
			return authErr(InvalidToken, "access token validity is inverted or empty (nbf not before exp)")
		}
		start = nbf
	}
	if iat, ok := tok.IssuedAt(); ok {
		if !iat.Before(exp) {
			return authErr(InvalidToken, "access token issued at or after it expires")
		}
		if iat.Before(start) {
			start = iat
		}
	}
	if life := exp.Sub(start); life > v.cfg.MaxTokenLifetime {
		return authErr(InvalidToken, fmt.Sprintf("access token lifetime %s exceeds the maximum %s", life.Round(time.Second), v.cfg.MaxTokenLifetime))
	}
	return nil
}

// jwtFailure names the class of a jwx validation error for the log reason.
func jwtFailure(err error) string {
	switch {
	case errors.Is(err, jwt.TokenExpiredError()):
		return "expired"
	case errors.Is(err, jwt.TokenNotYetValidError()):
		return "not yet valid"
	case errors.Is(err, jwt.InvalidIssuerError()):
		return "issuer mismatch"
	case errors.Is(err, jwt.InvalidIssuedAtError()):
		return "issued in the future"
	case errors.Is(err, jwt.MissingRequiredClaimError()):
		return "lacks a required claim"
	default:
		return "signature or format invalid"
	}
}

// authorize applies the user rules (security level, pid, HPR), the attest
// rules, the caller-kind restriction and the required scopes.
func (v *JWTValidator) authorize(p *Principal, c *accessClaims) error {
	var hprs []string
	for _, h := range c.HPRNumber {
		if h = cleanID(h); h != "" {
			hprs = append(hprs, h)
		}
	}
	if c.hasIdentity() {
		p.Kind = TokenJWTUser
		p.PID = cleanID(c.PID)
		if p.PID == "" {
			return authErr(InvalidToken, "user token without pid")
		}
		p.Name = cleanText(c.Name)
		p.SecurityLevel = parseSecurityLevel(string(c.SecurityLevel))
		if p.SecurityLevel < v.cfg.MinSecurityLevel {
			return authErr(Forbidden, fmt.Sprintf("security level %d below %d", p.SecurityLevel, v.cfg.MinSecurityLevel))
		}
		if len(hprs) == 0 {
			return authErr(Forbidden, "user token without HPR number")
		}
		p.HPRNumber = hprs[0]
	}
	a, err := parseAttest(c.Attest)
	if err != nil {
		return authErr(InvalidToken, err.Error())
	}
	if a != nil {
		if err := applyAttest(p, a, hprs); err != nil {
			return err
		}
	}
	if v.cfg.RequireAttest && p.Kind == TokenJWTUser && p.Purpose.IsZero() {
		return authErr(Forbidden, "no attest with a purpose of use")
	}
	switch v.cfg.Caller {
	case UserCaller:
		if p.Kind != TokenJWTUser {
			return authErr(Forbidden, "a user token is required")
		}
	case ClientCaller:
		if p.Kind != TokenJWTClient {
			return authErr(Forbidden, "a client-credentials token is required")
		}
	}
	return p.RequireScopes(v.cfg.RequiredScopes...)
}

// checkProof validates the DPoP proof against the request and the token
// and returns the replay-cache key of its jti.
func (v *JWTValidator) checkProof(r *http.Request, token, jkt string) (string, error) {
	proofs := r.Header.Values("DPoP")
	if len(proofs) != 1 {
		return "", authErr(InvalidDPoPProof, "want exactly one DPoP header")
	}
	pr, err := parseDPoPProof(proofs[0], v.cfg.AllowedAlgs)
	if err != nil {
		return "", authErr(InvalidDPoPProof, "DPoP proof: "+err.Error())
	}
	if pr.claims.HTM != r.Method {
		return "", authErr(InvalidDPoPProof, "DPoP htm differs from the request method")
	}
	got, err := normalizeHTU(pr.claims.HTU)
	if err != nil {
		return "", authErr(InvalidDPoPProof, "DPoP "+err.Error())
	}
	if v.publicURL == nil {
		return "", authErr(InvalidDPoPProof, "DPoP htu cannot be checked: no public URL is configured (KJDD_PUBLIC_URL)")
	}
	want, err := normalizeHTU(v.requestURL(r))
	if err != nil || got != want {
		return "", authErr(InvalidDPoPProof, "DPoP htu differs from the request URL")
	}
	iat, err := pr.issuedAt()
	if err != nil {
		return "", authErr(InvalidDPoPProof, "DPoP "+err.Error())
	}
	now := v.cfg.Now()
	if iat.Before(now.Add(-v.cfg.DPoPProofLifetime-v.cfg.Leeway)) || iat.After(now.Add(v.cfg.Leeway)) {
		return "", authErr(InvalidDPoPProof, "DPoP iat outside the accepted window")
	}
	if pr.claims.ATH == "" || pr.claims.ATH != accessTokenHash(token) {
		return "", authErr(InvalidDPoPProof, "DPoP ath does not match the access token")
	}
	if pr.thumbprint != jkt {
		return "", authErr(InvalidDPoPProof, "DPoP key is not the key the token is bound to")
	}
	sum := sha256.Sum256([]byte(pr.thumbprint + "\x00" + pr.claims.JTI))
	return "dpop:" + base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// requestURL is the URL the client called, as far as htu compares it:
// the configured public URL and the request's path. Neither the Host
// header nor the connection's scheme takes part.
func (v *JWTValidator) requestURL(r *http.Request) string {
	return v.publicURL.Scheme + "://" + v.publicURL.Host + strings.TrimSuffix(v.publicURL.Path, "/") + r.URL.Path
}
