package hl7

import (
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestValidOID(t *testing.T) {
	tests := map[string]struct {
		in   string
		want bool
	}{
		"fødselsnummer authority":          {OIDFNR, true},
		"Volven 9602":                      {hl7Volven9602, true},
		"IHE example":                      {"1.3.6.1.4.1.21367.2005.3.7", true},
		"two arcs":                         {"1.2", true},
		"zero arc":                         {"1.0.2323", true},
		"exactly 64 characters":            {"2." + strings.Repeat("1", 62), true},
		"65 characters":                    {"2." + strings.Repeat("1", 63), false},
		"single arc (IHE sample sourceId)": {"3670984664", false},
		"first arc 3":                      {"3.1.2", false},
		"second arc 40 under 1":            {"1.40.3", false},
		"second arc 40 under 2":            {"2.40.3", true},
		"leading zero":                     {"1.23.045.67", false},
		"leading zero first arc":           {"01.23", false},
		"empty arc":                        {"333..23.45.67", false},
		"trailing dot":                     {"2.16.578.", false},
		"leading dot":                      {".2.16", false},
		"negative arc":                     {"1.23.-45.67", false},
		"urn:oid prefix":                   {"urn:oid:2.16.578.1", false},
		"space":                            {"2.16.578 .1", false},
		"empty":                            {"", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ValidOID(tc.in); got != tc.want {
				t.Fatalf("ValidOID(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestValidDTM(t *testing.T) {
	tests := map[string]struct {
		in   string
		want bool
	}{
		"year":                     {"2025", true},
		"year and month":           {"202502", true},
		"date":                     {"20250206", true},
		"hour":                     {"2025020614", true},
		"minute":                   {"202502061413", true},
		"second":                   {"20250206141356", true},
		"29 February leap year":    {"20240229", true},
		"29 February 2000":         {"20000229", true},
		"29 February 1900":         {"19000229", false},
		"29 February 2025":         {"20250229", false},
		"31 April":                 {"20250431", false},
		"month 00":                 {"202500", false},
		"month 13":                 {"202513", false},
		"day 00":                   {"20250100", false},
		"hour 24":                  {"2025010124", false},
		"minute 60":                {"202501012360", false},
		"second 60":                {"20250101235960", false},
		"year 0000":                {"0000", false},
		"odd length":               {"2025020", false},
		"fractional seconds":       {"20250206141356.123", false},
		"time zone offset":         {"20250206141356+0100", false},
		"ISO 8601 with separators": {"2025-02-06", false},
		"letters":                  {"2025O206", false},
		"empty":                    {"", false},
		"16 digits":                {"2025020614135600", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ValidDTM(tc.in); got != tc.want {
				t.Fatalf("ValidDTM(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestValidCX(t *testing.T) {
	tests := map[string]struct {
		in         string
		strict     bool // patientId form
		lenient    bool // sourcePatientId form
		wantReason string
	}{
		"Norwegian patient":              {in: hl7Patient, strict: true, lenient: true},
		"IHE example":                    {in: "SELF-5^^^&1.3.6.1.4.1.21367.2005.3.7&ISO", strict: true, lenient: true},
		"trailing empty components":      {in: hl7Patient + "^^", strict: true, lenient: true},
		"identifier type code":           {in: hl7Patient + "^PI", lenient: true, wantReason: "only id number and assigning authority are allowed"},
		"namespace id":                   {in: "4711^^^DIPS&2.16.578.1.12.4.5.100.1.9&ISO", lenient: true, wantReason: "assigning authority namespace id must be empty"},
		"check digit component":          {in: "4711^1^M11^&2.16.578.1&ISO", lenient: true, wantReason: "only id number and assigning authority are allowed"},
		"no assigning authority":         {in: hl7PatientFNR, wantReason: "assigning authority missing"},
		"no id":                          {in: "^^^&" + OIDFNR + "&ISO", wantReason: "id number missing"},
		"urn:oid authority":              {in: hl7PatientFNR + "^^^&urn:oid:" + OIDFNR + "&ISO", wantReason: "assigning authority is not an OID"},
		"authority type L":               {in: hl7PatientFNR + "^^^&" + OIDFNR + "&L", wantReason: "assigning authority type is not ISO"},
		"authority without type":         {in: hl7PatientFNR + "^^^&" + OIDFNR, wantReason: "assigning authority type is not ISO"},
		"four subcomponents":             {in: hl7PatientFNR + "^^^&" + OIDFNR + "&ISO&x", wantReason: "assigning authority has too many subcomponents"},
		"repetition":                     {in: hl7Patient + "~" + hl7Patient, wantReason: "contains HL7 field or repetition separators"},
		"segment smuggled in":            {in: hl7Patient + "\rPID|1", wantReason: "contains HL7 field or repetition separators"},
		"subcomponent in id":             {in: "1&2^^^&" + OIDFNR + "&ISO", wantReason: "id number contains subcomponents"},
		"many trailing empty components": {in: hl7Patient + "^^^^^^^^^", strict: true, lenient: true},
		"eleventh component":             {in: hl7Patient + "^^^^^^^x", wantReason: "has too many components"},
		"empty":                          {in: "", wantReason: "empty"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ValidCX(tc.in); got != tc.strict {
				t.Errorf("ValidCX(%q) = %v, want %v", tc.in, got, tc.strict)
			}
			if got := CXProblem(tc.in, false) == ""; got != tc.lenient {
				t.Errorf("lenient cxProblem(%q) = %q, want valid %v", tc.in, CXProblem(tc.in, false), tc.lenient)
			}
			if got := CXProblem(tc.in, true); got != tc.wantReason {
				t.Errorf("strict cxProblem(%q) = %q, want %q", tc.in, got, tc.wantReason)
			}
			if _, _, ok := ParseCX(tc.in); ok != tc.strict && !strings.ContainsAny(tc.in, "\r~") {
				t.Errorf("ParseCX(%q) ok = %v, ValidCX %v: the two must agree", tc.in, ok, tc.strict)
			}
		})
	}
}

func TestValidXCN(t *testing.T) {
	tests := map[string]struct {
		in         string
		wantReason string
	}{
		"HPR-identified person":                {in: hl7Author},
		"name only":                            {in: "^Dopplemeyer^Sherry^^^"},
		"IHE sample free text is an id":        {in: "Gerald Smitty"},
		"id without authority":                 {in: "565505933"},
		"family name with prefix subcomponent": {in: "^van&der&Berg^Jan"},
		"urn:oid in the authority":             {in: "502116685^GEIRAAS^BENEDIKTE^^^^^^&urn:oid:" + OIDHPR + "&ISO", wantReason: "assigning authority is not an OID"},
		"authority without ISO":                {in: "565505933^GREVLING^KVART^^^^^^&" + OIDHPR, wantReason: "assigning authority type is not ISO"},
		"given name only":                      {in: "^^KVART", wantReason: "neither id number nor family name"},
		"repetition":                           {in: "^A~^B", wantReason: "contains HL7 field or repetition separators"},
		"too many components":                  {in: "1" + strings.Repeat("^", 23) + "x", wantReason: "has too many components"},
		"empty":                                {in: "", wantReason: "empty"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := XCNProblem(tc.in); got != tc.wantReason {
				t.Fatalf("xcnProblem(%q) = %q, want %q", tc.in, got, tc.wantReason)
			}
			if ValidXCN(tc.in) != (tc.wantReason == "") {
				t.Fatalf("ValidXCN(%q) disagrees with xcnProblem", tc.in)
			}
		})
	}
}

func TestValidXON(t *testing.T) {
	tests := map[string]struct {
		in         string
		wantReason string
	}{
		"organisation number":              {in: hl7Hospital},
		"RESH department":                  {in: hl7Department},
		"name only":                        {in: "Cleveland Clinic"},
		"OID identifier without authority": {in: "Lab^^^^^^^^^2.16.578.1.12.4.5.100.1.8"},
		"no name":                          {in: "^^^^^&" + OIDOrgNumber + "&ISO^^^^983974880", wantReason: "organization name missing"},
		"number without authority":         {in: "Finnmarkssykehuset HF^^^^^^^^^983974880", wantReason: "identifier that is not an OID needs an assigning authority"},
		"authority without number":         {in: "Finnmarkssykehuset HF^^^^^&" + OIDOrgNumber + "&ISO", wantReason: "assigning authority without identifier"},
		"XON.3 id number (HL7 v2.4)":       {in: "Finnmarkssykehuset HF^^983974880", wantReason: "only organization name, assigning authority and identifier are allowed"},
		"authority with urn:oid":           {in: "Finnmarkssykehuset HF^^^^^&urn:oid:" + OIDOrgNumber + "&ISO^^^^983974880", wantReason: "assigning authority is not an OID"},
		"eleven components":                {in: hl7Hospital + "^x", wantReason: "has too many components"},
		"field separator":                  {in: "A|B", wantReason: "contains HL7 field or repetition separators"},
		"empty":                            {in: "", wantReason: "empty"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := XONProblem(tc.in); got != tc.wantReason {
				t.Fatalf("xonProblem(%q) = %q, want %q", tc.in, got, tc.wantReason)
			}
			if ValidXON(tc.in) != (tc.wantReason == "") {
				t.Fatalf("ValidXON(%q) disagrees with xonProblem", tc.in)
			}
		})
	}
}

func TestValidXTN(t *testing.T) {
	tests := map[string]struct {
		in         string
		wantReason string
	}{
		"e-mail":                      {in: "^WPN^Internet^kvart.grevling@example.no"},
		"telephone, local number":     {in: "^WPN^PH^^47^^78967000"},
		"telephone, unformatted":      {in: "^WPN^PH^^^^^^^^^+4778967000"},
		"telephone, formatted (v2.3)": {in: "+47 78 96 70 00^WPN^PH"},
		"X.400":                       {in: "^WPN^X.400^C=NO;O=NHN"},
		"no equipment type":           {in: "^WPN^^kvart@example.no", wantReason: "equipment type missing"},
		"e-mail without @":            {in: "^WPN^Internet^kvart.example.no", wantReason: "e-mail address missing or malformed"},
		"e-mail ending in @":          {in: "^WPN^Internet^kvart@", wantReason: "e-mail address missing or malformed"},
		"X.400 without address":       {in: "^WPN^X.400", wantReason: "X.400 address missing"},
		"phone without number":        {in: "^WPN^PH^^47", wantReason: "telephone number missing"},
		"too many components":         {in: "^WPN^PH" + strings.Repeat("^1", 16), wantReason: "has too many components"},
		"empty":                       {in: "", wantReason: "empty"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := XTNProblem(tc.in); got != tc.wantReason {
				t.Fatalf("xtnProblem(%q) = %q, want %q", tc.in, got, tc.wantReason)
			}
			if ValidXTN(tc.in) != (tc.wantReason == "") {
				t.Fatalf("ValidXTN(%q) disagrees with xtnProblem", tc.in)
			}
		})
	}
}

// FuzzValidDTM cross-checks ValidDTM against the standard library: a value
// it accepts parses with the layout of its precision and formats back to
// itself, and a value of digits it rejects does not.
func FuzzValidDTM(f *testing.F) {
	for _, seed := range []string{"20051224", "200412230800", "20250206141356", "20041225235050", "19000229",
		"20240229", "2025", "202513", "2025020614135", "20250206141356+0100"} {
		f.Add(seed)
	}
	layouts := map[int]string{4: "2006", 6: "200601", 8: "20060102", 10: "2006010215", 12: "200601021504", 14: "20060102150405"}
	f.Fuzz(func(t *testing.T, s string) {
		valid := ValidDTM(s)
		layout, ok := layouts[len(s)]
		if !ok || !AllDigits(s) {
			if valid {
				t.Fatalf("ValidDTM(%q) accepted a value of no DTM shape", s)
			}
			return
		}
		parsed, err := time.Parse(layout, s)
		stdValid := err == nil && parsed.Year() >= 1 && parsed.Format(layout) == s
		if valid != stdValid {
			t.Fatalf("ValidDTM(%q) = %v, time.Parse says %v (%v)", s, valid, stdValid, err)
		}
	})
}

// FuzzValidOID cross-checks ValidOID against a big-integer reading of the
// arcs: accepted values are short, canonical (formatting the arcs gives the
// input back) and within the ISO first/second arc ranges.
func FuzzValidOID(f *testing.F) {
	for _, seed := range []string{OIDFNR, "1.2", "3670984664", "1.23.045.67", "2.999.1", "0.39", "1.40", "", "..", "2." + strings.Repeat("9", 70)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !ValidOID(s) {
			return
		}
		if len(s) > MaxOIDLength {
			t.Fatalf("%q accepted but longer than %d", s, MaxOIDLength)
		}
		arcs := strings.Split(s, ".")
		if len(arcs) < 2 {
			t.Fatalf("%q accepted with one arc", s)
		}
		var back []string
		for _, a := range arcs {
			n, ok := new(big.Int).SetString(a, 10)
			if !ok || n.Sign() < 0 {
				t.Fatalf("%q accepted with arc %q", s, a)
			}
			back = append(back, n.String())
		}
		if strings.Join(back, ".") != s {
			t.Fatalf("%q accepted but not canonical", s)
		}
		if arcs[0] != "0" && arcs[0] != "1" && arcs[0] != "2" {
			t.Fatalf("%q accepted with first arc %s", s, arcs[0])
		}
	})
}

// FuzzParseCX checks the CX validator against hl7.go's ParseCX (every value
// ValidCX accepts, ParseCX parses to the same id and a valid OID) and that
// the lenient form accepts whatever the strict form does.
func FuzzParseCX(f *testing.F) {
	for _, seed := range []string{hl7Patient, "SELF-5^^^&1.3.6.1.4.1.21367.2005.3.7&ISO", "ST-1000^^^&1.3.6.1.4.1.21367.2003.3.9&ISO",
		"13116900216^^^&2.16.578.1.12.4.1.7.3.2.1&ISO", "89765a87b^^^&1.3.4.5&ISO", "4711^^^DIPS&2.16.578.1&ISO^PI",
		"13116900216^^^&urn:oid:2.16.578.1.12.4.1.4.1&ISO", "^^^&&", "", "a^b^c^d^e^f^g^h^i^j^k"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		strict := CXProblem(s, true)
		lenient := CXProblem(s, false)
		if strict == "" && lenient != "" {
			t.Fatalf("%q: strict form accepted, lenient refused: %s", s, lenient)
		}
		if strict != "" {
			return
		}
		id, oid, ok := ParseCX(s)
		if !ok || id != strings.Split(s, "^")[0] || !ValidOID(oid) {
			t.Fatalf("%q accepted by ValidCX but ParseCX = %q, %q, %v", s, id, oid, ok)
		}
		if FormatCX(id, oid) != strings.TrimRight(s, "^") {
			t.Fatalf("%q accepted but formats back as %q", s, FormatCX(id, oid))
		}
	})
}

// FuzzAuthorDatatypes runs the XCN, XON and XTN validators on arbitrary
// input: they must not panic, and whatever they accept must be free of HL7
// field and repetition separators.
func FuzzAuthorDatatypes(f *testing.F) {
	for _, seed := range []string{hl7Author, hl7Hospital, hl7Department, "Gerald Smitty", "^WPN^Internet^a@b.no",
		"^WPN^PH^^47^^78967000", "Lab^^^^^^^^^2.16.578.1", "", "^^^^^^^^^^^^^^^^^^^^^^^^^", "&&&"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, valid := range map[string]bool{"XCN": ValidXCN(s), "XON": ValidXON(s), "XTN": ValidXTN(s)} {
			if valid && hasFieldSeparators(s) {
				t.Fatalf("%s accepted %q with separators", name, s)
			}
		}
	})
}
