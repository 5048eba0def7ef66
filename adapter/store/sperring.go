package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"kjdd/adapter/keys"
	"kjdd/consent"
	"kjdd/xds/hl7"
	"kjdd/xds/query"
)

// SperringKeys are the secrets of the sperring tables. Every instance on
// one database must use the same keys: package keys derives them from
// KJDD_AUDIT_KEY.
type SperringKeys struct {
	// Index keys patient_key, the keyed hash a patient's records are found
	// by; at least consent.MinKeyLength bytes.
	Index []byte
	// Seal is the AES-256-GCM key of the patient id kept in each record;
	// exactly 32 bytes.
	Seal []byte
}

// ErrSperringKeyChanged means the database's sperring records were written
// under another index key: reading them with this one would find no record
// of anyone and lift every sperring, so the records refuse to open.
var ErrSperringKeyChanged = errors.New("store: sperring records were written under another key (was KJDD_AUDIT_KEY changed?)")

// SperringRecords are the sperring records in the store, the source of
// truth behind consent's caches. It implements consent.RecordStore.
//
// Every change bumps the patient's version in the same transaction, so that
// a cache can tell newer inputs from older ones. A patient is found by a
// keyed hash and never stored in clear.
type SperringRecords struct {
	s     *Store
	index []byte
	aead  cipher.AEAD
	// Now is the clock of CreatedAt; time.Now unless a test sets it.
	Now func() time.Time
}

// SperringRecords returns the store's sperring records under keys. It
// records the index key's check value on first use and fails with
// ErrSperringKeyChanged when the database was written under another key.
func (s *Store) SperringRecords(ctx context.Context, keys SperringKeys) (*SperringRecords, error) {
	if len(keys.Index) < consent.MinKeyLength {
		return nil, fmt.Errorf("store: sperring index key must be at least %d bytes", consent.MinKeyLength)
	}
	if len(keys.Seal) != 32 {
		return nil, errors.New("store: sperring seal key must be 32 bytes")
	}
	block, err := aes.NewCipher(keys.Seal)
	if err != nil {
		return nil, fmt.Errorf("store: sperring seal key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("store: sperring seal key: %w", err)
	}
	r := &SperringRecords{s: s, index: append([]byte(nil), keys.Index...), aead: aead, Now: time.Now}
	if err := r.checkKey(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *SperringRecords) checkKey(ctx context.Context) error {
	// What the check value is belongs to package keys; keeping it and
	// comparing is the store's.
	want := keys.CheckValue(r.index, keys.SperringIndexCheck)
	d := r.s.d
	if _, err := r.s.w.ExecContext(ctx, d.rebind(`INSERT INTO sperring_key_check (name, check_value) VALUES ('index', ?) ON CONFLICT (name) DO NOTHING`), want); err != nil {
		return fmt.Errorf("store: sperring key check: %w", d.classify(err))
	}
	var got string
	if err := r.s.db.QueryRowContext(ctx, `SELECT check_value FROM sperring_key_check WHERE name = 'index'`).Scan(&got); err != nil {
		return fmt.Errorf("store: sperring key check: %w", d.classify(err))
	}
	if !hmac.Equal([]byte(got), []byte(want)) {
		return ErrSperringKeyChanged
	}
	return nil
}

// patientKey is the keyed hash patient_key.
func (r *SperringRecords) patientKey(patient string) string {
	h := hmac.New(sha256.New, r.index)
	h.Write([]byte(patient))
	return hex.EncodeToString(h.Sum(nil))
}

// seal encrypts the patient, bound to the record id.
func (r *SperringRecords) seal(id, patient string) (string, error) {
	nonce := make([]byte, r.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(r.aead.Seal(nonce, nonce, []byte(patient), []byte(id))), nil
}

// open decrypts what seal wrote for id.
func (r *SperringRecords) open(id, sealed string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < r.aead.NonceSize() {
		return "", errors.New("store: sperring record patient is malformed")
	}
	n := r.aead.NonceSize()
	p, err := r.aead.Open(nil, b[:n], b[n:], []byte(id))
	if err != nil {
		return "", errors.New("store: sperring record patient does not decrypt")
	}
	return string(p), nil
}

// newSperringID returns a fresh record id: "spr-" and 128 random bits.
func newSperringID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "spr-" + hex.EncodeToString(b[:])
}

// Create stores rec, which must not have an ID, with a new ID and
// CreatedAt, and bumps the patient's version. rec.Patient must be the
// normalised 11 digits (consent.NormalizePatient). Invalid records give an
// error wrapping consent.ErrInvalid.
func (r *SperringRecords) Create(ctx context.Context, rec consent.Sperring) (consent.Sperring, error) {
	if rec.ID != "" {
		return consent.Sperring{}, fmt.Errorf("%w: id is assigned by the store", consent.ErrInvalid)
	}
	rec.ID = newSperringID()
	rec.CreatedAt = r.Now().UTC().Truncate(time.Millisecond)
	if rec.Kind == consent.KindDocument {
		rec.DocumentUniqueID = consent.CanonicalUniqueID(rec.DocumentUniqueID)
	}
	if err := rec.Validate(); err != nil {
		return consent.Sperring{}, err
	}
	if rec.Kind == consent.KindDocument {
		if _, err := r.documentOf(ctx, rec); err != nil {
			return consent.Sperring{}, err
		}
	}
	sealed, err := r.seal(rec.ID, rec.Patient)
	if err != nil {
		return consent.Sperring{}, fmt.Errorf("store: seal sperring patient: %w", err)
	}
	key := r.patientKey(rec.Patient)
	err = r.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, r.s.d.rebind(`INSERT INTO sperring_records
			(id, patient_key, patient_sealed, kind, document_unique_id, hpr_number, reason, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			rec.ID, key, sealed, string(rec.Kind), rec.DocumentUniqueID, rec.HPRNumber, rec.Reason,
			rec.CreatedAt.Format(time.RFC3339Nano), rec.CreatedBy)
		if err != nil {
			return fmt.Errorf("store: insert sperring record: %w", r.s.d.classify(err))
		}
		return r.bump(ctx, tx, key)
	})
	if err != nil {
		return consent.Sperring{}, err
	}
	return rec, nil
}

// documentOf reports whether the document a record of kind document
// names is registered for the record's patient. A document of that
// uniqueId registered for anyone else (or for a patient id that is no
// national id) gives ErrOtherPatientsDocument: the record could block
// nothing. The registry's uniqueIds are as registered, so both ways of
// writing an OID are looked up.
func (r *SperringRecords) documentOf(ctx context.Context, rec consent.Sperring) (registered bool, err error) {
	uid := consent.CanonicalUniqueID(rec.DocumentUniqueID)
	entries, err := r.s.DocumentEntries(ctx, query.Lookup{UniqueIDs: []string{uid, hl7.URNOID(uid)}})
	if err != nil {
		return false, fmt.Errorf("store: look up the blocked document: %w", err)
	}
	for _, e := range entries {
		if consent.CanonicalUniqueID(e.UniqueID) != uid {
			continue
		}
		patient, err := consent.NormalizePatient(e.PatientID)
		if err != nil || patient != rec.Patient {
			return false, consent.ErrOtherPatientsDocument
		}
		registered = true
	}
	return registered, nil
}

// Blocks says what rec (as Create returned it) blocks, and for kind
// document whether its document is registered for the patient now.
func (r *SperringRecords) Blocks(ctx context.Context, rec consent.Sperring) (consent.Blocks, error) {
	registered := false
	if rec.Kind == consent.KindDocument {
		var err error
		if registered, err = r.documentOf(ctx, rec); err != nil {
			return consent.Blocks{}, err
		}
	}
	return consent.BlocksOf(rec, registered), nil
}

// Delete removes the record with id and bumps its patient's version. It
// returns the record's patient (for the caches); an unknown id gives an
// error satisfying errors.Is(err, ErrNotFound).
func (r *SperringRecords) Delete(ctx context.Context, id string) (patient string, err error) {
	err = r.inTx(ctx, func(tx *sql.Tx) error {
		var key, sealed string
		err := tx.QueryRowContext(ctx, r.s.d.rebind(`SELECT patient_key, patient_sealed FROM sperring_records WHERE id = ?`), id).Scan(&key, &sealed)
		if isNoRows(err) {
			return fmt.Errorf("store: sperring record: %w", ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: read sperring record: %w", r.s.d.classify(err))
		}
		if patient, err = r.open(id, sealed); err != nil {
			return err
		}
		if r.patientKey(patient) != key {
			return errors.New("store: sperring record patient does not match its key")
		}
		res, err := tx.ExecContext(ctx, r.s.d.rebind(`DELETE FROM sperring_records WHERE id = ?`), id)
		if err != nil {
			return fmt.Errorf("store: delete sperring record: %w", r.s.d.classify(err))
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			// Deleted concurrently between our read and delete.
			return fmt.Errorf("store: sperring record: %w", ErrNotFound)
		}
		return r.bump(ctx, tx, key)
	})
	if err != nil {
		return "", err
	}
	return patient, nil
}

// Search returns the patient's records in creation order. patient is the
// normalised 11 digits; the records carry it as given.
func (r *SperringRecords) Search(ctx context.Context, patient string) ([]consent.Sperring, error) {
	if _, err := consent.NormalizePatient(patient); err != nil || len(patient) != 11 {
		return nil, fmt.Errorf("%w: patient must be the normalised 11 digits", consent.ErrInvalid)
	}
	return r.records(ctx, r.patientKey(patient), patient)
}

// Inputs implements consent.RecordStore: the patient's records and their
// version (0 for a patient who never had any).
func (r *SperringRecords) Inputs(ctx context.Context, patient string) (consent.Inputs, error) {
	if _, err := consent.NormalizePatient(patient); err != nil || len(patient) != 11 {
		return consent.Inputs{}, fmt.Errorf("%w: patient must be the normalised 11 digits", consent.ErrInvalid)
	}
	key := r.patientKey(patient)
	// The version is read before the records: records at least as new as
	// their version are harmless (the writer's newer version follows),
	// the other way round a cache could keep stale records under a
	// current version.
	version, err := r.version(ctx, key)
	if err != nil {
		return consent.Inputs{}, err
	}
	recs, err := r.records(ctx, key, patient)
	if err != nil {
		return consent.Inputs{}, err
	}
	return consent.Inputs{Patient: patient, Version: version, Records: recs}, nil
}

// Version implements consent.RecordStore: the version of the patient's
// records now (0 for a patient who never had any), one primary-key read.
func (r *SperringRecords) Version(ctx context.Context, patient string) (int64, error) {
	if _, err := consent.NormalizePatient(patient); err != nil || len(patient) != 11 {
		return 0, fmt.Errorf("%w: patient must be the normalised 11 digits", consent.ErrInvalid)
	}
	return r.version(ctx, r.patientKey(patient))
}

// version reads the version of the patient under key.
func (r *SperringRecords) version(ctx context.Context, key string) (int64, error) {
	var version int64
	err := r.s.db.QueryRowContext(ctx, r.s.d.rebind(`SELECT version FROM sperring_versions WHERE patient_key = ?`), key).Scan(&version)
	if err != nil && !isNoRows(err) {
		return 0, fmt.Errorf("store: read sperring version: %w", r.s.d.classify(err))
	}
	return version, nil
}

// Ready checks that the sperring tables can be read (readiness).
func (r *SperringRecords) Ready(ctx context.Context) error {
	for _, q := range []string{
		`SELECT COUNT(*) FROM sperring_versions WHERE patient_key = ''`,
		`SELECT COUNT(*) FROM sperring_records WHERE id = ''`,
	} {
		var n int64
		if err := r.s.db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return fmt.Errorf("store: sperring tables: %w", r.s.d.classify(err))
		}
	}
	return nil
}

func (r *SperringRecords) records(ctx context.Context, key, patient string) ([]consent.Sperring, error) {
	rows, err := r.s.db.QueryContext(ctx, r.s.d.rebind(`SELECT id, kind, document_unique_id, hpr_number, reason, created_at, created_by
		FROM sperring_records WHERE patient_key = ? ORDER BY seq`), key)
	if err != nil {
		return nil, fmt.Errorf("store: read sperring records: %w", r.s.d.classify(err))
	}
	defer func() { _ = rows.Close() }()
	var out []consent.Sperring
	for rows.Next() {
		rec := consent.Sperring{Patient: patient}
		var kind, created string
		if err := rows.Scan(&rec.ID, &kind, &rec.DocumentUniqueID, &rec.HPRNumber, &rec.Reason, &created, &rec.CreatedBy); err != nil {
			return nil, fmt.Errorf("store: read sperring records: %w", err)
		}
		rec.Kind = consent.Kind(kind)
		if rec.CreatedAt, err = time.Parse(time.RFC3339Nano, created); err != nil {
			return nil, fmt.Errorf("store: sperring record %s: created_at: %w", rec.ID, err)
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read sperring records: %w", r.s.d.classify(err))
	}
	return out, nil
}

// bump increases the patient's version by one (from 0 when it had none).
func (r *SperringRecords) bump(ctx context.Context, tx *sql.Tx, key string) error {
	_, err := tx.ExecContext(ctx, r.s.d.rebind(`INSERT INTO sperring_versions (patient_key, version) VALUES (?, 1)
		ON CONFLICT (patient_key) DO UPDATE SET version = sperring_versions.version + 1`), key)
	if err != nil {
		return fmt.Errorf("store: bump sperring version: %w", r.s.d.classify(err))
	}
	return nil
}

// inTx runs fn in one write transaction, committed when fn returns nil.
func (r *SperringRecords) inTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := r.s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", r.s.d.classify(err))
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", r.s.d.classify(err))
	}
	return nil
}

// Interface guard.
var _ consent.RecordStore = (*SperringRecords)(nil)
