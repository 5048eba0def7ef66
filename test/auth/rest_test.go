package auth

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"kjdd/helseid/helseidtest"
	"kjdd/test/internal/harness"
)

const (
	pathSperring       = "/api/v1/sperring"
	pathSperringSearch = "/api/v1/sperring/_search"
)

// restReply is an answer of the JSON API.
type restReply struct {
	status    int
	challenge string
	body      []byte
}

func postJSON(t *testing.T, srv *harness.Server, path string, header http.Header, v any) restReply {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	resp := srv.Post(t, path, "application/json", bytes.NewReader(b), header)
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return restReply{status: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate"), body: body}
}

// sperringRecords counts patient's sperring records, asked with valid
// credentials.
func sperringRecords(t *testing.T, srv *harness.Server, patient string) int {
	t.Helper()
	r := postJSON(t, srv, pathSperringSearch, nil, map[string]string{"patient": patient})
	if r.status != http.StatusOK {
		t.Fatalf("search with valid credentials: HTTP %d %s", r.status, r.body)
	}
	var items struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(r.body, &items); err != nil {
		t.Fatal(err)
	}
	return len(items.Items)
}

// TestSperringAPIRefused: the REST surface answers refused credentials
// with 401 and a Bearer/DPoP challenge (RFC 6750, RFC 9449), or 403 for a
// caller who may not, never explaining more; a refused create stores no
// record.
func TestSperringAPIRefused(t *testing.T) {
	srv := start(t, nil, nil)
	id := srv.Identity()
	iss := id.Issuer
	if r := postJSON(t, srv, pathSperringSearch, nil, map[string]string{"patient": newFNR(t)}); r.status == http.StatusNotFound {
		t.Fatalf("POST %s answered 404: serve always mounts the sperring API", pathSperringSearch)
	}
	bare := srv.With(harness.AuthNone)
	client := func(opts ...helseidtest.TokenOption) string {
		return id.ClientToken(append([]helseidtest.TokenOption{helseidtest.Claim(claimOrgNrParent, harness.HospitalOrgNumber)}, opts...)...)
	}
	tests := map[string]struct {
		header        func() http.Header
		wantStatus    int
		wantChallenge string // prefix; "" = none
	}{
		"no credentials": {header: func() http.Header { return nil },
			wantStatus: 401, wantChallenge: `DPoP algs="`},
		"alg none": {header: func() http.Header { return dpopHeader(srv, pathSperring, client(helseidtest.AlgNone())) },
			wantStatus: 401, wantChallenge: `DPoP error="invalid_token"`},
		"expired": {header: func() http.Header {
			return dpopHeader(srv, pathSperring, client(helseidtest.At(time.Now().Add(-time.Hour))))
		}, wantStatus: 401, wantChallenge: `DPoP error="invalid_token"`},
		"wrong aud": {header: func() http.Header {
			return dpopHeader(srv, pathSperring, client(helseidtest.Claim("aud", "nhn:other")))
		},
			wantStatus: 401, wantChallenge: `DPoP error="invalid_token"`},
		"proof missing": {header: func() http.Header { return http.Header{"Authorization": {"DPoP " + client()}} },
			wantStatus: 401, wantChallenge: `DPoP error="invalid_dpop_proof"`},
		"proof for another path": {header: func() http.Header {
			tok := client()
			return http.Header{"Authorization": {"DPoP " + tok}, "Dpop": {iss.DPoPProof(http.MethodPost, srv.URL+pathSperringSearch, tok)}}
		}, wantStatus: 401, wantChallenge: `DPoP error="invalid_dpop_proof"`},
		"missing register scope": {header: func() http.Header {
			return dpopHeader(srv, pathSperring, client(helseidtest.Claim("scope", []string{harness.ScopeRead})))
		}, wantStatus: 403, wantChallenge: `DPoP error="insufficient_scope", scope="` + harness.ScopeRegister + `"`},
		"another hospital's client": {header: func() http.Header {
			return dpopHeader(srv, pathSperring, client(helseidtest.Claim(claimOrgNrParent, "974633574")))
		}, wantStatus: 403},
		"practitioner token": {header: func() http.Header { return dpopHeader(srv, pathSperring, id.UserToken()) },
			wantStatus: 403},
	}
	var patients []string
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			patient := newFNR(t)
			patients = append(patients, patient)
			r := postJSON(t, bare, pathSperring, tc.header(), map[string]string{"patient": patient, "kind": "patient", "reason": "refusal test"})
			if r.status != tc.wantStatus {
				t.Errorf("HTTP %d, want %d: %s", r.status, tc.wantStatus, r.body)
			}
			if tc.wantChallenge == "" && r.challenge != "" || !strings.HasPrefix(r.challenge, tc.wantChallenge) {
				t.Errorf("WWW-Authenticate %q, want %q…", r.challenge, tc.wantChallenge)
			}
			if strings.Contains(r.challenge, "error_description") {
				t.Errorf("the challenge explains the refusal: %q", r.challenge)
			}
			if bytes.Contains(r.body, []byte(patient)) || bytes.Contains(r.body, []byte("refusal test")) {
				t.Errorf("the refusal echoes the request: %s", r.body)
			}
			if n := sperringRecords(t, srv, patient); n != 0 {
				t.Fatalf("the refused create stored %d records", n)
			}
		})
	}

	t.Run("proof replayed", func(t *testing.T) {
		tok := client()
		h := dpopHeader(srv, pathSperring, tok)
		first, second := newFNR(t), newFNR(t)
		patients = append(patients, first, second)
		if r := postJSON(t, bare, pathSperring, h, map[string]string{"patient": first, "kind": "patient"}); r.status != http.StatusCreated {
			t.Fatalf("first use: HTTP %d %s", r.status, r.body)
		}
		r := postJSON(t, bare, pathSperring, h, map[string]string{"patient": second, "kind": "patient"})
		if r.status != 401 || !strings.HasPrefix(r.challenge, `DPoP error="invalid_dpop_proof"`) {
			t.Fatalf("replay: HTTP %d, WWW-Authenticate %q", r.status, r.challenge)
		}
		if n := sperringRecords(t, srv, second); n != 0 {
			t.Fatalf("the replayed create stored %d records", n)
		}
		if n := sperringRecords(t, srv, first); n != 1 {
			t.Fatalf("the first create stored %d records, want 1", n)
		}
	})
	wantNoNationalIDs(t, srv, patients...)
}
