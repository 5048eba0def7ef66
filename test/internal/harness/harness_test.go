package harness

import (
	"bytes"
	"crypto/rand"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"kjdd/test/testkit/paths"
	"kjdd/test/testkit/xsd"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

const retrieveBody = `<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007"><xdsb:DocumentRequest><xdsb:RepositoryUniqueId>1.2.3</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>1.2.3.4</xdsb:DocumentUniqueId></xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>`

func TestEnvelope(t *testing.T) {
	xsd.Require(t)
	tests := map[string]struct {
		opts       []EnvelopeOption
		wantAction bool
		wantReply  bool
		wantHeader string
	}{
		"ok/defaults":          {wantAction: true},
		"ok/reply to":          {opts: []EnvelopeOption{WithReplyTo("http://www.w3.org/2005/08/addressing/anonymous")}, wantAction: true, wantReply: true},
		"ok/extra header":      {opts: []EnvelopeOption{WithHeader(`<x:Extra xmlns:x="urn:x">1</x:Extra>`)}, wantAction: true, wantHeader: "Extra"},
		"bad input/no action":  {opts: []EnvelopeOption{WithoutAction()}},
		"ok/fixed message id":  {opts: []EnvelopeOption{WithMessageID("urn:uuid:00000000-0000-4000-8000-000000000000")}, wantAction: true},
		"ok/body with prolog":  {wantAction: true},
		"ok/explicit to value": {opts: []EnvelopeOption{WithTo("http://127.0.0.1/xds/repository")}, wantAction: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			body := retrieveBody
			if strings.Contains(name, "prolog") {
				body = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + body
			}
			env := Envelope("urn:ihe:iti:2007:RetrieveDocumentSet", body, tc.opts...)
			if err := xsd.Validate(env); err != nil {
				t.Fatalf("envelope fails XSD: %v\n%s", err, env)
			}
			m, err := ParseMessage(ContentTypeSOAP, env)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Action != ""; got != tc.wantAction {
				t.Errorf("action present = %v, want %v", got, tc.wantAction)
			}
			if !strings.HasPrefix(m.MessageID, "urn:uuid:") {
				t.Errorf("MessageID %q", m.MessageID)
			}
			if got := strings.Contains(string(env), "ReplyTo"); got != tc.wantReply {
				t.Errorf("ReplyTo present = %v", got)
			}
			if tc.wantHeader != "" && !strings.Contains(string(env), tc.wantHeader) {
				t.Errorf("header %s missing", tc.wantHeader)
			}
			if m.Body == nil || m.Body.Tag != "RetrieveDocumentSetRequest" {
				t.Errorf("body root = %v", m.Body)
			}
		})
	}
}

func TestMTOMRoundTripResolvesXOP(t *testing.T) {
	xsd.Require(t)
	content := make([]byte, 70000)
	_, _ = rand.Read(content)
	env := Envelope("urn:ihe:iti:2007:RetrieveDocumentSetResponse",
		`<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="urn:ihe:iti:xds-b:2007"><rs:RegistryResponse xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/><xdsb:DocumentResponse><xdsb:RepositoryUniqueId>1.2.3</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>1.2.3.4</xdsb:DocumentUniqueId><xdsb:mimeType>application/pdf</xdsb:mimeType><xdsb:Document>`+XOPInclude("doc 1@kjdd.test")+`</xdsb:Document></xdsb:DocumentResponse></xdsb:RetrieveDocumentSetResponse>`)
	if err := xsd.Validate(env); err == nil {
		t.Fatal("an unresolved xop:Include should fail XSD (Document is base64Binary)")
	}
	body, ct, err := MTOM(env, "urn:ihe:iti:2007:RetrieveDocumentSetResponse", Part{ContentID: "doc 1@kjdd.test", ContentType: "application/pdf", Body: bytes.NewReader(content)})
	if err != nil {
		t.Fatal(err)
	}
	if mt, params, _ := mime.ParseMediaType(ct); mt != "multipart/related" || params["type"] != "application/xop+xml" || params["start"] == "" {
		t.Fatalf("content type %q", ct)
	}
	m, err := ParseMessage(ct, body)
	if err != nil {
		t.Fatal(err)
	}
	if !m.MTOM {
		t.Error("MTOM = false")
	}
	if err := CheckMessage(m); err != nil {
		t.Fatal(err)
	}
	docs, err := m.Documents()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(docs["1.2.3.4"], content) {
		t.Fatalf("document content differs (%d bytes, want %d)", len(docs["1.2.3.4"]), len(content))
	}
	if m.Status() != "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success" {
		t.Errorf("status %q", m.Status())
	}
}

func TestParseMessageRejects(t *testing.T) {
	env := Envelope("a", retrieveBody)
	okBody, okCT, err := MTOM(env, "")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		ct   string
		body []byte
	}{
		"text/xml":               {ct: "text/xml", body: env},
		"soap 1.1 envelope":      {ct: ContentTypeSOAP, body: []byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>`)},
		"not xml":                {ct: ContentTypeSOAP, body: []byte("hello")},
		"no body":                {ct: ContentTypeSOAP, body: []byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"/>`)},
		"multipart wrong type":   {ct: strings.Replace(okCT, "application/xop+xml", "text/plain", 1), body: okBody},
		"multipart bad boundary": {ct: `multipart/related; type="application/xop+xml"; boundary=nope`, body: okBody},
		"missing xop part":       {ct: ContentTypeSOAP, body: []byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><d>` + XOPInclude("x") + `</d></s:Body></s:Envelope>`)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := ParseMessage(tc.ct, tc.body)
			if name == "missing xop part" {
				// Plain SOAP does not resolve XOP; the include stays and fails XSD.
				if err != nil {
					t.Fatal(err)
				}
				if xsd.Available() && CheckMessage(m) == nil {
					t.Fatal("unresolved include passed the checks")
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: %+v", m)
			}
		})
	}
}

func TestParseCorpusSamples(t *testing.T) {
	tests := map[string]struct {
		file       string
		capture    bool
		wantAction string
		wantStatus string
		want       Contents
		wantErr    string
	}{
		"iti18 leafclass response": {
			file: "iti18-response-FindDocuments-LeafClass-ihe-official-soap.xml", wantAction: "urn:ihe:iti:2007:RegistryStoredQueryResponse",
			// The official example predates the URN status values.
			wantStatus: "Success", want: Contents{Documents: 1, ObjectRefs: 8},
		},
		"ehealthsuisse leafclass response": {
			file: "iti18-response-LeafClass-ehealthsuisse-projectathon.xml", wantAction: "urn:ihe:iti:2007:RegistryStoredQueryResponse",
			wantStatus: "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success", want: Contents{Documents: 1},
		},
		"iti39 mtom request capture with latin-1 byte": {
			// NHN's capture declares UTF-8 but holds an ISO-8859-1 byte; the
			// harness parses what kjdd sends, which must be valid UTF-8.
			file: "iti39-request-pjd-mtom-multipart.txt", capture: true, wantErr: "invalid UTF-8",
		},
		"iti41 mtom xop request capture": {
			file: "iti41-request-nist-mtom-xop.txt", capture: true, wantAction: "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
			want: Contents{Documents: 1, SubmissionSets: 1, Associations: 1},
		},
		"iti41 mtom response http dump": {
			file: "iti41-response-ehealthsuisse-mtom-http.txt", capture: true, wantAction: "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse",
			wantStatus: "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			raw := paths.Sample(t, tc.file)
			ct, body := ContentTypeSOAP, raw
			if tc.capture {
				var err error
				if ct, body, err = MIMECapture(raw); err != nil {
					t.Fatal(err)
				}
			}
			m, err := ParseMessage(ct, body)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want error %q, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Action != tc.wantAction {
				t.Errorf("action %q, want %q", m.Action, tc.wantAction)
			}
			if m.Status() != tc.wantStatus {
				t.Errorf("status %q, want %q", m.Status(), tc.wantStatus)
			}
			if got := m.Contents(); got != tc.want {
				t.Errorf("contents %+v, want %+v", got, tc.want)
			}
			if xsd.Available() {
				if err := CheckMessage(m); err != nil {
					t.Errorf("corpus sample fails checks: %v", err)
				}
			}
		})
	}
}

func TestFaultParsing(t *testing.T) {
	env := []byte(`<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing"><env:Header><wsa:Action>http://www.w3.org/2005/08/addressing/soap/fault</wsa:Action></env:Header><env:Body><env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode><env:Value>wsa:ActionNotSupported</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">unknown action</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>`)
	m, err := ParseMessage("application/soap+xml", env)
	if err != nil {
		t.Fatal(err)
	}
	f := m.Fault()
	if f == nil || f.Code != "Sender" || f.SubcodeLocal() != "ActionNotSupported" || f.Reason != "unknown action" {
		t.Fatalf("fault = %+v", f)
	}
	if xsd.Available() {
		if err := CheckMessage(m); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStartServesReadyz(t *testing.T) {
	s := Start(t, Options{})
	if code, _ := s.Get(t, "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d", code)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(s.PID) + "/status"); err != nil {
		t.Errorf("PID %d not visible in /proc: %v", s.PID, err)
	}
	s.Stop(t)
	if !s.Exited() {
		t.Fatal("process still running after Stop")
	}
}

func FuzzParseMessage(f *testing.F) {
	for _, name := range []string{"iti39-request-pjd-mtom-multipart.txt", "iti41-request-nist-mtom-xop.txt", "iti41-response-ehealthsuisse-mtom-http.txt"} {
		ct, body, err := MIMECapture(paths.Sample(f, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(ct, body)
	}
	f.Add(ContentTypeSOAP, paths.Sample(f, "iti43-response-ihe-official-soap.xml"))
	f.Add(ContentTypeSOAP, paths.Sample(f, "iti18-response-FindDocuments-LeafClass-ihe-official-soap.xml"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		m, err := ParseMessage(ct, body)
		if err != nil {
			return
		}
		// Whatever parsed must be usable without panics.
		_ = m.Fault()
		_ = m.Status()
		_ = m.RegistryErrors()
		_ = m.Contents()
		_, _ = m.Documents()
		_, _ = m.BodyDocument()
	})
}

func FuzzMIMECapture(f *testing.F) {
	for _, name := range []string{"iti39-request-pjd-mtom-multipart.txt", "iti41-request-nist-mtom-xop.txt", "iti41-response-ehealthsuisse-mtom-http.txt", "iti41-request-ehealthsuisse-mtom-http-INCONSISTENT.txt"} {
		f.Add(paths.Sample(f, name))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		ct, body, err := MIMECapture(raw)
		if err != nil {
			return
		}
		if ct == "" {
			t.Fatal("no content type without an error")
		}
		_, _ = ParseMessage(ct, body)
	})
}
