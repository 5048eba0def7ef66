package validate

import (
	"mime"
	"strings"
	"unicode/utf8"
)

// Field checks of metadata validation that are no HL7 v2 datatype.

// Limits from ITI TF-3 (DocumentEntry.uniqueId length) and the 2010
// Connectathon change of uniqueId from 64 to 128 characters.
const (
	maxUniqueIDLength = 128
	maxTitleLength    = 128
)

// dtmNotAfter reports whether timestamp a is not later than b, comparing them
// at the precision both carry (ITI TF-3 compares serviceStartTime and
// serviceStopTime that way).
func dtmNotAfter(a, b string) bool {
	n := min(len(a), len(b))
	return a[:n] <= b[:n]
}

// validMimeType reports whether s is a media type (type/subtype, parameters
// allowed).
func validMimeType(s string) bool {
	mt, _, err := mime.ParseMediaType(s)
	if err != nil {
		return false
	}
	slash := strings.IndexByte(mt, '/')
	return slash > 0 && slash < len(mt)-1
}

// validLanguageCode reports whether s has the shape of an RFC 5646 language
// tag ("nb-NO", "en-us"): a 2-8 letter primary subtag and alphanumeric
// subtags of 1-8 characters.
func validLanguageCode(s string) bool {
	for i, sub := range strings.Split(s, "-") {
		if len(sub) < 1 || len(sub) > 8 {
			return false
		}
		for _, r := range sub {
			letter := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
			if i == 0 && !letter {
				return false
			}
			if !letter && (r < '0' || r > '9') {
				return false
			}
		}
		if i == 0 && len(sub) < 2 {
			return false
		}
	}
	return true
}

// validSHA1Hex reports whether s is a hex-encoded SHA-1 digest.
func validSHA1Hex(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// hasURNUUIDPrefix reports whether s claims to be a urn:uuid (whether or not the
// UUID is well formed).
func hasURNUUIDPrefix(s string) bool {
	return len(s) >= 9 && strings.EqualFold(s[:9], "urn:uuid:")
}

// tooLong reports whether s has more than n characters (Unicode code points).
func tooLong(s string, n int) bool {
	return len(s) > n && utf8.RuneCountInString(s) > n
}
