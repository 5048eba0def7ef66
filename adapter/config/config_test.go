package config

import (
	"strings"
	"testing"

	"kjdd/adapter/store"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	base := map[string]string{
		"KJDD_HOME_COMMUNITY_ID":    "urn:oid:2.16.578.1.12.4.5.100.1",
		"KJDD_REPOSITORY_UNIQUE_ID": "2.16.578.1.12.4.5.100.1.2",
		"KJDD_HOSPITAL_ORGNR":       "983974880",
		"KJDD_AUDIT_KEY":            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range base {
			m[a] = b
		}
		m[k] = v
		return m
	}
	tests := map[string]struct {
		env     map[string]string
		args    []string
		wantErr string // substring; empty = valid
		check   func(t *testing.T, c Config)
	}{
		"ok/defaults": {env: base, check: func(t *testing.T, c Config) {
			if c.Listen != ":8080" || c.Store != "sqlite:kjdd.db" || c.MetadataProfile != ProfileNorway || c.MaxResults != 1000 {
				t.Errorf("defaults not applied: %+v", c)
			}
			if c.HomeCommunityID != "2.16.578.1.12.4.5.100.1" {
				t.Errorf("home community id not normalised to a bare OID: %q", c.HomeCommunityID)
			}
		}},
		"ok/flag overrides env": {env: with("KJDD_LISTEN", ":9000"), args: []string{"--listen", "127.0.0.1:9100"},
			check: func(t *testing.T, c Config) {
				if c.Listen != "127.0.0.1:9100" {
					t.Errorf("Listen = %q", c.Listen)
				}
			}},
		"ok/dev fills ids": {env: map[string]string{}, args: []string{"--dev"}, check: func(t *testing.T, c Config) {
			if !c.Dev || c.HomeCommunityID != DevHomeCommunityID || c.RepositoryUniqueID != DevRepositoryUniqueID {
				t.Errorf("dev defaults not applied: %+v", c)
			}
			if c.HelseIDDPoP != DPoPOptional || c.HelseIDIssuer != "" || c.HospitalOrgNumber != DevHospitalOrgNumber {
				t.Errorf("dev identity defaults not applied: dpop=%q issuer=%q org=%q", c.HelseIDDPoP, c.HelseIDIssuer, c.HospitalOrgNumber)
			}
		}},
		"ok/dev keeps explicit dpop": {env: map[string]string{"KJDD_HELSEID_DPOP": "required"}, args: []string{"--dev"},
			check: func(t *testing.T, c Config) {
				if c.HelseIDDPoP != DPoPRequired {
					t.Errorf("HelseIDDPoP = %q", c.HelseIDDPoP)
				}
			}},
		"ok/loopback http issuer": {env: with("KJDD_HELSEID_ISSUER", "http://127.0.0.1:5000/issuer")},
		"ok/object cache off": {env: with("KJDD_OBJECT_CACHE", "0"), check: func(t *testing.T, c Config) {
			if c.ObjectCache != 0 {
				t.Errorf("ObjectCache = %d, want 0", c.ObjectCache)
			}
		}},
		"fail/http issuer not loopback": {env: with("KJDD_HELSEID_ISSUER", "http://helseid.example"), wantErr: "KJDD_HELSEID_ISSUER"},
		"fail/dpop mode":                {env: with("KJDD_HELSEID_DPOP", "sometimes"), wantErr: "KJDD_HELSEID_DPOP"},
		"fail/saml certs missing file":  {env: with("KJDD_SAML_CERTS", "/nonexistent/certs.pem"), wantErr: "KJDD_SAML_CERTS"},
		"fail/scope with space":         {env: with("KJDD_SCOPE_READ", "a b"), wantErr: "KJDD_SCOPE_READ"},
		"fail/orgnr check digit":        {env: with("KJDD_HOSPITAL_ORGNR", "983974881"), wantErr: "KJDD_HOSPITAL_ORGNR"},
		"fail/visibility":               {env: with("KJDD_BLOCKED_VISIBILITY", "blur"), wantErr: "KJDD_BLOCKED_VISIBILITY"},
		"fail/audit key short":          {env: with("KJDD_AUDIT_KEY", "c2hvcnQ="), wantErr: "KJDD_AUDIT_KEY"},
		"fail/audit key required":       {env: with("KJDD_AUDIT_KEY", ""), wantErr: "KJDD_AUDIT_KEY"},
		"ok/epj repositories": {env: with("KJDD_EPJ_REPOSITORIES", "1.2.3.4=http://127.0.0.1:1/iti43,1.2.3.5=https://epj.example/iti43"),
			check: func(t *testing.T, c Config) {
				if len(c.Repositories) != 2 {
					t.Errorf("Repositories = %v", c.Repositories)
				}
			}},
		"fail/home community required":   {env: map[string]string{"KJDD_REPOSITORY_UNIQUE_ID": "1.2.3"}, wantErr: "KJDD_HOME_COMMUNITY_ID"},
		"fail/home community not an oid": {env: with("KJDD_HOME_COMMUNITY_ID", "not-an-oid"), wantErr: "KJDD_HOME_COMMUNITY_ID"},
		"fail/repository required":       {env: map[string]string{"KJDD_HOME_COMMUNITY_ID": "1.2.3"}, wantErr: "KJDD_REPOSITORY_UNIQUE_ID"},
		"fail/store scheme":              {env: with("KJDD_STORE", "mysql://x"), wantErr: "KJDD_STORE"},
		"fail/store sqlite without path": {env: with("KJDD_STORE", "sqlite:"), wantErr: "KJDD_STORE"},
		"fail/redis scheme":              {env: with("KJDD_REDIS_URL", "http://127.0.0.1:6379"), wantErr: "KJDD_REDIS_URL"},
		"fail/listen":                    {env: with("KJDD_LISTEN", "8080"), wantErr: "KJDD_LISTEN"},
		"fail/profile":                   {env: with("KJDD_METADATA_PROFILE", "sweden"), wantErr: "KJDD_METADATA_PROFILE"},
		"fail/max results not a number":  {env: with("KJDD_MAX_RESULTS", "many"), wantErr: "KJDD_MAX_RESULTS"},
		"fail/max results zero":          {env: with("KJDD_MAX_RESULTS", "0"), wantErr: "KJDD_MAX_RESULTS"},
		"fail/object cache negative":     {env: with("KJDD_OBJECT_CACHE", "-1"), wantErr: "KJDD_OBJECT_CACHE"},
		"fail/object cache absurd":       {env: with("KJDD_OBJECT_CACHE", "900000000"), wantErr: "KJDD_OBJECT_CACHE"},
		"fail/object cache not a number": {env: with("KJDD_OBJECT_CACHE", "lots"), wantErr: "KJDD_OBJECT_CACHE"},
		"fail/body limit tiny":           {env: with("KJDD_MAX_BODY_BYTES", "10"), wantErr: "KJDD_MAX_BODY_BYTES"},
		"fail/log level":                 {env: with("KJDD_LOG_LEVEL", "loud"), wantErr: "KJDD_LOG_LEVEL"},
		"fail/epj repositories syntax":   {env: with("KJDD_EPJ_REPOSITORIES", "1.2.3.4"), wantErr: "KJDD_EPJ_REPOSITORIES"},
		"fail/epj names own repository":  {env: with("KJDD_EPJ_REPOSITORIES", "2.16.578.1.12.4.5.100.1.2=http://127.0.0.1:1/x"), wantErr: "own repository"},
		"fail/unknown flag":              {env: base, args: []string{"--no-such-flag"}, wantErr: "no-such-flag"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := Load(tc.args, env(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load() error = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load() error = %v", err)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

// TestObjectCacheDefault: the configured default is the store's own.
func TestObjectCacheDefault(t *testing.T) {
	if got := Default().ObjectCache; got != store.DefaultObjectCacheSize {
		t.Fatalf("default KJDD_OBJECT_CACHE %d, store's default %d", got, store.DefaultObjectCacheSize)
	}
}
