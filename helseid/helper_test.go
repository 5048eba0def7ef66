package helseid

import (
	"context"
	"kjdd/test/testkit/paths"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"kjdd/helseid/helseidtest"
)

// sharedPath returns rel below the shared project directory (../shared
// beside the module root).
func sharedPath(t testing.TB, rel string) string {
	t.Helper()
	p, err := paths.Shared(rel)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const testURL = "https://kjdd.test/xds/registry"

// testPublicURL is the public URL validators are configured with: the
// base of testURL.
const testPublicURL = "https://kjdd.test"

// newKeySource returns an HTTP key source reading iss.
func newKeySource(t testing.TB, iss *helseidtest.Issuer, now func() time.Time) *HTTPKeySource {
	t.Helper()
	ks, err := NewHTTPKeySource(HTTPKeySourceConfig{Issuer: iss.URL, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// newJWTValidator returns a validator for iss's tokens with DPoP required
// and an in-process replay cache; edit may change the config.
func newJWTValidator(t testing.TB, iss *helseidtest.Issuer, edit func(*JWTConfig)) *JWTValidator {
	t.Helper()
	cfg := JWTConfig{
		Issuer:         iss.URL,
		Audience:       helseidtest.DefaultAudience,
		RequiredScopes: []string{"nhn:kjdd/read"},
		PublicURL:      testPublicURL,
		Keys:           newKeySource(t, iss, nil),
		Replay:         NewMemoryReplayCache(0),
	}
	if edit != nil {
		edit(&cfg)
	}
	v, err := NewJWTValidator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// dpopRequest builds a request to rawURL with "Authorization: DPoP token"
// and the given proofs.
func dpopRequest(method, rawURL, token string, proofs ...string) *http.Request {
	r := httptest.NewRequest(method, rawURL, nil)
	if token != "" {
		r.Header.Set("Authorization", "DPoP "+token)
	}
	for _, p := range proofs {
		r.Header.Add("DPoP", p)
	}
	return r
}

func bearerRequest(method, rawURL, token string) *http.Request {
	r := httptest.NewRequest(method, rawURL, nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// securityOf parses a SOAP envelope (or a bare wsse:Security) from bytes,
// as the adapter does, and returns its wsse:Security element.
func securityOf(t testing.TB, msg []byte) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(msg); err != nil {
		t.Fatal(err)
	}
	if r := doc.Root(); r != nil && r.Tag == "Security" {
		return r
	}
	sec := doc.FindElement("//Security")
	if sec == nil {
		t.Fatal("no Security element")
	}
	return sec
}

// queryPatient returns the $XDSDocumentEntryPatientId value of an envelope.
func queryPatient(t testing.TB, msg []byte) string {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(msg); err != nil {
		t.Fatal(err)
	}
	for _, s := range doc.FindElements("//Slot") {
		if s.SelectAttrValue("name", "") == "$XDSDocumentEntryPatientId" {
			return strings.TrimSpace(s.FindElement(".//Value").Text())
		}
	}
	t.Fatal("no patient id slot")
	return ""
}

// wantKind fails unless err is an *AuthError of kind whose Reason contains
// reason.
func wantKind(t testing.TB, err error, kind ErrorKind, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want %s (%s)", kind, reason)
	}
	ae, ok := AsAuthError(err)
	if !ok {
		t.Fatalf("error %v is not an AuthError", err)
	}
	if ae.Kind != kind || !strings.Contains(ae.Reason, reason) {
		t.Fatalf("got %s %q; want %s containing %q", ae.Kind, ae.Reason, kind, reason)
	}
}

var testCtx = context.Background()
