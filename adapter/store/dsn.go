package store

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// location is a parsed KJDD_STORE value.
type location struct {
	dialect dialect
	// driver and source are what sql.Open gets.
	driver string
	source string
	// memory is true for sqlite::memory:, which must live on a single
	// connection (each SQLite connection has its own memory database).
	memory bool
}

// SQLite connection parameters (modernc.org/sqlite): WAL so readers never
// wait for the writer, a busy timeout instead of immediate SQLITE_BUSY when
// another process writes, foreign keys on, and BEGIN IMMEDIATE so a write
// transaction takes the write lock up front instead of failing to upgrade a
// read lock half-way (the classic SQLite deadlock).
const (
	sqliteParams       = "_busy_timeout=10000&_foreign_keys=1&_txlock=immediate&_synchronous=NORMAL"
	sqliteFileParams   = sqliteParams + "&_journal_mode=WAL"
	sqliteMemoryParams = sqliteParams
)

// parseDSN interprets a KJDD_STORE value: sqlite:PATH, sqlite::memory:,
// postgres://… or postgresql://…. Errors never echo the value, which may
// carry a password.
func parseDSN(dsn string) (location, error) {
	switch {
	case dsn == "sqlite::memory:":
		return location{dialect: sqliteDialect{}, driver: "sqlite", source: ":memory:?" + sqliteMemoryParams, memory: true}, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return location{}, errors.New("store: sqlite: needs a file path")
		}
		// The driver splits its own parameters off at the first '?' and
		// would treat a "file:" path as a URI; refuse both rather than
		// open a different file than the operator named.
		if strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, 0) {
			return location{}, errors.New("store: sqlite path must be a plain file path")
		}
		return location{dialect: sqliteDialect{}, driver: "sqlite", source: path + "?" + sqliteFileParams}, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return location{dialect: postgresDialect{}, driver: "pgx", source: dsn}, nil
	}
	scheme, _, ok := strings.Cut(dsn, ":")
	if !ok || len(scheme) > 16 {
		scheme = "?"
	}
	return location{}, fmt.Errorf("store: unsupported store %q: want sqlite:PATH, sqlite::memory: or postgres://", scheme+":")
}

// DSN is a KJDD_STORE value, checked when it is read (UnmarshalText), so
// that a wrong one stops kjdd before anything is opened or created.
type DSN string

// UnmarshalText accepts what Open accepts. Errors never echo the value.
func (d *DSN) UnmarshalText(b []byte) error {
	loc, err := parseDSN(string(b))
	if err != nil {
		return err
	}
	if loc.dialect.name() == "postgres" {
		if _, err := url.Parse(string(b)); err != nil {
			return errors.New("store: not a valid postgres URL")
		}
	}
	*d = DSN(b)
	return nil
}

// String is the DSN with a password replaced by "xxxxx", for logs and
// help texts.
func (d DSN) String() string {
	if u, err := url.Parse(string(d)); err == nil && u.User != nil {
		return u.Redacted()
	}
	return string(d)
}

// GoString hides a password from %#v as String does from %v.
func (d DSN) GoString() string { return "store.DSN(" + strconv.Quote(d.String()) + ")" }
