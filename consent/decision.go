package consent

import (
	"strings"

	"kjdd/xds/rim"
)

// Requester is the part of the caller the sperring decision needs. The
// adapter maps its authenticated Principal to it.
type Requester struct {
	// HPRNumber is the practitioner's HPR number. When it is empty and the
	// patient has blocked any practitioner, everything is hidden: a block
	// that cannot be checked is taken to apply.
	HPRNumber string
	// PurposeOfUse is the attest's purpose of use code: TREAT, ETREAT, COC
	// or BTG.
	PurposeOfUse string
}

// Inputs is everything the decision needs to know about one patient: that
// patient's sperring records and the version of that set. The version
// increases on every change of the patient's records, so that a cache never
// replaces newer inputs with older ones. Inputs handed out by a Cache or the
// Resolver are shared: treat them as read-only.
type Inputs struct {
	// Patient is the national identity number, 11 digits.
	Patient string `json:"patient"`
	// Version is the store's version of the patient's records.
	Version int64 `json:"version"`
	// Records are the patient's sperring records. Copies from a cache
	// carry only the fields the decision reads (ID, Kind,
	// DocumentUniqueID, HPRNumber, Patient).
	Records []Sperring `json:"records,omitempty"`
}

// Outcome is what the decision does with one entry.
type Outcome int

// Outcomes. The zero value hides, so that an Item nobody filled in fails
// closed.
const (
	// OutcomeHide leaves the entry out: not returned, not counted, not
	// retrievable.
	OutcomeHide Outcome = iota
	// OutcomeShow returns the entry as it is.
	OutcomeShow
	// OutcomeObfuscate lists a masked copy of the entry; the document
	// cannot be retrieved.
	OutcomeObfuscate
	// OutcomeShowByOverride returns an entry blocked at document level
	// because the purpose of use overrides it; the audit flags it.
	OutcomeShowByOverride
)

var outcomeNames = [...]string{"hide", "show", "obfuscate", "show-by-override"}

// String returns the outcome as written in audit events: "hide", "show",
// "obfuscate" or "show-by-override".
func (o Outcome) String() string {
	if o < 0 || int(o) >= len(outcomeNames) {
		return "invalid"
	}
	return outcomeNames[o]
}

// MarshalText writes the outcome as String does.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Shown reports whether the document itself may be returned and retrieved.
func (o Outcome) Shown() bool { return o == OutcomeShow || o == OutcomeShowByOverride }

// Reasons an Item gives. A document-level reason is "NORS", "document
// record <id>", or both joined by "; ".
const (
	ReasonNORS           = "NORS"
	ReasonDocumentRecord = "document record"
	ReasonPractitioner   = "practitioner"
	ReasonPatient        = "patient"
	// ReasonInvalidInputs: the inputs are not usable (no patient, a record
	// of another patient or of no known kind); everything is hidden.
	ReasonInvalidInputs = "invalid inputs"
	// ReasonPatientMismatch: the entry belongs to another patient than the
	// inputs.
	ReasonPatientMismatch = "patient mismatch"
	// ReasonInvalidEntry: the entry is nil.
	ReasonInvalidEntry = "invalid entry"
)

// Item is the decision about one entry.
type Item struct {
	// Entry is the entry as found in the registry, for the audit. It is
	// what is returned only when Outcome.Shown().
	Entry *rim.DocumentEntry
	// Outcome is what is done with the entry.
	Outcome Outcome
	// Reason says why the entry is not plainly shown (empty for
	// OutcomeShow); for OutcomeShowByOverride it names what was overridden.
	Reason string
	// Masked is the masked copy listed in place of Entry; set for
	// OutcomeObfuscate only.
	Masked *rim.DocumentEntry
}

// Decision is the sperring decision for one request.
type Decision struct {
	// Items has one item per candidate entry, in the same order.
	Items []Item
	// PatientBlocked is set when the patient has blocked everything.
	PatientBlocked bool
	// PractitionerBlocked is set when the patient has blocked the
	// requesting practitioner (or one could not be ruled out).
	PractitionerBlocked bool
	// Overridden is set when any entry is shown by override; the audit
	// event must be flagged for review.
	Overridden bool
}

// Decide is the one sperring decision of kjdd: every read path passes its
// candidate entries through it. It is pure.
//
// Patient-level sperring hides everything (never obfuscated: nothing of the
// patient is shared, not even that documents exist). Practitioner-level
// sperring hides everything from the blocked HPR number. Neither is ever
// overridden. Document-level sperring (NORS, or a record of kind document)
// hides the entry, or lists a masked copy when Visibility is
// VisibilityObfuscate, unless the purpose of use is one of
// OverridePurposes: then the entry is shown and the decision records the
// override.
func (p Policy) Decide(req Requester, in Inputs, entries []*rim.DocumentEntry) Decision {
	d := Decision{Items: make([]Item, len(entries))}
	for i, e := range entries {
		d.Items[i].Entry = e
	}
	scan, ok := scanInputs(in, req)
	if !ok {
		return d.hideAll(ReasonInvalidInputs)
	}
	if scan.patientBlocked {
		d.PatientBlocked = true
		return d.hideAll(ReasonPatient)
	}
	if scan.practitionerBlocked {
		d.PractitionerBlocked = true
		return d.hideAll(ReasonPractitioner)
	}
	override := p.overrides(req.PurposeOfUse)
	obfuscate := p.Visibility == VisibilityObfuscate && len(p.ObfuscationKey) >= MinKeyLength
	for i, e := range entries {
		it := &d.Items[i]
		switch {
		case e == nil:
			it.Reason = ReasonInvalidEntry
			continue
		case cxID(e.PatientID) != in.Patient:
			it.Reason = ReasonPatientMismatch
			continue
		}
		reason := documentReason(e, scan.documents)
		switch {
		case reason == "":
			it.Outcome = OutcomeShow
		case override:
			it.Outcome, it.Reason = OutcomeShowByOverride, reason
			d.Overridden = true
		case obfuscate:
			it.Outcome, it.Reason = OutcomeObfuscate, reason
			it.Masked = Obfuscate(e, p.ObfuscationKey)
		default:
			it.Reason = reason
		}
	}
	return d
}

func (d Decision) hideAll(reason string) Decision {
	for i := range d.Items {
		d.Items[i].Outcome, d.Items[i].Reason, d.Items[i].Masked = OutcomeHide, reason, nil
	}
	return d
}

// scanned is what the records say, independent of the entries.
type scanned struct {
	patientBlocked      bool
	practitionerBlocked bool
	// documents maps a blocked uniqueId, canonical (CanonicalUniqueID),
	// to the ids of the records blocking it.
	documents map[string][]string
}

// scanInputs reads the records. ok is false when the inputs cannot be
// trusted; the caller then hides everything.
func scanInputs(in Inputs, req Requester) (s scanned, ok bool) {
	if !validPatient(in.Patient) {
		return s, false
	}
	for _, r := range in.Records {
		if r.Patient != "" && r.Patient != in.Patient {
			return s, false
		}
		switch r.Kind {
		case KindPatient:
			s.patientBlocked = true
		case KindPractitioner:
			if r.HPRNumber == "" {
				return s, false
			}
			if req.HPRNumber == "" || sameHPR(r.HPRNumber, req.HPRNumber) {
				s.practitionerBlocked = true
			}
		case KindDocument:
			if r.DocumentUniqueID == "" {
				return s, false
			}
			if s.documents == nil {
				s.documents = make(map[string][]string)
			}
			uid := CanonicalUniqueID(r.DocumentUniqueID)
			s.documents[uid] = append(s.documents[uid], r.ID)
		default:
			return s, false
		}
	}
	return s, true
}

// documentReason says why e is blocked at document level, or "" when it is
// not.
func documentReason(e *rim.DocumentEntry, documents map[string][]string) string {
	var reasons []string
	if IsNORS(e) {
		reasons = append(reasons, ReasonNORS)
	}
	if len(documents) == 0 {
		return strings.Join(reasons, "; ")
	}
	// Both sides canonical: a record written (or stored before records
	// were canonicalised) as urn:oid:<uid> blocks the document registered
	// as <uid>, and the other way round.
	for _, id := range documents[CanonicalUniqueID(e.UniqueID)] {
		if id == "" {
			reasons = append(reasons, ReasonDocumentRecord)
			continue
		}
		reasons = append(reasons, ReasonDocumentRecord+" "+id)
	}
	return strings.Join(reasons, "; ")
}

// CodeSystemSperring is Volven 9603 "Sperring og nekting av dokumenter".
const CodeSystemSperring = "2.16.578.1.12.4.1.1.9603"

// CodeNORS is the 9603 code for a document the patient has blocked from
// health personnel ("Sperret").
const CodeNORS = "NORS"

// IsNORS reports whether e carries confidentialityCode NORS. Any coding
// scheme is accepted: NORS exists only in Volven 9603, and a misspelt
// scheme (urn:oid: prefix, FHIR URL, none) must not unblock a document;
// rejecting the spelling is metadata validation's job.
func IsNORS(e *rim.DocumentEntry) bool {
	for _, c := range e.ConfidentialityCodes {
		if strings.EqualFold(strings.TrimSpace(c.Code), CodeNORS) {
			return true
		}
	}
	return false
}

// Visible returns the entries that may be listed, in order: shown entries
// as they are and masked copies of obfuscated ones. Hidden entries are not
// in it, so they are neither returned nor counted.
func (d Decision) Visible() []*rim.DocumentEntry {
	out := make([]*rim.DocumentEntry, 0, len(d.Items))
	for _, it := range d.Items {
		switch {
		case it.Outcome.Shown() && it.Entry != nil:
			out = append(out, it.Entry)
		case it.Outcome == OutcomeObfuscate && it.Masked != nil:
			out = append(out, it.Masked)
		}
	}
	return out
}

// AllowsRetrieve reports whether the document with uniqueID may be
// retrieved: it is among the decided entries and every entry with that id
// is shown. When it is false the retrieve must be answered exactly as for
// an unknown id. Masked ids of obfuscated entries are never retrievable.
func (d Decision) AllowsRetrieve(uniqueID string) bool {
	if uniqueID == "" {
		return false
	}
	found := false
	for _, it := range d.Items {
		if it.Entry == nil || it.Entry.UniqueID != uniqueID {
			continue
		}
		if !it.Outcome.Shown() {
			return false
		}
		found = true
	}
	return found
}
