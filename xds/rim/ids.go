package rim

import (
	"crypto/sha1"

	"kjdd/xds/hl7"
)

// derivedUUID returns a stable id for the n-th Classification or
// ExternalIdentifier rendered inside the object parent. The model does not
// keep the ids of these composed objects, yet ebRIM requires one and a
// consumer should see the same one in every response. It is a name-based
// (version 5) UUID with the parent as namespace and n as name, so ids stay
// unique even when senders chose sequential entryUUIDs. A parent that is
// not a UUID is hashed into a namespace first.
func derivedUUID(parent string, n int) string {
	ns, ok := hl7.ParseURNUUID(parent)
	if !ok {
		sum := sha1.Sum([]byte(parent))
		copy(ns[:], sum[:])
	}
	var in [20]byte
	copy(in[:], ns[:])
	in[16], in[17], in[18], in[19] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	sum := sha1.Sum(in[:])
	var b [16]byte
	copy(b[:], sum[:])
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return hl7.FormatURNUUID(b)
}

// AssignEntryUUIDs gives every object of a submission whose id is symbolic
// (anything but a well-formed urn:uuid) a fresh urn:uuid from newUUID
// (NewURNUUID when nil) and rewrites every reference to it: association
// source and target, Document ids, and a lid equal to the old id. Empty ids
// and references to objects outside the submission are left for validation
// to report. Objects that share a symbolic id share the new one, so a
// duplicate stays detectable.
func AssignEntryUUIDs(sub *Submission, newUUID func() string) {
	if sub == nil {
		return
	}
	if newUUID == nil {
		newUUID = hl7.NewURNUUID
	}
	ids := map[string]string{}
	assign := func(id *string, lid *string) {
		old := *id
		if old == "" || hl7.IsURNUUID(old) {
			return
		}
		nu, seen := ids[old]
		if !seen {
			nu = newUUID()
			ids[old] = nu
		}
		*id = nu
		if lid != nil && *lid == old {
			*lid = nu
		}
	}
	for _, d := range sub.DocumentEntries {
		assign(&d.EntryUUID, &d.LogicalID)
	}
	if ss := sub.SubmissionSet; ss != nil {
		assign(&ss.EntryUUID, &ss.LogicalID)
	}
	for _, f := range sub.Folders {
		assign(&f.EntryUUID, &f.LogicalID)
	}
	for _, a := range sub.Associations {
		assign(&a.EntryUUID, nil)
	}
	rewrite := func(ref *string) {
		if nu, ok := ids[*ref]; ok {
			*ref = nu
		}
	}
	for _, a := range sub.Associations {
		rewrite(&a.Source)
		rewrite(&a.Target)
	}
	for i := range sub.Documents {
		rewrite(&sub.Documents[i].ID)
	}
}
