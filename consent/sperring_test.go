package consent

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestSperringValidate(t *testing.T) {
	tests := map[string]struct {
		s       Sperring
		wantErr string // substring; empty means valid
	}{
		"ok/document": {
			s: Sperring{Patient: patientA, Kind: KindDocument, DocumentUniqueID: "2.16.578.1.12.4.5.100.1.3^123", Reason: "Pasientens ønske"},
		},
		"ok/practitioner": {
			s: Sperring{Patient: patientA, Kind: KindPractitioner, HPRNumber: "565505933"},
		},
		"ok/patient with id and creator": {
			s: Sperring{ID: "rec-1", Patient: patientB, Kind: KindPatient, CreatedBy: "dips-arena"},
		},
		"ok/reason at the limit": {
			s: Sperring{Patient: patientA, Kind: KindPatient, Reason: strings.Repeat("ø", MaxReasonLength)},
		},
		"fail/patient too short": {
			s:       Sperring{Patient: "1311690021", Kind: KindPatient},
			wantErr: "11-digit",
		},
		"fail/patient with letters": {
			s:       Sperring{Patient: "1311690021X", Kind: KindPatient},
			wantErr: "11-digit",
		},
		"fail/patient in CX form": {
			s:       Sperring{Patient: patientA + "^^^&2.16.578.1.12.4.1.4.1&ISO", Kind: KindPatient},
			wantErr: "11-digit",
		},
		"fail/unknown kind": {
			s:       Sperring{Patient: patientA, Kind: "folder"},
			wantErr: "kind must be",
		},
		"fail/empty kind": {
			s:       Sperring{Patient: patientA},
			wantErr: "kind must be",
		},
		"fail/document without uniqueId": {
			s:       Sperring{Patient: patientA, Kind: KindDocument},
			wantErr: "documentUniqueId is required",
		},
		"fail/document uniqueId with space": {
			s:       Sperring{Patient: patientA, Kind: KindDocument, DocumentUniqueID: "1.2 3"},
			wantErr: "documentUniqueId must be",
		},
		"fail/document uniqueId too long": {
			s:       Sperring{Patient: patientA, Kind: KindDocument, DocumentUniqueID: strings.Repeat("1.", 200)},
			wantErr: "documentUniqueId must be",
		},
		"fail/document with hpr": {
			s:       Sperring{Patient: patientA, Kind: KindDocument, DocumentUniqueID: "1.2.3", HPRNumber: "123"},
			wantErr: "hprNumber is not allowed",
		},
		"fail/practitioner without hpr": {
			s:       Sperring{Patient: patientA, Kind: KindPractitioner},
			wantErr: "hprNumber is required",
		},
		"fail/practitioner hpr not digits": {
			s:       Sperring{Patient: patientA, Kind: KindPractitioner, HPRNumber: "56550593X"},
			wantErr: "hprNumber must be",
		},
		"fail/practitioner hpr too long": {
			s:       Sperring{Patient: patientA, Kind: KindPractitioner, HPRNumber: "1234567890"},
			wantErr: "hprNumber must be",
		},
		"fail/practitioner with document": {
			s:       Sperring{Patient: patientA, Kind: KindPractitioner, HPRNumber: "123", DocumentUniqueID: "1.2.3"},
			wantErr: "documentUniqueId is not allowed",
		},
		"fail/patient with hpr": {
			s:       Sperring{Patient: patientA, Kind: KindPatient, HPRNumber: "123"},
			wantErr: "not allowed for kind patient",
		},
		"fail/reason too long": {
			s:       Sperring{Patient: patientA, Kind: KindPatient, Reason: strings.Repeat("x", MaxReasonLength+1)},
			wantErr: "reason must be at most",
		},
		"fail/reason with newline": {
			s:       Sperring{Patient: patientA, Kind: KindPatient, Reason: "first\nsecond"},
			wantErr: "control characters",
		},
		"fail/reason not utf-8": {
			s:       Sperring{Patient: patientA, Kind: KindPatient, Reason: "\xff"},
			wantErr: "UTF-8",
		},
		"fail/createdBy too long": {
			s:       Sperring{Patient: patientA, Kind: KindPatient, CreatedBy: strings.Repeat("x", MaxCreatedByLength+1)},
			wantErr: "createdBy must be at most",
		},
		"fail/id with slash": {
			s:       Sperring{ID: "a/b", Patient: patientA, Kind: KindPatient},
			wantErr: "id must be",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.s.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want error containing %q", tc.wantErr)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Validate() = %q, want it to contain %q", err, tc.wantErr)
			}
			if len(tc.s.Patient) >= 10 && strings.Contains(err.Error(), tc.s.Patient[:10]) {
				t.Errorf("error %q quotes the patient's identity number", err)
			}
		})
	}
}

func TestSperringJSONMatchesAPI(t *testing.T) {
	// The request body of POST /api/v1/sperring (DESIGN.md §4).
	body := `{"patient": "13116900216", "kind": "practitioner", "hprNumber": "565505933", "reason": "Nabo"}`
	var s Sperring
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	want := Sperring{Patient: patientA, Kind: KindPractitioner, HPRNumber: "565505933", Reason: "Nabo"}
	if s != want {
		t.Fatalf("decoded %+v, want %+v", s, want)
	}
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `{"patient":"13116900216","kind":"practitioner","hprNumber":"565505933","reason":"Nabo"}`
	if string(out) != wantJSON {
		t.Errorf("encoded %s, want %s", out, wantJSON)
	}
}

func TestSameHPR(t *testing.T) {
	tests := map[string]struct {
		a, b string
		want bool
	}{
		"equal":                  {"565505933", "565505933", true},
		"zero padded":            {"0565505933", "565505933", true},
		"different":              {"565505933", "565505934", false},
		"empty never matches":    {"", "", false},
		"empty vs number":        {"", "565505933", false},
		"prefix is not a match":  {"56550593", "565505933", false},
		"all zeros match zeroes": {"0", "000", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := sameHPR(tc.a, tc.b); got != tc.want {
				t.Errorf("sameHPR(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

// FuzzSperringJSON feeds API request bodies through decoding and
// validation: no panic, and a record that validates has exactly the fields
// its kind allows and survives a JSON round trip.
func FuzzSperringJSON(f *testing.F) {
	for _, seed := range []string{
		`{"patient": "13116900216", "kind": "document", "documentUniqueId": "2.16.578.1.12.4.5.100.1.3^123", "reason": "Pasientens ønske"}`,
		`{"patient": "17855599120", "kind": "practitioner", "hprNumber": "565505933", "reason": "Nabo"}`,
		`{"patient": "27888498775", "kind": "patient"}`,
		`{"patient": "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO", "kind": "patient"}`,
		`{"patient": 13116900216, "kind": ["patient"]}`,
		`{"id":"rec-1","patient":"13116900216","kind":"document","documentUniqueId":"1.2.3","createdAt":"2024-03-15T10:15:00Z"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Sperring
		if json.Unmarshal(data, &s) != nil {
			return
		}
		if s.Validate() != nil {
			return
		}
		switch s.Kind {
		case KindDocument:
			if s.DocumentUniqueID == "" || s.HPRNumber != "" {
				t.Fatalf("valid document record with fields %+v", s)
			}
		case KindPractitioner:
			if s.HPRNumber == "" || s.DocumentUniqueID != "" {
				t.Fatalf("valid practitioner record with fields %+v", s)
			}
		case KindPatient:
			if s.HPRNumber != "" || s.DocumentUniqueID != "" {
				t.Fatalf("valid patient record with fields %+v", s)
			}
		default:
			t.Fatalf("valid record of kind %q", s.Kind)
		}
		if !validPatient(s.Patient) {
			t.Fatalf("valid record with patient of length %d", len(s.Patient))
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Sperring
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("round trip made a valid record invalid: %v", err)
		}
	})
}

// TestSperringDocumentUniqueIDs: a record's uniqueId must be one that can
// match a registered document; every refusal names the field.
func TestSperringDocumentUniqueIDs(t *testing.T) {
	tests := map[string]struct {
		uid   string
		valid bool
	}{
		"OID":                                   {"2.16.578.1.12.4.5.100.1.3", true},
		"OID^extension":                         {"2.16.578.1.12.4.5.100.1.3^123", true},
		"not an OID (accepted by the registry)": {"dips-7f3a", true},
		"urn:oid: prefix (not canonical)":       {"urn:oid:2.16.578.1.12.4.5.100.1.3", false},
		"trailing dot":                          {"2.16.578.1.12.4.5.100.1.3.", false},
		"trailing dot before an extension":      {"2.16.578.1.3.^123", false},
		"empty arc":                             {"2.16..578", false},
		"leading zero":                          {"2.16.0578", false},
		"one arc":                               {"2", false},
		"first arc above 2":                     {"3.16.578", false},
		"empty extension":                       {"2.16.578^", false},
		"empty root":                            {"^123", false},
		"space inside":                          {"2.16 .578", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := Sperring{Patient: patientA, Kind: KindDocument, DocumentUniqueID: tc.uid}.Validate()
			if tc.valid {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "documentUniqueId" || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err %v, want a FieldError of documentUniqueId wrapping ErrInvalid", err)
			}
			if strings.Contains(fe.Reason, tc.uid) {
				t.Errorf("reason %q echoes the value", fe.Reason)
			}
		})
	}
	for in, want := range map[string]string{
		"urn:oid:1.2.3": "1.2.3", "URN:OID:1.2.3": "1.2.3", " 1.2.3 ": "1.2.3", "1.2.3^x": "1.2.3^x", "1.2.3.": "1.2.3.",
	} {
		if got := CanonicalUniqueID(in); got != want {
			t.Errorf("CanonicalUniqueID(%q) = %q, want %q", in, got, want)
		}
	}
}
