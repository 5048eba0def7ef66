package telemetry

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"fødselsnummer":                 {"urn:x:13116900216", "urn:x:***********"},
		"in CX form":                    {"13116900216^^^&2.16.578.1.12.4.1.4.1&ISO", "***********^^^&2.16.578.1.12.4.1.4.1&ISO"},
		"split by a space":              {"131169 00216", "****** *****"},
		"split by a hyphen":             {"131169-00216", "******-*****"},
		"inside a longer run":           {"x1311690021699", "x*************"},
		"truncated to ten":              {"1311690021", "**********"},
		"HPR number":                    {"hpr 565505933", "hpr *********"},
		"OID kept":                      {"2.16.578.1.12.4.1.4.1", "2.16.578.1.12.4.1.4.1"},
		"short numbers kept":            {"HTTP 404 after 12 ms", "HTTP 404 after 12 ms"},
		"trailing separator not joined": {"12345 x", "12345 x"},
		"empty":                         {"", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

// TestRedactingHandler: whatever shape a request-derived string reaches
// the logger in, the line holds none of its national ids.
func TestRedactingHandler(t *testing.T) {
	const fnr = "13116900216"
	var buf bytes.Buffer
	log := slog.New(RedactingHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	log = log.With("with", "action urn:"+fnr).WithGroup("g" + fnr)
	log.Info("message "+fnr,
		"string", fnr,
		"err", errors.New("unexpected slot $"+fnr),
		"stringer", stringer("to "+fnr),
		"any", map[string]string{"k": fnr},
		slog.Group("group", "inner", fnr),
		fnr, "as a key",
		"count", 42)
	out := buf.String()
	if strings.Contains(out, fnr) || strings.Contains(out, "1311690") {
		t.Fatalf("log holds the national id: %s", out)
	}
	if !strings.Contains(out, `"count":42`) {
		t.Errorf("numbers were changed: %s", out)
	}
	if RedactingHandler(RedactingHandler(slog.DiscardHandler)) != RedactingHandler(slog.DiscardHandler) {
		t.Error("wrapping twice redacts twice")
	}
}
