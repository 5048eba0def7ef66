package query

import (
	"strings"
	"testing"

	"kjdd/xds/rim"
)

func TestLikeMatch(t *testing.T) {
	tests := []struct {
		value, pattern string
		want           bool
	}{
		{"^Smitty^Gerald^^^", "%Smitty%", true},
		{"^Smitty^Gerald^^^", "%smitty%", false},
		{"^Smitty^Gerald^^^", "^Smitty^Gerald^^^", true},
		{"^Smitty^Gerald^^^", "^Smitty^Gerald^^", false},
		{"^Smitty^Gerald^^^", "^Smitty%", true},
		{"^Smitty^Gerald^^^", "%Gerald^^^", true},
		{"^Smitty^Gerald^^^", "%Gerald", false},
		{"^Smitty^Gerald^^^", "^Sm_tty%", true},
		{"^Smitty^Gerald^^^", "^Sm__tty%", false},
		{"^Ødegård^Åse", "^_degård^_se", true},
		{"^Ødegård^Åse", "^__degård%", false},
		{"", "%", true},
		{"", "", true},
		{"", "_", false},
		{"abc", "", false},
		{"abc", "%%%", true},
		{"abc", "a%%c", true},
		{"abcbc", "%bc", true},
		{"abcbd", "%bc", false},
		{"aXbXc", "a%b%c", true},
		{"mississippi", "m%iss%ppi", true},
		{"mississippi", "m%iss%pp", false},
		{"100%", "100%", true},
		{"100 percent", "100%", true},
	}
	for _, tc := range tests {
		t.Run(tc.value+" LIKE "+tc.pattern, func(t *testing.T) {
			if got := likeMatch(tc.value, tc.pattern); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestLikeMatchIsNotExponential guards against backtracking blow-up: a
// pattern of many % against a long value must finish quickly.
func TestLikeMatchIsNotExponential(t *testing.T) {
	value := strings.Repeat("a", 5000)
	pattern := strings.Repeat("%a", 200) + "b"
	if likeMatch(value, pattern) {
		t.Fatal("matched a value without b")
	}
}

func TestTimeRangeContains(t *testing.T) {
	tests := []struct {
		name  string
		r     TimeRange
		value string
		want  bool
	}{
		{"no bounds admits everything", TimeRange{}, "", true},
		{"a bound excludes a missing value", TimeRange{From: "2004"}, "", false},
		{"from is inclusive", TimeRange{From: "20041224"}, "20041224", true},
		{"to is exclusive", TimeRange{To: "20041224"}, "20041224", false},
		{"before to", TimeRange{To: "20041224"}, "20041223235959", true},
		{"coarse from admits a finer value in the period", TimeRange{From: "2004"}, "20040615", true},
		{"coarse from excludes an earlier year", TimeRange{From: "2004"}, "20031231235959", false},
		{"coarse to excludes a finer value in the period", TimeRange{To: "2005"}, "20050101", false},
		{"coarse to admits the period before", TimeRange{To: "2005"}, "20041231235959", true},
		{"coarse value meets a finer from at its precision", TimeRange{From: "20040615"}, "2004", true},
		{"coarse value fails a finer to at its precision", TimeRange{To: "20040615"}, "2004", false},
		{"coarse value before a finer to", TimeRange{To: "20050615"}, "2004", true},
		{"between, minute precision", TimeRange{From: "200401010934", To: "200501010856"}, "20041224", true},
		{"right edge", TimeRange{From: "20041124", To: "20041224"}, "20041224", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.Contains(tc.value); got != tc.want {
				t.Errorf("%+v.Contains(%q) = %v, want %v", tc.r, tc.value, got, tc.want)
			}
		})
	}
}

func TestCodesAllOf(t *testing.T) {
	n, r, nors := rim.Code{Code: "N", Scheme: "2.16.840.1.113883.5.25"}, rim.Code{Code: "R", Scheme: "2.16.840.1.113883.5.25"}, rim.Code{Code: "NORS", Scheme: "2.16.578.1.12.4.1.1.9603"}
	tests := []struct {
		name   string
		have   []rim.Code
		groups [][]rim.Code
		want   bool
	}{
		{"no groups", []rim.Code{n}, nil, true},
		{"one group, one match", []rim.Code{n}, [][]rim.Code{{r, n}}, true},
		{"one group, no match", []rim.Code{n}, [][]rim.Code{{r}}, false},
		{"two groups, both matched", []rim.Code{n, nors}, [][]rim.Code{{n}, {nors}}, true},
		{"two groups, one matched", []rim.Code{n}, [][]rim.Code{{n}, {nors}}, false},
		{"scheme must match too", []rim.Code{{Code: "N", Scheme: "other"}}, [][]rim.Code{{n}}, false},
		{"no codes, a group", nil, [][]rim.Code{{n}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := codesAllOf(tc.have, tc.groups); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEntryTypeIn(t *testing.T) {
	tests := []struct {
		name       string
		objectType string
		types      []string
		want       bool
	}{
		{"stable by default", rim.ObjectTypeStable, nil, true},
		{"on-demand not by default", rim.ObjectTypeOnDemand, nil, false},
		{"on-demand when asked", rim.ObjectTypeOnDemand, []string{rim.ObjectTypeOnDemand}, true},
		{"stable not when only on-demand asked", rim.ObjectTypeStable, []string{rim.ObjectTypeOnDemand}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := entryTypeIn(tc.objectType, tc.types); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
