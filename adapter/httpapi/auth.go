package httpapi

// This file maps authentication refusals to what each surface answers. It
// is where HelseID's errors meet the renderers: the caller learns the class
// of failure (one fixed text per class), the log learns the reason.

import (
	"net/http"

	"kjdd/helseid"
	"kjdd/xds/soap"
)

// asAuthFault maps an authentication refusal to its SOAP fault: a Sender
// fault with subcode wsse:InvalidSecurity (no or malformed wsse:Security,
// no credentials) or wsse:FailedAuthentication (a credential that was not
// accepted, or does not permit this), and a Receiver fault when a
// dependency needed to decide failed. The reason is the generic text of the
// class; the detail, which renderFault logs and never sends, says what
// exactly failed. Neither holds a national id: AuthError reasons never do.
func asAuthFault(err error) (*soap.Fault, bool) {
	ae, ok := helseid.AsAuthError(err)
	if !ok {
		return nil, false
	}
	f := &soap.Fault{Code: soap.FaultSender, Subcode: ae.SOAPSubcode(), Reason: ae.Message(), Detail: ae.Error()}
	switch ae.Kind {
	case helseid.Unavailable:
		// Not the sender's fault; the SOAP binding answers it with 500.
		f.Code, f.Subcode = soap.FaultReceiver, ""
	case helseid.Forbidden, helseid.InsufficientScope:
		// Authenticated, but not for this: the SOAP binding allows any
		// 4xx for a Sender fault, and 403 says it without a challenge.
		f.HTTPStatus = http.StatusForbidden
	}
	return f, true
}

// asAuthProblem maps an authentication refusal to an HTTP status and a
// WWW-Authenticate challenge (RFC 6750 §3, RFC 9449 §7.1): 401 with a
// Bearer or DPoP challenge for missing or unacceptable tokens and proofs,
// 403 for an authenticated caller lacking a scope (with an
// insufficient_scope challenge) or the right, 503 when a dependency failed.
// The challenge never carries an error_description.
func asAuthProblem(err error) (status int, challenge string, ok bool) {
	ae, ok := helseid.AsAuthError(err)
	if !ok {
		return 0, "", false
	}
	status = ae.HTTPStatus()
	challenge = ae.WWWAuthenticate()
	if status == http.StatusUnauthorized && challenge == "" {
		// A 401 must challenge (RFC 9110 §15.5.2); a SOAP-only kind
		// reaching a REST surface still gets one.
		challenge = helseid.SchemeBearer
	}
	if status == http.StatusBadRequest {
		// wsse:Security on a REST surface: there is no token to speak of.
		status, challenge = http.StatusUnauthorized, helseid.SchemeBearer
	}
	return status, challenge, true
}
