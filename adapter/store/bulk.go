package store

import (
	"context"
	"fmt"
	"strings"

	"kjdd/xds/rim"
)

// bulkRows is the number of rows per multi-row INSERT: 7 columns × 100 rows
// stays well under every engine's parameter limit.
const bulkRows = 100

// BulkInsertDocumentEntries stores entries in one transaction with
// multi-row INSERTs, bypassing registration rules. It exists to load large
// registries for benchmarks and tests; never use it for submissions.
func (s *Store) BulkInsertDocumentEntries(ctx context.Context, entries []*rim.DocumentEntry) error {
	if len(entries) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: bulk insert: begin: %w", s.d.classify(err))
	}
	defer func() { _ = tx.Rollback() }()
	one := "(" + placeholders(documentEntryColumns) + ")"
	// Prepared once: parsing a 700-placeholder statement per batch would
	// cost more than executing it.
	full, err := tx.PrepareContext(ctx, s.d.rebind(insertDocumentEntry+strings.Repeat(one+", ", bulkRows-1)+one))
	if err != nil {
		return fmt.Errorf("store: bulk insert: prepare: %w", s.d.classify(err))
	}
	defer func() { _ = full.Close() }()
	args := make([]any, 0, bulkRows*documentEntryColumns)
	for start := 0; start < len(entries); start += bulkRows {
		end := min(start+bulkRows, len(entries))
		args = args[:0]
		for _, e := range entries[start:end] {
			row, err := documentEntryRow(e)
			if err != nil {
				return err
			}
			args = append(args, row...)
		}
		var err error
		if n := end - start; n == bulkRows {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, s.d.rebind(insertDocumentEntry+strings.Repeat(one+", ", n-1)+one), args...)
		}
		if err != nil {
			return fmt.Errorf("store: bulk insert: %w", s.d.classify(err))
		}
	}
	if err := raiseRegistryVersions(ctx, s.d, tx, entries); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: bulk insert: commit: %w", s.d.classify(err))
	}
	return nil
}

// raiseRegistryVersions raises the version of every patient of entries
// once, bulkRows patients per statement.
func raiseRegistryVersions(ctx context.Context, d dialect, q querier, entries []*rim.DocumentEntry) error {
	seen := map[string]bool{}
	var patients []any
	flush := func() error {
		if len(patients) == 0 {
			return nil
		}
		err := raiseVersionsOf(ctx, d, q, patients)
		patients = patients[:0]
		return err
	}
	for _, e := range entries {
		if seen[e.PatientID] {
			continue
		}
		seen[e.PatientID] = true
		patients = append(patients, e.PatientID)
		if len(patients) == bulkRows {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}
