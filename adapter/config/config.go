// Package config holds kjdd's configuration: one struct with defaults, read
// from the environment (KJDD_*) with command-line flags of the same name
// overriding, and validated at start so that a wrong value fails fast with
// a message naming the variable.
package config

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"kjdd/adapter/epj"
	"kjdd/xds"
)

// Metadata profiles.
const (
	ProfileNorway = "norway" // IHE rules and the Norwegian XDS metadata profile (HIS 1169)
	ProfileIHE    = "ihe"    // IHE rules only, for interoperability testing with non-Norwegian samples
)

// Config is kjdd's configuration.
type Config struct {
	Listen             string // KJDD_LISTEN
	Store              string // KJDD_STORE: sqlite:PATH or postgres://…
	RedisURL           string // KJDD_REDIS_URL: empty = in-process caches
	HomeCommunityID    string // KJDD_HOME_COMMUNITY_ID: bare OID (urn:oid: accepted)
	RepositoryUniqueID string // KJDD_REPOSITORY_UNIQUE_ID: OID of kjdd's own repository (ITI-41 content)
	EPJRepositories    string // KJDD_EPJ_REPOSITORIES: repoOID=URL,…
	MetadataProfile    string // KJDD_METADATA_PROFILE: norway|ihe
	MaxResults         int    // KJDD_MAX_RESULTS: stored-query result limit (XDSTooManyResults)
	ObjectCache        int    // KJDD_OBJECT_CACHE: decoded registry objects kept in memory; 0 = none
	MaxBodyBytes       int64  // KJDD_MAX_BODY_BYTES: largest accepted SOAP body (MTOM parts have their own limit)
	MaxPartBytes       int64  // KJDD_MAX_PART_BYTES: largest accepted MTOM part (a document in ITI-41)
	SpoolDir           string // KJDD_SPOOL_DIR: where large MTOM parts are spooled; empty = os.TempDir()
	LogLevel           string // KJDD_LOG_LEVEL: debug|info|warn|error
	Dev                bool   // --dev: embedded defaults and demo data for a first look

	// HelseID (JWT access tokens with DPoP) and the national gateway's XUA SAML.
	HelseIDIssuer     string // KJDD_HELSEID_ISSUER
	HelseIDAudience   string // KJDD_HELSEID_AUDIENCE
	HelseIDDPoP       string // KJDD_HELSEID_DPOP: required|optional
	SAMLIssuer        string // KJDD_SAML_ISSUER
	SAMLAudience      string // KJDD_SAML_AUDIENCE
	SAMLCerts         string // KJDD_SAML_CERTS: PEM file; empty = x5c of the HelseID JWKS
	ScopeRead         string // KJDD_SCOPE_READ: query and retrieve
	ScopeRegister     string // KJDD_SCOPE_REGISTER: register, sperring API
	ScopeAudit        string // KJDD_SCOPE_AUDIT: audit API, privacy page
	HospitalOrgNumber string // KJDD_HOSPITAL_ORGNR: orgnr_parent the EPJ's client must carry
	DevKeys           string // KJDD_DEV_KEYS: where --dev keeps its issuer and SAML keys

	// Sperring and audit.
	OverridePurposes  string // KJDD_OVERRIDE_PURPOSES: comma-separated, default BTG
	BlockedVisibility string // KJDD_BLOCKED_VISIBILITY: hide|obfuscate
	AuditKey          string // KJDD_AUDIT_KEY: base64 of 32 bytes; the root of kjdd's keyed hashes and encryption

	// Repositories is EPJRepositories parsed by Validate.
	Repositories map[string]string
	// explicit records which variables the environment or a flag set.
	explicit map[string]bool
}

// field binds one configuration value to its environment variable and flag.
type field struct {
	env, flag, usage string
	set              func(c *Config, v string) error
	get              func(c *Config) string
}

func str(p func(c *Config) *string) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error { *p(c) = v; return nil }, func(c *Config) string { return *p(c) }
}

func fields() []field {
	mk := func(env, fl, usage string, p func(c *Config) *string) field {
		s, g := str(p)
		return field{env, fl, usage, s, g}
	}
	return []field{
		mk("KJDD_LISTEN", "listen", "listen address", func(c *Config) *string { return &c.Listen }),
		mk("KJDD_STORE", "store", "store: sqlite:PATH or postgres://…", func(c *Config) *string { return &c.Store }),
		mk("KJDD_REDIS_URL", "redis-url", "Redis URL; empty = in-process caches (single instance only)", func(c *Config) *string { return &c.RedisURL }),
		mk("KJDD_HOME_COMMUNITY_ID", "home-community-id", "homeCommunityId OID of this responding gateway", func(c *Config) *string { return &c.HomeCommunityID }),
		mk("KJDD_REPOSITORY_UNIQUE_ID", "repository-unique-id", "repositoryUniqueId OID of kjdd's own repository", func(c *Config) *string { return &c.RepositoryUniqueID }),
		mk("KJDD_EPJ_REPOSITORIES", "epj-repositories", "EPJ repositories for ITI-42 documents: repoOID=URL,…", func(c *Config) *string { return &c.EPJRepositories }),
		mk("KJDD_METADATA_PROFILE", "metadata-profile", "metadata validation: norway or ihe", func(c *Config) *string { return &c.MetadataProfile }),
		mk("KJDD_SPOOL_DIR", "spool-dir", "directory for spooling large MTOM parts", func(c *Config) *string { return &c.SpoolDir }),
		mk("KJDD_LOG_LEVEL", "log-level", "debug, info, warn or error", func(c *Config) *string { return &c.LogLevel }),
		mk("KJDD_HELSEID_ISSUER", "helseid-issuer", "HelseID issuer URL", func(c *Config) *string { return &c.HelseIDIssuer }),
		mk("KJDD_HELSEID_AUDIENCE", "helseid-audience", "audience kjdd's access tokens must carry", func(c *Config) *string { return &c.HelseIDAudience }),
		mk("KJDD_HELSEID_DPOP", "helseid-dpop", "DPoP: required or optional", func(c *Config) *string { return &c.HelseIDDPoP }),
		mk("KJDD_SAML_ISSUER", "saml-issuer", "issuer of the national gateway's XUA assertions", func(c *Config) *string { return &c.SAMLIssuer }),
		mk("KJDD_SAML_AUDIENCE", "saml-audience", "audience of the XUA assertions", func(c *Config) *string { return &c.SAMLAudience }),
		mk("KJDD_SAML_CERTS", "saml-certs", "PEM file of trusted SAML signing certificates", func(c *Config) *string { return &c.SAMLCerts }),
		mk("KJDD_SCOPE_READ", "scope-read", "scope for query and retrieve", func(c *Config) *string { return &c.ScopeRead }),
		mk("KJDD_SCOPE_REGISTER", "scope-register", "scope for registration and the sperring API", func(c *Config) *string { return &c.ScopeRegister }),
		mk("KJDD_SCOPE_AUDIT", "scope-audit", "scope for the audit API", func(c *Config) *string { return &c.ScopeAudit }),
		mk("KJDD_HOSPITAL_ORGNR", "hospital-orgnr", "organisation number (orgnr_parent) of this hospital", func(c *Config) *string { return &c.HospitalOrgNumber }),
		mk("KJDD_DEV_KEYS", "dev-keys", "directory of the development issuer's keys", func(c *Config) *string { return &c.DevKeys }),
		mk("KJDD_OVERRIDE_PURPOSES", "override-purposes", "purposes of use that override document-level sperring", func(c *Config) *string { return &c.OverridePurposes }),
		mk("KJDD_BLOCKED_VISIBILITY", "blocked-visibility", "hide or obfuscate blocked documents in listings", func(c *Config) *string { return &c.BlockedVisibility }),
		mk("KJDD_AUDIT_KEY", "audit-key", "base64 of 32 random bytes", func(c *Config) *string { return &c.AuditKey }),
		{"KJDD_MAX_RESULTS", "max-results", "stored-query result limit",
			func(c *Config, v string) error { n, err := strconv.Atoi(v); c.MaxResults = n; return err },
			func(c *Config) string { return strconv.Itoa(c.MaxResults) }},
		{"KJDD_OBJECT_CACHE", "object-cache", "decoded registry objects kept in memory (0 = none)",
			func(c *Config, v string) error { n, err := strconv.Atoi(v); c.ObjectCache = n; return err },
			func(c *Config) string { return strconv.Itoa(c.ObjectCache) }},
		{"KJDD_MAX_BODY_BYTES", "max-body-bytes", "largest SOAP envelope accepted",
			func(c *Config, v string) error { n, err := strconv.ParseInt(v, 10, 64); c.MaxBodyBytes = n; return err },
			func(c *Config) string { return strconv.FormatInt(c.MaxBodyBytes, 10) }},
		{"KJDD_MAX_PART_BYTES", "max-part-bytes", "largest MTOM part (document) accepted",
			func(c *Config, v string) error { n, err := strconv.ParseInt(v, 10, 64); c.MaxPartBytes = n; return err },
			func(c *Config) string { return strconv.FormatInt(c.MaxPartBytes, 10) }},
	}
}

// The store's decoded-object cache: the default is store.DefaultObjectCacheSize
// (100 to 150 MB of DocumentEntries; config_test holds the two equal), and
// the bound keeps a typo from asking for more memory than any host has.
const (
	defaultObjectCache = 50_000
	maxObjectCache     = 5_000_000
)

// Default returns the configuration with every default filled in. The
// community and repository ids have no default outside --dev: they are
// assigned by NHN or the regional health authority.
func Default() Config {
	lim := xds.DefaultLimits()
	return Config{
		Listen:          ":8080",
		Store:           "sqlite:kjdd.db",
		MetadataProfile: ProfileNorway,
		MaxResults:      1000,
		ObjectCache:     defaultObjectCache,
		MaxBodyBytes:    lim.MaxBodyBytes,
		MaxPartBytes:    lim.MaxPartBytes,
		LogLevel:        "info",

		HelseIDIssuer:     "https://helseid-sts.test.nhn.no",
		HelseIDAudience:   "nhn:kjdd",
		HelseIDDPoP:       DPoPRequired,
		SAMLIssuer:        "https://helseid-xdssaml.test.nhn.no",
		SAMLAudience:      "nhn:dokumentdeling-saml",
		ScopeRead:         "nhn:kjdd/read",
		ScopeRegister:     "nhn:kjdd/register",
		ScopeAudit:        "nhn:kjdd/audit",
		DevKeys:           ".kjdd/dev",
		OverridePurposes:  "BTG",
		BlockedVisibility: "hide",
	}
}

// DPoP modes.
const (
	DPoPRequired = "required"
	DPoPOptional = "optional"
)

// DevHomeCommunityID and DevRepositoryUniqueID are the ids --dev uses when
// none are configured: NHN's test community for hosted document sources.
const (
	DevHomeCommunityID    = "2.16.578.1.12.4.5.100.1"
	DevRepositoryUniqueID = "2.16.578.1.12.4.5.100.1.2"
)

// Load reads the environment, then args (flags of the same names), and
// validates. getenv is os.Getenv outside tests.
func Load(args []string, getenv func(string) string) (Config, error) {
	c := Default()
	c.explicit = map[string]bool{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.BoolVar(&c.Dev, "dev", false, "embedded defaults and demo data (never in production)")
	for _, f := range fields() {
		if v := getenv(f.env); v != "" {
			c.explicit[f.env] = true
			if err := f.set(&c, v); err != nil {
				return c, fmt.Errorf("%s: invalid value %q", f.env, v)
			}
		}
	}
	for _, f := range fields() {
		fs.Func(f.flag, f.usage+" ("+f.env+")", func(v string) error {
			c.explicit[f.env] = true
			if err := f.set(&c, v); err != nil {
				return fmt.Errorf("invalid value %q", v)
			}
			return nil
		})
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.Dev {
		c.applyDevDefaults()
	}
	return c, c.Validate()
}

// applyDevDefaults fills what --dev needs for a first look without any
// configuration; explicit values win.
func (c *Config) applyDevDefaults() {
	if c.HomeCommunityID == "" {
		c.HomeCommunityID = DevHomeCommunityID
	}
	if c.RepositoryUniqueID == "" {
		c.RepositoryUniqueID = DevRepositoryUniqueID
	}
	// --dev serves its own issuer; serve sets the URL once the listener's
	// address is known. Plain curl examples work with optional DPoP.
	if !c.explicit["KJDD_HELSEID_ISSUER"] {
		c.HelseIDIssuer = ""
	}
	if !c.explicit["KJDD_HELSEID_DPOP"] {
		c.HelseIDDPoP = DPoPOptional
	}
	if c.HospitalOrgNumber == "" {
		c.HospitalOrgNumber = DevHospitalOrgNumber
	}
}

// DevHospitalOrgNumber is the organisation number --dev's tokens carry
// (a synthetic, check-digit-valid number).
const DevHospitalOrgNumber = "999999999"

// Validate checks the configuration; each message names the variable.
func (c *Config) Validate() error {
	var errs []error
	bad := func(env, msg string) { errs = append(errs, fmt.Errorf("%s: %s", env, msg)) }

	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("KJDD_LISTEN", "must be host:port or :port")
	}
	switch {
	case strings.HasPrefix(c.Store, "sqlite:") && len(c.Store) > len("sqlite:"):
	case strings.HasPrefix(c.Store, "postgres://"), strings.HasPrefix(c.Store, "postgresql://"):
		if _, err := url.Parse(c.Store); err != nil {
			bad("KJDD_STORE", "not a valid postgres URL")
		}
	default:
		bad("KJDD_STORE", "must be sqlite:PATH or postgres://…")
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			bad("KJDD_REDIS_URL", "must be redis://… or rediss://…")
		}
	}
	c.HomeCommunityID = xds.NormalizeOID(c.HomeCommunityID)
	c.RepositoryUniqueID = xds.NormalizeOID(c.RepositoryUniqueID)
	if c.HomeCommunityID == "" {
		bad("KJDD_HOME_COMMUNITY_ID", "required (the OID NHN or the RHF assigned to this community)")
	} else if !xds.ValidOID(c.HomeCommunityID) {
		bad("KJDD_HOME_COMMUNITY_ID", "not a valid OID")
	}
	if c.RepositoryUniqueID == "" {
		bad("KJDD_REPOSITORY_UNIQUE_ID", "required (the OID of kjdd's own repository)")
	} else if !xds.ValidOID(c.RepositoryUniqueID) {
		bad("KJDD_REPOSITORY_UNIQUE_ID", "not a valid OID")
	}
	repos, err := epj.ParseRepositories(c.EPJRepositories)
	if err != nil {
		bad("KJDD_EPJ_REPOSITORIES", err.Error())
	}
	c.Repositories = repos
	if _, ok := repos[c.RepositoryUniqueID]; ok && c.RepositoryUniqueID != "" {
		bad("KJDD_EPJ_REPOSITORIES", "must not name kjdd's own repository")
	}
	if c.MetadataProfile != ProfileNorway && c.MetadataProfile != ProfileIHE {
		bad("KJDD_METADATA_PROFILE", "must be norway or ihe")
	}
	if c.MaxResults < 1 {
		bad("KJDD_MAX_RESULTS", "must be at least 1")
	}
	if c.ObjectCache < 0 || c.ObjectCache > maxObjectCache {
		bad("KJDD_OBJECT_CACHE", "must be between 0 and "+strconv.Itoa(maxObjectCache))
	}
	if c.MaxBodyBytes < 1024 {
		bad("KJDD_MAX_BODY_BYTES", "must be at least 1024")
	}
	if c.MaxPartBytes < 1024 {
		bad("KJDD_MAX_PART_BYTES", "must be at least 1024")
	}
	if c.HelseIDIssuer != "" || !c.Dev {
		if err := checkIssuerURL(c.HelseIDIssuer); err != nil {
			bad("KJDD_HELSEID_ISSUER", err.Error())
		}
	}
	if err := checkIssuerURL(c.SAMLIssuer); err != nil && !strings.HasPrefix(c.SAMLIssuer, "urn:") {
		bad("KJDD_SAML_ISSUER", err.Error())
	}
	if c.HelseIDAudience == "" {
		bad("KJDD_HELSEID_AUDIENCE", "required")
	}
	if c.SAMLAudience == "" {
		bad("KJDD_SAML_AUDIENCE", "required")
	}
	if c.HelseIDDPoP != DPoPRequired && c.HelseIDDPoP != DPoPOptional {
		bad("KJDD_HELSEID_DPOP", "must be required or optional")
	}
	if c.SAMLCerts != "" {
		if _, err := os.Stat(c.SAMLCerts); err != nil {
			bad("KJDD_SAML_CERTS", "cannot read the file")
		}
	}
	for env, v := range map[string]string{"KJDD_SCOPE_READ": c.ScopeRead, "KJDD_SCOPE_REGISTER": c.ScopeRegister, "KJDD_SCOPE_AUDIT": c.ScopeAudit} {
		if v == "" || strings.ContainsAny(v, " \t,") {
			bad(env, "must be one scope name")
		}
	}
	if c.HospitalOrgNumber == "" {
		bad("KJDD_HOSPITAL_ORGNR", "required (the organisation number the EPJ's HelseID client carries as orgnr_parent)")
	} else if !xds.ValidOrgNumber(c.HospitalOrgNumber) {
		bad("KJDD_HOSPITAL_ORGNR", "not a valid organisation number")
	}
	if c.BlockedVisibility != "hide" && c.BlockedVisibility != "obfuscate" {
		bad("KJDD_BLOCKED_VISIBILITY", "must be hide or obfuscate")
	}
	if strings.TrimSpace(c.OverridePurposes) == "" && c.explicit["KJDD_OVERRIDE_PURPOSES"] {
		// An explicitly empty list is allowed: no purpose overrides.
		c.OverridePurposes = ""
	}
	if c.AuditKey != "" {
		if k, err := base64.StdEncoding.DecodeString(c.AuditKey); err != nil || len(k) != 32 {
			bad("KJDD_AUDIT_KEY", "must be base64 of exactly 32 bytes")
		}
	} else if !c.Dev {
		bad("KJDD_AUDIT_KEY", "required (base64 of 32 random bytes, the same on every instance)")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("KJDD_LOG_LEVEL", "must be debug, info, warn or error")
	}
	return errors.Join(errs...)
}

// Limits returns the wire limits for this configuration.
func (c *Config) Limits() xds.Limits {
	lim := xds.DefaultLimits()
	lim.MaxBodyBytes = c.MaxBodyBytes
	lim.MaxPartBytes = c.MaxPartBytes
	if c.SpoolDir != "" {
		lim.SpoolDir = c.SpoolDir
	}
	return lim
}

// checkIssuerURL accepts https URLs, and http only for loopback hosts
// (tests and the development issuer).
func checkIssuerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return errors.New("must be an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return nil
		}
		return errors.New("http:// is accepted only for loopback hosts")
	default:
		return errors.New("must be https://")
	}
}

// Explicit reports whether the environment or a flag set the variable env.
func (c *Config) Explicit(env string) bool { return c.explicit[env] }
