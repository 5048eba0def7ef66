package hl7

import "testing"

// Test numbers: NHN's test patients, a Skatteetaten synthetic number seen
// in NHN's test SAML, and numbers built for the edge they test (valid check
// digits, so only the rule named in the case can reject them).
func TestValidFNR(t *testing.T) {
	tests := map[string]struct {
		in   string
		want bool
	}{
		"NHN test patient Line Danser":           {"13116900216", true},
		"NHN test patient 12119000465":           {"12119000465", true},
		"NHN test patient 08077000292":           {"08077000292", true},
		"synthetic, month plus 80":               {"06828399789", true},
		"synthetic, 1980s":                       {"01888000050", true},
		"29 February 1996":                       {"29029600013", true},
		"29 February 2000 (individual 500)":      {"29020050088", true},
		"born 1870 (individual 500, year 70)":    {"01017050040", true},
		"wrong second check digit":               {"13116900217", false},
		"wrong first check digit":                {"13116900206", false},
		"29 February 1900 is not a date":         {"29020000064", false},
		"month 13":                               {"01130000068", false},
		"day 32":                                 {"32010000091", false},
		"31 April":                               {"31040000022", false},
		"29 February 1980":                       {"29028000160", true},
		"month 80 is neither real nor synthetic": {"01807000183", false},
		"synthetic month 93":                     {"01937000010", false},
		"month 41 (NAV's synthetic range)":       {"01417000190", false},
		"individual number of no century":        {"01015475060", false},
		"D-nummer is not a fødselsnummer":        {"53116900390", false},
		"FH-nummer is not a fødselsnummer":       {"80000000179", false},
		"ten digits":                             {"1311690021", false},
		"twelve digits":                          {"131169002160", false},
		"letters":                                {"1311690021a", false},
		"space inside":                           {"131169 00216", false},
		"empty":                                  {"", false},
		"all zeros":                              {"00000000000", false},
		"non-ASCII digits":                       {"１３116900216", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ValidFNR(tc.in); got != tc.want {
				t.Fatalf("ValidFNR(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestValidDNumber(t *testing.T) {
	tests := map[string]struct {
		in   string
		want bool
	}{
		"13 November 1969 plus 40":            {"53116900390", true},
		"fødselsnummer is not a D-nummer":     {"13116900216", false},
		"wrong check digit":                   {"53116900391", false},
		"day 72 is 32 after removing 40":      {"72010000085", false},
		"first digit 8 belongs to FH-nummer":  {"80000000179", false},
		"ten digits":                          {"5311690039", false},
		"letters":                             {"5311690039x", false},
		"synthetic on 29 February 1900 fails": {"69820000013", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ValidDNumber(tc.in); got != tc.want {
				t.Fatalf("ValidDNumber(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestValidFHNumber(t *testing.T) {
	tests := map[string]struct {
		in   string
		want bool
	}{
		"starting with 8":                       {"80000000179", true},
		"starting with 9":                       {"90000001014", true},
		"wrong check digit":                     {"80000000178", false},
		"fødselsnummer is not an FH-nummer":     {"13116900216", false},
		"D-nummer is not an FH-nummer":          {"53116900390", false},
		"check digit 10 is never issued (8...)": {"80000000200", false},
		"ten digits":                            {"8000000017", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ValidFHNumber(tc.in); got != tc.want {
				t.Fatalf("ValidFHNumber(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestValidOrgNumber(t *testing.T) {
	tests := map[string]struct {
		in   string
		want bool
	}{
		"Finnmarkssykehuset HF":        {"983974880", true},
		"legal entity in NHN's SAML":   {"960510542", true},
		"child organisation in SAML":   {"874593842", true},
		"Norsk helsenett SF":           {"994598759", true},
		"wrong check digit":            {"983974881", false},
		"starts with 7":                {"783974880", false},
		"eight digits":                 {"98397488", false},
		"ten digits":                   {"9839748800", false},
		"with spaces as often printed": {"983 974 880", false},
		"empty":                        {"", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ValidOrgNumber(tc.in); got != tc.want {
				t.Fatalf("ValidOrgNumber(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzValidFNR checks properties that hold for every input: the three kinds
// of person number never overlap, every accepted number is 11 ASCII digits,
// and changing its last digit makes it invalid (the check digit is unique).
func FuzzValidFNR(f *testing.F) {
	for _, seed := range []string{"13116900216", "12119000465", "08077000292", "06828399789", "53116900390",
		"80000000179", "29020000064", "13116900217", "", "1311690021a"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fnr, d, fh := ValidFNR(s), ValidDNumber(s), ValidFHNumber(s)
		n := 0
		for _, ok := range []bool{fnr, d, fh} {
			if ok {
				n++
			}
		}
		if n > 1 {
			t.Fatalf("%q accepted as more than one kind of number", s)
		}
		if n == 0 {
			return
		}
		if len(s) != 11 || !AllDigits(s) {
			t.Fatalf("%q accepted but is not 11 digits", s)
		}
		for c := byte('0'); c <= '9'; c++ {
			if c == s[10] {
				continue
			}
			other := s[:10] + string(c)
			if ValidFNR(other) || ValidDNumber(other) || ValidFHNumber(other) {
				t.Fatalf("both %q and %q accepted", s, other)
			}
		}
	})
}
