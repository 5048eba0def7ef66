package hl7

import (
	"crypto/rand"
	"strings"
)

// urnUUIDPrefix starts every entryUUID kjdd stores.
const urnUUIDPrefix = "urn:uuid:"

// IsURNUUID reports whether s is a UUID in URN form,
// "urn:uuid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (prefix in any case). Any
// other id in a submission is symbolic.
func IsURNUUID(s string) bool {
	_, ok := ParseURNUUID(s)
	return ok
}

// ParseURNUUID decodes a urn:uuid into its 16 bytes.
func ParseURNUUID(s string) (b [16]byte, ok bool) {
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

// FormatURNUUID renders 16 bytes as a lower-case urn:uuid.
func FormatURNUUID(b [16]byte) string {
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
// default id source for rim.AssignEntryUUIDs.
func NewURNUUID() string {
	var b [16]byte
	// crypto/rand.Read never returns an error (Go 1.24+); it aborts the
	// process instead of handing out predictable ids.
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return FormatURNUUID(b)
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

// AppendURNUUID appends FormatURNUUID(b).
func AppendURNUUID(dst []byte, b [16]byte) []byte {
	dst = append(dst, urnUUIDPrefix...)
	for i, x := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[x>>4], hexDigits[x&0x0f])
	}
	return dst
}
