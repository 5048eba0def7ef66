package xds

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
	parts := strings.Split(s, "^")
	if len(parts) < 4 || parts[0] == "" || parts[1] != "" || parts[2] != "" {
		return "", "", false
	}
	if strings.ContainsAny(parts[0], "&") {
		return "", "", false
	}
	for _, p := range parts[4:] {
		if p != "" {
			return "", "", false
		}
	}
	hd := strings.Split(parts[3], "&")
	if len(hd) != 3 || hd[0] != "" || hd[2] != "ISO" || !ValidOID(hd[1]) {
		return "", "", false
	}
	return parts[0], hd[1], true
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
