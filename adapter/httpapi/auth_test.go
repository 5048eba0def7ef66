package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"kjdd/helseid"
	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

// secretReason stands for the detail of a refusal, which must reach the log
// and never the caller.
const secretReason = "detail-for-the-log-only"

func authError(kind helseid.ErrorKind) *helseid.AuthError {
	return &helseid.AuthError{Kind: kind, Reason: secretReason, Scheme: helseid.SchemeDPoP, Algs: []string{"ES256"}, Scope: []string{"nhn:kjdd/read"}}
}

func testServer(log *bytes.Buffer) *Server {
	return &Server{log: slog.New(slog.NewTextHandler(log, nil)), metrics: newMetrics()}
}

func TestAuthFaults(t *testing.T) {
	tests := map[string]struct {
		err         error
		wantCode    soap.FaultCode
		wantSubcode string
		wantStatus  int
	}{
		"no wsse:Security":        {err: authError(helseid.InvalidSecurity), wantCode: soap.FaultSender, wantSubcode: "wsse:InvalidSecurity", wantStatus: http.StatusBadRequest},
		"no token":                {err: authError(helseid.MissingCredentials), wantCode: soap.FaultSender, wantSubcode: "wsse:InvalidSecurity", wantStatus: http.StatusBadRequest},
		"assertion not verified":  {err: authError(helseid.FailedAuthentication), wantCode: soap.FaultSender, wantSubcode: "wsse:FailedAuthentication", wantStatus: http.StatusBadRequest},
		"token not accepted":      {err: authError(helseid.InvalidToken), wantCode: soap.FaultSender, wantSubcode: "wsse:FailedAuthentication", wantStatus: http.StatusBadRequest},
		"dpop proof not accepted": {err: authError(helseid.InvalidDPoPProof), wantCode: soap.FaultSender, wantSubcode: "wsse:FailedAuthentication", wantStatus: http.StatusBadRequest},
		"patient mismatch":        {err: authError(helseid.Forbidden), wantCode: soap.FaultSender, wantSubcode: "wsse:FailedAuthentication", wantStatus: http.StatusForbidden},
		"scope missing":           {err: authError(helseid.InsufficientScope), wantCode: soap.FaultSender, wantSubcode: "wsse:FailedAuthentication", wantStatus: http.StatusForbidden},
		"key source down":         {err: authError(helseid.Unavailable), wantCode: soap.FaultReceiver, wantStatus: http.StatusInternalServerError},
		"wrapped refusal":         {err: fmt.Errorf("query: %w", authError(helseid.FailedAuthentication)), wantCode: soap.FaultSender, wantSubcode: "wsse:FailedAuthentication", wantStatus: http.StatusBadRequest},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f, ok := asAuthFault(tc.err)
			if !ok {
				t.Fatal("not recognised as an authentication refusal")
			}
			if f.Code != tc.wantCode || f.Subcode != tc.wantSubcode {
				t.Errorf("fault %s/%s, want %s/%s", f.Code, f.Subcode, tc.wantCode, tc.wantSubcode)
			}
			if strings.Contains(f.Reason, secretReason) {
				t.Errorf("reason %q echoes the detail", f.Reason)
			}
			if !strings.Contains(f.Detail, secretReason) {
				t.Errorf("detail %q lacks the reason the log needs", f.Detail)
			}

			// Rendered through the one SOAP renderer.
			var log bytes.Buffer
			s := testServer(&log)
			w := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(w)
			c.Request = httptest.NewRequest(http.MethodPost, "/xca", nil)
			s.renderError(c, xcaOps[soap.ActionCrossGatewayQuery], &soap.Message{MessageID: "urn:uuid:00000000-0000-4000-8000-000000000001"}, tc.err)
			if w.Code != tc.wantStatus {
				t.Errorf("HTTP %d, want %d", w.Code, tc.wantStatus)
			}
			body := w.Body.String()
			if !strings.Contains(body, "Fault") || (tc.wantSubcode != "" && !strings.Contains(body, tc.wantSubcode)) {
				t.Errorf("body is not the fault:\n%s", body)
			}
			if strings.Contains(body, secretReason) {
				t.Errorf("body echoes the detail:\n%s", body)
			}
			if !strings.Contains(log.String(), secretReason) {
				t.Errorf("log lacks the reason:\n%s", log.String())
			}
		})
	}
}

func TestAuthFaultIgnoresOtherErrors(t *testing.T) {
	for name, err := range map[string]error{
		"plain error":    errors.New("boom"),
		"registry error": rim.NewError(rim.XDSRegistryError, "x"),
		"soap fault":     &soap.Fault{Code: soap.FaultSender, Reason: "x"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, ok := asAuthFault(err); ok {
				t.Fatal("taken for an authentication refusal")
			}
			if _, _, ok := asAuthProblem(err); ok {
				t.Fatal("taken for an authentication refusal")
			}
		})
	}
}

func TestAuthProblems(t *testing.T) {
	tests := map[string]struct {
		err           error
		wantStatus    int
		wantChallenge string
	}{
		"no token":           {err: &helseid.AuthError{Kind: helseid.MissingCredentials, Reason: secretReason}, wantStatus: 401, wantChallenge: "Bearer"},
		"no token, dpop":     {err: authError(helseid.MissingCredentials), wantStatus: 401, wantChallenge: `DPoP algs="ES256"`},
		"token not accepted": {err: authError(helseid.InvalidToken), wantStatus: 401, wantChallenge: `DPoP error="invalid_token", algs="ES256"`},
		"proof not accepted": {err: authError(helseid.InvalidDPoPProof), wantStatus: 401, wantChallenge: `DPoP error="invalid_dpop_proof", algs="ES256"`},
		"scope missing":      {err: authError(helseid.InsufficientScope), wantStatus: 403, wantChallenge: `DPoP error="insufficient_scope", scope="nhn:kjdd/read", algs="ES256"`},
		"not this hospital":  {err: authError(helseid.Forbidden), wantStatus: 403},
		"issuer unreachable": {err: authError(helseid.Unavailable), wantStatus: 503},
		"saml on rest":       {err: authError(helseid.FailedAuthentication), wantStatus: 401, wantChallenge: "Bearer"},
		"wsse on rest":       {err: authError(helseid.InvalidSecurity), wantStatus: 401, wantChallenge: "Bearer"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			status, challenge, ok := asAuthProblem(tc.err)
			if !ok || status != tc.wantStatus || challenge != tc.wantChallenge {
				t.Fatalf("got %d %q %v, want %d %q", status, challenge, ok, tc.wantStatus, tc.wantChallenge)
			}

			// Rendered through the one JSON renderer.
			var log bytes.Buffer
			s := testServer(&log)
			w := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(w)
			c.Request = httptest.NewRequest(http.MethodPost, "/api/v1/sperring", nil)
			s.renderProblem(c, tc.err)
			if w.Code != tc.wantStatus || w.Header().Get("WWW-Authenticate") != tc.wantChallenge {
				t.Errorf("HTTP %d WWW-Authenticate %q", w.Code, w.Header().Get("WWW-Authenticate"))
			}
			if strings.Contains(w.Body.String(), secretReason) {
				t.Errorf("body echoes the detail: %s", w.Body.String())
			}
			if !strings.Contains(log.String(), secretReason) {
				t.Errorf("log lacks the reason:\n%s", log.String())
			}
		})
	}
}
