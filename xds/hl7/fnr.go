package hl7

import (
	"strconv"
	"time"
)

// Norwegian identity numbers and their check digits. A fødselsnummer is
// DDMMYYIIIKK: date of birth, a three-digit individual number that also
// encodes the century, and two mod-11 check digits. A D-nummer adds 4 to the
// first digit; Skatteetaten's synthetic test numbers add 80 to the month; a
// felles hjelpenummer (FH-nummer) starts with 8 or 9 and carries no date.
// Organisation numbers of Enhetsregisteret have nine digits, the last a
// mod-11 check digit.

// Assigning authorities of Norwegian identifiers (norway.md §2.1).
const (
	OIDFNR       = "2.16.578.1.12.4.1.4.1"   // fødselsnummer
	OIDDNumber   = "2.16.578.1.12.4.1.4.2"   // D-nummer
	OIDFHNumber  = "2.16.578.1.12.4.1.4.3"   // felles hjelpenummer
	OIDHPR       = "2.16.578.1.12.4.1.4.4"   // Helsepersonellregisteret (HPR-nummer)
	OIDOrgNumber = "2.16.578.1.12.4.1.4.101" // organisasjonsnummer, Enhetsregisteret (ENH)
	OIDRESH      = "2.16.578.1.12.4.1.4.102" // RESH-id, specialist health service units
)

// syntheticMonthOffset is what Skatteetaten adds to the month of synthetic
// (test) identity numbers.
const syntheticMonthOffset = 80

var (
	personWeights1 = [9]int{3, 7, 6, 1, 8, 9, 4, 5, 2}
	personWeights2 = [10]int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
	orgWeights     = [8]int{3, 2, 7, 6, 5, 4, 3, 2}
)

// ValidFNR reports whether s is a fødselsnummer with a real date of birth
// (synthetic test numbers included) and valid check digits.
func ValidFNR(s string) bool {
	if len(s) != 11 || !AllDigits(s) || s[0] > '3' {
		return false
	}
	return validBirthDate(s, 0) && validPersonCheckDigits(s)
}

// ValidDNumber reports whether s is a D-nummer: a fødselsnummer whose first
// digit is raised by 4, with valid check digits.
func ValidDNumber(s string) bool {
	if len(s) != 11 || !AllDigits(s) || s[0] < '4' || s[0] > '7' {
		return false
	}
	return validBirthDate(s, 40) && validPersonCheckDigits(s)
}

// ValidFHNumber reports whether s is a felles hjelpenummer: 11 digits
// starting with 8 or 9, with the check digits of a fødselsnummer.
func ValidFHNumber(s string) bool {
	if len(s) != 11 || !AllDigits(s) || s[0] < '8' {
		return false
	}
	return validPersonCheckDigits(s)
}

// ValidOrgNumber reports whether s is an organisation number of
// Enhetsregisteret: nine digits starting with 8 or 9, the last a mod-11
// check digit.
func ValidOrgNumber(s string) bool {
	if len(s) != 9 || !AllDigits(s) || s[0] < '8' {
		return false
	}
	k, ok := mod11(s, orgWeights[:])
	return ok && k == int(s[8]-'0')
}

// validPersonCheckDigits checks both check digits of an 11-digit number.
func validPersonCheckDigits(s string) bool {
	k1, ok := mod11(s, personWeights1[:])
	if !ok || k1 != int(s[9]-'0') {
		return false
	}
	k2, ok := mod11(s, personWeights2[:])
	return ok && k2 == int(s[10]-'0')
}

// mod11 computes a mod-11 check digit over the leading digits of s, one per
// weight. A remainder giving 10 has no check digit: such numbers are never
// issued.
func mod11(s string, weights []int) (int, bool) {
	sum := 0
	for i, w := range weights {
		sum += int(s[i]-'0') * w
	}
	k := 11 - sum%11
	switch k {
	case 11:
		return 0, true
	case 10:
		return 0, false
	}
	return k, true
}

// validBirthDate checks the DDMMYY date of an identity number, after
// removing dayOffset (40 for D-nummer) from the day.
func validBirthDate(s string, dayOffset int) bool {
	day, _ := strconv.Atoi(s[0:2])
	month, _ := strconv.Atoi(s[2:4])
	yy, _ := strconv.Atoi(s[4:6])
	individual, _ := strconv.Atoi(s[6:9])
	day -= dayOffset
	synthetic := month > syntheticMonthOffset
	if synthetic {
		month -= syntheticMonthOffset
	}
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	century, ok := birthCentury(yy, individual)
	if !ok {
		if !synthetic {
			return false
		}
		// Synthetic numbers need not follow the individual-number ranges;
		// check the day against a leap-year-tolerant calendar instead.
		century = 2000
	}
	return day <= daysIn(century+yy, time.Month(month))
}

// birthCentury derives the century of birth from the two-digit year and the
// individual number (Skatteetaten's allocation ranges).
func birthCentury(yy, individual int) (int, bool) {
	switch {
	case individual <= 499:
		return 1900, true
	case individual <= 749 && yy >= 54:
		return 1800, true
	case yy <= 39:
		return 2000, true
	case individual >= 900:
		return 1900, true
	}
	return 0, false
}
