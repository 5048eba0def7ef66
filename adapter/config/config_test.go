package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"kjdd/adapter/store"
	"kjdd/consent"
	"kjdd/helseid"
	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	base := map[string]string{
		"KJDD_HOME_COMMUNITY_ID":    "urn:oid:2.16.578.1.12.4.5.100.1",
		"KJDD_REPOSITORY_UNIQUE_ID": "2.16.578.1.12.4.5.100.1.2",
		"KJDD_HOSPITAL_ORGNR":       "983974880",
		"KJDD_AUDIT_KEY":            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"KJDD_PUBLIC_URL":           "https://kjdd.sykehus.no",
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
		"fail/header timeout unitless":   {env: with("KJDD_READ_HEADER_TIMEOUT", "10"), wantErr: "KJDD_READ_HEADER_TIMEOUT"},
		"fail/header timeout too long":   {env: with("KJDD_READ_HEADER_TIMEOUT", "1h"), wantErr: "KJDD_READ_HEADER_TIMEOUT"},
		"fail/idle timeout zero":         {env: with("KJDD_IDLE_TIMEOUT", "0s"), wantErr: "KJDD_IDLE_TIMEOUT"},
		"fail/body rate too low":         {env: with("KJDD_MIN_BODY_RATE", "10"), wantErr: "KJDD_MIN_BODY_RATE"},
		"fail/body rate not a number":    {env: with("KJDD_MIN_BODY_RATE", "64KiB"), wantErr: "KJDD_MIN_BODY_RATE"},
		"fail/write rate off":            {env: with("KJDD_MIN_WRITE_RATE", "0"), wantErr: "KJDD_MIN_WRITE_RATE"},
		"fail/grace negative":            {env: with("KJDD_BODY_GRACE", "-1s"), wantErr: "KJDD_BODY_GRACE"},
		"ok/slow-client settings by flag": {env: base, args: []string{"--read-header-timeout", "2s", "--idle-timeout", "30s",
			"--min-body-rate", "131072", "--min-write-rate", "4096", "--body-grace", "1500ms"}, check: func(t *testing.T, c Config) {
			got := [5]any{c.ReadHeaderTimeout, c.IdleTimeout, c.MinBodyRate, c.MinWriteRate, c.BodyGrace}
			want := [5]any{Duration(2 * time.Second), Duration(30 * time.Second), int64(131072), int64(4096), Duration(1500 * time.Millisecond)}
			if got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		}},
		"ok/public URL with a prefix": {env: with("KJDD_PUBLIC_URL", "https://gw.sykehus.no/kjdd"), check: func(t *testing.T, c Config) {
			if c.PublicURL != "https://gw.sykehus.no/kjdd" {
				t.Errorf("PublicURL = %q", c.PublicURL)
			}
		}},
		"ok/public URL as a flag":     {env: with("KJDD_PUBLIC_URL", ""), args: []string{"--public-url", "https://kjdd.sykehus.no"}},
		"ok/loopback http public URL": {env: with("KJDD_PUBLIC_URL", "http://127.0.0.1:8080")},
		"ok/no public URL with DPoP optional": {env: func() map[string]string {
			m := with("KJDD_HELSEID_DPOP", "optional")
			delete(m, "KJDD_PUBLIC_URL")
			return m
		}()},
		"ok/dev needs no public URL": {env: map[string]string{"KJDD_HELSEID_DPOP": "required"}, args: []string{"--dev"}},
		"ok/credential lifetimes": {env: with("KJDD_SAML_MAX_LIFETIME", "90m"), args: []string{"--token-max-lifetime", "1h"},
			check: func(t *testing.T, c Config) {
				if c.SAMLMaxLifetime != 90*time.Minute || c.TokenMaxLifetime != time.Hour {
					t.Errorf("lifetimes = %v, %v", c.SAMLMaxLifetime, c.TokenMaxLifetime)
				}
			}},
		"ok/credential lifetime defaults": {env: base, check: func(t *testing.T, c Config) {
			if c.SAMLMaxLifetime != 8*time.Hour || c.TokenMaxLifetime != 2*time.Hour {
				t.Errorf("lifetimes = %v, %v; want 8h and 2h", c.SAMLMaxLifetime, c.TokenMaxLifetime)
			}
		}},
		"fail/saml lifetime not a duration":  {env: with("KJDD_SAML_MAX_LIFETIME", "8"), wantErr: "KJDD_SAML_MAX_LIFETIME"},
		"fail/saml lifetime zero":            {env: with("KJDD_SAML_MAX_LIFETIME", "0s"), wantErr: "KJDD_SAML_MAX_LIFETIME"},
		"fail/token lifetime negative":       {env: with("KJDD_TOKEN_MAX_LIFETIME", "-1h"), wantErr: "KJDD_TOKEN_MAX_LIFETIME"},
		"fail/token lifetime over a day":     {env: with("KJDD_TOKEN_MAX_LIFETIME", "87600h"), wantErr: "KJDD_TOKEN_MAX_LIFETIME"},
		"fail/public URL required with DPoP": {env: with("KJDD_PUBLIC_URL", ""), wantErr: "KJDD_PUBLIC_URL: required when KJDD_HELSEID_DPOP=required"},
		"fail/public URL http off loopback":  {env: with("KJDD_PUBLIC_URL", "http://kjdd.sykehus.no"), wantErr: "KJDD_PUBLIC_URL"},
		"fail/public URL relative":           {env: with("KJDD_PUBLIC_URL", "/xds"), wantErr: "KJDD_PUBLIC_URL"},
		"fail/public URL with a query":       {env: with("KJDD_PUBLIC_URL", "https://kjdd.sykehus.no/?a=b"), wantErr: "KJDD_PUBLIC_URL"},
		"fail/public URL with a fragment":    {env: with("KJDD_PUBLIC_URL", "https://kjdd.sykehus.no/#x"), wantErr: "KJDD_PUBLIC_URL"},
		"fail/public URL not http":           {env: with("KJDD_PUBLIC_URL", "ftp://kjdd.sykehus.no"), wantErr: "KJDD_PUBLIC_URL"},
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

// TestWireCacheDefaults: the configured sizes of the reader's memo and the
// writer's fragment cache default to xds's own, and are bounded.
func TestWireCacheDefaults(t *testing.T) {
	d := Default()
	if d.AssertionMemo != soap.DefaultAssertionMemoBytes || d.FragmentCache != rim.DefaultFragmentCacheBytes {
		t.Fatalf("defaults %d, %d; xds's %d, %d", d.AssertionMemo, d.FragmentCache, soap.DefaultAssertionMemoBytes, rim.DefaultFragmentCacheBytes)
	}
	for _, tc := range []struct {
		name  string
		set   func(*Config)
		valid bool
	}{
		{"KJDD_ASSERTION_MEMO_BYTES", func(c *Config) { c.AssertionMemo = 0 }, true},
		{"KJDD_ASSERTION_MEMO_BYTES", func(c *Config) { c.AssertionMemo = -1 }, false},
		{"KJDD_FRAGMENT_CACHE_BYTES", func(c *Config) { c.FragmentCache = 0 }, true},
		{"KJDD_FRAGMENT_CACHE_BYTES", func(c *Config) { c.FragmentCache = maxCacheBytes + 1 }, false},
	} {
		c := Default()
		c.Dev = true
		tc.set(&c)
		err := c.Validate()
		if tc.valid && err != nil && strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s: refused a valid value: %v", tc.name, err)
		}
		if !tc.valid && (err == nil || !strings.Contains(err.Error(), tc.name)) {
			t.Errorf("%s: an invalid value gave %v", tc.name, err)
		}
	}
}

// TestTypedValues: each value is parsed into its type when it is read.
func TestTypedValues(t *testing.T) {
	e := map[string]string{
		"KJDD_HOME_COMMUNITY_ID":    "urn:oid:2.16.578.1.12.4.5.100.1",
		"KJDD_REPOSITORY_UNIQUE_ID": "urn:oid:2.16.578.1.12.4.5.100.1.2",
		"KJDD_HOSPITAL_ORGNR":       "983974880",
		"KJDD_AUDIT_KEY":            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"KJDD_STORE":                "postgres://kjdd:hunter2@db/kjdd",
		"KJDD_EPJ_REPOSITORIES":     "urn:oid:1.2.3.4=https://epj.example/iti43",
		"KJDD_HELSEID_DPOP":         "optional",
		"KJDD_OVERRIDE_PURPOSES":    "etreat,BTG",
		"KJDD_BLOCKED_VISIBILITY":   "obfuscate",
		"KJDD_LOG_LEVEL":            "debug",
	}
	c, err := Load(nil, env(e))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct{ got, want any }{
		"store":          {c.Store, store.DSN("postgres://kjdd:hunter2@db/kjdd")},
		"store printed":  {c.Store.String(), "postgres://kjdd:xxxxx@db/kjdd"},
		"repository oid": {c.Repositories["1.2.3.4"], "https://epj.example/iti43"},
		"repository id":  {c.RepositoryUniqueID, "2.16.578.1.12.4.5.100.1.2"},
		"dpop":           {c.HelseIDDPoP, helseid.DPoPOptional},
		"purposes":       {strings.Join(c.OverridePurposes, ","), "ETREAT,BTG"},
		"visibility":     {c.BlockedVisibility, consent.VisibilityObfuscate},
		"log level":      {slog.Level(c.LogLevel), slog.LevelDebug},
		"audit key set":  {c.AuditKey.IsZero(), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("%v, want %v", tc.got, tc.want)
			}
		})
	}
	for _, format := range []string{"%v", "%+v", "%#v"} {
		if out := fmt.Sprintf(format, c); strings.Contains(out, "hunter2") || strings.Contains(out, "MDEyMzQ1") {
			t.Errorf("%s of the configuration prints a secret: %s", format, out)
		}
	}
}

// TestValidateOnlyChecks: Validate changes nothing, and catches what a
// Config built in code got wrong, naming the variable.
func TestValidateOnlyChecks(t *testing.T) {
	valid := func() Config {
		c := Default()
		c.HomeCommunityID, c.RepositoryUniqueID, c.HospitalOrgNumber = "1.2.3", "1.2.3.4", "983974880"
		c.PublicURL = "https://kjdd.sykehus.no"
		if err := c.AuditKey.UnmarshalText([]byte("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")); err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := map[string]struct {
		change  func(c *Config)
		wantErr string
	}{
		"valid":                      {change: func(*Config) {}},
		"ordinary purpose overrides": {change: func(c *Config) { c.OverridePurposes = OverridePurposes{"TREAT"} }, wantErr: "KJDD_OVERRIDE_PURPOSES"},
		"unknown visibility":         {change: func(c *Config) { c.BlockedVisibility = consent.Visibility(7) }, wantErr: "KJDD_BLOCKED_VISIBILITY"},
		"unknown dpop mode":          {change: func(c *Config) { c.HelseIDDPoP = "sometimes" }, wantErr: "KJDD_HELSEID_DPOP"},
		"store not a dsn":            {change: func(c *Config) { c.Store = "mysql://x" }, wantErr: "KJDD_STORE"},
		"listen port out of range":   {change: func(c *Config) { c.Listen = ":65536" }, wantErr: "KJDD_LISTEN"},
		"grace of zero":              {change: func(c *Config) { c.BodyGrace = 0 }, wantErr: "KJDD_BODY_GRACE"},
		"body rate of zero":          {change: func(c *Config) { c.MinBodyRate = 0 }, wantErr: "KJDD_MIN_BODY_RATE"},
		"odd log level":              {change: func(c *Config) { c.LogLevel = LogLevel(slog.LevelInfo + 2) }, wantErr: "KJDD_LOG_LEVEL"},
		"repository url not https": {change: func(c *Config) { c.Repositories = Repositories{"1.2.3.9": "http://epj.example/x"} },
			wantErr: "KJDD_EPJ_REPOSITORIES"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := valid()
			tc.change(&c)
			before := fmt.Sprintf("%#v", c)
			err := c.Validate()
			if after := fmt.Sprintf("%#v", c); after != before {
				t.Errorf("Validate changed the configuration:\n%s\n%s", before, after)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tc.wantErr)
			}
		})
	}
}

// TestLoadNeverEchoesValues: a wrong value may be a secret (a DSN with a
// password, a key); the error names the variable only.
func TestLoadNeverEchoesValues(t *testing.T) {
	const secret = "hunter2hunter2"
	for env, v := range map[string]string{
		"KJDD_STORE":       "mysql://root:" + secret + "@db/kjdd",
		"KJDD_AUDIT_KEY":   secret,
		"KJDD_MAX_RESULTS": secret,
	} {
		t.Run(env, func(t *testing.T) {
			for _, load := range []func() error{
				func() error {
					_, err := Load(nil, func(k string) string { return map[string]string{env: v}[k] })
					return err
				},
				func() error {
					_, err := Load([]string{"--" + fieldFlag(env), v}, func(string) string { return "" })
					return err
				},
			} {
				err := load()
				if err == nil || !strings.Contains(err.Error(), env) {
					t.Fatalf("error %v does not name %s", err, env)
				}
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error echoes the value: %v", err)
				}
			}
		})
	}
}

func fieldFlag(env string) string {
	for _, f := range fields() {
		if f.env == env {
			return f.flag
		}
	}
	panic(env)
}

// TestHelpLoad: --help is no error of the configuration.
func TestHelpLoad(t *testing.T) {
	if _, err := Load([]string{"--help"}, env(nil)); !errors.Is(err, ErrHelp) {
		t.Fatalf("Load(--help) = %v, want ErrHelp", err)
	}
	var b strings.Builder
	Usage(&b)
	for _, f := range fields() {
		if !strings.Contains(b.String(), "--"+f.flag) || !strings.Contains(b.String(), f.env) {
			t.Errorf("Usage lacks --%s (%s)", f.flag, f.env)
		}
	}
}
