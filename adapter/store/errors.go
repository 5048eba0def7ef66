package store

import "errors"

var (
	// ErrNotFound is returned (wrapped) when the object or content asked
	// for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate is returned (wrapped) when an insert collides with a
	// unique key: an entryUUID or uniqueId that is already registered,
	// possibly by a concurrent registration.
	ErrDuplicate = errors.New("duplicate key")
	// ErrBusy is returned (wrapped) when the database could not take a lock
	// in time; the operation may be retried.
	ErrBusy = errors.New("database busy")
)
