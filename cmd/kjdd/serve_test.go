package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeHelp: serve --help lists every variable with its default and
// exits 0.
func TestServeHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		t.Run(arg, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run([]string{"serve", arg}, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d, stderr %s", code, stderr.String())
			}
			for _, want := range []string{"--listen", "KJDD_LISTEN", ":8080", "KJDD_STORE", "sqlite:kjdd.db",
				"KJDD_HELSEID_DPOP", "required (--dev: optional)", "KJDD_OVERRIDE_PURPOSES", "BTG", "KJDD_OBJECT_CACHE", "50000"} {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("help lacks %q:\n%s", want, stdout.String())
				}
			}
		})
	}
}

// TestServeBadListenCreatesNothing: an address kjdd cannot listen on stops
// serve before the store file or any development key exists.
func TestServeBadListenCreatesNothing(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tests := map[string]string{
		"not host:port":     "8080",
		"port out of range": "127.0.0.1:99999",
		"port not a number": "127.0.0.1:eighty",
		"host not a name":   "kjdd_host!:8080",
		"port taken":        taken.Addr().String(),
		"address not local": "192.0.2.1:8080", // TEST-NET-1, never this host's
	}
	for name, addr := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			var stdout, stderr bytes.Buffer
			code := run([]string{"serve", "--dev", "--listen", addr,
				"--store", "sqlite:" + filepath.Join(dir, "kjdd.db"), "--dev-keys", filepath.Join(dir, "dev")}, &stdout, &stderr)
			if code != 1 {
				t.Fatalf("exit %d, want 1; stderr %s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), "KJDD_LISTEN") {
				t.Errorf("the error does not name KJDD_LISTEN: %s", stderr.String())
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 0 {
				t.Fatalf("serve created %v before refusing the listen address", entries)
			}
		})
	}
}
