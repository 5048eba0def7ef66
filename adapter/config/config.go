// Package config holds kjdd's configuration: one struct with defaults, read
// from the environment (KJDD_*) with command-line flags of the same name
// overriding, and validated at start so that a wrong value fails fast with
// a message naming the variable.
package config

import (
	"encoding"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"kjdd/adapter/epj"
	"kjdd/adapter/keys"
	"kjdd/adapter/store"
	"kjdd/consent"
	"kjdd/helseid"
	"kjdd/xds/hl7"
	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

// Metadata profiles.
const (
	ProfileNorway = "norway" // IHE rules and the Norwegian XDS metadata profile (HIS 1169)
	ProfileIHE    = "ihe"    // IHE rules only, for interoperability testing with non-Norwegian samples
)

// Config is kjdd's configuration. Every value is parsed into its type once,
// when it is read (Load); Validate then only checks.
type Config struct {
	Listen             string       // KJDD_LISTEN: host:port
	Store              store.DSN    // KJDD_STORE: sqlite:PATH or postgres://…
	RedisURL           string       // KJDD_REDIS_URL: empty = in-process caches
	HomeCommunityID    string       // KJDD_HOME_COMMUNITY_ID: bare OID (urn:oid: is taken off when read)
	RepositoryUniqueID string       // KJDD_REPOSITORY_UNIQUE_ID: OID of kjdd's own repository (ITI-41 content)
	Repositories       Repositories // KJDD_EPJ_REPOSITORIES: repoOID=URL,…
	MetadataProfile    string       // KJDD_METADATA_PROFILE: norway|ihe
	MaxResults         int          // KJDD_MAX_RESULTS: stored-query result limit (XDSTooManyResults)
	ObjectCache        int          // KJDD_OBJECT_CACHE: decoded registry objects kept in memory; 0 = none
	AssertionMemo      int          // KJDD_ASSERTION_MEMO_BYTES: the SOAP reader's memo of assertions passed before; 0 = none
	FragmentCache      int          // KJDD_FRAGMENT_CACHE_BYTES: the writer's cache of rendered registry objects; 0 = none
	MaxBodyBytes       int64        // KJDD_MAX_BODY_BYTES: largest accepted SOAP body (MTOM parts have their own limit)
	MaxPartBytes       int64        // KJDD_MAX_PART_BYTES: largest accepted MTOM part (a document in ITI-41)
	SpoolDir           string       // KJDD_SPOOL_DIR: where large MTOM parts are spooled; empty = os.TempDir()
	LogLevel           LogLevel     // KJDD_LOG_LEVEL: debug|info|warn|error

	// Slow clients (adapter/httpguard): header and idle timeouts of the
	// server, and the minimum rates of request bodies and answers.
	ReadHeaderTimeout Duration // KJDD_READ_HEADER_TIMEOUT: the request line and headers
	IdleTimeout       Duration // KJDD_IDLE_TIMEOUT: a keep-alive connection between requests
	MinBodyRate       int64    // KJDD_MIN_BODY_RATE: bytes/s a request body must keep up
	MinWriteRate      int64    // KJDD_MIN_WRITE_RATE: bytes/s a client must read an answer at
	BodyGrace         Duration // KJDD_BODY_GRACE: waiting allowed before the rates apply
	Dev               bool     // --dev: embedded defaults and demo data for a first look

	// HelseID (JWT access tokens with DPoP) and the national gateway's XUA SAML.
	HelseIDIssuer     string           // KJDD_HELSEID_ISSUER
	HelseIDAudience   string           // KJDD_HELSEID_AUDIENCE
	HelseIDDPoP       helseid.DPoPMode // KJDD_HELSEID_DPOP: required|optional
	PublicURL         string           // KJDD_PUBLIC_URL: kjdd's external base URL, what DPoP proofs' htu is compared with
	SAMLIssuer        string           // KJDD_SAML_ISSUER
	SAMLAudience      string           // KJDD_SAML_AUDIENCE
	SAMLCerts         string           // KJDD_SAML_CERTS: PEM file; empty = x5c of the HelseID JWKS
	SAMLMaxLifetime   time.Duration    // KJDD_SAML_MAX_LIFETIME: longest XUA assertion lifetime accepted
	TokenMaxLifetime  time.Duration    // KJDD_TOKEN_MAX_LIFETIME: longest access token lifetime accepted
	ScopeRead         string           // KJDD_SCOPE_READ: query and retrieve
	ScopeRegister     string           // KJDD_SCOPE_REGISTER: register, sperring API
	ScopeAudit        string           // KJDD_SCOPE_AUDIT: audit API, privacy page
	HospitalOrgNumber string           // KJDD_HOSPITAL_ORGNR: orgnr_parent the EPJ's client must carry
	DevKeys           string           // KJDD_DEV_KEYS: where --dev keeps its issuer and SAML keys

	// Sperring and audit.
	OverridePurposes  OverridePurposes   // KJDD_OVERRIDE_PURPOSES: comma-separated, default BTG
	BlockedVisibility consent.Visibility // KJDD_BLOCKED_VISIBILITY: hide|obfuscate
	AuditKey          keys.Root          // KJDD_AUDIT_KEY: base64 of 32 bytes; the root of kjdd's keyed hashes and encryption

	// explicit records which variables the environment or a flag set.
	explicit map[string]bool
}

// Repositories is KJDD_EPJ_REPOSITORIES: repository OID (bare) to the URL
// of its ITI-43 endpoint.
type Repositories map[string]string

// UnmarshalText reads repoOID=URL,… (epj.ParseRepositories).
func (r *Repositories) UnmarshalText(b []byte) error {
	repos, err := epj.ParseRepositories(string(b))
	if err != nil {
		return err
	}
	*r = repos
	return nil
}

// String lists the repositories as they are written.
func (r Repositories) String() string {
	parts := make([]string, 0, len(r))
	for oid, u := range r {
		parts = append(parts, oid+"="+u)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// OverridePurposes is KJDD_OVERRIDE_PURPOSES: the purposes of use that
// override document-level sperring.
type OverridePurposes []string

// UnmarshalText reads a comma-separated list (consent.ParseOverridePurposes:
// only ETREAT and BTG); empty is none.
func (p *OverridePurposes) UnmarshalText(b []byte) error {
	purposes, err := consent.ParseOverridePurposes(string(b))
	if err != nil {
		return err
	}
	*p = purposes
	return nil
}

func (p OverridePurposes) String() string { return strings.Join(p, ",") }

// LogLevel is KJDD_LOG_LEVEL: one of the four slog levels by name.
type LogLevel slog.Level

// UnmarshalText accepts debug, info, warn and error (slog's own parser
// would also take offsets such as "info+2").
func (l *LogLevel) UnmarshalText(b []byte) error {
	switch s := string(b); s {
	case "debug", "info", "warn", "error":
		var lvl slog.Level
		if err := lvl.UnmarshalText(b); err != nil {
			return err
		}
		*l = LogLevel(lvl)
		return nil
	}
	return errors.New("must be debug, info, warn or error")
}

func (l LogLevel) String() string { return strings.ToLower(slog.Level(l).String()) }

// Duration is a time.Duration written as Go writes it (10s, 1m30s).
type Duration time.Duration

// UnmarshalText reads a Go duration; a bare number is refused, since its
// unit would be a guess.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return errors.New("must be a duration such as 10s or 1m")
	}
	*d = Duration(v)
	return nil
}

func (d Duration) String() string { return time.Duration(d).String() }

// field binds one configuration value to its environment variable and flag.
type field struct {
	env, flag, usage string
	// dev is the default under --dev, when it differs.
	dev string
	set func(c *Config, v string) error
	get func(c *Config) string
}

func str(env, fl, usage string, p func(c *Config) *string) field {
	return field{env: env, flag: fl, usage: usage,
		set: func(c *Config, v string) error { *p(c) = v; return nil },
		get: func(c *Config) string { return *p(c) }}
}

// text binds a value that reads itself.
func text[T encoding.TextUnmarshaler](env, fl, usage string, p func(c *Config) T, show func(c *Config) string) field {
	return field{env: env, flag: fl, usage: usage,
		set: func(c *Config, v string) error { return p(c).UnmarshalText([]byte(v)) },
		get: show}
}

func integer[T int | int64](env, fl, usage string, p func(c *Config) *T) field {
	return field{env: env, flag: fl, usage: usage,
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || int64(T(n)) != n {
				return errors.New("must be a whole number")
			}
			*p(c) = T(n)
			return nil
		},
		get: func(c *Config) string { return strconv.FormatInt(int64(*p(c)), 10) }}
}

// duration binds a time.Duration written as Go writes one (90m, 8h).
func duration(env, fl, usage string, p func(c *Config) *time.Duration) field {
	return field{env: env, flag: fl, usage: usage,
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return errors.New("must be a duration such as 90m or 8h")
			}
			*p(c) = d
			return nil
		},
		get: func(c *Config) string { return shortDuration(*p(c)) }}
}

// shortDuration writes 8h rather than 8h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// oid binds an OID, kept bare: the urn:oid: prefix is accepted and taken off.
func oid(env, fl, usage string, p func(c *Config) *string) field {
	f := str(env, fl, usage, p)
	f.set = func(c *Config, v string) error { *p(c) = hl7.NormalizeOID(v); return nil }
	return f
}

func fields() []field {
	withDev := func(f field, dev string) field { f.dev = dev; return f }
	return []field{
		str("KJDD_LISTEN", "listen", "listen address (host:port)", func(c *Config) *string { return &c.Listen }),
		text("KJDD_STORE", "store", "store: sqlite:PATH or postgres://…", func(c *Config) *store.DSN { return &c.Store },
			func(c *Config) string { return c.Store.String() }),
		str("KJDD_REDIS_URL", "redis-url", "Redis URL; empty = in-process caches (single instance only)", func(c *Config) *string { return &c.RedisURL }),
		withDev(oid("KJDD_HOME_COMMUNITY_ID", "home-community-id", "homeCommunityId OID of this responding gateway", func(c *Config) *string { return &c.HomeCommunityID }), DevHomeCommunityID),
		withDev(oid("KJDD_REPOSITORY_UNIQUE_ID", "repository-unique-id", "repositoryUniqueId OID of kjdd's own repository", func(c *Config) *string { return &c.RepositoryUniqueID }), DevRepositoryUniqueID),
		text("KJDD_EPJ_REPOSITORIES", "epj-repositories", "EPJ repositories for ITI-42 documents: repoOID=URL,…", func(c *Config) *Repositories { return &c.Repositories },
			func(c *Config) string { return c.Repositories.String() }),
		str("KJDD_METADATA_PROFILE", "metadata-profile", "metadata validation: norway or ihe", func(c *Config) *string { return &c.MetadataProfile }),
		str("KJDD_SPOOL_DIR", "spool-dir", "directory for spooling large MTOM parts (empty: the system's)", func(c *Config) *string { return &c.SpoolDir }),
		text("KJDD_LOG_LEVEL", "log-level", "debug, info, warn or error", func(c *Config) *LogLevel { return &c.LogLevel },
			func(c *Config) string { return c.LogLevel.String() }),
		withDev(str("KJDD_HELSEID_ISSUER", "helseid-issuer", "HelseID issuer URL", func(c *Config) *string { return &c.HelseIDIssuer }), "kjdd's own"),
		str("KJDD_HELSEID_AUDIENCE", "helseid-audience", "audience kjdd's access tokens must carry", func(c *Config) *string { return &c.HelseIDAudience }),
		withDev(text("KJDD_HELSEID_DPOP", "helseid-dpop", "DPoP: required or optional", func(c *Config) *helseid.DPoPMode { return &c.HelseIDDPoP },
			func(c *Config) string { return string(c.HelseIDDPoP) }), string(DPoPOptional)),
		withDev(str("KJDD_PUBLIC_URL", "public-url", "kjdd's external base URL (https://host[/prefix]) that DPoP proofs name; required when DPoP is required",
			func(c *Config) *string { return &c.PublicURL }), "http://<listen address>"),
		str("KJDD_SAML_ISSUER", "saml-issuer", "issuer of the national gateway's XUA assertions", func(c *Config) *string { return &c.SAMLIssuer }),
		str("KJDD_SAML_AUDIENCE", "saml-audience", "audience of the XUA assertions", func(c *Config) *string { return &c.SAMLAudience }),
		str("KJDD_SAML_CERTS", "saml-certs", "PEM file of trusted SAML signing certificates (empty: the x5c of the HelseID JWKS)", func(c *Config) *string { return &c.SAMLCerts }),
		duration("KJDD_SAML_MAX_LIFETIME", "saml-max-lifetime", "longest lifetime of an XUA assertion accepted (NotBefore/IssueInstant to NotOnOrAfter; at most 24h)",
			func(c *Config) *time.Duration { return &c.SAMLMaxLifetime }),
		duration("KJDD_TOKEN_MAX_LIFETIME", "token-max-lifetime", "longest lifetime of a HelseID access token accepted (iat/nbf to exp; at most 24h)",
			func(c *Config) *time.Duration { return &c.TokenMaxLifetime }),
		str("KJDD_SCOPE_READ", "scope-read", "scope for query and retrieve", func(c *Config) *string { return &c.ScopeRead }),
		str("KJDD_SCOPE_REGISTER", "scope-register", "scope for registration and the sperring API", func(c *Config) *string { return &c.ScopeRegister }),
		str("KJDD_SCOPE_AUDIT", "scope-audit", "scope for the audit API", func(c *Config) *string { return &c.ScopeAudit }),
		withDev(str("KJDD_HOSPITAL_ORGNR", "hospital-orgnr", "organisation number (orgnr_parent) of this hospital", func(c *Config) *string { return &c.HospitalOrgNumber }), DevHospitalOrgNumber),
		str("KJDD_DEV_KEYS", "dev-keys", "directory of the development issuer's keys", func(c *Config) *string { return &c.DevKeys }),
		text("KJDD_OVERRIDE_PURPOSES", "override-purposes", "purposes of use that override document-level sperring (ETREAT, BTG)", func(c *Config) *OverridePurposes { return &c.OverridePurposes },
			func(c *Config) string { return c.OverridePurposes.String() }),
		text("KJDD_BLOCKED_VISIBILITY", "blocked-visibility", "hide or obfuscate blocked documents in listings", func(c *Config) *consent.Visibility { return &c.BlockedVisibility },
			func(c *Config) string { return c.BlockedVisibility.String() }),
		withDev(text("KJDD_AUDIT_KEY", "audit-key", "base64 of 32 random bytes, the same on every instance", func(c *Config) *keys.Root { return &c.AuditKey },
			func(c *Config) string { return c.AuditKey.String() }), "made on first use in KJDD_DEV_KEYS"),
		integer("KJDD_MAX_RESULTS", "max-results", "stored-query result limit", func(c *Config) *int { return &c.MaxResults }),
		integer("KJDD_OBJECT_CACHE", "object-cache", "decoded registry objects kept in memory (0 = none)", func(c *Config) *int { return &c.ObjectCache }),
		integer("KJDD_ASSERTION_MEMO_BYTES", "assertion-memo-bytes", "bytes of XUA assertions the SOAP reader remembers having checked (0 = none)", func(c *Config) *int { return &c.AssertionMemo }),
		integer("KJDD_FRAGMENT_CACHE_BYTES", "fragment-cache-bytes", "bytes of rendered registry objects kept for reuse (0 = none)", func(c *Config) *int { return &c.FragmentCache }),
		integer("KJDD_MAX_BODY_BYTES", "max-body-bytes", "largest SOAP envelope accepted", func(c *Config) *int64 { return &c.MaxBodyBytes }),
		text("KJDD_READ_HEADER_TIMEOUT", "read-header-timeout", "time a client has to send the request line and headers", func(c *Config) *Duration { return &c.ReadHeaderTimeout },
			func(c *Config) string { return c.ReadHeaderTimeout.String() }),
		text("KJDD_IDLE_TIMEOUT", "idle-timeout", "how long a keep-alive connection may wait for its next request", func(c *Config) *Duration { return &c.IdleTimeout },
			func(c *Config) string { return c.IdleTimeout.String() }),
		integer("KJDD_MIN_BODY_RATE", "min-body-rate", "bytes/s below which a request body is cut off (408) after the grace", func(c *Config) *int64 { return &c.MinBodyRate }),
		integer("KJDD_MIN_WRITE_RATE", "min-write-rate", "bytes/s below which a client reading an answer is cut off after the grace", func(c *Config) *int64 { return &c.MinWriteRate }),
		text("KJDD_BODY_GRACE", "body-grace", "waiting for a client allowed on top of the minimum rates", func(c *Config) *Duration { return &c.BodyGrace },
			func(c *Config) string { return c.BodyGrace.String() }),
		integer("KJDD_MAX_PART_BYTES", "max-part-bytes", "largest MTOM part (document) accepted", func(c *Config) *int64 { return &c.MaxPartBytes }),
	}
}

// The store's decoded-object cache: the default is store.DefaultObjectCacheSize
// (100 to 150 MB of DocumentEntries; config_test holds the two equal), and
// the bound keeps a typo from asking for more memory than any host has.
const (
	defaultObjectCache = 50_000
	maxObjectCache     = 5_000_000
)

// The byte-bounded caches of the wire (xds): their defaults are xds's own
// (config_test holds them equal); the bound keeps a typo from asking for
// more memory than any host has.
const maxCacheBytes = 4 << 30

// DefaultMinRate is the default minimum rate of request bodies and
// answers: 64 KiB/s, at which a 100 MB document takes 26 minutes, far
// slower than any client on the national network moves one, and far
// faster than a client that means to hold a connection.
const DefaultMinRate = 64 << 10

// Bounds of the slow-client settings: a minimum rate under 1 KiB/s or a
// grace or header timeout over five minutes is a slow client's gift.
const (
	minRateFloor = 1 << 10
	maxWait      = 5 * time.Minute
)

// Default returns the configuration with every default filled in. The
// community and repository ids have no default outside --dev: they are
// assigned by NHN or the regional health authority.
func Default() Config {
	lim := soap.DefaultLimits()
	return Config{
		Listen:          ":8080",
		Store:           "sqlite:kjdd.db",
		MetadataProfile: ProfileNorway,
		MaxResults:      1000,
		ObjectCache:     defaultObjectCache,
		AssertionMemo:   soap.DefaultAssertionMemoBytes,
		FragmentCache:   rim.DefaultFragmentCacheBytes,
		MaxBodyBytes:    lim.MaxBodyBytes,
		MaxPartBytes:    lim.MaxPartBytes,
		LogLevel:        LogLevel(slog.LevelInfo),

		ReadHeaderTimeout: Duration(10 * time.Second),
		IdleTimeout:       Duration(75 * time.Second),
		MinBodyRate:       DefaultMinRate,
		MinWriteRate:      DefaultMinRate,
		BodyGrace:         Duration(5 * time.Second),

		HelseIDIssuer:     "https://helseid-sts.test.nhn.no",
		HelseIDAudience:   "nhn:kjdd",
		HelseIDDPoP:       DPoPRequired,
		SAMLIssuer:        "https://helseid-xdssaml.test.nhn.no",
		SAMLAudience:      "nhn:dokumentdeling-saml",
		SAMLMaxLifetime:   helseid.DefaultSAMLMaxLifetime,
		TokenMaxLifetime:  helseid.DefaultTokenMaxLifetime,
		ScopeRead:         "nhn:kjdd/read",
		ScopeRegister:     "nhn:kjdd/register",
		ScopeAudit:        "nhn:kjdd/audit",
		DevKeys:           ".kjdd/dev",
		OverridePurposes:  slices.Clone(consent.DefaultOverridePurposes),
		BlockedVisibility: consent.VisibilityHide,
	}
}

// DPoP modes.
const (
	DPoPRequired = helseid.DPoPRequired
	DPoPOptional = helseid.DPoPOptional
)

// DevHomeCommunityID and DevRepositoryUniqueID are the ids --dev uses when
// none are configured: NHN's test community for hosted document sources.
const (
	DevHomeCommunityID    = "2.16.578.1.12.4.5.100.1"
	DevRepositoryUniqueID = "2.16.578.1.12.4.5.100.1.2"
)

// ErrHelp is returned by Load for --help (or -h); Usage then says what
// there is to configure.
var ErrHelp = flag.ErrHelp

// Load reads the environment, then args (flags of the same names), each
// value into its type, and validates. getenv is os.Getenv outside tests.
// Errors name the variable and never echo a value (it may be a secret).
func Load(args []string, getenv func(string) string) (Config, error) {
	c := Default()
	c.explicit = map[string]bool{}
	var errs []error
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned; Usage is the help
	fs.Usage = func() {}
	fs.BoolVar(&c.Dev, "dev", false, "")
	for _, f := range fields() {
		if v := getenv(f.env); v != "" {
			c.explicit[f.env] = true
			if err := f.set(&c, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", f.env, err))
			}
		}
	}
	for _, f := range fields() {
		fs.Func(f.flag, f.usage, func(v string) error {
			c.explicit[f.env] = true
			if err := f.set(&c, v); err != nil {
				errs = append(errs, fmt.Errorf("%s (--%s): %w", f.env, f.flag, err))
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
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	if c.Dev {
		c.applyDevDefaults()
	}
	return c, c.Validate()
}

// Usage writes what serve takes: each flag, its variable, its default
// (and --dev's where it differs) and what it means.
func Usage(w io.Writer) {
	d := Default()
	fmt.Fprintf(w, "Usage: kjdd serve [--dev] [--FLAG VALUE]...\n\n"+
		"Each setting is an environment variable; the flag beside it overrides it.\n"+
		"  --dev  embedded defaults and demo data for a first look (never with real patients)\n\n")
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  flag\tvariable\tdefault\tmeaning")
	for _, f := range fields() {
		def := f.get(&d)
		if def == "" {
			def = "(none)"
		}
		if f.dev != "" {
			def += " (--dev: " + f.dev + ")"
		}
		fmt.Fprintf(tw, "  --%s\t%s\t%s\t%s\n", f.flag, f.env, def, f.usage)
	}
	_ = tw.Flush()
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

// Validate checks the configuration and changes nothing; each message
// names the variable. What could be checked when a value was read (Load)
// is checked again here, for a Config built in code.
func (c *Config) Validate() error {
	var errs []error
	bad := func(env, msg string) { errs = append(errs, fmt.Errorf("%s: %s", env, msg)) }
	reread := func(env string, v encoding.TextMarshaler, into encoding.TextUnmarshaler) {
		b, err := v.MarshalText()
		if err == nil {
			err = into.UnmarshalText(b)
		}
		if err != nil {
			bad(env, err.Error())
		}
	}

	if err := checkListen(c.Listen); err != nil {
		bad("KJDD_LISTEN", err.Error())
	}
	var dsn store.DSN
	reread("KJDD_STORE", textOf(string(c.Store)), &dsn)
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			bad("KJDD_REDIS_URL", "must be redis://… or rediss://…")
		}
	}
	if c.HomeCommunityID == "" {
		bad("KJDD_HOME_COMMUNITY_ID", "required (the OID NHN or the RHF assigned to this community)")
	} else if !hl7.ValidOID(c.HomeCommunityID) {
		bad("KJDD_HOME_COMMUNITY_ID", "not a valid OID")
	}
	if c.RepositoryUniqueID == "" {
		bad("KJDD_REPOSITORY_UNIQUE_ID", "required (the OID of kjdd's own repository)")
	} else if !hl7.ValidOID(c.RepositoryUniqueID) {
		bad("KJDD_REPOSITORY_UNIQUE_ID", "not a valid OID")
	}
	var repos Repositories
	reread("KJDD_EPJ_REPOSITORIES", textOf(c.Repositories.String()), &repos)
	if _, ok := c.Repositories[c.RepositoryUniqueID]; ok && c.RepositoryUniqueID != "" {
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
	if c.AssertionMemo < 0 || c.AssertionMemo > maxCacheBytes {
		bad("KJDD_ASSERTION_MEMO_BYTES", "must be between 0 and "+strconv.Itoa(maxCacheBytes))
	}
	if c.FragmentCache < 0 || c.FragmentCache > maxCacheBytes {
		bad("KJDD_FRAGMENT_CACHE_BYTES", "must be between 0 and "+strconv.Itoa(maxCacheBytes))
	}
	if c.MaxBodyBytes < 1024 {
		bad("KJDD_MAX_BODY_BYTES", "must be at least 1024")
	}
	if c.MaxPartBytes < 1024 {
		bad("KJDD_MAX_PART_BYTES", "must be at least 1024")
	}
	for env, d := range map[string]Duration{"KJDD_READ_HEADER_TIMEOUT": c.ReadHeaderTimeout, "KJDD_BODY_GRACE": c.BodyGrace} {
		if d < Duration(100*time.Millisecond) || d > Duration(maxWait) {
			bad(env, "must be between 100ms and "+maxWait.String())
		}
	}
	if c.IdleTimeout < Duration(time.Second) || c.IdleTimeout > Duration(time.Hour) {
		bad("KJDD_IDLE_TIMEOUT", "must be between 1s and 1h")
	}
	for env, r := range map[string]int64{"KJDD_MIN_BODY_RATE": c.MinBodyRate, "KJDD_MIN_WRITE_RATE": c.MinWriteRate} {
		if r < minRateFloor || r > 1<<30 {
			bad(env, "must be between "+strconv.Itoa(minRateFloor)+" and "+strconv.Itoa(1<<30)+" bytes per second")
		}
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
	switch {
	case c.PublicURL != "":
		if err := helseid.CheckPublicURL(c.PublicURL); err != nil {
			bad("KJDD_PUBLIC_URL", strings.TrimPrefix(err.Error(), "helseid: "))
		}
	case c.HelseIDDPoP == DPoPRequired && !c.Dev:
		// --dev's default is its listener's URL, known once it listens.
		bad("KJDD_PUBLIC_URL", "required when KJDD_HELSEID_DPOP=required (kjdd's external base URL, e.g. https://kjdd.sykehus.no)")
	}
	for env, d := range map[string]time.Duration{"KJDD_SAML_MAX_LIFETIME": c.SAMLMaxLifetime, "KJDD_TOKEN_MAX_LIFETIME": c.TokenMaxLifetime} {
		if d <= 0 || d > helseid.MaxLifetimeBound {
			bad(env, "must be more than 0 and at most 24h")
		}
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
	} else if !hl7.ValidOrgNumber(c.HospitalOrgNumber) {
		bad("KJDD_HOSPITAL_ORGNR", "not a valid organisation number")
	}
	if c.BlockedVisibility != consent.VisibilityHide && c.BlockedVisibility != consent.VisibilityObfuscate {
		bad("KJDD_BLOCKED_VISIBILITY", "must be hide or obfuscate")
	}
	var purposes OverridePurposes
	reread("KJDD_OVERRIDE_PURPOSES", textOf(c.OverridePurposes.String()), &purposes)
	if c.AuditKey.IsZero() && !c.Dev {
		bad("KJDD_AUDIT_KEY", "required (base64 of 32 random bytes, the same on every instance)")
	}
	switch slog.Level(c.LogLevel) {
	case slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError:
	default:
		bad("KJDD_LOG_LEVEL", "must be debug, info, warn or error")
	}
	return errors.Join(errs...)
}

// textOf lets Validate read a value back through its parser.
type textOf string

func (t textOf) MarshalText() ([]byte, error) { return []byte(t), nil }

// checkListen accepts what net.Listen("tcp", …) takes for a numeric port:
// host:port or :port, the host empty, an IP address or a host name, the
// port 0 to 65535. Checked before anything is opened or created, so that a
// typo does not leave a database file behind.
func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("must be host:port or :port")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || port == "" || n > 65535 {
		return errors.New("the port must be a number from 0 to 65535")
	}
	if host != "" && net.ParseIP(host) == nil && !validHostName(host) {
		return errors.New("the host must be an IP address or a host name")
	}
	return nil
}

// validHostName is RFC 1123's syntax: dot-separated labels of letters,
// digits and inner hyphens.
func validHostName(h string) bool {
	if len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	return true
}

// Limits returns the wire limits for this configuration.
func (c *Config) Limits() soap.Limits {
	lim := soap.DefaultLimits()
	lim.MaxBodyBytes = c.MaxBodyBytes
	lim.MaxPartBytes = c.MaxPartBytes
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
