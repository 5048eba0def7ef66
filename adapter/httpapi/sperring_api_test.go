package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"kjdd/adapter/access"
	"kjdd/adapter/registry"
	"kjdd/adapter/store"
	"kjdd/consent"
	"kjdd/xds/soap"
)

const apiPatient = "13116900216" // NHN's synthetic test patient

// readJSONInto runs readJSON on a request with body and content type.
func readJSONInto(contentType string, body []byte, v any) error {
	gin.SetMode(gin.ReleaseMode)
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodPost, "/api/v1/sperring", bytes.NewReader(body))
	if contentType != "" {
		c.Request.Header.Set("Content-Type", contentType)
	}
	return readJSON(c, v)
}

func TestReadJSON(t *testing.T) {
	cases := map[string]struct {
		contentType string
		body        string
		want        int // 0: accepted
	}{
		"a record":                        {"application/json", `{"patient": "` + apiPatient + `", "kind": "patient"}`, 0},
		"charset parameter":               {"application/json; charset=utf-8", `{"patient": "` + apiPatient + `", "kind": "patient"}`, 0},
		"surrounding whitespace":          {"application/json", " \n{\"kind\": \"patient\"}\n ", 0},
		"no content type":                 {"", `{"kind": "patient"}`, 415},
		"form":                            {"application/x-www-form-urlencoded", `kind=patient`, 415},
		"unknown field naming a national": {"application/json", `{"` + apiPatient + `": 1}`, 400},
		"wrong type":                      {"application/json", `{"patient": ` + apiPatient + `}`, 400},
		"array":                           {"application/json", `[{"kind": "patient"}]`, 400},
		"two objects":                     {"application/json", `{"kind": "patient"}{"kind": "patient"}`, 400},
		"trailing garbage":                {"application/json", `{"kind": "patient"} x`, 400},
		"truncated":                       {"application/json", `{"kind": "pat`, 400},
		"just over the limit":             {"application/json", `{"reason": "` + strings.Repeat("x", maxSperringBody) + `"}`, 413},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var req sperringCreate
			err := readJSONInto(tc.contentType, []byte(tc.body), &req)
			if tc.want == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var p *Problem
			if !errors.As(err, &p) || p.Status != tc.want {
				t.Fatalf("got %v, want a %d problem", err, tc.want)
			}
			if strings.Contains(p.Detail, apiPatient) {
				t.Fatalf("problem echoes a national id: %q", p.Detail)
			}
		})
	}
}

var nationalID = regexp.MustCompile(`(^|[^0-9])[0-9]{11}([^0-9]|$)`)

// FuzzSperringBody feeds the sperring API's body parser: it must never
// panic, and a refusal must never echo an 11-digit number it was given.
func FuzzSperringBody(f *testing.F) {
	for _, seed := range []string{
		`{"patient": "13116900216", "kind": "document", "documentUniqueId": "2.16.578.1.12.4.5.100.1.9.1", "reason": "x"}`,
		`{"patient": "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO", "kind": "practitioner", "hprNumber": "565505933"}`,
		`{"patient": "13116900216", "kind": "patient"}`,
		`{"13116900216": "13116900216"}`,
		`{"patient": 13116900216}`,
		`{"items": []}`,
		`{"patient": "\u0031\u0033116900216"}`,
		``,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var req sperringCreate
		err := readJSONInto("application/json", []byte(body), &req)
		if err == nil {
			if _, perr := consent.NormalizePatient(req.Patient); perr != nil && nationalID.MatchString(perr.Error()) {
				t.Fatalf("patient error echoes a number: %v", perr)
			}
			return
		}
		var p *Problem
		if !errors.As(err, &p) {
			t.Fatalf("not a problem: %v", err)
		}
		if nationalID.MatchString(p.Detail) {
			t.Fatalf("problem echoes an 11-digit number: %q", p.Detail)
		}
	})
}

// recordsService is the sperring API's back end over the real store,
// without caches: what the handlers do with it is under test, not the
// write-through (test/sperring covers that against the binary).
type recordsService struct{ r *store.SperringRecords }

func (s recordsService) Create(ctx context.Context, rec consent.Sperring) (consent.Sperring, consent.Blocks, error) {
	created, err := s.r.Create(ctx, rec)
	if err != nil {
		return consent.Sperring{}, consent.Blocks{}, err
	}
	blocks, err := s.r.Blocks(ctx, created)
	return created, blocks, err
}

func (s recordsService) Search(ctx context.Context, p string) ([]consent.Sperring, error) {
	return s.r.Search(ctx, p)
}

func (s recordsService) Delete(ctx context.Context, id string) error {
	_, err := s.r.Delete(ctx, id)
	return err
}

// TestSperringAPIRefusesAnonymous: a gate that lets a caller in without a
// Principal (no authentication wired) must not let anyone change sperring.
func TestSperringAPIRefusesAnonymous(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.SperringRecords(ctx, store.SperringKeys{Index: bytes.Repeat([]byte{1}, 32), Seal: bytes.Repeat([]byte{2}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	existing, err := recs.Create(ctx, consent.Sperring{Patient: apiPatient, Kind: consent.KindPatient})
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.New(st, registry.Options{HomeCommunityID: "2.16.578.1.12.4.5.100.1", RepositoryUniqueID: "2.16.578.1.12.4.5.100.1.2"},
		nil, access.Compose(access.Open{}, access.ShowAll{}))
	h := New(Options{Registry: reg, Limits: soap.DefaultLimits(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Sperring: recordsService{recs}})
	cases := map[string]struct{ method, path, body string }{
		"create":                 {http.MethodPost, "/api/v1/sperring", `{"patient": "` + apiPatient + `", "kind": "patient"}`},
		"search":                 {http.MethodPost, "/api/v1/sperring/_search", `{"patient": "` + apiPatient + `"}`},
		"delete":                 {http.MethodDelete, "/api/v1/sperring/" + existing.ID, ""},
		"create with a bad body": {http.MethodPost, "/api/v1/sperring", `{"nonsense": true}`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var p Problem
			if rec.Code != http.StatusUnauthorized || json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Status != http.StatusUnauthorized {
				t.Fatalf("HTTP %d %s, want a 401 problem", rec.Code, rec.Body)
			}
			if rec.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without a challenge")
			}
		})
	}
	if got, err := recs.Search(ctx, apiPatient); err != nil || len(got) != 1 {
		t.Fatalf("records changed by anonymous calls: %v, %v", got, err)
	}
}
