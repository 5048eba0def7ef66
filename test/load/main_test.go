package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	tests := map[string]struct {
		args    []string
		wantErr string
	}{
		"ok/defaults":             {},
		"ok/rss":                  {args: []string{"-scenario", "rss", "-size", "1000"}},
		"fail/unknown scenario":   {args: []string{"-scenario", "x"}, wantErr: "unknown scenario"},
		"fail/too few entries":    {args: []string{"-entries", "5"}, wantErr: "at least 20"},
		"fail/unbounded duration": {args: []string{"-duration", "1h"}, wantErr: "-duration"},
		"fail/no workers":         {args: []string{"-workers", "0"}, wantErr: "-workers"},
		"fail/rss without auth":   {args: []string{"-scenario", "rss", "-auth=false"}, wantErr: "needs -auth"},
		"ok/throughput no auth":   {args: []string{"-auth=false"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseFlags(tc.args, io.Discard)
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestGeneratorIsDeterministicAndBounded(t *testing.T) {
	a, _ := io.ReadAll(newGenerator(100_003))
	b, _ := io.ReadAll(newGenerator(100_003))
	if len(a) != 100_003 || !bytes.Equal(a, b) {
		t.Fatalf("lengths %d %d, equal %v", len(a), len(b), bytes.Equal(a, b))
	}
	if bytes.Count(a, []byte{0}) > len(a)/100 {
		t.Fatal("generator output is not random-looking")
	}
}

// TestSmoke runs each scenario briefly against the real binary (skipped
// with -short: it builds kjdd and seeds a store).
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and loads kjdd")
	}
	tests := map[string]struct {
		args []string
		want []string
	}{
		"throughput": {
			args: []string{"-duration", "1s", "-entries", "500", "-workers", "2"},
			want: []string{"| kjdd ITI-38 FindDocuments", "one XUA assertion, its checks on every request", "| bare Go net/http", "ratio"},
		},
		"throughput refused without credentials": {
			args: []string{"-duration", "1s", "-entries", "500", "-workers", "2", "-auth=false"},
			want: []string{"no credentials, refused", "| bare Go net/http", "ratio"},
		},
		"rss": {
			args: []string{"-scenario", "rss", "-size", "3000000"},
			want: []string{"| ITI-43 retrieve (MTOM) |", "Retrieved document verified: 3000000 bytes"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out, errs bytes.Buffer
			if err := run(tc.args, &out, &errs); err != nil {
				t.Fatalf("%v\n%s", err, errs.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
