package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// TestReadyz drives /readyz over named checks: the status, and a body
// that names the failing dependencies and nothing of their errors.
func TestReadyz(t *testing.T) {
	// An error text as a dependency might phrase it, with an address and
	// a secret that must stay in the log.
	failed := func(context.Context) error {
		return errors.New("dial redis://:s3cret@10.0.0.7:6379: connection refused")
	}
	ok := func(context.Context) error { return nil }
	tests := map[string]struct {
		checks      []ReadyCheck
		wantStatus  int
		wantState   string
		wantFailing []string
	}{
		"no checks": {wantStatus: http.StatusOK, wantState: "ready"},
		"all pass": {checks: []ReadyCheck{{Name: "store", Check: ok}, {Name: "redis", Check: ok, Degraded: true}},
			wantStatus: http.StatusOK, wantState: "ready"},
		"a required check fails": {checks: []ReadyCheck{{Name: "store", Check: ok}, {Name: "helseid", Check: failed}},
			wantStatus: http.StatusServiceUnavailable, wantState: "unavailable", wantFailing: []string{"helseid"}},
		"only a degraded check fails": {checks: []ReadyCheck{{Name: "store", Check: ok}, {Name: "redis", Check: failed, Degraded: true}},
			wantStatus: http.StatusOK, wantState: "degraded", wantFailing: []string{"redis"}},
		"required and degraded fail": {checks: []ReadyCheck{{Name: "sperring", Check: failed}, {Name: "redis", Check: failed, Degraded: true}},
			wantStatus: http.StatusServiceUnavailable, wantState: "unavailable", wantFailing: []string{"sperring", "redis"}},
		"one check outlives the deadline": {checks: []ReadyCheck{
			{Name: "store", Check: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
			{Name: "helseid", Check: ok}},
			wantStatus: http.StatusServiceUnavailable, wantState: "unavailable", wantFailing: []string{"store"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: tc.checks})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != tc.wantStatus {
				t.Errorf("HTTP %d, want %d", rec.Code, tc.wantStatus)
			}
			if strings.Contains(rec.Body.String(), "s3cret") || strings.Contains(rec.Body.String(), "10.0.0.7") {
				t.Errorf("body carries the error: %s", rec.Body)
			}
			var body struct {
				Status  string
				Failing []string
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("%v: %s", err, rec.Body)
			}
			if body.Status != tc.wantState || !slices.Equal(body.Failing, tc.wantFailing) {
				t.Errorf("body %s, want status %q failing %v", rec.Body, tc.wantState, tc.wantFailing)
			}
		})
	}
}
