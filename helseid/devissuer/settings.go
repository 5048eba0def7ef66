package devissuer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"kjdd/helseid"
)

// Settings are what the running development server expects of the
// credentials it is shown. serve --dev writes them into the keys directory
// when it starts; the CLI reads them, so its tokens and assertions carry
// exactly the issuer, audiences and scopes the server checks.
type Settings struct {
	// Issuer is the development issuer's URL (iss), served by kjdd itself
	// under /dev/helseid.
	Issuer string `json:"issuer"`
	// Audience is the access tokens' aud (KJDD_HELSEID_AUDIENCE).
	Audience string `json:"audience"`
	// SAMLIssuer and SAMLAudience are the assertions' Issuer and Audience
	// (KJDD_SAML_ISSUER, KJDD_SAML_AUDIENCE).
	SAMLIssuer   string `json:"samlIssuer"`
	SAMLAudience string `json:"samlAudience"`
	// Scopes are every scope kjdd knows (read, register, audit), the
	// default grant of a development token.
	Scopes []string `json:"scopes"`
	// HospitalOrgNumber is KJDD_HOSPITAL_ORGNR: the orgnr_parent of
	// client-credentials tokens and the legal entity of practitioners.
	HospitalOrgNumber string `json:"hospitalOrgNumber"`
}

// Validate reports the first missing or unusable setting.
func (s Settings) Validate() error {
	if err := helseid.CheckIssuerURL(s.Issuer); err != nil {
		return fmt.Errorf("devissuer: issuer: %w", err)
	}
	switch {
	case s.Audience == "":
		return errors.New("devissuer: audience is required")
	case s.SAMLIssuer == "" || s.SAMLAudience == "":
		return errors.New("devissuer: SAML issuer and audience are required")
	case len(s.Scopes) == 0:
		return errors.New("devissuer: at least one scope is required")
	case !allDigits(s.HospitalOrgNumber, 9):
		return errors.New("devissuer: hospital organisation number must be nine digits")
	}
	for _, sc := range s.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \t,\"") {
			return fmt.Errorf("devissuer: scope %q is not one scope name", sc)
		}
	}
	return nil
}

// SaveSettings validates s and writes it into the keys directory,
// replacing what an earlier start wrote.
func (k *Keys) SaveSettings(s Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(k.Dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("devissuer: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("devissuer: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("devissuer: %w", err)
	}
	// CreateTemp made the file 0600; rename keeps that.
	if err := os.Rename(tmp.Name(), filepath.Join(k.Dir, settingsFile)); err != nil {
		return fmt.Errorf("devissuer: %w", err)
	}
	return nil
}

// Settings reads what the server wrote at its last start. It returns an
// error wrapping ErrNoKeys when serve --dev has not run with this
// directory.
func (k *Keys) Settings() (Settings, error) {
	var s Settings
	b, err := os.ReadFile(filepath.Join(k.Dir, settingsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return s, fmt.Errorf("%w (no %s in %s)", ErrNoKeys, settingsFile, k.Dir)
	}
	if err != nil {
		return s, fmt.Errorf("devissuer: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("devissuer: %s: %w", settingsFile, err)
	}
	return s, s.Validate()
}

func allDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
