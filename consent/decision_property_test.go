package consent

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"kjdd/xds/rim"
)

// TestDecideProperties decides many random requests and checks what must
// hold whatever the inputs: nothing hidden is listed or retrievable, masked
// copies never reveal the real ids, blocks above document level show
// nothing, and an override is flagged exactly when one happened. The seed
// is printed; set KJDD_TEST_SEED to replay a failure.
func TestDecideProperties(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("KJDD_TEST_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("KJDD_TEST_SEED: %v", err)
		}
	}
	t.Logf("seed %d (KJDD_TEST_SEED=%d to replay)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	const rounds = 2000
	hprs := []string{"565505933", "123456789", "0565505933", "", "42"}
	purposes := []string{"TREAT", "ETREAT", "COC", "BTG", "btg", "", "XYZ"}
	for round := range rounds {
		var uniqueIDs []string
		for i := range 1 + rng.IntN(8) {
			uniqueIDs = append(uniqueIDs, fmt.Sprintf("2.16.578.1.12.4.5.100.1.3.%d", i))
		}
		var entries []*rim.DocumentEntry
		for range rng.IntN(25) {
			id := uniqueIDs[rng.IntN(len(uniqueIDs))]
			var e *rim.DocumentEntry
			switch r := rng.IntN(20); {
			case r == 0:
				e = nil
			case r == 1:
				e = entry(patientB, id)
			case r < 8:
				e = entry(patientA, id, nors)
			default:
				e = entry(patientA, id)
			}
			entries = append(entries, e)
		}
		in := Inputs{Patient: patientA, Version: int64(round)}
		for range rng.IntN(4) {
			switch rng.IntN(6) {
			case 0:
				in.Records = append(in.Records, Sperring{ID: "p", Patient: patientA, Kind: KindPatient})
			case 1, 2:
				in.Records = append(in.Records, Sperring{ID: "h", Patient: patientA, Kind: KindPractitioner, HPRNumber: hprs[rng.IntN(2)]})
			default:
				in.Records = append(in.Records, Sperring{ID: "d", Patient: patientA, Kind: KindDocument, DocumentUniqueID: uniqueIDs[rng.IntN(len(uniqueIDs))]})
			}
		}
		p := Policy{Visibility: Visibility(rng.IntN(2)), ObfuscationKey: testKey}
		if rng.IntN(2) == 0 {
			p.OverridePurposes = DefaultOverridePurposes
		}
		req := Requester{HPRNumber: hprs[rng.IntN(len(hprs))], PurposeOfUse: purposes[rng.IntN(len(purposes))]}

		d := p.Decide(req, in, entries)
		checkDecision(t, round, d, entries)
		if t.Failed() {
			t.Fatalf("round %d failed: seed %d, policy %+v, requester %+v, records %+v", round, seed, p, req, in.Records)
		}
	}
}

func checkDecision(t *testing.T, round int, d Decision, entries []*rim.DocumentEntry) {
	t.Helper()
	if len(d.Items) != len(entries) {
		t.Errorf("round %d: %d items for %d entries", round, len(d.Items), len(entries))
		return
	}
	visible := d.Visible()
	listed := map[*rim.DocumentEntry]bool{}
	listedIDs := map[string]bool{}
	for _, e := range visible {
		listed[e] = true
		listedIDs[e.UniqueID] = true
		listedIDs[e.EntryUUID] = true
	}
	shown, masked, overridden := 0, 0, false
	for i, it := range d.Items {
		if it.Entry != entries[i] {
			t.Errorf("round %d: item %d out of order", round, i)
		}
		switch it.Outcome {
		case OutcomeShow, OutcomeShowByOverride:
			shown++
			if !listed[it.Entry] {
				t.Errorf("round %d: shown entry %d not listed", round, i)
			}
			overridden = overridden || it.Outcome == OutcomeShowByOverride
		case OutcomeObfuscate:
			masked++
			if listed[it.Entry] {
				t.Errorf("round %d: obfuscated entry %d listed unmasked", round, i)
			}
			if !idShownElsewhere(d, it.Entry.UniqueID) && (listedIDs[it.Entry.UniqueID] || listedIDs[it.Entry.EntryUUID]) {
				t.Errorf("round %d: real ids of obfuscated entry %d listed", round, i)
			}
			if d.AllowsRetrieve(it.Entry.UniqueID) || d.AllowsRetrieve(it.Masked.UniqueID) {
				t.Errorf("round %d: obfuscated entry %d retrievable", round, i)
			}
		case OutcomeHide:
			if it.Entry == nil {
				continue
			}
			if listed[it.Entry] {
				t.Errorf("round %d: hidden entry %d (%s) in Visible()", round, i, it.Reason)
			}
			if d.AllowsRetrieve(it.Entry.UniqueID) {
				t.Errorf("round %d: hidden entry %d retrievable", round, i)
			}
			if it.Reason == "" {
				t.Errorf("round %d: hidden entry %d without a reason", round, i)
			}
		default:
			t.Errorf("round %d: entry %d has outcome %d", round, i, it.Outcome)
		}
	}
	if len(visible) != shown+masked {
		t.Errorf("round %d: %d visible, want %d shown + %d masked", round, len(visible), shown, masked)
	}
	if d.Overridden != overridden {
		t.Errorf("round %d: Overridden = %v, but an item shown by override: %v", round, d.Overridden, overridden)
	}
	if (d.PatientBlocked || d.PractitionerBlocked) && (len(visible) != 0 || d.Overridden) {
		t.Errorf("round %d: patient/practitioner block with %d visible, overridden %v", round, len(visible), d.Overridden)
	}
}

// idShownElsewhere reports whether another, shown entry has this uniqueId
// (the same document listed twice, once shown and once not, cannot happen
// in a registry but can in random input).
func idShownElsewhere(d Decision, uniqueID string) bool {
	for _, it := range d.Items {
		if it.Entry != nil && it.Entry.UniqueID == uniqueID && it.Outcome.Shown() {
			return true
		}
	}
	return false
}
