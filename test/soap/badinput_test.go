package soap

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"kjdd/adapter/store"
	"kjdd/test/internal/corpus"
	"kjdd/test/internal/harness"
	"kjdd/test/internal/nistkit"
)

func TestMain(m *testing.M) { os.Exit(harness.Run(m)) }

// maxBody is KJDD_MAX_BODY_BYTES of the bad-input server.
const maxBody = 1 << 20

// badRequest is what a bad-input case sends.
type badRequest struct {
	path, contentType string
	body              io.Reader
}

// badCase wraps a valid submission (sor, for its own patient) into a
// broken request. Every case must be refused with the fault named and must
// leave the registry unchanged.
type badCase struct {
	build func(t *testing.T, sor string) badRequest
	// fault is the expected Fault code or subcode local name.
	fault string
	// status is the exact HTTP status expected, 0 = any 4xx.
	status int
	// mustNotContain must not appear in the answer (leaked file content).
	mustNotContain string
}

const register = harness.ActionRegister

func soapReq(path string, body []byte) badRequest {
	return badRequest{path: path, contentType: harness.ContentTypeSOAP, body: bytes.NewReader(body)}
}

// withDTD puts a document type declaration before the envelope.
func withDTD(dtd string, env []byte) []byte {
	return append([]byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+dtd+"\n"), harness.StripProlog(string(env))...)
}

const billionLaughs = `<!DOCTYPE soap:Envelope [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>`

var badCases = map[string]badCase{
	"dtd with internal entity": {
		build: func(t *testing.T, sor string) badRequest {
			return soapReq(harness.PathRegistry, withDTD(`<!DOCTYPE soap:Envelope [<!ENTITY x "y">]>`, harness.Envelope(register, sor)))
		},
		fault: "Sender", status: http.StatusBadRequest,
	},
	"external entity (XXE)": {
		build: func(t *testing.T, sor string) badRequest {
			sor = strings.Replace(sor, "en-us", "&xxe;", 1)
			return soapReq(harness.PathRegistry, withDTD(`<!DOCTYPE soap:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`, harness.Envelope(register, sor)))
		},
		fault: "Sender", status: http.StatusBadRequest, mustNotContain: "root:",
	},
	"billion laughs": {
		build: func(t *testing.T, sor string) badRequest {
			sor = strings.Replace(sor, "en-us", "&lol9;", 1)
			return soapReq(harness.PathRegistry, withDTD(billionLaughs, harness.Envelope(register, sor)))
		},
		fault: "Sender", status: http.StatusBadRequest,
	},
	"oversized body": {
		build: func(t *testing.T, sor string) badRequest {
			env := harness.Envelope(register, sor)
			pad := `<!--` + strings.Repeat("x", maxBody) + `-->`
			return soapReq(harness.PathRegistry, append(env, pad...))
		},
		fault: "Sender", status: http.StatusRequestEntityTooLarge,
	},
	"deep nesting": {
		build: func(t *testing.T, sor string) badRequest {
			deep := strings.Repeat(`<k:n xmlns:k="urn:kjdd:test">`, 500) + strings.Repeat(`</k:n>`, 500)
			return soapReq(harness.PathRegistry, harness.Envelope(register, sor, harness.WithHeader(deep)))
		},
		fault: "Sender", status: http.StatusRequestEntityTooLarge,
	},
	"soap 1.1 envelope": {
		build: func(t *testing.T, sor string) badRequest {
			env := string(harness.Envelope(register, sor))
			env = strings.ReplaceAll(env, "http://www.w3.org/2003/05/soap-envelope", "http://schemas.xmlsoap.org/soap/envelope/")
			return soapReq(harness.PathRegistry, []byte(env))
		},
		fault: "VersionMismatch",
	},
	"text/xml content type": {
		build: func(t *testing.T, sor string) badRequest {
			return badRequest{path: harness.PathRegistry, contentType: "text/xml; charset=utf-8", body: bytes.NewReader(harness.Envelope(register, sor))}
		},
		fault: "VersionMismatch",
	},
	"latin-1 charset": {
		build: func(t *testing.T, sor string) badRequest {
			return badRequest{path: harness.PathRegistry, contentType: "application/soap+xml; charset=ISO-8859-1", body: bytes.NewReader(harness.Envelope(register, sor))}
		},
		fault: "Sender",
	},
	"unknown action": {
		build: func(t *testing.T, sor string) badRequest {
			return soapReq(harness.PathRegistry, harness.Envelope("urn:ihe:iti:2007:NoSuchTransaction", sor))
		},
		fault: "ActionNotSupported",
	},
	"missing action": {
		build: func(t *testing.T, sor string) badRequest {
			return soapReq(harness.PathRegistry, harness.Envelope(register, sor, harness.WithoutAction()))
		},
		fault: "MessageAddressingHeaderRequired",
	},
	"register sent to the gateway endpoint": {
		build: func(t *testing.T, sor string) badRequest {
			return soapReq(harness.PathXCA, harness.Envelope(register, sor))
		},
		fault: "ActionNotSupported",
	},
	"not xml": {
		build: func(t *testing.T, sor string) badRequest {
			return soapReq(harness.PathRegistry, []byte("this is not XML "+sor[:20]))
		},
		fault: "Sender",
	},
	"mtom boundary mismatch": {
		build: func(t *testing.T, sor string) badRequest {
			body, ct := provideMTOM(t, sor)
			ct = strings.Replace(ct, "boundary=", "boundary=other", 1)
			return badRequest{path: harness.PathRepository, contentType: ct, body: bytes.NewReader(body)}
		},
		fault: "Sender",
	},
	"mtom truncated": {
		build: func(t *testing.T, sor string) badRequest {
			body, ct := provideMTOM(t, sor)
			return badRequest{path: harness.PathRepository, contentType: ct, body: bytes.NewReader(body[:len(body)-40])}
		},
		fault: "Sender",
	},
	"mtom include of a missing part": {
		build: func(t *testing.T, sor string) badRequest {
			body, ct := provideMTOM(t, sor)
			body = bytes.Replace(body, []byte(`href="cid:doc@kjdd.test"`), []byte(`href="cid:absent@kjdd.test"`), 1)
			return badRequest{path: harness.PathRepository, contentType: ct, body: bytes.NewReader(body)}
		},
		fault: "Sender",
	},
}

// provideMTOM is a valid ITI-41 for sor's document, as MTOM.
func provideMTOM(t *testing.T, sor string) ([]byte, string) {
	t.Helper()
	docID := "Document01"
	if i := strings.Index(sor, `<rim:ExtrinsicObject id="`); i >= 0 {
		rest := sor[i+len(`<rim:ExtrinsicObject id="`):]
		docID = rest[:strings.IndexByte(rest, '"')]
	}
	msg, ct, err := harness.ProvideAndRegister(sor,
		harness.Document{ID: docID, ContentType: "text/xml", Body: strings.NewReader("<doc>bad input test</doc>")})
	if err != nil {
		t.Fatal(err)
	}
	return msg, ct
}

// submission prepares NIST's single-document seed for a fresh patient.
func submission(t *testing.T, patient string, forProvide bool) string {
	t.Helper()
	s := corpus.SingleDocument(t, patient)
	if forProvide {
		// ITI-41: the repository sets hash, size and repositoryUniqueId.
		for _, slot := range []string{"hash", "size", "repositoryUniqueId"} {
			s = dropSlot(s, slot)
		}
	}
	return s
}

func dropSlot(s, name string) string {
	start := strings.Index(s, `<rim:Slot name="`+name+`">`)
	if start < 0 {
		return s
	}
	end := strings.Index(s[start:], `</rim:Slot>`)
	return s[:start] + s[start+end+len(`</rim:Slot>`):]
}

// documentsOf counts the patient's documents through ITI-18.
func documentsOf(t *testing.T, srv *harness.Server, patient string) int {
	t.Helper()
	q := `<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">` +
		`<query:ResponseOption returnComposedObjects="true" returnType="ObjectRef"/>` +
		`<rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">` +
		`<rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'` + nistkit.Substitute("$p$", map[string]string{"$p$": patient}, true) + `'</rim:Value></rim:ValueList></rim:Slot>` +
		`<rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved','urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated')</rim:Value></rim:ValueList></rim:Slot>` +
		`</rim:AdhocQuery></query:AdhocQueryRequest>`
	resp := srv.SOAP(t, harness.PathRegistry, harness.Envelope(harness.ActionStoredQuery, q), harness.ContentTypeSOAP)
	if f := resp.Fault(); f != nil || !strings.HasSuffix(resp.Status(), ":Success") {
		t.Fatalf("control query failed: %v %s %v", f, resp.Status(), resp.ErrorCodes())
	}
	return resp.Contents().ObjectRefs
}

func TestBadInput(t *testing.T) {
	srv := harness.Start(t, harness.Options{Env: map[string]string{
		"KJDD_METADATA_PROFILE": "ihe",
		"KJDD_MAX_BODY_BYTES":   strconv.Itoa(maxBody),
		"KJDD_EPJ_REPOSITORIES": corpus.FakeRepository + "=http://127.0.0.1:9/unused",
	}})
	for name, tc := range badCases {
		t.Run(name, func(t *testing.T) {
			patient := nistkit.NewPatientID()
			sor := submission(t, patient, strings.HasPrefix(name, "mtom"))
			req := tc.build(t, sor)
			start := time.Now()
			resp := srv.SOAPStream(t, req.path, req.body, req.contentType)
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("refusal took %s", d)
			}
			f := resp.Fault()
			switch {
			case f == nil:
				t.Errorf("answered status %q, want a SOAP Fault %s", resp.Status(), tc.fault)
			case tc.fault != f.Code && tc.fault != f.SubcodeLocal():
				t.Errorf("fault %s, want %s", f, tc.fault)
			case f.Reason == "":
				t.Errorf("fault without a reason text")
			}
			if tc.status != 0 && resp.StatusCode != tc.status {
				t.Errorf("HTTP %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == 0 && f != nil && f.Code == "Sender" && (resp.StatusCode < 400 || resp.StatusCode > 499) {
				t.Errorf("Sender fault with HTTP %d", resp.StatusCode)
			}
			if tc.mustNotContain != "" && bytes.Contains(resp.Raw, []byte(tc.mustNotContain)) {
				t.Errorf("answer contains %q", tc.mustNotContain)
			}
			if n := documentsOf(t, srv, patient); n != 0 {
				t.Errorf("the refused request registered %d documents", n)
			}
			corpus.Golden(t, "badinput", name, "", nil, resp, nil)
		})
	}
	// Positive control: the same checks see a registration that happens.
	control := nistkit.NewPatientID()
	resp := srv.SOAP(t, harness.PathRegistry, harness.Envelope(register, submission(t, control, false)), harness.ContentTypeSOAP)
	if !strings.HasSuffix(resp.Status(), ":Success") {
		t.Fatalf("control registration: %s %v", resp.Status(), resp.RegistryErrors())
	}
	if n := documentsOf(t, srv, control); n != 1 {
		t.Fatalf("control patient has %d documents, want 1", n)
	}
	if code, _ := srv.Get(t, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d after the bad inputs", code)
	}
	srv.Stop(t)
	if n := countEntries(t, srv.DBPath); n != 1 {
		t.Errorf("store holds %d DocumentEntries after the bad inputs and one good registration, want 1", n)
	}
}

// countEntries counts DocumentEntries in a copy of the stopped server's
// SQLite files, so the evidence itself is never written to.
func countEntries(t *testing.T, db string) int64 {
	t.Helper()
	dir := t.TempDir()
	copyDB := filepath.Join(dir, "kjdd.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(db + suffix)
		if err != nil {
			if suffix != "" && os.IsNotExist(err) {
				continue
			}
			t.Fatal(err)
		}
		if err := os.WriteFile(copyDB+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, "sqlite:"+copyDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.CountDocumentEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
