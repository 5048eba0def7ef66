package epj

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ParseRepositories parses KJDD_EPJ_REPOSITORIES: comma-separated
// repoOID=URL entries, e.g.
//
//	2.16.578.1.12.4.5.100.1.2=https://epj.sykehus.no/xds/repository
//
// An OID may carry the urn:oid: prefix; keys of the result are bare OIDs.
// URLs must be absolute https URLs; http is accepted only for loopback
// hosts, as for the HelseID issuer: documents of patients do not travel
// unencrypted. An empty string is no repositories.
func ParseRepositories(s string) (map[string]string, error) {
	repos := make(map[string]string)
	if strings.TrimSpace(s) == "" {
		return repos, nil
	}
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("entry %d is empty", i+1)
		}
		oid, rawURL, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, fmt.Errorf("entry %d: want repoOID=URL", i+1)
		}
		oid = normalizeOID(oid)
		if !validOID(oid) {
			return nil, fmt.Errorf("entry %d: %q is not an OID", i+1, oid)
		}
		u, err := repositoryURL(strings.TrimSpace(rawURL))
		if err != nil {
			return nil, fmt.Errorf("entry %d (%s): %w", i+1, oid, err)
		}
		if _, dup := repos[oid]; dup {
			return nil, fmt.Errorf("entry %d: repository %s is named twice", i+1, oid)
		}
		repos[oid] = u.String()
	}
	return repos, nil
}

// repositoryURL checks the URL of one repository.
func repositoryURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("not a URL")
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, errors.New("the URL needs a host")
	}
	if u.User != nil || u.Fragment != "" {
		return nil, errors.New("the URL must not carry credentials or a fragment")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, errors.New("http is allowed only for loopback hosts; use https")
		}
	default:
		return nil, errors.New("the URL must be https")
	}
	return u, nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// normalizeOID trims white space and a urn:oid: prefix.
func normalizeOID(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 8 && strings.EqualFold(s[:8], "urn:oid:") {
		s = s[8:]
	}
	return s
}

// validOID reports whether s is a dotted OID of at least two arcs, without
// leading zeros, as ISO/IEC 8824 writes them.
func validOID(s string) bool {
	arcs := strings.Split(s, ".")
	if len(arcs) < 2 || len(s) > 64 {
		return false
	}
	for _, a := range arcs {
		if a == "" || (len(a) > 1 && a[0] == '0') {
			return false
		}
		for i := 0; i < len(a); i++ {
			if a[i] < '0' || a[i] > '9' {
				return false
			}
		}
	}
	return arcs[0] == "0" || arcs[0] == "1" || arcs[0] == "2"
}
