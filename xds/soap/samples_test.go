package soap

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/beevik/etree"

	"kjdd/helseid"
	"kjdd/xds/internal/xdstest"
)

// sampleWant is what reading one corpus message must give.
type sampleWant struct {
	action    string
	rootSpace string
	rootLocal string
	// fault, when not empty, is the reason the message is refused for
	// (and faultCode its code).
	fault     string
	faultCode FaultCode
}

const (
	nsQuery = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
)

// plainSamples are the SOAP 1.2 envelopes of conformance/samples (requests
// and responses; the epj client reads responses with the same reader).
var plainSamples = map[string]sampleWant{
	"iti18-FindDocuments-ehealthsuisse-projectathon-saml.xml":      {action: ActionRegistryStoredQuery, rootSpace: nsQuery, rootLocal: "AdhocQueryRequest"},
	"iti18-FindDocuments-ihe-official-soap.xml":                    {action: ActionRegistryStoredQuery, rootSpace: nsQuery, rootLocal: "AdhocQueryRequest"},
	"iti18-FindDocuments-pjd-no-confidentiality.xml":               {action: ActionRegistryStoredQuery, rootSpace: nsQuery, rootLocal: "AdhocQueryRequest"},
	"iti18-FindDocuments-pjd-no-saml.xml":                          {action: ActionRegistryStoredQuery, rootSpace: nsQuery, rootLocal: "AdhocQueryRequest"},
	"iti18-GetAssociations-pjd-no-saml.xml":                        {action: ActionRegistryStoredQuery, rootSpace: nsQuery, rootLocal: "AdhocQueryRequest"},
	"iti18-response-FindDocuments-LeafClass-ihe-official-soap.xml": {action: ActionRegistryStoredQueryResponse, rootSpace: nsQuery, rootLocal: "AdhocQueryResponse"},
	"iti18-response-LeafClass-ehealthsuisse-projectathon.xml":      {action: ActionRegistryStoredQueryResponse, rootSpace: nsQuery, rootLocal: "AdhocQueryResponse"},
	"iti38-FindDocuments-ihe-official-INVALID.xml":                 {action: ActionCrossGatewayQuery, rootSpace: nsQuery, rootLocal: "AdhocQueryRequest"},
	"iti38-FindDocuments-pjd-acp-saml.xml":                         {action: ActionCrossGatewayQuery, rootSpace: nsQuery, rootLocal: "AdhocQueryRequest"},
	"iti38-FindDocuments-pjd-async.xml":                            {action: ActionCrossGatewayQuery, rootSpace: nsQuery, rootLocal: "AdhocQueryRequest"},
	"iti38-FindDocuments-pjd-helsenord-saml.xml":                   {action: ActionCrossGatewayQuery, rootSpace: nsQuery, rootLocal: "AdhocQueryRequest"},
	"iti38-FindDocuments-pjd-kjernejournal-saml.xml":               {action: ActionCrossGatewayQuery, rootSpace: nsQuery, rootLocal: "AdhocQueryRequest"},
	"iti38-response-ihe-official-INVALID.xml":                      {action: ActionCrossGatewayQueryResponse, rootSpace: nsQuery, rootLocal: "AdhocQueryResponse"},
	"iti39-request-ihe-official.xml":                               {action: ActionCrossGatewayRetrieve, rootSpace: nsXDSB, rootLocal: "RetrieveDocumentSetRequest"},
	"iti39-request-pjd-helsenord-saml.xml":                         {action: ActionCrossGatewayRetrieve, rootSpace: nsXDSB, rootLocal: "RetrieveDocumentSetRequest"},
	"iti39-request-pjd-kjernejournal-saml.xml":                     {action: ActionCrossGatewayRetrieve, rootSpace: nsXDSB, rootLocal: "RetrieveDocumentSetRequest"},
	"iti39-response-ihe-official.xml":                              {action: ActionCrossGatewayRetrieveResponse, rootSpace: nsXDSB, rootLocal: "RetrieveDocumentSetResponse"},
	"iti41-request-ihe-official-soap.xml":                          {action: ActionProvideAndRegister, rootSpace: nsXDSB, rootLocal: "ProvideAndRegisterDocumentSetRequest"},
	"iti41-request-pjd-no.xml":                                     {action: ActionProvideAndRegister, rootSpace: nsXDSB, rootLocal: "ProvideAndRegisterDocumentSetRequest"},
	"iti41-response-ihe-official-soap.xml":                         {action: ActionProvideAndRegisterResponse, rootSpace: nsRS, rootLocal: "RegistryResponse"},
	"iti42-request-ihe-official-soap.xml":                          {action: ActionRegisterDocumentSet, rootSpace: nsLCM, rootLocal: "SubmitObjectsRequest"},
	// The non-standard PJD wrapper is fine at the SOAP level; the
	// transaction layer refuses its body root.
	"iti42-request-pjd-nonstandard-wrapper-INVALID.xml": {action: ActionRegisterDocumentSet, rootSpace: nsXDSB, rootLocal: "RegisterDocumentSetRequest"},
	"iti42-response-ihe-official-soap.xml":              {action: ActionRegisterDocumentSetResponse, rootSpace: nsRS, rootLocal: "RegistryResponse"},
	"iti43-request-ehealthsuisse-projectathon-saml.xml": {action: ActionRetrieveDocumentSet, rootSpace: nsXDSB, rootLocal: "RetrieveDocumentSetRequest"},
	"iti43-request-ihe-official-soap.xml":               {action: ActionRetrieveDocumentSet, rootSpace: nsXDSB, rootLocal: "RetrieveDocumentSetRequest"},
	// PJD test data: an ITI-43 body under the ITI-18 action. Dispatch on
	// the action is the transaction layer's job.
	"iti43-request-pjd-no-saml.xml":        {action: ActionRegistryStoredQuery, rootSpace: nsXDSB, rootLocal: "RetrieveDocumentSetRequest"},
	"iti43-response-ihe-official-soap.xml": {action: ActionRetrieveDocumentSetResponse, rootSpace: nsXDSB, rootLocal: "RetrieveDocumentSetResponse"},
	// The root part of an MTOM response without its MIME parts: the
	// xop:Include cannot be resolved in a plain SOAP message.
	"iti43-response-ehealthsuisse-xop-include.xml": {fault: "xop:Include is only allowed in an MTOM", faultCode: FaultSender},
}

// TestReadMessageSamples reads every SOAP 1.2 envelope of the corpus as
// application/soap+xml.
func TestReadMessageSamples(t *testing.T) {
	for name, want := range plainSamples {
		t.Run(name, func(t *testing.T) {
			m, err := ReadMessage(bytes.NewReader(xdstest.ReadSample(t, name)), ContentTypeSOAP, DefaultLimits())
			if want.fault != "" {
				wantFault(t, err, want.faultCode, "", want.fault)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			checkMessage(t, m, want)
			if m.MTOM {
				t.Error("MTOM set for a plain SOAP message")
			}
		})
	}
}

// checkMessage compares action and body root.
func checkMessage(t *testing.T, m *Message, want sampleWant) {
	t.Helper()
	if m.Action != want.action {
		t.Errorf("Action = %q, want %q", m.Action, want.action)
	}
	if got := m.BodyRoot.NamespaceURI(); got != want.rootSpace || m.BodyRoot.Tag != want.rootLocal {
		t.Errorf("body root = {%s}%s, want {%s}%s", got, m.BodyRoot.Tag, want.rootSpace, want.rootLocal)
	}
	if m.Envelope == nil || m.Body == nil || m.Doc == nil {
		t.Error("Envelope, Body or Doc not set")
	}
}

// TestReadMessageBareBodies checks that a bare body element (not wrapped in
// an envelope) is a VersionMismatch, as SOAP 1.2 Part 1 §5.4.7 requires.
func TestReadMessageBareBodies(t *testing.T) {
	for _, name := range corpusFiles(t) {
		if !strings.HasSuffix(name, ".xml") || isEnvelopeFile(t, name) || strings.HasPrefix(name, "atna-") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			_, err := ReadMessage(bytes.NewReader(xdstest.ReadSample(t, name)), ContentTypeSOAP, DefaultLimits())
			wantFault(t, err, FaultVersionMismatch, "", "not a SOAP 1.2 Envelope")
		})
	}
}

// TestSampleTableComplete fails when the corpus gains an envelope that the
// table does not cover.
func TestSampleTableComplete(t *testing.T) {
	for _, name := range corpusFiles(t) {
		if strings.HasSuffix(name, ".xml") && isEnvelopeFile(t, name) {
			if _, ok := plainSamples[name]; !ok {
				t.Errorf("%s is a SOAP envelope but not in plainSamples", name)
			}
		}
	}
	for name := range plainSamples {
		if _, err := os.Stat(xdstest.SamplePath(t, name)); err != nil {
			t.Errorf("plainSamples names %s: %v", name, err)
		}
	}
}

// corpusFiles lists conformance/samples.
func corpusFiles(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(xdstest.SamplePath(t, "x")))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// isEnvelopeFile reports whether a sample's root element is named
// Envelope (cheaply, by its first start tag after comments).
func isEnvelopeFile(t *testing.T, name string) bool {
	data := xdstest.ReadSample(t, name)
	for {
		i := bytes.IndexByte(data, '<')
		if i < 0 {
			return false
		}
		data = data[i:]
		switch {
		case bytes.HasPrefix(data, []byte("<?")):
			data = data[bytes.Index(data, []byte("?>"))+2:]
		case bytes.HasPrefix(data, []byte("<!--")):
			data = data[bytes.Index(data, []byte("-->"))+3:]
		default:
			end := bytes.IndexAny(data, " \t\r\n>")
			tag := string(data[1:end])
			return tag == "Envelope" || strings.HasSuffix(tag, ":Envelope")
		}
	}
}

// TestReadMessageCaptures reads the raw MIME captures of the corpus.
func TestReadMessageCaptures(t *testing.T) {
	type check func(t *testing.T, m *Message)
	tests := map[string]struct {
		file  string
		ctype func(c capture) string
		body  func(c capture) []byte
		want  sampleWant
		check check
	}{
		"NHN ITI-39 MTOM without attachment, root by position": {
			file:  "iti39-request-pjd-mtom-multipart.txt",
			ctype: func(c capture) string { return mtomType(c.bodyBoundary(), "") },
			want:  sampleWant{action: ActionCrossGatewayRetrieve, rootSpace: nsXDSB, rootLocal: "RetrieveDocumentSetRequest"},
			check: func(t *testing.T, m *Message) {
				if !m.EncodingRepaired {
					t.Error("the Latin-1 byte in the SAML assertion was not reported as repaired")
				}
				if m.Security == nil {
					t.Fatal("wsse:Security not found")
				}
				// The assertion is kept as bytes (assertion.go): build it.
				src, ok := m.assertionSource(m.Security.SelectElement("Assertion"))
				if !ok {
					t.Fatal("the assertion was not kept as bytes")
				}
				a, err := helseid.Assertion(src).Tree()
				if err != nil {
					t.Fatal(err)
				}
				var s bytes.Buffer
				a.WriteTo(&s, &m.Doc.WriteSettings)
				if !utf8.Valid(s.Bytes()) || !strings.ContainsRune(s.String(), 'Ø') {
					t.Error("the repaired assertion does not hold the Latin-1 Ø as UTF-8")
				}
				if m.ReplyTo != wsaAnonymous || !strings.HasPrefix(m.MessageID, "urn:uuid:") || m.To == "" {
					t.Errorf("addressing: ReplyTo %q MessageID %q To %q", m.ReplyTo, m.MessageID, m.To)
				}
			},
		},
		"NHN ITI-39 MTOM, root by start parameter": {
			file: "iti39-request-pjd-mtom-multipart.txt",
			ctype: func(c capture) string {
				return mtomType(c.bodyBoundary(), "0.dab1d70f258a850f06f926ab5645aaa9111f017d951cfe8d@apache.org")
			},
			want: sampleWant{action: ActionCrossGatewayRetrieve, rootSpace: nsXDSB, rootLocal: "RetrieveDocumentSetRequest"},
		},
		"NIST ITI-41 MTOM with xop:Include": {
			file:  "iti41-request-nist-mtom-xop.txt",
			ctype: func(c capture) string { return mtomType(c.bodyBoundary(), "") },
			want:  sampleWant{action: ActionProvideAndRegister, rootSpace: nsXDSB, rootLocal: "ProvideAndRegisterDocumentSetRequest"},
			check: func(t *testing.T, m *Message) {
				doc := m.BodyRoot.FindElement("./Document")
				if doc == nil {
					t.Fatal("no Document element")
				}
				got := readBlob(t, m, doc)
				if !strings.HasPrefix(got, "This is my document.") || !strings.Contains(got, "It is great!") {
					t.Errorf("attachment = %q", got)
				}
			},
		},
		"ehealthsuisse ITI-41 as captured: header boundary not in body": {
			file:  "iti41-request-ehealthsuisse-mtom-http-INCONSISTENT.txt",
			ctype: func(c capture) string { return c.Header.Get("Content-Type") },
			want:  sampleWant{fault: "no part with the declared boundary", faultCode: FaultSender},
		},
		"ehealthsuisse ITI-41 with the body's boundary: start names no part": {
			file: "iti41-request-ehealthsuisse-mtom-http-INCONSISTENT.txt",
			ctype: func(c capture) string {
				return mtomType(c.bodyBoundary(), "0.15b39a33e8effeb90c1ccb1c58c4b93b5af2935a13853149@apache.org")
			},
			body: capture.withoutLogTail,
			want: sampleWant{fault: "root part named by the start parameter is missing", faultCode: FaultSender},
		},
		"ehealthsuisse ITI-41 with the body's boundary: wsse prefix undeclared": {
			file:  "iti41-request-ehealthsuisse-mtom-http-INCONSISTENT.txt",
			ctype: func(c capture) string { return mtomType(c.bodyBoundary(), "") },
			body:  capture.withoutLogTail,
			want:  sampleWant{fault: "undeclared namespace prefix", faultCode: FaultSender},
		},
		"ehealthsuisse ITI-41 response (CXF)": {
			file:  "iti41-response-ehealthsuisse-mtom-http.txt",
			ctype: func(c capture) string { return c.Header.Get("Content-Type") },
			want:  sampleWant{action: ActionProvideAndRegisterResponse, rootSpace: nsRS, rootLocal: "RegistryResponse"},
			check: func(t *testing.T, m *Message) {
				if m.RelatesTo != "d22ebb69-8368-4eb6-929b-b382f1b37c72" {
					t.Errorf("RelatesTo = %q", m.RelatesTo)
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := loadCapture(t, tc.file)
			body := c.Body
			if tc.body != nil {
				body = tc.body(c)
			}
			sp := newMemSpool()
			m, err := spoolReader(DefaultLimits(), sp).Read(bytes.NewReader(body), tc.ctype(c))
			if tc.want.fault != "" {
				wantFault(t, err, tc.want.faultCode, "", tc.want.fault)
				noSpooledFiles(t, sp)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if !m.MTOM {
				t.Error("MTOM not set")
			}
			checkMessage(t, m, tc.want)
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

// readBlob reads the content of el through Message.Blob.
func readBlob(t *testing.T, m *Message, el *etree.Element) string {
	t.Helper()
	b, err := m.Blob(el)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := b.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if sb, ok := b.(SizedBlob); !ok || sb.Size() != int64(len(data)) {
		t.Errorf("blob size does not match its content (%d bytes)", len(data))
	}
	return string(data)
}
