// Package keys owns every key kjdd derives from KJDD_AUDIT_KEY: the root
// itself (configured, or kept in KJDD_DEV_KEYS under --dev), the HKDF label
// of each derived key, and the check value a store keeps to tell at start
// whether the root still opens the records written under it.
//
// A new key is one labelled line below and one call of Derive. Labels are
// distinct per use, so that no key can stand in for another, and never
// change: the store's patient index, the sealed records and every masked
// id would change with them (TestLabelsNeverChange pins them).
package keys

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Label is the HKDF info string of one derived key.
type Label string

// The labels of the keys derived from the root.
const (
	SperringIndex  Label = "kjdd sperring patient index v1" // store: the keyed hash sperring records are found by
	SperringSeal   Label = "kjdd sperring patient seal v1"  // store: AES-GCM of the patient in each record
	SperringRedis  Label = "kjdd sperring redis key v1"     // consent: the keyed hash naming a patient in Redis
	SperringMasked Label = "kjdd sperring obfuscation v1"   // consent: masked ids of obfuscated documents
)

// Check labels: the value CheckValue gives under a derived key, kept in
// the store beside the records written under that key.
const (
	SperringIndexCheck = "kjdd sperring key check v1" // store: sperring_key_check 'index', under SperringIndex
)

// Size is the length of the root and of every derived key.
const Size = 32

// Root is KJDD_AUDIT_KEY, the root of kjdd's keyed hashes and sealing. The
// zero Root is "not configured". It never prints itself.
type Root struct{ key []byte }

// UnmarshalText reads KJDD_AUDIT_KEY: base64 of exactly 32 bytes; empty is
// the zero Root.
func (r *Root) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "" {
		*r = Root{}
		return nil
	}
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(k) != Size {
		return errors.New("must be base64 of exactly 32 bytes")
	}
	*r = Root{key: k}
	return nil
}

// IsZero reports whether no root is set.
func (r Root) IsZero() bool { return len(r.key) == 0 }

// String hides the key, so that logging a configuration cannot leak it.
func (r Root) String() string {
	if r.IsZero() {
		return ""
	}
	return "(set)"
}

// Derive returns the key of label: HKDF-SHA256 of the root, no salt,
// label as info, 32 bytes. It panics on the zero Root (a wiring error).
func (r Root) Derive(label Label) []byte {
	if r.IsZero() {
		panic("keys: Derive on an unset root")
	}
	k, err := hkdf.Key(sha256.New, r.key, nil, string(label), Size)
	if err != nil {
		panic(err) // only for lengths hkdf cannot give; 32 it can
	}
	return k
}

// Sperring are the keys of the sperring records and their caches.
type Sperring struct {
	Index, Seal, Redis, Masked []byte
}

// Sperring derives the sperring keys.
func (r Root) Sperring() Sperring {
	return Sperring{
		Index:  r.Derive(SperringIndex),
		Seal:   r.Derive(SperringSeal),
		Redis:  r.Derive(SperringRedis),
		Masked: r.Derive(SperringMasked),
	}
}

// CheckValue is what a store keeps beside records written under key, to
// tell at start that key is still the one: hex HMAC-SHA256 of checkLabel
// under key. It reveals nothing of key. Opening records under another key
// would find no record of anyone (and so lift every sperring), which is
// why a changed root must stop kjdd instead.
func CheckValue(key []byte, checkLabel string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(checkLabel))
	return hex.EncodeToString(h.Sum(nil))
}

// Load returns the root: the configured one when set; otherwise, in
// --dev only, the one kept in devDir/audit-key, created there (mode 0600)
// on first use, so that development records stay readable across
// restarts.
func Load(configured Root, dev bool, devDir string, log *slog.Logger) (Root, error) {
	if !configured.IsZero() {
		return configured, nil
	}
	if !dev {
		return Root{}, errors.New("KJDD_AUDIT_KEY: required")
	}
	path := filepath.Join(devDir, "audit-key")
	if b, err := os.ReadFile(path); err == nil {
		var r Root
		if err := r.UnmarshalText(b); err != nil || r.IsZero() {
			return Root{}, fmt.Errorf("development audit key %s: not base64 of 32 bytes", path)
		}
		return r, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return Root{}, fmt.Errorf("development audit key: %w", err)
	}
	k := make([]byte, Size)
	if _, err := rand.Read(k); err != nil {
		return Root{}, err
	}
	if err := os.MkdirAll(devDir, 0o700); err != nil {
		return Root{}, fmt.Errorf("development keys: %w", err)
	}
	// Written whole to a temporary file, then linked into place, so that
	// a process starting at the same time never reads half a key.
	tmp, err := os.CreateTemp(devDir, ".audit-key-*")
	if err != nil {
		return Root{}, fmt.Errorf("development audit key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	if err := errors.Join(werr, tmp.Chmod(0o600), tmp.Close()); err != nil {
		return Root{}, fmt.Errorf("development audit key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return Load(configured, dev, devDir, log) // another process was first: use its key
	} else if err != nil {
		return Root{}, fmt.Errorf("development audit key: %w", err)
	}
	log.Warn("created a development audit key; set KJDD_AUDIT_KEY outside --dev", "path", path)
	return Root{key: k}, nil
}

// GoString hides the key from %#v as String does from %v.
func (r Root) GoString() string { return "keys.Root(" + r.String() + ")" }
