package epj

import (
	"maps"
	"strings"
	"testing"
)

// TestParseRepositories covers the KJDD_EPJ_REPOSITORIES syntax.
func TestParseRepositories(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    map[string]string
		wantErr string
	}{
		"empty":                    {in: "", want: map[string]string{}},
		"white space":              {in: "  ", want: map[string]string{}},
		"one":                      {in: "2.16.578.1.12.4.5.100.1.2=https://epj.example/xds/repository", want: map[string]string{"2.16.578.1.12.4.5.100.1.2": "https://epj.example/xds/repository"}},
		"two, spaced":              {in: " 1.2.3=https://a.example/r , urn:oid:1.2.4=https://b.example:8443/r?x=1", want: map[string]string{"1.2.3": "https://a.example/r", "1.2.4": "https://b.example:8443/r?x=1"}},
		"http on loopback":         {in: "1.2.3=http://127.0.0.1:8081/r,1.2.4=http://localhost/r,1.2.5=http://[::1]/r", want: map[string]string{"1.2.3": "http://127.0.0.1:8081/r", "1.2.4": "http://localhost/r", "1.2.5": "http://[::1]/r"}},
		"http elsewhere":           {in: "1.2.3=http://epj.example/r", wantErr: "http is allowed only for loopback"},
		"other scheme":             {in: "1.2.3=ftp://epj.example/r", wantErr: "must be https"},
		"no host":                  {in: "1.2.3=https:///r", wantErr: "needs a host"},
		"relative URL":             {in: "1.2.3=/r", wantErr: "needs a host"},
		"credentials in URL":       {in: "1.2.3=https://u:p@epj.example/r", wantErr: "credentials"},
		"missing equals":           {in: "1.2.3", wantErr: "want repoOID=URL"},
		"not an OID":               {in: "abc=https://epj.example/r", wantErr: "not an OID"},
		"OID with leading zero":    {in: "1.02.3=https://epj.example/r", wantErr: "not an OID"},
		"single arc":               {in: "7=https://epj.example/r", wantErr: "not an OID"},
		"empty entry":              {in: "1.2.3=https://a.example/r,,1.2.4=https://b.example/r", wantErr: "entry 2 is empty"},
		"trailing comma":           {in: "1.2.3=https://a.example/r,", wantErr: "entry 2 is empty"},
		"duplicate after prefix":   {in: "1.2.3=https://a.example/r,urn:oid:1.2.3=https://b.example/r", wantErr: "named twice"},
		"URL that does not parse":  {in: "1.2.3=https://a b/r", wantErr: "not a URL"},
		"equals sign in the query": {in: "1.2.3=https://a.example/r?k=v", want: map[string]string{"1.2.3": "https://a.example/r?k=v"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseRepositories(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzParseRepositories checks the parser never panics and that what it
// accepts is usable: valid OIDs as keys, URLs a Client keeps.
func FuzzParseRepositories(f *testing.F) {
	f.Add("2.16.578.1.12.4.5.100.1.2=https://epj.example/xds/repository")
	f.Add(" 1.2.3=https://a.example/r , urn:oid:1.2.4=http://127.0.0.1:8/r")
	f.Add("1.2.3=http://epj.example/r,,=")
	f.Fuzz(func(t *testing.T, s string) {
		repos, err := ParseRepositories(s)
		if err != nil {
			return
		}
		c := NewClient(repos, Options{})
		for oid := range repos {
			if !validOID(oid) || !c.Serves(oid) || !c.Serves("urn:oid:"+oid) {
				t.Fatalf("accepted %q but the client does not serve it", oid)
			}
		}
	})
}
