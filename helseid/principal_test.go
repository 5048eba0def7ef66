package helseid

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func samplePrincipal() Principal {
	return Principal{
		Kind: TokenSAML, Issuer: "https://helseid-xdssaml.test.nhn.no", ClientID: "c1",
		PID: "06828399789", Name: "KVART GREVLING", HPRNumber: "565505933",
		PatientID: "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO",
		Purpose:   Code{Code: "TREAT"}, LegalEntity: Organization{ID: "960510542"},
	}
}

// TestPrincipalNeverPrintsNationalIDs formats a principal every way a log
// line might, and checks that no national id or name comes out.
func TestPrincipalNeverPrintsNationalIDs(t *testing.T) {
	p := samplePrincipal()
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("caller", "principal", p, "ptr", &p)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("caller", "principal", p)
	marshalled, _ := json.Marshal(p)
	outputs := map[string]string{
		"%v":        fmt.Sprintf("%v", p),
		"%+v":       fmt.Sprintf("%+v", p),
		"%#v":       fmt.Sprintf("%#v", p),
		"pointer":   fmt.Sprint(&p),
		"%v nested": fmt.Sprintf("%+v", struct{ P Principal }{p}),
		"slog text": text.String(),
		"slog json": js.String(),
		"json":      string(marshalled),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			for _, secret := range []string{"06828399789", "13116900216", "GREVLING"} {
				if strings.Contains(out, secret) {
					t.Fatalf("output leaks %q: %s", secret, out)
				}
			}
			if !strings.Contains(out, "565505933") && name != "json" {
				t.Errorf("output lacks the (non-sensitive) HPR number: %s", out)
			}
		})
	}
}

func TestCheckPatient(t *testing.T) {
	tests := map[string]struct {
		bound, asked string
		ok           bool
	}{
		"same CX":                        {"13116900216^^^&2.16.578.1.12.4.1.4.1&ISO", "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO", true},
		"stored-query quotes":            {"13116900216^^^&2.16.578.1.12.4.1.4.1&ISO", "'13116900216^^^&2.16.578.1.12.4.1.4.1&ISO'", true},
		"urn:oid: authority":             {"13116900216^^^&2.16.578.1.12.4.1.4.1&ISO", "13116900216^^^&urn:oid:2.16.578.1.12.4.1.4.1&ISO", true},
		"NHN's double escape":            {"13116900216^^^&amp;2.16.578.1.12.4.1.4.1&amp;ISO", "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO", true},
		"bare number":                    {"13116900216^^^&2.16.578.1.12.4.1.4.1&ISO", "13116900216", true},
		"another patient":                {"13116900216^^^&2.16.578.1.12.4.1.4.1&ISO", "08077000292^^^&2.16.578.1.12.4.1.4.1&ISO", false},
		"same number, D-number series":   {"13116900216^^^&2.16.578.1.12.4.1.4.1&ISO", "13116900216^^^&2.16.578.1.12.4.1.4.2&ISO", false},
		"credential bound to no patient": {"", "13116900216", false},
		"nothing asked":                  {"13116900216", "", false},
		"prefix of the bound id":         {"13116900216", "1311690021", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := Principal{PatientID: tc.bound}
			err := p.CheckPatient(tc.asked)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckPatient = %v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				wantKind(t, err, Forbidden, "")
				if strings.Contains(err.Error(), "1311690021") {
					t.Fatalf("error leaks the patient: %v", err)
				}
			}
		})
	}
}

func TestPrincipalRequirements(t *testing.T) {
	p := samplePrincipal()
	p.Scopes = []string{"a", "b"}
	p.OrgNumbers.Parent = "960510542"
	if err := p.RequireScopes("a", "b"); err != nil {
		t.Fatal(err)
	}
	err := p.RequireScopes("a", "c")
	wantKind(t, err, InsufficientScope, `"c"`)
	if ae, _ := AsAuthError(err); ae.WWWAuthenticate() != `Bearer error="insufficient_scope", scope="a c"` {
		t.Errorf("challenge %q", ae.WWWAuthenticate())
	}
	if err := p.RequireOrgNumber("960510542"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, p.RequireOrgNumber("983974880"), Forbidden, "legal entity")
	wantKind(t, p.RequireOrgNumber(""), Forbidden, "legal entity")
}
