package hl7

import "strings"

// urnOIDPrefix is the URN form of an OID (RFC 3061); its scheme and
// namespace are case-insensitive.
const urnOIDPrefix = "urn:oid:"

// ParseCX splits an HL7 v2 CX identifier as XDS uses it for patientId and
// sourcePatientId: "id^^^&oid&ISO" (ITI TF-3 4.2.3.1.7). ok is false unless
// CX.1 is non-empty, CX.2 and CX.3 are empty, CX.4 is exactly "&oid&ISO"
// with a bare OID (no urn:oid:, no namespace id), and no later component
// carries a value.
func ParseCX(s string) (id, assigningAuthorityOID string, ok bool) {
	// Cut rather than Split: this runs for every entry a query returns.
	id, rest, ok1 := strings.Cut(s, "^")
	c2, rest, ok2 := strings.Cut(rest, "^")
	c3, rest, ok3 := strings.Cut(rest, "^")
	if !ok1 || !ok2 || !ok3 || id == "" || c2 != "" || c3 != "" || strings.Contains(id, "&") {
		return "", "", false
	}
	hd, tail, _ := strings.Cut(rest, "^")
	if strings.Trim(tail, "^") != "" {
		return "", "", false
	}
	ns, rest, ok1 := strings.Cut(hd, "&")
	oid, typ, ok2 := strings.Cut(rest, "&")
	if !ok1 || !ok2 || ns != "" || typ != "ISO" || !ValidOID(oid) {
		return "", "", false
	}
	return id, oid, true
}

// FormatCX returns the CX form "id^^^&oid&ISO" of an identifier issued by
// the assigning authority oid (bare or urn:oid:).
func FormatCX(id, oid string) string {
	return id + "^^^&" + NormalizeOID(oid) + "&ISO"
}

// NormalizeOID returns s without surrounding space and without a leading
// "urn:oid:" (any case): the bare OID that kjdd compares and stores.
func NormalizeOID(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= len(urnOIDPrefix) && strings.EqualFold(s[:len(urnOIDPrefix)], urnOIDPrefix) {
		return s[len(urnOIDPrefix):]
	}
	return s
}

// URNOID returns s (bare or urn:oid:) in the form "urn:oid:<oid>", as IHE
// wants homeCommunityId on the wire. The empty string stays empty.
func URNOID(s string) string {
	n := NormalizeOID(s)
	if n == "" {
		return ""
	}
	return urnOIDPrefix + n
}
