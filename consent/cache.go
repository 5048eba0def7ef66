package consent

import (
	"context"
	"errors"
	"fmt"
)

// ErrUnavailable means the patient's sperring inputs could not be read from
// the cache or the store. The caller must deny: answer as if the patient
// had no documents it may see, and audit the request as failed.
var ErrUnavailable = errors.New("sperring inputs unavailable")

// RecordStore is the source of truth for sperring records (the SQL store
// implements it).
//
// Inputs returns the patient's records (each with Patient set) and their
// version. A patient without
// records is not an error: Inputs has the patient, no records and the
// current version. The version increases on every change of the patient's
// records, deletion of the last record included, so that a cache can tell
// newer inputs from older ones; it is never negative. Version returns that
// version alone, cheaply: the Resolver asks for it on every cache hit. The
// errors must not contain the patient's identity number.
type RecordStore interface {
	Inputs(ctx context.Context, patient string) (Inputs, error)
	Version(ctx context.Context, patient string) (int64, error)
}

// Cache holds patients' Inputs in front of the RecordStore.
//
// Get reports ok false on a miss; an error means the cache cannot answer
// (the Resolver then reads the store). Put stores inputs unless the cache
// already holds a newer version of them, and drops every copy older than
// what it stored. Invalidate forgets the patient's inputs everywhere.
// Implementations are safe for concurrent use and never put the patient's
// identity number in an error.
type Cache interface {
	Get(ctx context.Context, patient string) (Inputs, bool, error)
	Put(ctx context.Context, in Inputs) error
	Invalidate(ctx context.Context, patient string) error
}

// checkInputs verifies that in is usable as the inputs of patient: the
// same patient, a version, and records of that patient only. Inputs from a
// cache or a store that fail it are not used.
func checkInputs(in Inputs, patient string) error {
	if in.Patient != patient {
		return errors.New("inputs are of another patient")
	}
	if in.Version < 0 {
		return errors.New("inputs have a negative version")
	}
	for i, r := range in.Records {
		if r.Patient != patient {
			return fmt.Errorf("record %d is of another patient", i)
		}
		if err := r.Validate(); err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
	}
	return nil
}

// cloneInputs copies the record slice so that a cache and its callers
// never share it.
func cloneInputs(in Inputs) Inputs {
	if in.Records != nil {
		in.Records = append([]Sperring(nil), in.Records...)
	}
	return in
}
