package helseid

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestAuthErrorRendering(t *testing.T) {
	algs := []string{"ES256", "RS256"}
	tests := map[string]struct {
		err       *AuthError
		status    int
		challenge string
		subcode   string
	}{
		"missing credentials, bearer": {&AuthError{Kind: MissingCredentials}, http.StatusUnauthorized, "Bearer", "wsse:InvalidSecurity"},
		"missing credentials, DPoP":   {&AuthError{Kind: MissingCredentials, Scheme: SchemeDPoP, Algs: algs}, http.StatusUnauthorized, `DPoP algs="ES256 RS256"`, "wsse:InvalidSecurity"},
		"invalid token":               {&AuthError{Kind: InvalidToken, Reason: "expired"}, http.StatusUnauthorized, `Bearer error="invalid_token"`, "wsse:FailedAuthentication"},
		"invalid token, DPoP":         {&AuthError{Kind: InvalidToken, Scheme: SchemeDPoP, Algs: algs}, http.StatusUnauthorized, `DPoP error="invalid_token", algs="ES256 RS256"`, "wsse:FailedAuthentication"},
		"invalid DPoP proof":          {&AuthError{Kind: InvalidDPoPProof, Algs: algs}, http.StatusUnauthorized, `DPoP error="invalid_dpop_proof", algs="ES256 RS256"`, "wsse:FailedAuthentication"},
		"insufficient scope":          {&AuthError{Kind: InsufficientScope, Scope: []string{"nhn:kjdd/read"}}, http.StatusForbidden, `Bearer error="insufficient_scope", scope="nhn:kjdd/read"`, "wsse:FailedAuthentication"},
		"forbidden":                   {&AuthError{Kind: Forbidden}, http.StatusForbidden, "", "wsse:FailedAuthentication"},
		"invalid security":            {&AuthError{Kind: InvalidSecurity}, http.StatusBadRequest, "", "wsse:InvalidSecurity"},
		"failed authentication":       {&AuthError{Kind: FailedAuthentication}, http.StatusUnauthorized, "", "wsse:FailedAuthentication"},
		"unavailable":                 {&AuthError{Kind: Unavailable}, http.StatusServiceUnavailable, "", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.err.HTTPStatus(); got != tc.status {
				t.Errorf("status %d, want %d", got, tc.status)
			}
			if got := tc.err.WWWAuthenticate(); got != tc.challenge {
				t.Errorf("challenge %q, want %q", got, tc.challenge)
			}
			if got := tc.err.SOAPSubcode(); got != tc.subcode {
				t.Errorf("subcode %q, want %q", got, tc.subcode)
			}
		})
	}
}

func TestAuthErrorMessageHidesReason(t *testing.T) {
	for k := MissingCredentials; k <= Unavailable; k++ {
		e := &AuthError{Kind: k, Reason: "secret-detail", Err: errors.New("cause-detail")}
		if m := e.Message(); m == "" || strings.Contains(m, "detail") {
			t.Errorf("%s: message %q", k, m)
		}
		if !strings.Contains(e.Error(), "secret-detail") || !strings.Contains(e.Error(), "cause-detail") {
			t.Errorf("%s: Error() %q lacks the reason for logs", k, e.Error())
		}
	}
}

func TestAsAuthErrorThroughWrapping(t *testing.T) {
	err := fmt.Errorf("gate: %w", &AuthError{Kind: Forbidden})
	ae, ok := AsAuthError(err)
	if !ok || ae.Kind != Forbidden {
		t.Fatalf("AsAuthError = %v, %v", ae, ok)
	}
	if _, ok := AsAuthError(errors.New("plain")); ok {
		t.Fatal("plain error taken for an AuthError")
	}
}
