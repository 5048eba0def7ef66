package validate

import "testing"

func TestValidLanguageCode(t *testing.T) {
	tests := map[string]bool{
		"nb-NO": true, "nn-NO": true, "en-us": true, "se": true, "zh-Hant-TW": true,
		"nb_NO": false, "n": false, "": false, "nb-": false, "-NO": false, "1b-NO": false, "nb-NO-toolongsubtag": false,
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			if got := validLanguageCode(in); got != want {
				t.Fatalf("validLanguageCode(%q) = %v, want %v", in, got, want)
			}
		})
	}
}
