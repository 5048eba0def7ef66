package consent

import "strings"

// Assigning authorities of the national identity numbers sperring is keyed
// by (Volven identifier namespaces).
const (
	// OIDFodselsnummer is the assigning authority of fødselsnummer.
	OIDFodselsnummer = "2.16.578.1.12.4.1.4.1"
	// OIDDNummer is the assigning authority of D-numbers.
	OIDDNummer = "2.16.578.1.12.4.1.4.2"
)

// NormalizePatient turns a patient identifier as callers write it into the
// 11 digits sperring is keyed by. It accepts the bare number (spaces
// allowed, as people type it) and the XDS CX form
// "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO" (with "&amp;" or "urn:oid:"
// as they appear in the wild) whose assigning authority is fødselsnummer
// or D-number. Anything else is an error, which never quotes the input.
//
// The number is checked for its length only. The mod-11 control digits are
// not checked: synthetic test identities and the numbers issued from 2032
// under the new rules do not all satisfy the old formula, and refusing a
// real patient's sperring would be worse than accepting a typo.
func NormalizePatient(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid("patient is required")
	}
	if !strings.Contains(s, "^") {
		digits := strings.NewReplacer(" ", "", "\u00a0", "").Replace(s)
		if !validPatient(digits) {
			return "", invalid("patient must be an 11-digit fødselsnummer or D-number")
		}
		return digits, nil
	}
	id, authority, ok := splitCX(s)
	if !ok {
		return "", invalid("patient identifier is not a CX value with an ISO assigning authority")
	}
	if authority != OIDFodselsnummer && authority != OIDDNummer {
		return "", invalid("patient assigning authority must be fødselsnummer or D-number")
	}
	if !validPatient(id) {
		return "", invalid("patient must be an 11-digit fødselsnummer or D-number")
	}
	return id, nil
}

// splitCX returns CX.1 and the universal id of CX.4 of an XDS patient id:
// ID^^^&OID&ISO, optionally followed by more components (e.g. ^NNNOR).
func splitCX(s string) (id, authority string, ok bool) {
	s = strings.ReplaceAll(s, "&amp;", "&")
	parts := strings.Split(s, "^")
	if len(parts) < 4 || parts[1] != "" || parts[2] != "" {
		return "", "", false
	}
	hd := strings.Split(parts[3], "&")
	if len(hd) != 3 || hd[0] != "" || hd[2] != "ISO" {
		return "", "", false
	}
	return parts[0], strings.TrimPrefix(hd[1], "urn:oid:"), true
}

// cxID returns the ID number (CX.1) of an XDS patient id, or the value
// itself when it is not in CX form.
func cxID(s string) string {
	if i := strings.IndexByte(s, '^'); i >= 0 {
		return s[:i]
	}
	return s
}

func validPatient(s string) bool {
	return len(s) == 11 && allDigits(s)
}
