package hl7_test

import (
	"testing"

	"kjdd/xds/hl7"
)

func TestParseCX(t *testing.T) {
	tests := map[string]struct {
		in     string
		id     string
		oid    string
		wantOK bool
	}{
		"norwegian fnr":                    {in: "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO", id: "13116900216", oid: "2.16.578.1.12.4.1.4.1", wantOK: true},
		"ihe sample id":                    {in: "SELF-5^^^&1.3.6.1.4.1.21367.2005.3.7&ISO", id: "SELF-5", oid: "1.3.6.1.4.1.21367.2005.3.7", wantOK: true},
		"trailing empty components":        {in: "ST-1000^^^&1.3.6.1.4.1.21367.2003.3.9&ISO^^", id: "ST-1000", oid: "1.3.6.1.4.1.21367.2003.3.9", wantOK: true},
		"empty":                            {in: ""},
		"id only":                          {in: "13116900216"},
		"missing id":                       {in: "^^^&2.16.578.1.12.4.1.4.1&ISO"},
		"cx.2 set":                         {in: "1^2^^&2.16.578.1.12.4.1.4.1&ISO"},
		"cx.3 set":                         {in: "1^^3^&2.16.578.1.12.4.1.4.1&ISO"},
		"identifier type code (cx.5) set":  {in: "1^^^&2.16.578.1.12.4.1.4.1&ISO^PI"},
		"namespace id in assigning auth.":  {in: "1^^^NS&2.16.578.1.12.4.1.4.1&ISO"},
		"urn:oid inside hd":                {in: "1^^^&urn:oid:2.16.578.1.12.4.1.4.1&ISO"},
		"type not ISO":                     {in: "1^^^&2.16.578.1.12.4.1.4.1&DNS"},
		"hd without subcomponents":         {in: "jd12323^^^wsh"},
		"not an oid":                       {in: "1^^^&abc&ISO"},
		"ampersand in id":                  {in: "1&2^^^&2.16.578.1.12.4.1.4.1&ISO"},
		"sql injection as id still parses": {in: "'; DROP TABLE x;--^^^&1.2.3&ISO", id: "'; DROP TABLE x;--", oid: "1.2.3", wantOK: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			id, oid, ok := hl7.ParseCX(tc.in)
			if ok != tc.wantOK || id != tc.id || oid != tc.oid {
				t.Errorf("ParseCX(%q) = %q, %q, %v; want %q, %q, %v", tc.in, id, oid, ok, tc.id, tc.oid, tc.wantOK)
			}
		})
	}
}

func TestFormatCXParsesBack(t *testing.T) {
	tests := map[string]struct{ id, oid, want string }{
		"bare oid":    {id: "13116900216", oid: "2.16.578.1.12.4.1.4.1", want: "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"},
		"urn:oid oid": {id: "41116900136", oid: "urn:oid:2.16.578.1.12.4.1.4.2", want: "41116900136^^^&2.16.578.1.12.4.1.4.2&ISO"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := hl7.FormatCX(tc.id, tc.oid)
			if got != tc.want {
				t.Fatalf("FormatCX = %q, want %q", got, tc.want)
			}
			id, oid, ok := hl7.ParseCX(got)
			if !ok || id != tc.id || oid != hl7.NormalizeOID(tc.oid) {
				t.Errorf("ParseCX(FormatCX) = %q, %q, %v", id, oid, ok)
			}
		})
	}
}

func TestNormalizeOIDAndURNOID(t *testing.T) {
	tests := map[string]struct{ in, bare, urn string }{
		"bare":           {in: "2.16.578.1.12.4.1.7.1.1", bare: "2.16.578.1.12.4.1.7.1.1", urn: "urn:oid:2.16.578.1.12.4.1.7.1.1"},
		"urn":            {in: "urn:oid:2.16.578.1.12.4.5.100.1", bare: "2.16.578.1.12.4.5.100.1", urn: "urn:oid:2.16.578.1.12.4.5.100.1"},
		"upper-case urn": {in: "URN:OID:1.2.3", bare: "1.2.3", urn: "urn:oid:1.2.3"},
		"surrounding ws": {in: " urn:oid:1.2.3\n", bare: "1.2.3", urn: "urn:oid:1.2.3"},
		"empty":          {in: "", bare: "", urn: ""},
		"prefix only":    {in: "urn:oid:", bare: "", urn: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := hl7.NormalizeOID(tc.in); got != tc.bare {
				t.Errorf("NormalizeOID(%q) = %q, want %q", tc.in, got, tc.bare)
			}
			if got := hl7.URNOID(tc.in); got != tc.urn {
				t.Errorf("URNOID(%q) = %q, want %q", tc.in, got, tc.urn)
			}
		})
	}
}
