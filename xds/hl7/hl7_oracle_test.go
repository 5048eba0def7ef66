package hl7

import (
	"strconv"
	"strings"
	"testing"
)

// splitParseCX and splitValidOID are ParseCX and ValidOID as first
// written, with strings.Split: the oracle for the allocation-free versions.
func splitParseCX(s string) (string, string, bool) {
	parts := strings.Split(s, "^")
	if len(parts) < 4 || parts[0] == "" || parts[1] != "" || parts[2] != "" || strings.Contains(parts[0], "&") {
		return "", "", false
	}
	for _, p := range parts[4:] {
		if p != "" {
			return "", "", false
		}
	}
	hd := strings.Split(parts[3], "&")
	if len(hd) != 3 || hd[0] != "" || hd[2] != "ISO" || !splitValidOID(hd[1]) {
		return "", "", false
	}
	return parts[0], hd[1], true
}

func splitValidOID(s string) bool {
	if s == "" || len(s) > MaxOIDLength {
		return false
	}
	arcs := strings.Split(s, ".")
	if len(arcs) < 2 {
		return false
	}
	for _, arc := range arcs {
		if arc == "" || !AllDigits(arc) || (len(arc) > 1 && arc[0] == '0') {
			return false
		}
	}
	switch arcs[0] {
	case "0", "1":
		second, err := strconv.Atoi(arcs[1])
		return err == nil && second <= 39
	case "2":
		return true
	}
	return false
}

var cxEdgeCases = []string{
	"13116900216^^^&2.16.578.1.12.4.1.4.1&ISO", "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO^", "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO^^^",
	"13116900216^^^&2.16.578.1.12.4.1.4.1&ISO^NNNOR", "1^^^&2.5&ISO&x", "1^^^&2.5&ISO", "1^^^&1.40&ISO", "1^^^&1.39&ISO", "1^^^x&2.5&ISO",
	"^^^&2.5&ISO", "1&2^^^&2.5&ISO", "1^x^^&2.5&ISO", "1^^^", "1^^", "", "1^^^&&ISO", "1^^^&2&ISO", "1^^^&2.&ISO", "1^^^&.2&ISO",
	"1^^^&2..5&ISO", "1^^^&2.05&ISO", "1^^^&3.5&ISO", "1^^^&0.0&ISO", "1^^^&2.5&iso", "1^^^&urn:oid:2.5&ISO", "1^^^&2.5&ISO^^x",
}

func TestParseCXMatchesSplit(t *testing.T) {
	for _, s := range cxEdgeCases {
		id, oid, ok := ParseCX(s)
		wid, woid, wok := splitParseCX(s)
		if id != wid || oid != woid || ok != wok {
			t.Errorf("ParseCX(%q) = %q %q %v, want %q %q %v", s, id, oid, ok, wid, woid, wok)
		}
	}
}

func FuzzParseCXMatchesSplit(f *testing.F) {
	for _, s := range cxEdgeCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, oid, ok := ParseCX(s)
		wid, woid, wok := splitParseCX(s)
		if id != wid || oid != woid || ok != wok {
			t.Fatalf("ParseCX(%q) = %q %q %v, want %q %q %v", s, id, oid, ok, wid, woid, wok)
		}
		if ValidOID(s) != splitValidOID(s) {
			t.Fatalf("ValidOID(%q) = %v", s, ValidOID(s))
		}
	})
}
