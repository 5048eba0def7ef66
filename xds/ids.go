package xds

import (
	"crypto/rand"
	"crypto/sha1"
	"strings"
)

// urnUUIDPrefix starts every entryUUID kjdd stores.
const urnUUIDPrefix = "urn:uuid:"

// IsURNUUID reports whether s is a UUID in URN form,
// "urn:uuid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (prefix in any case). Any
// other id in a submission is symbolic.
func IsURNUUID(s string) bool {
	_, ok := parseURNUUID(s)
	return ok
}

// parseURNUUID decodes a urn:uuid into its 16 bytes.
func parseURNUUID(s string) (b [16]byte, ok bool) {
	if len(s) != len(urnUUIDPrefix)+36 || !strings.EqualFold(s[:len(urnUUIDPrefix)], urnUUIDPrefix) {
		return b, false
	}
	u := s[len(urnUUIDPrefix):]
	if u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-' {
		return b, false
	}
	j := 0
	for i := 0; i < 36; {
		if u[i] == '-' {
			i++
			continue
		}
		hi, ok1 := fromHex(u[i])
		lo, ok2 := fromHex(u[i+1])
		if !ok1 || !ok2 {
			return b, false
		}
		b[j] = hi<<4 | lo
		j++
		i += 2
	}
	return b, true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

const hexDigits = "0123456789abcdef"

// formatURNUUID renders 16 bytes as a lower-case urn:uuid.
func formatURNUUID(b [16]byte) string {
	var buf [len(urnUUIDPrefix) + 36]byte
	n := copy(buf[:], urnUUIDPrefix)
	for i, x := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			buf[n] = '-'
			n++
		}
		buf[n] = hexDigits[x>>4]
		buf[n+1] = hexDigits[x&0x0f]
		n += 2
	}
	return string(buf[:])
}

// NewURNUUID returns a random (version 4) UUID in URN form. It is the
// default id source for AssignEntryUUIDs.
func NewURNUUID() string {
	var b [16]byte
	// crypto/rand.Read never returns an error (Go 1.24+); it aborts the
	// process instead of handing out predictable ids.
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatURNUUID(b)
}

// derivedUUID returns a stable id for the n-th Classification or
// ExternalIdentifier rendered inside the object parent. The model does not
// keep the ids of these composed objects, yet ebRIM requires one and a
// consumer should see the same one in every response. It is a name-based
// (version 5) UUID with the parent as namespace and n as name, so ids stay
// unique even when senders chose sequential entryUUIDs. A parent that is
// not a UUID is hashed into a namespace first.
func derivedUUID(parent string, n int) string {
	ns, ok := parseURNUUID(parent)
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
	return formatURNUUID(b)
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
		newUUID = NewURNUUID
	}
	ids := map[string]string{}
	assign := func(id *string, lid *string) {
		old := *id
		if old == "" || IsURNUUID(old) {
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

// RedactNationalIDs replaces every run of exactly 11 digits in s (the shape
// of a fødselsnummer or D-number) with asterisks, so that text quoted from
// a request can go into an error context or a log line.
func RedactNationalIDs(s string) string {
	var out []byte
	run := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			run++
			continue
		}
		if run == 11 {
			if out == nil {
				out = []byte(s)
			}
			for j := i - 11; j < i; j++ {
				out[j] = '*'
			}
		}
		run = 0
	}
	if out == nil {
		return s
	}
	return string(out)
}
