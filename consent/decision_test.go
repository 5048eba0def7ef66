package consent

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"kjdd/xds/rim"
)

var testKey = []byte("kjdd-test-obfuscation-key-32byte")

// The candidate entries of the decision table, in this order: a plain
// document, one coded NORS, one blocked by record only, one blocked both
// ways.
const (
	idPlain    = "2.16.578.1.12.4.5.100.1.3.1"
	idNORS     = "2.16.578.1.12.4.5.100.1.3.2"
	idRecorded = "2.16.578.1.12.4.5.100.1.3.3"
	idBoth     = "2.16.578.1.12.4.5.100.1.3.4"
	hprBlocked = "565505933"
	hprOther   = "123456789"
)

func tableEntries() []*rim.DocumentEntry {
	return []*rim.DocumentEntry{
		entry(patientA, idPlain),
		entry(patientA, idNORS, nors),
		entry(patientA, idRecorded),
		entry(patientA, idBoth, rim.Code{Code: "N", Scheme: "2.16.840.1.113883.5.25"}, nors),
	}
}

var (
	recDoc3  = Sperring{ID: "rec-3", Patient: patientA, Kind: KindDocument, DocumentUniqueID: idRecorded}
	recDoc4  = Sperring{ID: "rec-4", Patient: patientA, Kind: KindDocument, DocumentUniqueID: idBoth}
	recDoc3b = Sperring{ID: "rec-5", Patient: patientA, Kind: KindDocument, DocumentUniqueID: idRecorded}
	recPrac  = Sperring{ID: "rec-p", Patient: patientA, Kind: KindPractitioner, HPRNumber: hprBlocked}
	recPat   = Sperring{ID: "rec-x", Patient: patientA, Kind: KindPatient}
)

// outcome is the expected outcome and reason of one entry, written
// "outcome" or "outcome: reason".
type outcome string

func (o outcome) split() (string, string) {
	out, reason, _ := strings.Cut(string(o), ": ")
	return out, reason
}

func TestDecideTable(t *testing.T) {
	hide := Policy{OverridePurposes: DefaultOverridePurposes}
	obf := Policy{OverridePurposes: DefaultOverridePurposes, Visibility: VisibilityObfuscate, ObfuscationKey: testKey}
	docs := []Sperring{recDoc3, recDoc4}
	tests := map[string]struct {
		policy                Policy
		req                   Requester
		records               []Sperring
		want                  [4]outcome
		overridden            bool
		patient, practitioner bool
	}{
		"NORS without record is hidden, record-less entries shown": {
			policy: hide, req: Requester{HPRNumber: hprOther, PurposeOfUse: "TREAT"},
			want: [4]outcome{"show", "hide: NORS", "show", "hide: NORS"},
		},
		"record without NORS is hidden": {
			policy: hide, req: Requester{HPRNumber: hprOther, PurposeOfUse: "TREAT"}, records: docs,
			want: [4]outcome{"show", "hide: NORS", "hide: document record rec-3", "hide: NORS; document record rec-4"},
		},
		"document level obfuscated": {
			policy: obf, req: Requester{HPRNumber: hprOther, PurposeOfUse: "TREAT"}, records: docs,
			want: [4]outcome{"show", "obfuscate: NORS", "obfuscate: document record rec-3", "obfuscate: NORS; document record rec-4"},
		},
		"BTG overrides document level when hiding": {
			policy: hide, req: Requester{HPRNumber: hprOther, PurposeOfUse: "BTG"}, records: docs,
			want:       [4]outcome{"show", "show-by-override: NORS", "show-by-override: document record rec-3", "show-by-override: NORS; document record rec-4"},
			overridden: true,
		},
		"BTG overrides document level when obfuscating": {
			policy: obf, req: Requester{HPRNumber: hprOther, PurposeOfUse: "BTG"}, records: docs,
			want:       [4]outcome{"show", "show-by-override: NORS", "show-by-override: document record rec-3", "show-by-override: NORS; document record rec-4"},
			overridden: true,
		},
		"purpose compared case-insensitively": {
			policy: hide, req: Requester{HPRNumber: hprOther, PurposeOfUse: " btg "}, records: docs,
			want:       [4]outcome{"show", "show-by-override: NORS", "show-by-override: document record rec-3", "show-by-override: NORS; document record rec-4"},
			overridden: true,
		},
		"ETREAT does not override by default": {
			policy: hide, req: Requester{HPRNumber: hprOther, PurposeOfUse: "ETREAT"}, records: docs,
			want: [4]outcome{"show", "hide: NORS", "hide: document record rec-3", "hide: NORS; document record rec-4"},
		},
		"ETREAT overrides when configured": {
			policy: Policy{OverridePurposes: []string{"ETREAT", "BTG"}}, req: Requester{HPRNumber: hprOther, PurposeOfUse: "ETREAT"}, records: docs,
			want:       [4]outcome{"show", "show-by-override: NORS", "show-by-override: document record rec-3", "show-by-override: NORS; document record rec-4"},
			overridden: true,
		},
		"TREAT never overrides even if an unvalidated policy lists it": {
			policy: Policy{OverridePurposes: []string{"TREAT"}}, req: Requester{HPRNumber: hprOther, PurposeOfUse: "TREAT"}, records: docs,
			want: [4]outcome{"show", "hide: NORS", "hide: document record rec-3", "hide: NORS; document record rec-4"},
		},
		"missing purpose never overrides": {
			policy: hide, req: Requester{HPRNumber: hprOther}, records: docs,
			want: [4]outcome{"show", "hide: NORS", "hide: document record rec-3", "hide: NORS; document record rec-4"},
		},
		"obfuscate without a key hides": {
			policy: Policy{Visibility: VisibilityObfuscate}, req: Requester{HPRNumber: hprOther, PurposeOfUse: "TREAT"}, records: docs,
			want: [4]outcome{"show", "hide: NORS", "hide: document record rec-3", "hide: NORS; document record rec-4"},
		},
		"multiple records for one document all named": {
			policy: hide, req: Requester{HPRNumber: hprOther, PurposeOfUse: "TREAT"}, records: []Sperring{recDoc3, recDoc3b},
			want: [4]outcome{"show", "hide: NORS", "hide: document record rec-3; document record rec-5", "hide: NORS"},
		},
		"practitioner blocked hides everything": {
			policy: hide, req: Requester{HPRNumber: hprBlocked, PurposeOfUse: "TREAT"}, records: []Sperring{recPrac},
			want:         [4]outcome{"hide: practitioner", "hide: practitioner", "hide: practitioner", "hide: practitioner"},
			practitioner: true,
		},
		"practitioner blocked is not overridden by BTG nor obfuscated": {
			policy: obf, req: Requester{HPRNumber: hprBlocked, PurposeOfUse: "BTG"}, records: append([]Sperring{recPrac}, docs...),
			want:         [4]outcome{"hide: practitioner", "hide: practitioner", "hide: practitioner", "hide: practitioner"},
			practitioner: true,
		},
		"practitioner blocked matches a zero-padded HPR number": {
			policy: hide, req: Requester{HPRNumber: "0" + hprBlocked, PurposeOfUse: "TREAT"}, records: []Sperring{recPrac},
			want:         [4]outcome{"hide: practitioner", "hide: practitioner", "hide: practitioner", "hide: practitioner"},
			practitioner: true,
		},
		"requester without HPR number cannot be cleared of a practitioner block": {
			policy: hide, req: Requester{PurposeOfUse: "TREAT"}, records: []Sperring{recPrac},
			want:         [4]outcome{"hide: practitioner", "hide: practitioner", "hide: practitioner", "hide: practitioner"},
			practitioner: true,
		},
		"another practitioner is blocked": {
			policy: hide, req: Requester{HPRNumber: hprOther, PurposeOfUse: "TREAT"}, records: append([]Sperring{recPrac}, docs...),
			want: [4]outcome{"show", "hide: NORS", "hide: document record rec-3", "hide: NORS; document record rec-4"},
		},
		"patient blocked hides everything": {
			policy: hide, req: Requester{HPRNumber: hprOther, PurposeOfUse: "TREAT"}, records: []Sperring{recPat},
			want:    [4]outcome{"hide: patient", "hide: patient", "hide: patient", "hide: patient"},
			patient: true,
		},
		"patient blocked is not overridden by BTG nor obfuscated": {
			policy: obf, req: Requester{HPRNumber: hprOther, PurposeOfUse: "BTG"}, records: append([]Sperring{recPat}, docs...),
			want:    [4]outcome{"hide: patient", "hide: patient", "hide: patient", "hide: patient"},
			patient: true,
		},
		"patient block wins over practitioner block": {
			policy: hide, req: Requester{HPRNumber: hprBlocked, PurposeOfUse: "TREAT"}, records: []Sperring{recPrac, recPat},
			want:    [4]outcome{"hide: patient", "hide: patient", "hide: patient", "hide: patient"},
			patient: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			entries := tableEntries()
			d := tc.policy.Decide(tc.req, Inputs{Patient: patientA, Version: 7, Records: tc.records}, entries)
			if len(d.Items) != len(entries) {
				t.Fatalf("got %d items for %d entries", len(d.Items), len(entries))
			}
			for i, w := range tc.want {
				wantOutcome, wantReason := w.split()
				it := d.Items[i]
				if it.Entry != entries[i] {
					t.Errorf("item %d is not entry %d: order must be kept", i, i)
				}
				if it.Outcome.String() != wantOutcome || it.Reason != wantReason {
					t.Errorf("item %d (%s) = %s: %q; want %s: %q", i, entries[i].UniqueID, it.Outcome, it.Reason, wantOutcome, wantReason)
				}
				if (it.Outcome == OutcomeObfuscate) != (it.Masked != nil) {
					t.Errorf("item %d: outcome %s with masked copy %v", i, it.Outcome, it.Masked != nil)
				}
			}
			if d.Overridden != tc.overridden || d.PatientBlocked != tc.patient || d.PractitionerBlocked != tc.practitioner {
				t.Errorf("flags overridden=%v patient=%v practitioner=%v; want %v %v %v",
					d.Overridden, d.PatientBlocked, d.PractitionerBlocked, tc.overridden, tc.patient, tc.practitioner)
			}
		})
	}
}

// TestDecideMatrix runs every kind × purpose × visibility × override
// configuration and checks the rules of DESIGN.md §5 as stated there.
func TestDecideMatrix(t *testing.T) {
	kinds := map[string][]Sperring{
		"none":         nil,
		"document":     {recDoc3, recDoc4},
		"practitioner": {recPrac},
		"patient":      {recPat},
	}
	purposes := []string{PurposeTreat, PurposeEmergencyTreat, PurposeCoordination, PurposeBreakTheGlass, ""}
	visibilities := []Visibility{VisibilityHide, VisibilityObfuscate}
	configs := [][]string{DefaultOverridePurposes, {"ETREAT", "BTG"}, nil}
	for kind, records := range kinds {
		for _, purpose := range purposes {
			for _, vis := range visibilities {
				for _, overrides := range configs {
					name := fmt.Sprintf("%s/%s/%s/overrides=%s", kind, orDash(purpose), vis, orDash(strings.Join(overrides, "+")))
					t.Run(name, func(t *testing.T) {
						p := Policy{OverridePurposes: overrides, Visibility: vis, ObfuscationKey: testKey}
						entries := tableEntries()
						d := p.Decide(Requester{HPRNumber: hprBlocked, PurposeOfUse: purpose}, Inputs{Patient: patientA, Version: 1, Records: records}, entries)
						byOverride := slices.Contains(overrides, purpose)
						for i, it := range d.Items {
							blockedDoc := IsNORS(entries[i]) || (kind == "document" && (i == 2 || i == 3))
							var want Outcome
							switch {
							case kind == "patient" || kind == "practitioner":
								want = OutcomeHide // never overridden, never obfuscated
							case !blockedDoc:
								want = OutcomeShow
							case byOverride:
								want = OutcomeShowByOverride
							case vis == VisibilityObfuscate:
								want = OutcomeObfuscate
							default:
								want = OutcomeHide
							}
							if it.Outcome != want {
								t.Errorf("entry %d: %s (%s), want %s", i, it.Outcome, it.Reason, want)
							}
						}
						wantOverridden := byOverride && kind != "patient" && kind != "practitioner"
						if d.Overridden != wantOverridden {
							t.Errorf("Overridden = %v, want %v", d.Overridden, wantOverridden)
						}
						if kind == "patient" || kind == "practitioner" {
							if v := d.Visible(); len(v) != 0 {
								t.Errorf("Visible() has %d entries under a %s block", len(v), kind)
							}
						}
					})
				}
			}
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func TestDecideFailsClosed(t *testing.T) {
	p := Policy{OverridePurposes: DefaultOverridePurposes, Visibility: VisibilityObfuscate, ObfuscationKey: testKey}
	req := Requester{HPRNumber: hprOther, PurposeOfUse: "BTG"}
	tests := map[string]struct {
		in     Inputs
		reason string
	}{
		"zero inputs (caller ignored an error)": {in: Inputs{}, reason: ReasonInvalidInputs},
		"patient not normalised":                {in: Inputs{Patient: patientA + "^^^&2.16.578.1.12.4.1.4.1&ISO"}, reason: ReasonInvalidInputs},
		"record of another patient": {
			in:     Inputs{Patient: patientA, Records: []Sperring{{Patient: patientB, Kind: KindPatient}}},
			reason: ReasonInvalidInputs,
		},
		"record of unknown kind": {
			in:     Inputs{Patient: patientA, Records: []Sperring{{Patient: patientA, Kind: "folder"}}},
			reason: ReasonInvalidInputs,
		},
		"document record without uniqueId": {
			in:     Inputs{Patient: patientA, Records: []Sperring{{Patient: patientA, Kind: KindDocument}}},
			reason: ReasonInvalidInputs,
		},
		"practitioner record without HPR": {
			in:     Inputs{Patient: patientA, Records: []Sperring{{Patient: patientA, Kind: KindPractitioner}}},
			reason: ReasonInvalidInputs,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := p.Decide(req, tc.in, tableEntries())
			for i, it := range d.Items {
				if it.Outcome != OutcomeHide || it.Reason != tc.reason {
					t.Errorf("item %d = %s: %q, want hide: %q", i, it.Outcome, it.Reason, tc.reason)
				}
			}
			if d.Overridden || len(d.Visible()) != 0 {
				t.Errorf("overridden=%v visible=%d, want nothing shown", d.Overridden, len(d.Visible()))
			}
		})
	}
}

func TestDecideEntryChecks(t *testing.T) {
	p := Policy{OverridePurposes: DefaultOverridePurposes}
	other := entry(patientB, "1.2.3.9")
	noPatient := entry(patientA, "1.2.3.10")
	noPatient.PatientID = ""
	entries := []*rim.DocumentEntry{entry(patientA, idPlain), nil, other, noPatient}
	d := p.Decide(Requester{HPRNumber: hprOther, PurposeOfUse: "TREAT"}, Inputs{Patient: patientA}, entries)
	want := []outcome{"show", "hide: invalid entry", "hide: patient mismatch", "hide: patient mismatch"}
	for i, w := range want {
		o, r := w.split()
		if d.Items[i].Outcome.String() != o || d.Items[i].Reason != r {
			t.Errorf("item %d = %s: %q, want %s: %q", i, d.Items[i].Outcome, d.Items[i].Reason, o, r)
		}
	}
	if v := d.Visible(); len(v) != 1 || v[0] != entries[0] {
		t.Errorf("Visible() = %v, want only the patient's own entry", v)
	}
}

func TestIsNORS(t *testing.T) {
	tests := map[string]struct {
		codes []rim.Code
		want  bool
	}{
		"NORS in 9603":               {codes: []rim.Code{nors}, want: true},
		"NORS next to HL7 N":         {codes: []rim.Code{{Code: "N", Scheme: "2.16.840.1.113883.5.25"}, nors}, want: true},
		"NORS with urn:oid: scheme":  {codes: []rim.Code{{Code: "NORS", Scheme: "urn:oid:" + CodeSystemSperring}}, want: true},
		"NORS without scheme":        {codes: []rim.Code{{Code: "NORS"}}, want: true},
		"nors lower-case and spaced": {codes: []rim.Code{{Code: " nors ", Scheme: CodeSystemSperring}}, want: true},
		"HL7 N only":                 {codes: []rim.Code{{Code: "N", Scheme: "2.16.840.1.113883.5.25"}}, want: false},
		"9603 N (normal)":            {codes: []rim.Code{{Code: "N", Scheme: CodeSystemSperring}}, want: false},
		"NORN_DUP is for citizens":   {codes: []rim.Code{{Code: "NORN_DUP", Scheme: CodeSystemSperring}}, want: false},
		"no codes":                   {want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := IsNORS(&rim.DocumentEntry{ConfidentialityCodes: tc.codes}); got != tc.want {
				t.Errorf("IsNORS(%v) = %v, want %v", tc.codes, got, tc.want)
			}
		})
	}
}

func TestVisibleAndAllowsRetrieve(t *testing.T) {
	obf := Policy{OverridePurposes: DefaultOverridePurposes, Visibility: VisibilityObfuscate, ObfuscationKey: testKey}
	hide := Policy{OverridePurposes: DefaultOverridePurposes}
	records := []Sperring{recDoc3}
	tests := map[string]struct {
		policy      Policy
		purpose     string
		visible     []string // uniqueIds listed, "masked" for a masked copy
		retrievable []string
	}{
		"hide": {
			policy: hide, purpose: "TREAT",
			visible: []string{idPlain}, retrievable: []string{idPlain},
		},
		"obfuscate lists masked copies that are never retrievable": {
			policy: obf, purpose: "TREAT",
			visible: []string{idPlain, "masked", "masked", "masked"}, retrievable: []string{idPlain},
		},
		"override": {
			policy: hide, purpose: "BTG",
			visible: []string{idPlain, idNORS, idRecorded, idBoth}, retrievable: []string{idPlain, idNORS, idRecorded, idBoth},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			entries := tableEntries()
			d := tc.policy.Decide(Requester{HPRNumber: hprOther, PurposeOfUse: tc.purpose}, Inputs{Patient: patientA, Records: records}, entries)
			var got []string
			real := map[string]bool{idPlain: true, idNORS: true, idRecorded: true, idBoth: true}
			for _, e := range d.Visible() {
				if real[e.UniqueID] {
					got = append(got, e.UniqueID)
					continue
				}
				if e.Title != MaskedTitle {
					t.Errorf("listed %q titled %q: neither real nor masked", e.UniqueID, e.Title)
				}
				got = append(got, "masked")
				if d.AllowsRetrieve(e.UniqueID) {
					t.Errorf("masked uniqueId %q is retrievable", e.UniqueID)
				}
			}
			if !slices.Equal(got, tc.visible) {
				t.Errorf("Visible() = %v, want %v", got, tc.visible)
			}
			for _, e := range entries {
				want := slices.Contains(tc.retrievable, e.UniqueID)
				if d.AllowsRetrieve(e.UniqueID) != want {
					t.Errorf("AllowsRetrieve(%s) = %v, want %v", e.UniqueID, !want, want)
				}
			}
			if d.AllowsRetrieve("") || d.AllowsRetrieve("1.2.3.404") {
				t.Error("an empty or unknown uniqueId is retrievable")
			}
		})
	}
}

func TestAllowsRetrieveDuplicateUniqueID(t *testing.T) {
	// Two entries with the same uniqueId, one of another patient: the
	// retrieve is refused rather than decided by whichever comes first.
	entries := []*rim.DocumentEntry{entry(patientA, idPlain), entry(patientB, idPlain)}
	d := Policy{}.Decide(Requester{HPRNumber: hprOther}, Inputs{Patient: patientA}, entries)
	if d.AllowsRetrieve(idPlain) {
		t.Error("AllowsRetrieve() = true although one entry with that id is hidden")
	}
}

func TestOutcomeString(t *testing.T) {
	tests := map[Outcome]string{
		OutcomeHide: "hide", OutcomeShow: "show", OutcomeObfuscate: "obfuscate",
		OutcomeShowByOverride: "show-by-override", Outcome(42): "invalid", Outcome(-1): "invalid",
	}
	for o, want := range tests {
		t.Run(want, func(t *testing.T) {
			b, _ := o.MarshalText()
			if o.String() != want || string(b) != want {
				t.Errorf("Outcome(%d) = %q / %q, want %q", int(o), o.String(), b, want)
			}
		})
	}
	var zero Item
	if zero.Outcome != OutcomeHide {
		t.Error("the zero Outcome must hide")
	}
}

// TestDecideCanonicalUniqueIDs: a record and an entry whose uniqueIds
// differ only in how the OID is written (urn:oid:, case of the prefix,
// surrounding space) are the same document, whichever side is written
// which way.
func TestDecideCanonicalUniqueIDs(t *testing.T) {
	hide := Policy{OverridePurposes: DefaultOverridePurposes}
	req := Requester{HPRNumber: hprOther, PurposeOfUse: "TREAT"}
	tests := map[string]struct{ record, entry string }{
		"record urn:oid:, entry bare":    {"urn:oid:" + idPlain, idPlain},
		"record bare, entry urn:oid:":    {idPlain, "URN:OID:" + idPlain},
		"record with spaces, entry bare": {" " + idPlain + " ", idPlain},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := Inputs{Patient: patientA, Version: 1, Records: []Sperring{{ID: "r", Patient: patientA, Kind: KindDocument, DocumentUniqueID: tc.record}}}
			d := hide.Decide(req, in, []*rim.DocumentEntry{entry(patientA, tc.entry)})
			if got := d.Items[0].Outcome; got != OutcomeHide {
				t.Errorf("outcome %v, want hide", got)
			}
		})
	}
}
