package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"kjdd/adapter/access"
	"kjdd/adapter/config"
	"kjdd/adapter/store"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestAuditRootKey(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	cases := map[string]struct {
		cfg     config.Config
		want    []byte
		wantErr bool
	}{
		"configured key":           {cfg: config.Config{AuditKey: base64.StdEncoding.EncodeToString(key)}, want: key},
		"configured key too short": {cfg: config.Config{AuditKey: base64.StdEncoding.EncodeToString(key[:16])}, wantErr: true},
		"no key outside dev":       {cfg: config.Config{}, wantErr: true},
		"configured key wins in dev": {
			cfg: config.Config{Dev: true, DevKeys: t.TempDir(), AuditKey: base64.StdEncoding.EncodeToString(key)}, want: key,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := auditRootKey(tc.cfg, quiet())
			if tc.wantErr {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("key %x, %v", got, err)
			}
		})
	}
}

// TestDevAuditKeyKept: --dev without a key creates one, private to its
// owner, and uses the same one on the next start.
func TestDevAuditKeyKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev")
	cfg := config.Config{Dev: true, DevKeys: dir}
	first, err := auditRootKey(cfg, quiet())
	if err != nil || len(first) != 32 {
		t.Fatalf("key %x, %v", first, err)
	}
	info, err := os.Stat(filepath.Join(dir, "audit-key"))
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Fatalf("key file mode %o, want 600", mode)
	}
	again, err := auditRootKey(cfg, quiet())
	if err != nil || !bytes.Equal(first, again) {
		t.Fatalf("second start: key %x, %v; want the first key", again, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "audit-key"), []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := auditRootKey(cfg, quiet()); err == nil {
		t.Fatal("a damaged key file was accepted")
	}
}

func TestBuildSperring(t *testing.T) {
	ctx := context.Background()
	base := config.Config{AuditKey: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32)), OverridePurposes: "BTG", BlockedVisibility: "hide"}
	cases := map[string]struct {
		change  func(c *config.Config)
		wantErr bool
	}{
		"defaults":                     {change: func(*config.Config) {}},
		"obfuscate":                    {change: func(c *config.Config) { c.BlockedVisibility = "obfuscate" }},
		"no override":                  {change: func(c *config.Config) { c.OverridePurposes = "" }},
		"ordinary access may not":      {change: func(c *config.Config) { c.OverridePurposes = "TREAT" }, wantErr: true},
		"unknown visibility":           {change: func(c *config.Config) { c.BlockedVisibility = "show" }, wantErr: true},
		"another key on the same data": {change: func(c *config.Config) { c.AuditKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{4}, 32)) }, wantErr: true},
	}
	st, err := store.Open(ctx, "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The first build records the key's check value in the store.
	if _, err := buildSperring(ctx, base, st, nil, quiet()); err != nil {
		t.Fatal(err)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := base
			tc.change(&cfg)
			spr, err := buildSperring(ctx, cfg, st, nil, quiet())
			if tc.wantErr {
				if err == nil {
					t.Fatal("built")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := spr.policy.(access.PatientBound); !ok {
				t.Fatalf("policy %T, want sperring behind PatientBound", spr.policy)
			}
			if spr.service == nil || spr.onRegistered == nil || len(spr.collectors) == 0 {
				t.Fatalf("incomplete wiring: %+v", spr)
			}
			if err := spr.ready(ctx); err != nil {
				t.Fatalf("not ready: %v", err)
			}
		})
	}
}
