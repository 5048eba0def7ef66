package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"kjdd/xds/query"
	"kjdd/xds/rim"
)

// Table names. They are constants spliced into SQL, never input.
const (
	tableDocumentEntries = "document_entries"
	tableSubmissionSets  = "submission_sets"
	tableFolders         = "folders"
	tableAssociations    = "associations"
)

// objectTables are the tables whose rows are registry objects, in the order
// an entryUUID is looked for.
var objectTables = []string{tableDocumentEntries, tableFolders, tableSubmissionSets, tableAssociations}

// maxInList bounds the number of placeholders per IN list: SQLite and
// PostgreSQL both allow far more, but long lists defeat statement caching
// and make a single query's cost unbounded.
const maxInList = 500

// registryObject is the constraint of the JSON-stored model types.
type registryObject interface {
	rim.DocumentEntry | rim.SubmissionSet | rim.Folder | rim.Association
}

// byPatient returns a patient's objects of one table in registration order,
// optionally restricted to statuses.
// With both caches, its keys come from lists while the patient's registry
// version stands (keylists.go).
func byPatient[T registryObject](ctx context.Context, d dialect, q querier, c *objectCache, lists *keyListCache, table, patientID string, statuses []string) ([]*T, error) {
	if c != nil && lists != nil {
		keys, k, err := patientKeys(ctx, d, q, lists, table, patientID, statuses)
		if err != nil {
			return nil, err
		}
		out, ok, err := resolveKeys[T](ctx, d, q, c, table, keys)
		if err != nil || ok {
			return out, err
		}
		// A row changed after its key was read: forget the list and
		// read as without it.
		lists.drop(k)
	}
	query, args := byPatientQuery(table, patientID, statuses)
	return selectObjects[T](ctx, d, q, c, table, query, args...)
}

// byPatientQuery selects the keys of a patient's objects with one of
// statuses (none: every status), and its arguments. It uses the
// (patient_id, status) index; for DocumentEntries the index covers the keys
// (migration 0003).
func byPatientQuery(table, patientID string, statuses []string) (string, []any) {
	query := "SELECT " + keyColumns + " FROM " + table + " WHERE patient_id = ?"
	if len(statuses) > 0 {
		query += " AND status IN (" + placeholders(len(statuses)) + ")"
	}
	args := make([]any, 0, 1+len(statuses))
	args = append(args, patientID)
	for _, st := range statuses {
		args = append(args, st)
	}
	return query + " ORDER BY seq", args
}

// lookup returns the objects with the entryUUIDs or uniqueIds of l, in
// registration order.
func lookup[T registryObject](ctx context.Context, d dialect, q querier, c *objectCache, table string, l query.Lookup) ([]*T, error) {
	if len(l.EntryUUIDs) > 0 && len(l.UniqueIDs) == 0 {
		return byColumn[T](ctx, d, q, c, table, "entry_uuid", l.EntryUUIDs)
	}
	if len(l.UniqueIDs) > 0 && len(l.EntryUUIDs) == 0 {
		return byColumn[T](ctx, d, q, c, table, "unique_id", l.UniqueIDs)
	}
	if len(l.EntryUUIDs) == 0 {
		return nil, nil
	}
	// Both lists: the union, each object once.
	a, err := byColumn[T](ctx, d, q, c, table, "entry_uuid", l.EntryUUIDs)
	if err != nil {
		return nil, err
	}
	b, err := byColumn[T](ctx, d, q, c, table, "unique_id", l.UniqueIDs)
	if err != nil {
		return nil, err
	}
	uuids := map[string]bool{}
	for _, o := range a {
		uuids[entryUUIDOf(o)] = true
	}
	for _, o := range b {
		if !uuids[entryUUIDOf(o)] {
			a = append(a, o)
		}
	}
	return a, nil
}

// byColumn returns the objects whose column (entry_uuid, unique_id, …)
// has one of values, in registration order within each batch of values.
func byColumn[T registryObject](ctx context.Context, d dialect, q querier, c *objectCache, table, column string, values []string) ([]*T, error) {
	var out []*T
	for _, batch := range batches(dedupe(values)) {
		got, err := selectObjects[T](ctx, d, q, c, table, byColumnQuery(table, column, len(batch)), anys(batch)...)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// byColumnQuery selects the keys of objects by n values of an indexed
// column.
func byColumnQuery(table, column string, n int) string {
	return "SELECT " + keyColumns + " FROM " + table + " WHERE " + column + " IN (" + placeholders(n) + ") ORDER BY seq"
}

// bySeqQuery selects n objects whole by their seq (primary key).
func bySeqQuery(table string, n int) string {
	return "SELECT " + objectColumns + " FROM " + table + " WHERE seq IN (" + placeholders(n) + ")"
}

// associationsOf returns the associations with an end (source or target)
// in uuids, each once, in registration order per query.
func associationsOf(ctx context.Context, d dialect, q querier, c *objectCache, uuids []string) ([]*rim.Association, error) {
	// Two index lookups instead of "source IN … OR target IN …", which
	// not every planner turns into an index union.
	bySource, err := byColumn[rim.Association](ctx, d, q, c, tableAssociations, "source", uuids)
	if err != nil {
		return nil, err
	}
	byTarget, err := byColumn[rim.Association](ctx, d, q, c, tableAssociations, "target", uuids)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(bySource))
	out := make([]*rim.Association, 0, len(bySource)+len(byTarget))
	for _, list := range [][]*rim.Association{bySource, byTarget} {
		for _, a := range list {
			if !seen[a.EntryUUID] {
				seen[a.EntryUUID] = true
				out = append(out, a)
			}
		}
	}
	return out, nil
}

// Object reads name each row by its cache key (seq, row_version; see
// cache.go). keyColumns are what a query for objects selects first;
// objectColumns add the JSON object.
const (
	keyColumns    = "seq, row_version"
	objectColumns = keyColumns + ", object"
)

// maxKeyedAttempts is how often selectObjects runs a keyed read whose rows
// change between its two statements before it reads them in one.
const maxKeyedAttempts = 3

// selectObjects runs keyQuery, a query for the keyColumns of objects (see
// byPatientQuery, byColumnQuery), and returns its objects in its order.
//
// With a cache it reads in two statements: the keys, then, for the rows
// whose key is not cached, the objects by seq. Only those are transferred
// and decoded. An object whose row version changed in between (a
// concurrent SetStatus, which may also have moved it out of the keys'
// WHERE) means the result would mix two moments: the read starts over, and
// after maxKeyedAttempts it is made in one statement. Without a cache
// (transactions) it is one statement.
//
// The returned objects may be the cache's and are read-only (cache.go).
func selectObjects[T registryObject](ctx context.Context, d dialect, q querier, c *objectCache, table, keyQuery string, args ...any) ([]*T, error) {
	if c != nil {
		for range maxKeyedAttempts {
			out, ok, err := selectKeyed[T](ctx, d, q, c, table, keyQuery, args...)
			if err != nil || ok {
				return out, err
			}
		}
	}
	return selectWhole[T](ctx, d, q, c, table, withObjects(keyQuery), args...)
}

// withObjects turns a query for keyColumns into the same query for
// objectColumns.
func withObjects(keyQuery string) string {
	return strings.Replace(keyQuery, "SELECT "+keyColumns+" ", "SELECT "+objectColumns+" ", 1)
}

// selectKeyed is one two-statement read of selectObjects; ok is false when
// a row changed between the statements.
func selectKeyed[T registryObject](ctx context.Context, d dialect, q querier, c *objectCache, table, keyQuery string, args ...any) (out []*T, ok bool, err error) {
	keys, err := selectKeys(ctx, d, q, table, keyQuery, args...)
	if err != nil {
		return nil, false, err
	}
	return resolveKeys[T](ctx, d, q, c, table, keys)
}

// resolveKeys returns the objects of keys, in their order, from the cache
// or by seq; ok is false when one of them is no longer at its key's
// version. keys is only read.
func resolveKeys[T registryObject](ctx context.Context, d dialect, q querier, c *objectCache, table string, keys []cacheKey) (out []*T, ok bool, err error) {
	out = make([]*T, len(keys))
	var missing []int // indexes into keys
	c.getAll(keys, func(i int, cached any) {
		if cached != nil {
			out[i] = cached.(*T)
		} else {
			missing = append(missing, i)
		}
	})
	for len(missing) > 0 {
		batch := missing[:min(len(missing), maxInList)]
		missing = missing[len(batch):]
		if ok, err := fetchMissing(ctx, d, q, c, table, keys, batch, out); !ok || err != nil {
			return nil, false, err
		}
	}
	return out, true, nil
}

// selectKeys runs a query for keyColumns.
func selectKeys(ctx context.Context, d dialect, q querier, table, query string, args ...any) ([]cacheKey, error) {
	rows, err := q.QueryContext(ctx, d.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", table, d.classify(err))
	}
	defer func() { _ = rows.Close() }()
	var keys []cacheKey
	for rows.Next() {
		k := cacheKey{table: table}
		if err := rows.Scan(&k.seq, &k.version); err != nil {
			return nil, fmt.Errorf("store: read %s: %w", table, err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read %s: %w", table, d.classify(err))
	}
	return keys, nil
}

// fetchMissing reads and decodes the objects of keys[batch] into out and
// the cache. ok is false when one of them is no longer at its key's
// version.
func fetchMissing[T registryObject](ctx context.Context, d dialect, q querier, c *objectCache, table string, keys []cacheKey, batch []int, out []*T) (ok bool, err error) {
	index := make(map[int64]int, len(batch)) // seq -> index into keys
	args := make([]any, len(batch))
	for j, i := range batch {
		index[keys[i].seq] = i
		args[j] = keys[i].seq
	}
	rows, err := q.QueryContext(ctx, d.rebind(bySeqQuery(table, len(batch))), args...)
	if err != nil {
		return false, fmt.Errorf("store: read %s: %w", table, d.classify(err))
	}
	defer func() { _ = rows.Close() }()
	found := 0
	for rows.Next() {
		var (
			k   = cacheKey{table: table}
			raw sql.RawBytes // only valid until Next
		)
		if err := rows.Scan(&k.seq, &k.version, &raw); err != nil {
			return false, fmt.Errorf("store: read %s: %w", table, err)
		}
		i, want := index[k.seq]
		if !want {
			continue
		}
		if k != keys[i] {
			return false, nil
		}
		o, err := decodeObject[T](c, k, raw)
		if err != nil {
			return false, fmt.Errorf("store: decode %s row: %w", table, err)
		}
		out[i] = o
		found++
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("store: read %s: %w", table, d.classify(err))
	}
	return found == len(batch), nil
}

// selectWhole runs query, whose columns are objectColumns, and decodes each
// row's object unless c has it.
func selectWhole[T registryObject](ctx context.Context, d dialect, q querier, c *objectCache, table, query string, args ...any) ([]*T, error) {
	rows, err := q.QueryContext(ctx, d.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", table, d.classify(err))
	}
	defer func() { _ = rows.Close() }()
	var out []*T
	for rows.Next() {
		var (
			k   = cacheKey{table: table}
			raw sql.RawBytes // only valid until Next
		)
		if err := rows.Scan(&k.seq, &k.version, &raw); err != nil {
			return nil, fmt.Errorf("store: read %s: %w", table, err)
		}
		var o *T
		if cached, hit := c.get(k); hit {
			o = cached.(*T)
		} else if o, err = decodeObject[T](c, k, raw); err != nil {
			return nil, fmt.Errorf("store: decode %s row: %w", table, err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read %s: %w", table, d.classify(err))
	}
	return out, nil
}

// decodeObject decodes a row's JSON object and caches it under k (when c
// is not nil): the object returned is then shared.
func decodeObject[T registryObject](c *objectCache, k cacheKey, raw []byte) (*T, error) {
	o := new(T)
	if err := json.Unmarshal(raw, o); err != nil {
		return nil, err
	}
	setRevision(o, rim.Revision{Row: k.seq, Version: k.version})
	c.put(k, o)
	return o, nil
}

// setRevision records which stored version o was decoded from.
func setRevision[T registryObject](o *T, r rim.Revision) {
	switch v := any(o).(type) {
	case *rim.DocumentEntry:
		v.Revision = r
	case *rim.SubmissionSet:
		v.Revision = r
	case *rim.Folder:
		v.Revision = r
	case *rim.Association:
		v.Revision = r
	}
}

func entryUUIDOf[T registryObject](o *T) string {
	switch v := any(o).(type) {
	case *rim.DocumentEntry:
		return v.EntryUUID
	case *rim.SubmissionSet:
		return v.EntryUUID
	case *rim.Folder:
		return v.EntryUUID
	case *rim.Association:
		return v.EntryUUID
	}
	return ""
}

// Row builders: the indexed columns, the JSON of one object and a fresh row
// version. They are shared by single inserts and the bulk path so both
// store the same thing.

func documentEntryRow(e *rim.DocumentEntry) ([]any, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("store: encode document entry: %w", err)
	}
	return []any{e.EntryUUID, e.UniqueID, nonEmpty(e.LogicalID, e.EntryUUID), nonEmpty(e.Version, "1"), e.PatientID, e.Status, string(b), newRowVersion()}, nil
}

const insertDocumentEntry = "INSERT INTO document_entries (entry_uuid, unique_id, lid, version, patient_id, status, object, row_version) VALUES "

const documentEntryColumns = 8

func submissionSetRow(s *rim.SubmissionSet) ([]any, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("store: encode submission set: %w", err)
	}
	return []any{s.EntryUUID, s.UniqueID, nonEmpty(s.LogicalID, s.EntryUUID), s.PatientID, s.Status, string(b), newRowVersion()}, nil
}

const insertSubmissionSet = "INSERT INTO submission_sets (entry_uuid, unique_id, lid, patient_id, status, object, row_version) VALUES "

func folderRow(f *rim.Folder) ([]any, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("store: encode folder: %w", err)
	}
	return []any{f.EntryUUID, f.UniqueID, nonEmpty(f.LogicalID, f.EntryUUID), "1", f.PatientID, f.Status, string(b), newRowVersion()}, nil
}

const insertFolder = "INSERT INTO folders (entry_uuid, unique_id, lid, version, patient_id, status, object, row_version) VALUES "

func associationRow(a *rim.Association) ([]any, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("store: encode association: %w", err)
	}
	return []any{a.EntryUUID, a.Type, a.Source, a.Target, a.Status, string(b), newRowVersion()}, nil
}

const insertAssociation = "INSERT INTO associations (entry_uuid, type, source, target, status, object, row_version) VALUES "

// insertRow inserts one row built by a row builder.
func insertRow(ctx context.Context, d dialect, q querier, insert string, row []any) error {
	_, err := q.ExecContext(ctx, d.rebind(insert+"("+placeholders(len(row))+")"), row...)
	if err != nil {
		table := strings.Fields(insert)[2]
		return fmt.Errorf("store: insert into %s: %w", table, d.classify(err))
	}
	return nil
}

// setJSONField sets one top-level field of an object's JSON, and the column
// of the same name when column is not empty, in whichever object table holds
// entryUUID. The row gets a new row_version, which retires every cached
// decoding of it (cache.go).
func setJSONField(ctx context.Context, d dialect, q querier, entryUUID, field, column, value string) error {
	for _, table := range objectTables {
		var (
			raw     []byte
			patient sql.NullString // associations have none
		)
		patientColumn := "patient_id"
		if table == tableAssociations {
			patientColumn = "NULL"
		}
		err := q.QueryRowContext(ctx, d.rebind("SELECT object, "+patientColumn+" FROM "+table+" WHERE entry_uuid = ?"), entryUUID).Scan(&raw, &patient)
		if isNoRows(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("store: read %s: %w", table, d.classify(err))
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return fmt.Errorf("store: decode %s row: %w", table, err)
		}
		v, _ := json.Marshal(value)
		obj[field] = v
		b, err := json.Marshal(obj)
		if err != nil {
			return fmt.Errorf("store: encode %s row: %w", table, err)
		}
		query := "UPDATE " + table + " SET object = ?, row_version = ?"
		args := []any{string(b), newRowVersion()}
		if column != "" {
			query += ", " + column + " = ?"
			args = append(args, value)
		}
		query += " WHERE entry_uuid = ?"
		args = append(args, entryUUID)
		if _, err := q.ExecContext(ctx, d.rebind(query), args...); err != nil {
			return fmt.Errorf("store: update %s: %w", table, d.classify(err))
		}
		if patient.Valid {
			return raiseRegistryVersion(ctx, d, q, patient.String)
		}
		return nil
	}
	return fmt.Errorf("store: object %s: %w", entryUUID, ErrNotFound)
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

func batches(values []string) [][]string {
	var out [][]string
	for len(values) > maxInList {
		out = append(out, values[:maxInList])
		values = values[maxInList:]
	}
	if len(values) > 0 {
		out = append(out, values)
	}
	return out
}

func dedupe(values []string) []string {
	seen := make(map[string]bool, len(values))
	out := make([]string, 0, len(values))
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func anys(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

func nonEmpty(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}
