package keys

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// rootConfig is what of the configuration Load reads.
type rootConfig struct {
	AuditKey string // KJDD_AUDIT_KEY as configured
	Dev      bool
	DevKeys  string
}

// auditRootKey reads the root as serve does: KJDD_AUDIT_KEY parsed, then
// Load.
func auditRootKey(cfg rootConfig, log *slog.Logger) ([]byte, error) {
	var configured Root
	if err := configured.UnmarshalText([]byte(cfg.AuditKey)); err != nil {
		return nil, err
	}
	r, err := Load(configured, cfg.Dev, cfg.DevKeys, log)
	return r.key, err
}

func TestAuditRootKey(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	cases := map[string]struct {
		cfg     rootConfig
		want    []byte
		wantErr bool
	}{
		"configured key":           {cfg: rootConfig{AuditKey: base64.StdEncoding.EncodeToString(key)}, want: key},
		"configured key too short": {cfg: rootConfig{AuditKey: base64.StdEncoding.EncodeToString(key[:16])}, wantErr: true},
		"no key outside dev":       {cfg: rootConfig{}, wantErr: true},
		"configured key wins in dev": {
			cfg: rootConfig{Dev: true, DevKeys: t.TempDir(), AuditKey: base64.StdEncoding.EncodeToString(key)}, want: key,
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
	cfg := rootConfig{Dev: true, DevKeys: dir}
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

// TestLabelsNeverChange pins every derived key and check value of a fixed
// root: a changed label, KDF or check would make kjdd find no sperring
// record of anyone in an existing database. A new key adds a line here.
func TestLabelsNeverChange(t *testing.T) {
	root := Root{key: bytes.Repeat([]byte{7}, 32)}
	spr := root.Sperring()
	tests := map[string]struct {
		got  string // hex
		want string
	}{
		string(SperringIndex):  {hex.EncodeToString(spr.Index), "d44a97ac6ca61fe0bbcee17fbbd3df5408a027bcb9ec304535dc424a0e71ff01"},
		string(SperringSeal):   {hex.EncodeToString(spr.Seal), "4f783f952a7f7c160518f3f206ec6fbb471b8de71359fed879f7566efb056c45"},
		string(SperringRedis):  {hex.EncodeToString(spr.Redis), "b7a9b1500ce058516aafc5a175f73335585f400be48298f03254c6480dcd5b85"},
		string(SperringMasked): {hex.EncodeToString(spr.Masked), "f0faf18a42f1234b3bc5b90706531ec2494047d329ec4c9d2b570813f0d4cf4f"},
		SperringIndexCheck:     {CheckValue(spr.Index, SperringIndexCheck), "6938e4126ec1e4b25b38061a0aaa30fdeefdc3975290140eba8e1a8c257edb13"},
	}
	seen := map[string]string{}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("%s = %s, want %s", name, tc.got, tc.want)
			}
		})
		if other, dup := seen[tc.want]; dup {
			t.Errorf("%s and %s give the same key", name, other)
		}
		seen[tc.want] = name
	}
}

func TestRootNeverPrints(t *testing.T) {
	var r Root
	if err := r.UnmarshalText([]byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)))); err != nil {
		t.Fatal(err)
	}
	type holder struct{ Key Root }
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, holder{r})
		if bytes.Contains([]byte(out), []byte("CQkJ")) || bytes.Contains([]byte(out), []byte{9, 9}) || bytes.Contains([]byte(out), []byte("9 9")) {
			t.Errorf("%s prints the key: %s", format, out)
		}
	}
}
