package soap

import (
	"bytes"
	"encoding/base64"
	"flag"
	"io"
	"mime"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"kjdd/xds/internal/xsdtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/soap")

// messageIDPattern matches the random wsa:MessageID of a written envelope.
var messageIDPattern = regexp.MustCompile(`<wsa:MessageID>urn:uuid:[0-9a-f-]{36}</wsa:MessageID>`)

// fixedMessageID replaces the random MessageID for golden comparison.
const fixedMessageID = `<wsa:MessageID>urn:uuid:00000000-0000-4000-8000-000000000000</wsa:MessageID>`

// golden compares got (MessageID normalised) with testdata/soap/name, or
// rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	if n := len(messageIDPattern.FindAll(got, -1)); n != 1 {
		t.Fatalf("%d wsa:MessageID headers with a fresh UUID, want 1", n)
	}
	got = messageIDPattern.ReplaceAll(got, []byte(fixedMessageID))
	path := filepath.Join("testdata", "soap", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\ngot:  %s\nwant: %s", name, got, want)
	}
}

// serialise writes doc as it goes on the wire.
func serialise(t *testing.T, doc *etree.Document) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := doc.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFaultEnvelope renders faults, compares them with golden files,
// validates them against the SOAP 1.2 schema and reads them back.
func TestFaultEnvelope(t *testing.T) {
	tests := map[string]struct {
		fault      *Fault
		relatesTo  string
		file       string
		wantAction string
		wantSub    string // Subcode/Value text, empty for none
	}{
		"wsa subcode uses the WS-A fault action": {
			fault:      &Fault{Code: FaultSender, Subcode: "wsa:ActionNotSupported", Reason: "the action is not supported at this endpoint", Detail: "internal detail"},
			relatesTo:  "urn:uuid:5e03aa0b-ed28-4951-8b0b-95e55777b65b",
			file:       "fault-wsa-action-not-supported.xml",
			wantAction: ActionFault, wantSub: "wsa:ActionNotSupported",
		},
		"action not supported names the problem action": {
			fault: &Fault{Code: FaultSender, Subcode: "wsa:ActionNotSupported", Reason: "the action is not supported at this endpoint",
				ProblemAction: "urn:ihe:iti:2007:NoSuchTransaction"},
			relatesTo:  "urn:uuid:5e03aa0b-ed28-4951-8b0b-95e55777b65b",
			file:       "fault-wsa-problem-action.xml",
			wantAction: ActionFault, wantSub: "wsa:ActionNotSupported",
		},
		"wsse subcode declares its namespace": {
			fault:      &Fault{Code: FaultSender, Subcode: "wsse:InvalidSecurity", Reason: "the security header is not valid"},
			relatesTo:  "urn:uuid:5e03aa0b-ed28-4951-8b0b-95e55777b65b",
			file:       "fault-wsse-invalid-security.xml",
			wantAction: ActionSOAPFault, wantSub: "wsse:InvalidSecurity",
		},
		"version mismatch carries Upgrade": {
			fault:      &Fault{Code: FaultVersionMismatch, Reason: "SOAP 1.1 envelopes are not supported; send SOAP 1.2"},
			file:       "fault-version-mismatch.xml",
			wantAction: ActionSOAPFault,
		},
		"receiver without subcode or relatesTo": {
			fault:      &Fault{Code: FaultReceiver},
			file:       "fault-receiver.xml",
			wantAction: ActionSOAPFault,
		},
		"mustUnderstand": {
			fault:      &Fault{Code: FaultMustUnderstand, Reason: "header {urn:example:tx}Tx is marked mustUnderstand but is not understood"},
			relatesTo:  "urn:uuid:aa",
			file:       "fault-must-understand.xml",
			wantAction: ActionSOAPFault,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := serialise(t, FaultEnvelope(tc.fault, tc.relatesTo))
			golden(t, tc.file, out)
			xsdtest.Validate(t, out)
			if bytes.Contains(out, []byte("internal detail")) {
				t.Error("Detail was rendered")
			}
			m, err := ReadMessage(bytes.NewReader(out), ContentTypeSOAP, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Action != tc.wantAction || m.RelatesTo != tc.relatesTo {
				t.Errorf("Action %q RelatesTo %q", m.Action, m.RelatesTo)
			}
			if !isSOAP(m.BodyRoot, "Fault") {
				t.Fatalf("body root %s", m.BodyRoot.Tag)
			}
			sub := m.BodyRoot.FindElement("Code/Subcode/Value")
			switch {
			case tc.wantSub == "" && sub != nil:
				t.Errorf("unexpected subcode %q", sub.Text())
			case tc.wantSub != "" && (sub == nil || sub.Text() != tc.wantSub):
				t.Errorf("subcode missing or wrong, want %q", tc.wantSub)
			}
		})
	}
}

// TestFaultEnvelopeGuards checks what FaultEnvelope refuses to render.
func TestFaultEnvelopeGuards(t *testing.T) {
	tests := map[string]struct {
		fault   *Fault
		present []string
		absent  []string
	}{
		"national id in the reason is masked": {
			fault:   &Fault{Code: FaultSender, Reason: "patient 13116900216 is unknown"},
			present: []string{"patient *********** is unknown"}, absent: []string{"13116900216"},
		},
		"subcode of an unknown prefix is dropped": {
			fault:  &Fault{Code: FaultSender, Subcode: "foo:Bar", Reason: "x"},
			absent: []string{"Subcode", "foo:Bar"},
		},
		"unknown code becomes Receiver": {
			fault:   &Fault{Code: "Bogus", Reason: "x"},
			present: []string{"<env:Value>env:Receiver</env:Value>"},
		},
		"nil fault": {
			fault:   nil,
			present: []string{"env:Receiver", "internal error"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := string(serialise(t, FaultEnvelope(tc.fault, "")))
			for _, s := range tc.present {
				if !strings.Contains(out, s) {
					t.Errorf("missing %q in %s", s, out)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(out, s) {
					t.Errorf("found %q in %s", s, out)
				}
			}
			xsdtest.Validate(t, []byte(out))
		})
	}
}

// registryResponse is an ITI-42 success body.
func registryResponse() *etree.Element {
	el := etree.NewElement("rs:RegistryResponse")
	el.CreateAttr("xmlns:rs", nsRS)
	el.CreateAttr("status", responseSuccess)
	return el
}

// retrieveResponse is an ITI-43 response body whose Document holds doc.
func retrieveResponse(doc *etree.Element) *etree.Element {
	el := etree.NewElement("xdsb:RetrieveDocumentSetResponse")
	el.CreateAttr("xmlns:xdsb", nsXDSB)
	el.CreateAttr("xmlns:rs", nsRS)
	el.CreateElement("rs:RegistryResponse").CreateAttr("status", responseSuccess)
	dr := el.CreateElement("xdsb:DocumentResponse")
	dr.CreateElement("xdsb:RepositoryUniqueId").SetText("2.16.578.1.12.4.5.100.1.2")
	dr.CreateElement("xdsb:DocumentUniqueId").SetText("2.16.578.1.12.4.5.100.1.2.77")
	dr.CreateElement("xdsb:mimeType").SetText("text/plain")
	dr.CreateElement("xdsb:Document").AddChild(doc)
	return el
}

// TestNewEnvelope renders answers, compares them with golden files,
// validates them and reads them back.
func TestNewEnvelope(t *testing.T) {
	inline := etree.NewText(base64.StdEncoding.EncodeToString([]byte("Epikrise\n")))
	tests := map[string]struct {
		action, relatesTo string
		body              *etree.Element
		file              string
	}{
		"ITI-42 response": {
			action: ActionRegisterDocumentSetResponse, relatesTo: "urn:uuid:073be420-d838-47c9-b35f-c59af5b147a2",
			body: registryResponse(), file: "response-iti42.xml",
		},
		"ITI-43 response with inline document": {
			action: ActionRetrieveDocumentSetResponse, relatesTo: "urn:uuid:073be420-d838-47c9-b35f-c59af5b147a2",
			body: retrieveResponse(etree.NewElement("unused")), file: "response-iti43-inline.xml",
		},
	}
	// The ITI-43 Document holds base64 text, not an element.
	d := tests["ITI-43 response with inline document"].body.FindElement("DocumentResponse/Document")
	d.RemoveChildAt(0)
	d.AddChild(inline)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := serialise(t, NewEnvelope(tc.action, tc.relatesTo, tc.body))
			golden(t, tc.file, out)
			xsdtest.Validate(t, out)
			m, err := ReadMessage(bytes.NewReader(out), SOAPContentType(tc.action), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Action != tc.action || m.RelatesTo != tc.relatesTo || m.BodyRoot.Tag != tc.body.Tag {
				t.Errorf("read back Action %q RelatesTo %q body %s", m.Action, m.RelatesTo, m.BodyRoot.Tag)
			}
		})
	}
}

// TestNewMessageIDUnique checks message ids are fresh version-4 UUIDs.
func TestNewMessageIDUnique(t *testing.T) {
	seen := map[string]bool{}
	re := regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for range 1000 {
		id := NewMessageID()
		if !re.MatchString(id) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

// TestSOAPContentType checks the plain SOAP Content-Type.
func TestSOAPContentType(t *testing.T) {
	tests := map[string]struct{ action, want string }{
		"with action":      {ActionRetrieveDocumentSetResponse, `application/soap+xml; charset=UTF-8; action="urn:ihe:iti:2007:RetrieveDocumentSetResponse"`},
		"empty action":     {"", ContentTypeSOAP},
		"quote in action":  {`urn:x"y`, ContentTypeSOAP},
		"newline injected": {"urn:x\r\nX-Evil: 1", ContentTypeSOAP},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := SOAPContentType(tc.action)
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if _, _, err := mime.ParseMediaType(got); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestMTOMWriter checks the Content-Type, the order rules, and that the
// output reads back and, with the XOP infoset reconstituted, validates.
func TestMTOMWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewMTOMWriter(&buf, ActionRetrieveDocumentSetResponse)
	if _, err := w.WritePart("a@b", "text/plain", strings.NewReader("x")); err == nil {
		t.Error("attachment before root accepted")
	}
	mt, params, err := mime.ParseMediaType(w.ContentType())
	if err != nil || mt != "multipart/related" {
		t.Fatalf("Content-Type %q: %v", w.ContentType(), err)
	}
	for k, v := range map[string]string{"type": "application/xop+xml", "start-info": "application/soap+xml", "action": ActionRetrieveDocumentSetResponse} {
		if params[k] != v {
			t.Errorf("parameter %s = %q, want %q", k, params[k], v)
		}
	}
	if !strings.HasPrefix(params["start"], "<") || params["boundary"] == "" {
		t.Errorf("start %q boundary %q", params["start"], params["boundary"])
	}
	cid := w.NewContentID()
	if cid == w.NewContentID() {
		t.Error("content ids repeat")
	}
	doc := NewEnvelope(ActionRetrieveDocumentSetResponse, "urn:uuid:1", retrieveResponse(XOPInclude(cid)))
	if err := w.WriteRoot(doc); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRoot(doc); err == nil {
		t.Error("second root accepted")
	}
	if _, err := w.WritePart("bad\r\nX-Evil: 1", "text/plain", strings.NewReader("x")); err == nil {
		t.Error("header injection through the Content-ID accepted")
	}
	n, err := w.WritePart(cid, "text/plain\r\nX-Evil: 1", strings.NewReader("Epikrise\n"))
	if err != nil || n != 9 {
		t.Fatalf("WritePart = %d, %v", n, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("X-Evil")) {
		t.Error("header injection through the content type")
	}

	m, err := ReadMessage(bytes.NewReader(buf.Bytes()), w.ContentType(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	docEl := m.BodyRoot.FindElement("DocumentResponse/Document")
	if got := readBlob(t, m, docEl); got != "Epikrise\n" {
		t.Errorf("attachment %q", got)
	}
	if ct := m.Part(cid).ContentType; ct != "application/octet-stream" {
		t.Errorf("unsafe content type sent as %q", ct)
	}
	xsdtest.Validate(t, reconstituteXOP(t, m))
}

// TestMTOMWriterMisuse checks the writer's order errors.
func TestMTOMWriterMisuse(t *testing.T) {
	w := NewMTOMWriter(io.Discard, "")
	if err := w.Close(); err == nil {
		t.Error("Close without root accepted")
	}
	if strings.Contains(w.ContentType(), "action") {
		t.Error("empty action rendered")
	}
	if err := w.WriteRoot(NewEnvelope("a", "", nil)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.WritePart("a@b", "text/plain", strings.NewReader("x")); err == nil {
		t.Error("attachment after Close accepted")
	}
}

// reconstituteXOP replaces every xop:Include of m by the base64 of its part
// (the XOP infoset), so that the envelope can be schema-validated.
func reconstituteXOP(t *testing.T, m *Message) []byte {
	t.Helper()
	doc := m.Doc.Copy()
	var walk func(el *etree.Element)
	walk = func(el *etree.Element) {
		for _, c := range el.ChildElements() {
			if c.Tag == "Include" && c.NamespaceURI() == NSXOP {
				b, err := m.Blob(el)
				if err != nil {
					t.Fatal(err)
				}
				rc, _ := b.Open()
				data, _ := io.ReadAll(rc)
				rc.Close()
				el.RemoveChild(c)
				el.SetText(base64.StdEncoding.EncodeToString(data))
				return
			}
			walk(c)
		}
	}
	walk(doc.Root())
	return serialise(t, doc)
}
