package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"

	"kjdd/xds/query"
	"kjdd/xds/rim"
)

// Store is kjdd's database: registry metadata and repository content, in
// SQLite or PostgreSQL. It is safe for concurrent use, also by several
// processes on the same database.
type Store struct {
	d dialect
	// db serves reads. w serves writes: for a SQLite file it is a separate
	// pool of one connection, because SQLite has a single writer anyway and
	// queuing in Go is cheaper than spinning on the busy timeout; for
	// PostgreSQL and memory databases it is db itself.
	db *sql.DB
	w  *sql.DB
	// reads is db with the object queries prepared (cache.go).
	reads *preparedReads
	// objects caches decoded registry objects for reads outside
	// transactions (cache.go); nil when disabled.
	objects *objectCache
	// keyLists caches the keys of patients' objects under their registry
	// version (keylists.go); nil when objects is.
	keyLists *keyListCache
}

// maxConns bounds each connection pool.
const maxConns = 16

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Open connects to the store named by dsn (sqlite:PATH, sqlite::memory:,
// postgres://…) and applies pending migrations. Without options the Store
// caches DefaultObjectCacheSize decoded objects.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{cacheSize: DefaultObjectCacheSize}
	for _, opt := range opts {
		opt(&o)
	}
	loc, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(loc.driver, loc.source)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", loc.dialect.name(), err)
	}
	s := &Store{d: loc.dialect, db: db, w: db, reads: newPreparedReads(db), objects: newObjectCache(o.cacheSize)}
	if s.objects != nil {
		s.keyLists = newKeyListCache()
	}
	// Bounded pools: several instances share one PostgreSQL, whose
	// max_connections (default 100) must not run out; SQLite connections
	// each carry their own page cache.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns / 2)
	db.SetConnMaxIdleTime(5 * time.Minute)
	switch {
	case loc.memory:
		// One connection that never closes: it is the database.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
	case loc.driver == "sqlite":
		w, err := sql.Open(loc.driver, loc.source)
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("store: open sqlite writer: %w", err)
		}
		w.SetMaxOpenConns(1)
		s.w = w
	}
	if err := s.firstPing(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// firstPing is the first Ping of a new Store, retried while SQLite reports
// the database busy: instances that start together on a new file race to
// switch it to WAL, which needs the database to themselves and fails at
// once rather than waiting out the busy timeout. Bounded by ctx and
// openBusyWait.
func (s *Store) firstPing(ctx context.Context) error {
	deadline := time.Now().Add(openBusyWait)
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		err := s.Ping(ctx)
		if err == nil || s.d.name() != "sqlite" || !errors.Is(s.d.classify(err), ErrBusy) || time.Now().Add(delay).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
	}
}

// openBusyWait bounds how long Open waits for a busy SQLite database.
const openBusyWait = 10 * time.Second

// Ping checks that the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping %s: %w", s.d.name(), err)
	}
	return nil
}

// Close releases the connections.
func (s *Store) Close() error {
	err := errors.Join(s.reads.Close(), s.db.Close())
	if s.w != s.db {
		err = errors.Join(err, s.w.Close())
	}
	return err
}

// Dialect names the database engine: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name() }

// Register runs fn in one write transaction. It commits when fn returns nil
// and rolls back otherwise, so a rejected submission stores nothing. fn must
// use only tx: on a memory database, reaching for the Store inside fn waits
// for the connection fn holds.
func (s *Store) Register(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", s.d.classify(err))
	}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = sqlTx.Rollback()
		}
	}()
	if err = fn(&Tx{d: s.d, tx: sqlTx}); err != nil {
		return err
	}
	if err = sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", s.d.classify(err))
	}
	return nil
}

// DocumentEntriesByPatient implements query.Source.
func (s *Store) DocumentEntriesByPatient(ctx context.Context, patientID string, statuses []string) ([]*rim.DocumentEntry, error) {
	return byPatient[rim.DocumentEntry](ctx, s.d, s.reads, s.objects, s.keyLists, tableDocumentEntries, patientID, statuses)
}

// SubmissionSetsByPatient implements query.Source.
func (s *Store) SubmissionSetsByPatient(ctx context.Context, patientID string, statuses []string) ([]*rim.SubmissionSet, error) {
	return byPatient[rim.SubmissionSet](ctx, s.d, s.reads, s.objects, s.keyLists, tableSubmissionSets, patientID, statuses)
}

// FoldersByPatient implements query.Source.
func (s *Store) FoldersByPatient(ctx context.Context, patientID string, statuses []string) ([]*rim.Folder, error) {
	return byPatient[rim.Folder](ctx, s.d, s.reads, s.objects, s.keyLists, tableFolders, patientID, statuses)
}

// DocumentEntries implements query.Source.
func (s *Store) DocumentEntries(ctx context.Context, l query.Lookup) ([]*rim.DocumentEntry, error) {
	return lookup[rim.DocumentEntry](ctx, s.d, s.reads, s.objects, tableDocumentEntries, l)
}

// SubmissionSets implements query.Source.
func (s *Store) SubmissionSets(ctx context.Context, l query.Lookup) ([]*rim.SubmissionSet, error) {
	return lookup[rim.SubmissionSet](ctx, s.d, s.reads, s.objects, tableSubmissionSets, l)
}

// Folders implements query.Source.
func (s *Store) Folders(ctx context.Context, l query.Lookup) ([]*rim.Folder, error) {
	return lookup[rim.Folder](ctx, s.d, s.reads, s.objects, tableFolders, l)
}

// AssociationsOf implements query.Source.
func (s *Store) AssociationsOf(ctx context.Context, uuids []string) ([]*rim.Association, error) {
	return associationsOf(ctx, s.d, s.reads, s.objects, uuids)
}

// Associations returns the associations with the given entryUUIDs.
func (s *Store) Associations(ctx context.Context, uuids []string) ([]*rim.Association, error) {
	return byColumn[rim.Association](ctx, s.d, s.reads, s.objects, tableAssociations, "entry_uuid", uuids)
}

// CountDocumentEntries returns the number of DocumentEntries of every
// patient and status (for tests, benchmarks and metrics).
func (s *Store) CountDocumentEntries(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM document_entries`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count document entries: %w", err)
	}
	return n, nil
}

// OpenContent streams the content of the document with uniqueId
// documentUniqueID, one chunk in memory at a time. Unknown ids give an error
// satisfying errors.Is(err, ErrNotFound).
func (s *Store) OpenContent(ctx context.Context, documentUniqueID string) (io.ReadCloser, error) {
	return openContent(ctx, s.d, s.db, documentUniqueID)
}

// ContentInfo returns the size and SHA-1 (lower-case hex) of stored content.
func (s *Store) ContentInfo(ctx context.Context, documentUniqueID string) (size int64, sha1Hex string, err error) {
	info, err := contentInfo(ctx, s.d, s.db, documentUniqueID)
	return info.size, info.sha1, err
}

// Interface guards.
var _ query.Source = (*Store)(nil)
