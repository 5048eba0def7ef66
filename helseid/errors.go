package helseid

import (
	"errors"
	"net/http"
	"strings"
)

// ErrorKind classifies an authentication or authorization failure by how it
// must be answered.
type ErrorKind int

// The kinds of AuthError.
const (
	// MissingCredentials: the request carried no credential at all. The
	// challenge names the scheme without an error code (RFC 6750 §3.1).
	MissingCredentials ErrorKind = iota + 1
	// InvalidToken: the access token is malformed, unsigned, expired, for
	// someone else, or otherwise unacceptable (RFC 6750 invalid_token).
	InvalidToken
	// InsufficientScope: the token is valid but lacks a required scope.
	InsufficientScope
	// InvalidDPoPProof: the DPoP proof is missing, malformed, replayed or
	// does not match the request or the token (RFC 9449 invalid_dpop_proof).
	InvalidDPoPProof
	// UseDPoPNonce is reserved for a server-issued DPoP nonce (RFC 9449
	// §9); kjdd does not issue nonces today.
	UseDPoPNonce
	// InvalidSecurity: the wsse:Security header is missing or malformed.
	InvalidSecurity
	// FailedAuthentication: the SAML assertion could not be authenticated
	// (signature, trust, issuer, audience, lifetime, subject confirmation).
	FailedAuthentication
	// Forbidden: the caller is authenticated but may not do this (attest
	// bound to someone else, patient mismatch, too low security level).
	Forbidden
	// Unavailable: a dependency needed to decide (key source, replay
	// cache) failed; the request is refused rather than let through.
	Unavailable
)

var kindNames = map[ErrorKind]string{
	MissingCredentials:   "missing_credentials",
	InvalidToken:         "invalid_token",
	InsufficientScope:    "insufficient_scope",
	InvalidDPoPProof:     "invalid_dpop_proof",
	UseDPoPNonce:         "use_dpop_nonce",
	InvalidSecurity:      "invalid_security",
	FailedAuthentication: "failed_authentication",
	Forbidden:            "forbidden",
	Unavailable:          "unavailable",
}

// String returns the kind's snake_case name, as used in logs and audit.
func (k ErrorKind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return "unknown"
}

// Challenge schemes for WWW-Authenticate.
const (
	SchemeBearer = "Bearer"
	SchemeDPoP   = "DPoP"
)

// AuthError is the one error type of this package. It renders itself: the
// HTTP status, the WWW-Authenticate challenge and the SOAP fault subcode
// follow from Kind. Reason is internal (logs, audit) and never contains a
// national identity number or a name; Message is what a caller may see.
type AuthError struct {
	Kind ErrorKind
	// Reason says what exactly failed, for logs only.
	Reason string
	// Scheme is the challenge scheme (SchemeBearer or SchemeDPoP); empty
	// means Bearer.
	Scheme string
	// Algs lists the DPoP proof algorithms accepted, for the DPoP challenge.
	Algs []string
	// Scope lists the scopes required, for an insufficient_scope challenge.
	Scope []string
	// Err is the underlying cause, if any, for logs only.
	Err error
}

// Error implements error. It includes Reason, so it is for logs, not for
// callers.
func (e *AuthError) Error() string {
	var b strings.Builder
	b.WriteString("helseid: ")
	b.WriteString(e.Kind.String())
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *AuthError) Unwrap() error { return e.Err }

// HTTPStatus is the status a REST surface answers with.
func (e *AuthError) HTTPStatus() int {
	switch e.Kind {
	case InsufficientScope, Forbidden:
		return http.StatusForbidden
	case InvalidSecurity:
		return http.StatusBadRequest
	case Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusUnauthorized
	}
}

// WWWAuthenticate returns the value of the WWW-Authenticate header for this
// error (RFC 6750 §3, RFC 9449 §7.1), or "" when none is due (SOAP kinds,
// Forbidden, Unavailable). It never includes an error_description, so that
// callers learn the class of failure but not the detail.
func (e *AuthError) WWWAuthenticate() string {
	var code string
	switch e.Kind {
	case MissingCredentials:
	case InvalidToken, InsufficientScope, InvalidDPoPProof, UseDPoPNonce:
		code = e.Kind.String()
	default:
		return ""
	}
	scheme := e.Scheme
	if scheme == "" {
		scheme = SchemeBearer
	}
	if e.Kind == InvalidDPoPProof || e.Kind == UseDPoPNonce {
		scheme = SchemeDPoP
	}
	var params []string
	if code != "" {
		params = append(params, `error="`+code+`"`)
	}
	if e.Kind == InsufficientScope && len(e.Scope) > 0 {
		params = append(params, `scope="`+quoteSafe(strings.Join(e.Scope, " "))+`"`)
	}
	if scheme == SchemeDPoP && len(e.Algs) > 0 {
		params = append(params, `algs="`+quoteSafe(strings.Join(e.Algs, " "))+`"`)
	}
	if len(params) == 0 {
		return scheme
	}
	return scheme + " " + strings.Join(params, ", ")
}

// SOAPSubcode returns the WS-Security fault subcode (prefix wsse) for SOAP
// surfaces: wsse:InvalidSecurity for a missing or malformed header,
// wsse:FailedAuthentication for every credential that was present but not
// accepted. Unavailable has no subcode: it is a Receiver fault.
func (e *AuthError) SOAPSubcode() string {
	switch e.Kind {
	case InvalidSecurity, MissingCredentials:
		return "wsse:InvalidSecurity"
	case Unavailable:
		return ""
	default:
		return "wsse:FailedAuthentication"
	}
}

// Message is the text a caller may see. It is the same for every reason
// within a kind, so that a refused caller learns nothing about which check
// failed.
func (e *AuthError) Message() string {
	switch e.Kind {
	case MissingCredentials:
		return "authentication required"
	case InsufficientScope:
		return "the access token does not grant this operation"
	case InvalidDPoPProof, UseDPoPNonce:
		return "the DPoP proof was not accepted"
	case InvalidSecurity:
		return "an error was discovered processing the wsse:Security header"
	case FailedAuthentication:
		return "the security token could not be authenticated or authorized"
	case Forbidden:
		return "access denied"
	case Unavailable:
		return "authentication is temporarily unavailable"
	default:
		return "the access token was not accepted"
	}
}

// AsAuthError finds an *AuthError in err's chain.
func AsAuthError(err error) (*AuthError, bool) {
	var ae *AuthError
	if errors.As(err, &ae) {
		return ae, true
	}
	return nil, false
}

// quoteSafe removes characters that would break a quoted-string header
// parameter; the values are our own configuration, this is belt and braces.
func quoteSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func authErr(kind ErrorKind, reason string) *AuthError {
	return &AuthError{Kind: kind, Reason: reason}
}

func authErrWrap(kind ErrorKind, reason string, err error) *AuthError {
	return &AuthError{Kind: kind, Reason: reason, Err: err}
}
