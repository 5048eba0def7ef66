package hl7

import (
	"strconv"
	"strings"
	"time"
)

// Datatype checks for the HL7 v2 encodings XDS metadata carries (ITI TF-3
// 4.2.3.1.7, Table 4.2.3.1.7-2): CX, XCN, XON, XTN, DTM and OIDs. The
// *Problem functions return a short reason, or "" when the value is
// valid. Reasons never repeat the value itself: XCN and XON values carry
// names, CX values national identity numbers.

// The OID length limit of ITI TF-3.
const (
	MaxOIDLength = 64
)

// Split splits an HL7 v2 value on sep. Separators inside escape
// sequences (\S\, \T\) are not separators, and splitting on the raw
// character is what every XDS implementation does.
func Split(s string, sep string) []string {
	return strings.Split(s, sep)
}

// Part returns the 1-based part i of parts, or "" when absent.
func Part(parts []string, i int) string {
	if i < 1 || i > len(parts) {
		return ""
	}
	return parts[i-1]
}

// usedComponents is the position of the last non-empty component: trailing
// empty components carry nothing and are tolerated, as ParseCX does.
func usedComponents(comps []string) int {
	n := len(comps)
	for n > 0 && comps[n-1] == "" {
		n--
	}
	return n
}

// Sub returns the 1-based subcomponent j of an HL7 component.
func Sub(component string, j int) string {
	return Part(Split(component, "&"), j)
}

// hasFieldSeparators reports whether s contains characters that cannot occur
// inside a single XDS slot value of these types: field and repetition
// separators or line breaks (which would let a value smuggle HL7 segments).
func hasFieldSeparators(s string) bool {
	return strings.ContainsAny(s, "|~\r\n")
}

// ValidOID reports whether s is an ISO object identifier in dotted decimal
// form as XDS uses it: at most 64 characters, at least two arcs, no empty
// arcs or leading zeros, first arc 0, 1 or 2 and, under 0 and 1, a second arc
// of at most 39.
func ValidOID(s string) bool {
	if s == "" || len(s) > MaxOIDLength {
		return false
	}
	// Walked arc by arc without splitting: this runs for every entry a
	// query returns.
	arcs := 0
	var first, second string
	for rest := s; ; arcs++ {
		arc, tail, more := strings.Cut(rest, ".")
		if arc == "" || !AllDigits(arc) || (len(arc) > 1 && arc[0] == '0') {
			return false
		}
		switch arcs {
		case 0:
			first = arc
		case 1:
			second = arc
		}
		if !more {
			break
		}
		rest = tail
	}
	if arcs < 1 { // fewer than two arcs
		return false
	}
	switch first {
	case "0", "1":
		n, err := strconv.Atoi(second)
		return err == nil && n <= 39
	case "2":
		return true
	}
	return false
}

// ValidDTM reports whether s is an XDS timestamp: UTC in the form
// YYYY[MM[DD[hh[mm[ss]]]]] with every present field in range (a real
// calendar date, hours 00-23, minutes and seconds 00-59). Time zone offsets
// and fractions are not allowed in XDS metadata.
func ValidDTM(s string) bool {
	switch len(s) {
	case 4, 6, 8, 10, 12, 14:
	default:
		return false
	}
	if !AllDigits(s) {
		return false
	}
	year, _ := strconv.Atoi(s[0:4])
	if year < 1 {
		return false
	}
	if len(s) >= 6 {
		month, _ := strconv.Atoi(s[4:6])
		if month < 1 || month > 12 {
			return false
		}
		if len(s) >= 8 {
			day, _ := strconv.Atoi(s[6:8])
			if day < 1 || day > daysIn(year, time.Month(month)) {
				return false
			}
		}
	}
	limits := []int{23, 59, 59} // hh, mm, ss
	for i, pos := 0, 8; pos < len(s); i, pos = i+1, pos+2 {
		v, _ := strconv.Atoi(s[pos : pos+2])
		if v > limits[i] {
			return false
		}
	}
	return true
}

// daysIn returns the number of days in month of year (proleptic Gregorian).
func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// ValidCX reports whether s is a CX patient identifier as XDS requires for
// patientId: an id number and an assigning authority with an ISO OID
// ("id^^^&1.2.3&ISO") and nothing else. It accepts what ParseCX accepts.
func ValidCX(s string) bool { return CXProblem(s, true) == "" }

// ValidXCN reports whether s is an XCN person value as XDS allows it for
// authorPerson and legalAuthenticator: an id number or a family name, and,
// when an assigning authority is given, an ISO OID.
func ValidXCN(s string) bool { return XCNProblem(s) == "" }

// ValidXON reports whether s is an XON organization value as XDS allows it
// for authorInstitution: a name, optionally an identifier (component 10) with
// its assigning authority (component 6).
func ValidXON(s string) bool { return XONProblem(s) == "" }

// ValidXTN reports whether s is an XTN telecommunication address as XDS
// allows it for authorTelecommunication: an equipment type and either an
// e-mail address (Internet) or a telephone number.
func ValidXTN(s string) bool { return XTNProblem(s) == "" }

// hdProblem checks an HD assigning authority in subcomponent form
// (namespace&universalId&ISO), which XDS requires to carry an ISO OID.
func hdProblem(hd string) string {
	subs := Split(hd, "&")
	if len(subs) > 3 {
		return "assigning authority has too many subcomponents"
	}
	if Part(subs, 3) != "ISO" {
		return "assigning authority type is not ISO"
	}
	if !ValidOID(Part(subs, 2)) {
		return "assigning authority is not an OID"
	}
	return ""
}

// CXProblem checks a CX value. strict is the patientId rule (only id number
// and assigning authority universal id; ITI TF-3 4.2.3.1.7); otherwise
// (sourcePatientId) further components and a namespace id are tolerated.
func CXProblem(s string, strict bool) string {
	if s == "" {
		return "empty"
	}
	if hasFieldSeparators(s) {
		return "contains HL7 field or repetition separators"
	}
	comps := Split(s, "^")
	if usedComponents(comps) > 10 {
		return "has too many components"
	}
	if Part(comps, 1) == "" {
		return "id number missing"
	}
	if strings.Contains(Part(comps, 1), "&") {
		return "id number contains subcomponents"
	}
	aa := Part(comps, 4)
	if aa == "" {
		return "assigning authority missing"
	}
	if p := hdProblem(aa); p != "" {
		return p
	}
	if !strict {
		return ""
	}
	if Part(comps, 2) != "" || Part(comps, 3) != "" {
		return "only id number and assigning authority are allowed"
	}
	for i := 5; i <= len(comps); i++ {
		if comps[i-1] != "" {
			return "only id number and assigning authority are allowed"
		}
	}
	if Sub(aa, 1) != "" {
		return "assigning authority namespace id must be empty"
	}
	return ""
}

// XCNProblem checks an XCN value.
func XCNProblem(s string) string {
	if s == "" {
		return "empty"
	}
	if hasFieldSeparators(s) {
		return "contains HL7 field or repetition separators"
	}
	comps := Split(s, "^")
	if usedComponents(comps) > 23 {
		return "has too many components"
	}
	if Part(comps, 1) == "" && Sub(Part(comps, 2), 1) == "" {
		return "neither id number nor family name"
	}
	if aa := Part(comps, 9); aa != "" {
		return hdProblem(aa)
	}
	return ""
}

// XONProblem checks an XON value: ITI TF-3 allows components 1, 6 and 10.
func XONProblem(s string) string {
	if s == "" {
		return "empty"
	}
	if hasFieldSeparators(s) {
		return "contains HL7 field or repetition separators"
	}
	comps := Split(s, "^")
	if usedComponents(comps) > 10 {
		return "has too many components"
	}
	if Part(comps, 1) == "" {
		return "organization name missing"
	}
	for _, i := range []int{2, 3, 4, 5, 7, 8, 9} {
		if Part(comps, i) != "" {
			return "only organization name, assigning authority and identifier are allowed"
		}
	}
	id, aa := Part(comps, 10), Part(comps, 6)
	if aa != "" {
		if p := hdProblem(aa); p != "" {
			return p
		}
	}
	if id == "" && aa != "" {
		return "assigning authority without identifier"
	}
	if id != "" && aa == "" && !ValidOID(id) {
		return "identifier that is not an OID needs an assigning authority"
	}
	return ""
}

// XONAuthority returns the bare assigning authority OID and the identifier of
// an XON value.
func XONAuthority(s string) (authority, id string) {
	comps := Split(s, "^")
	return NormalizeOID(Sub(Part(comps, 6), 2)), Part(comps, 10)
}

// XTNProblem checks an XTN value (components 3 equipment type, 4 e-mail,
// 1/7/12 telephone number).
func XTNProblem(s string) string {
	if s == "" {
		return "empty"
	}
	if hasFieldSeparators(s) {
		return "contains HL7 field or repetition separators"
	}
	comps := Split(s, "^")
	if usedComponents(comps) > 18 {
		return "has too many components"
	}
	switch Part(comps, 3) {
	case "":
		return "equipment type missing"
	case "Internet":
		mail := Part(comps, 4)
		at := strings.LastIndexByte(mail, '@')
		if at <= 0 || at == len(mail)-1 {
			return "e-mail address missing or malformed"
		}
	case "X.400":
		if Part(comps, 4) == "" {
			return "X.400 address missing"
		}
	default:
		if Part(comps, 1) == "" && Part(comps, 7) == "" && Part(comps, 12) == "" {
			return "telephone number missing"
		}
	}
	return ""
}

// AllDigits reports whether s is a non-empty string of ASCII digits.
func AllDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
