package registry

import (
	"context"

	"kjdd/adapter/access"
	"kjdd/xds/rim"
)

// Authorize authenticates a caller of the sperring API through the
// registry's gate, so that the API is guarded by the same gate as every
// other surface.
func (r *Registry) Authorize(ctx context.Context, cred access.Credentials) (*access.Caller, error) {
	cred.Transaction = access.SperringAPI
	return r.gate.Authenticate(ctx, cred)
}

// submissionPatients lists, once each, the patient ids a registered
// submission was about: its SubmissionSet's and its DocumentEntries'
// (validation makes them the same; a replaced document's patient is
// checked to be it too).
func submissionPatients(sub *rim.Submission) []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if sub.SubmissionSet != nil {
		add(sub.SubmissionSet.PatientID)
	}
	for _, e := range sub.DocumentEntries {
		add(e.PatientID)
	}
	return out
}
