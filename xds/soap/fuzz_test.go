package soap

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"kjdd/xds/internal/xdstest"
)

// FuzzReadMessage feeds arbitrary bodies to ReadMessage, as plain SOAP and
// as MTOM (boundary taken from the body's first line, as a sender would
// declare it). It must never panic or hang, must refuse only with a
// *Fault, and must leave no spooled file behind.
func FuzzReadMessage(f *testing.F) {
	for name := range plainSamples {
		f.Add(xdstest.ReadSample(f, name), false)
	}
	for _, name := range []string{"iti39-request-pjd-mtom-multipart.txt", "iti41-request-nist-mtom-xop.txt", "iti41-response-ehealthsuisse-mtom-http.txt"} {
		f.Add(loadCapture(f, name).Body, true)
	}
	for _, tc := range soapBadInputs {
		if len(tc.body) < 64<<10 {
			f.Add([]byte(tc.body), false)
		}
	}
	for _, tc := range mtomBadInputs {
		f.Add([]byte(tc.body), true)
	}
	spool := newMemSpool()
	f.Fuzz(func(t *testing.T, body []byte, multipart bool) {
		lim := Limits{MaxBodyBytes: 1 << 20, MaxDepth: 64, MaxElements: 20000,
			MaxParts: 8, MaxPartBytes: 1 << 20, MemoryPartBytes: 512}
		ctype := ContentTypeSOAP
		if multipart {
			line, _, _ := bytes.Cut(body, []byte("\n"))
			boundary := strings.TrimSuffix(strings.TrimPrefix(string(line), "--"), "\r")
			ctype = mtomType(strings.Map(func(r rune) rune {
				if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
					return -1
				}
				return r
			}, boundary), "")
		}
		m, err := spoolReader(lim, spool).Read(bytes.NewReader(body), ctype)
		if err != nil {
			var fault *Fault
			if !errors.As(err, &fault) {
				t.Fatalf("refused with %T, not *Fault: %v", err, err)
			}
		} else {
			if m.Action == "" || m.BodyRoot == nil {
				t.Fatal("accepted a message without Action or body root")
			}
			for _, el := range m.Body.FindElements("//Document") {
				if b, err := m.Blob(el); err == nil {
					rc, _ := b.Open()
					rc.Close()
				}
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
		}
		noSpooledFiles(t, spool)
	})
}
