package consent

import (
	"slices"
	"strings"
	"testing"
)

func TestParseVisibility(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    Visibility
		wantErr bool
	}{
		"ok/empty hides":       {in: "", want: VisibilityHide},
		"ok/hide":              {in: "hide", want: VisibilityHide},
		"ok/obfuscate":         {in: "obfuscate", want: VisibilityObfuscate},
		"ok/case and space":    {in: " Obfuscate ", want: VisibilityObfuscate},
		"fail/show":            {in: "show", wantErr: true},
		"fail/misspelt":        {in: "obfusticate", wantErr: true},
		"fail/several":         {in: "hide,obfuscate", wantErr: true},
		"fail/number":          {in: "1", wantErr: true},
		"fail/hidden suffixes": {in: "hide\x00", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseVisibility(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseVisibility(%q) = %v, want error", tc.in, got)
				}
				if got != VisibilityHide {
					t.Errorf("ParseVisibility(%q) returned %v with its error, want hide", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseVisibility(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			if again, err := ParseVisibility(got.String()); err != nil || again != got {
				t.Errorf("String() %q does not parse back", got.String())
			}
		})
	}
}

func TestParseOverridePurposes(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    []string
		wantErr string
	}{
		"ok/default value":       {in: "BTG", want: []string{"BTG"}},
		"ok/two, spaced, lower":  {in: " etreat , btg", want: []string{"ETREAT", "BTG"}},
		"ok/duplicates folded":   {in: "BTG,btg", want: []string{"BTG"}},
		"ok/empty means none":    {in: "", want: nil},
		"ok/blank means none":    {in: "  ", want: nil},
		"fail/TREAT":             {in: "TREAT", wantErr: "not allowed"},
		"fail/COC":               {in: "BTG,COC", wantErr: "not allowed"},
		"fail/unknown":           {in: "EMERGENCY", wantErr: "not allowed"},
		"fail/empty entry":       {in: "BTG,,ETREAT", wantErr: "empty entry"},
		"fail/trailing comma":    {in: "BTG,", wantErr: "empty entry"},
		"fail/long value capped": {in: strings.Repeat("X", 100), wantErr: "not allowed"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseOverridePurposes(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseOverridePurposes(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
				}
				if len(err.Error()) > 120 {
					t.Errorf("error is %d characters long; input must be truncated", len(err.Error()))
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("ParseOverridePurposes(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	key := []byte("0123456789abcdef")
	tests := map[string]struct {
		p       Policy
		wantErr string
	}{
		"ok/zero value":              {p: Policy{}},
		"ok/defaults":                {p: Policy{OverridePurposes: DefaultOverridePurposes}},
		"ok/obfuscate with key":      {p: Policy{Visibility: VisibilityObfuscate, ObfuscationKey: key}},
		"fail/obfuscate without key": {p: Policy{Visibility: VisibilityObfuscate}, wantErr: "obfuscation key"},
		"fail/obfuscate short key":   {p: Policy{Visibility: VisibilityObfuscate, ObfuscationKey: key[:15]}, wantErr: "obfuscation key"},
		"fail/TREAT overrides":       {p: Policy{OverridePurposes: []string{"TREAT"}}, wantErr: "not allowed"},
		"fail/unknown visibility":    {p: Policy{Visibility: 7}, wantErr: "visibility"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.p.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

// FuzzParseOverridePurposes: no panic; what is accepted is a list of
// distinct overridable purposes, and it parses back to itself.
func FuzzParseOverridePurposes(f *testing.F) {
	for _, seed := range []string{"BTG", "ETREAT,BTG", " btg ", "", "TREAT", "BTG,,", "COC,BTG"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseOverridePurposes(s)
		if err != nil {
			return
		}
		for i, p := range got {
			if !slices.Contains(overridable, p) {
				t.Fatalf("accepted %q from %q", p, s)
			}
			if slices.Contains(got[:i], p) {
				t.Fatalf("duplicate %q from %q", p, s)
			}
		}
		again, err := ParseOverridePurposes(strings.Join(got, ","))
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("%v does not parse back: %v, %v", got, again, err)
		}
	})
}
