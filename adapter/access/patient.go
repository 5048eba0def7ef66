package access

import (
	"context"
	"strings"

	"kjdd/xds/hl7"
	"kjdd/xds/rim"
)

// PatientBound hides every entry that is not about the patient the
// caller's credential is bound to (the XUA assertion's resource-id). The
// national gateway's assertion authorises one patient; without this a
// query by document id, or a retrieve, could reach another patient's
// documents with it. Callers not bound to a patient pass through to Next.
type PatientBound struct {
	Next Policy
}

// Visible implements Policy.
func (p PatientBound) Visible(ctx context.Context, c *Caller, entries []*rim.DocumentEntry) ([]*rim.DocumentEntry, error) {
	if c != nil && c.Principal != nil && c.Principal.PatientID != "" {
		bound := patientKey(c.Principal.PatientID)
		kept := make([]*rim.DocumentEntry, 0, len(entries))
		// A patient's entries carry the same id string: parse it once.
		var last string
		same := false
		for i, e := range entries {
			if i == 0 || e.PatientID != last {
				last, same = e.PatientID, patientKey(e.PatientID) == bound
			}
			if same {
				kept = append(kept, e)
			}
		}
		entries = kept
	}
	if len(entries) == 0 {
		return entries, nil
	}
	return p.Next.Visible(ctx, c, entries)
}

// PatientHidden implements Policy.
func (p PatientBound) PatientHidden(ctx context.Context, c *Caller, patientID string) (bool, error) {
	if c != nil && c.Principal != nil && c.Principal.PatientID != "" &&
		patientKey(c.Principal.PatientID) != patientKey(patientID) {
		return true, nil
	}
	return p.Next.PatientHidden(ctx, c, patientID)
}

// patientKey reduces a CX patient id (or a bare number) to id and
// assigning authority, so "id^^^&oid&ISO" and "id^^^&urn:oid:oid&ISO"
// compare equal while ids of different authorities do not.
func patientKey(s string) string {
	if id, oid, ok := hl7.ParseCX(s); ok {
		return id + "|" + oid
	}
	// Lenient reading for the urn:oid: form some senders put in the HD.
	parts := strings.Split(s, "^")
	if len(parts) >= 4 {
		hd := strings.Split(parts[3], "&")
		if len(hd) >= 2 {
			return parts[0] + "|" + hl7.NormalizeOID(hd[1])
		}
	}
	return s
}

var _ Policy = PatientBound{}
