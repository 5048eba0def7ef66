package soap

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"kjdd/internal/checked"
	"kjdd/xds/hl7"
	"kjdd/xds/internal/xdstest"
)

// badInput is one refused request: body, Content-Type, limits to apply and
// the fault it must yield.
type badInput struct {
	body    string
	ctype   string // ContentTypeSOAP when empty
	limits  func(l *Limits)
	code    FaultCode
	subcode string
	reason  string
	status  int // expected Fault.HTTPStatus (0: the default for the code)
}

// nested returns depth nested elements.
func nested(depth int) string {
	return strings.Repeat("<d>", depth) + strings.Repeat("</d>", depth)
}

// manyAttributes renders n distinct attributes.
func manyAttributes(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, ` a%d="%d"`, i, i)
	}
	return b.String()
}

// garbage is deterministic random bytes.
func garbage(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return string(b)
}

// billionLaughs is the classic exponential entity expansion.
const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><x>&lol9;</x></s:Body></s:Envelope>`

// soapBadInputs are refused plain SOAP requests.
var soapBadInputs = map[string]badInput{
	"DOCTYPE with internal entity": {
		body: `<!DOCTYPE s:Envelope [<!ENTITY who "x">]>` + xdstest.Envelope(xdstest.ActionHeader, `<q>&who;</q>`),
		code: FaultSender, reason: "DTDs and entity declarations are not allowed"},
	"billion laughs": {body: billionLaughs, code: FaultSender, reason: "DTDs and entity declarations are not allowed"},
	"external entity": {
		body: `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + xdstest.Envelope(xdstest.ActionHeader, `<q>&xxe;</q>`),
		code: FaultSender, reason: "DTDs and entity declarations are not allowed"},
	"external DTD only": {
		body: `<!DOCTYPE s:Envelope SYSTEM "http://attacker.example/x.dtd">` + xdstest.Envelope(xdstest.ActionHeader, xdstest.QueryBody),
		code: FaultSender, reason: "DTDs and entity declarations are not allowed"},
	"entity reference without declaration": {
		body: xdstest.Envelope(xdstest.ActionHeader, `<q>&xxe;</q>`), code: FaultSender, reason: "not well-formed XML"},
	"oversized body": {
		body:   xdstest.Envelope(xdstest.ActionHeader, "<q>"+strings.Repeat("x", 5000)+"</q>"),
		limits: func(l *Limits) { l.MaxBodyBytes = 4096 },
		code:   FaultSender, reason: "larger than the limit of 4096 bytes", status: 413},
	"depth 10000": {
		body: xdstest.Envelope(xdstest.ActionHeader, nested(10000)), code: FaultSender, reason: "deeper than 64 levels", status: 413},
	"too many elements": {
		body: xdstest.Envelope(xdstest.ActionHeader, "<q>"+strings.Repeat("<e/>", DefaultMaxElements)+"</q>"),
		code: FaultSender, reason: "more than 100000 elements", status: 413},
	"SOAP 1.1 envelope": {
		body: `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>` + xdstest.QueryBody + `</s:Body></s:Envelope>`,
		code: FaultVersionMismatch, reason: "SOAP 1.1 envelopes are not supported"},
	"text/xml": {
		body: xdstest.Envelope(xdstest.ActionHeader, xdstest.QueryBody), ctype: "text/xml; charset=utf-8",
		code: FaultVersionMismatch, reason: "SOAP 1.1 (text/xml) is not supported"},
	"root is not an Envelope": {
		body: xdstest.QueryBody, code: FaultVersionMismatch, reason: "not a SOAP 1.2 Envelope"},
	"missing Action": {
		body: xdstest.Envelope(`<a:MessageID>urn:uuid:1</a:MessageID>`, xdstest.QueryBody),
		code: FaultSender, subcode: "wsa:MessageAddressingHeaderRequired", reason: "wsa:Action header is required"},
	"no Header at all": {
		body: `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>` + xdstest.QueryBody + `</s:Body></s:Envelope>`,
		code: FaultSender, subcode: "wsa:MessageAddressingHeaderRequired", reason: "wsa:Action header is required"},
	"Action in the wrong namespace": {
		body: xdstest.Envelope(`<Action xmlns="http://schemas.xmlsoap.org/ws/2004/08/addressing">urn:ihe:iti:2007:RegistryStoredQuery</Action>`, xdstest.QueryBody),
		code: FaultSender, subcode: "wsa:MessageAddressingHeaderRequired", reason: "wsa:Action header is required"},
	"two Actions": {
		body: xdstest.Envelope(xdstest.ActionHeader+`<a:Action>urn:ihe:iti:2007:CrossGatewayQuery</a:Action>`, xdstest.QueryBody),
		code: FaultSender, subcode: "wsa:InvalidAddressingHeader", reason: "more than one wsa:Action"},
	"empty Action": {
		body: xdstest.Envelope(`<a:Action s:mustUnderstand="1"> </a:Action>`, xdstest.QueryBody),
		code: FaultSender, subcode: "wsa:InvalidAddressingHeader", reason: "wsa:Action header is empty"},
	"two MessageIDs": {
		body: xdstest.Envelope(xdstest.ActionHeader+`<a:MessageID>urn:uuid:2</a:MessageID>`, xdstest.QueryBody),
		code: FaultSender, subcode: "wsa:InvalidAddressingHeader", reason: "more than one wsa:MessageID"},
	"unknown header mustUnderstand true": {
		body: xdstest.Envelope(xdstest.ActionHeader+`<x:Tx xmlns:x="urn:example:tx" s:mustUnderstand="true"/>`, xdstest.QueryBody),
		code: FaultMustUnderstand, reason: "{urn:example:tx}Tx is marked mustUnderstand"},
	"unknown header mustUnderstand 1": {
		body: xdstest.Envelope(xdstest.ActionHeader+`<x:Tx xmlns:x="urn:example:tx" s:mustUnderstand="1"/>`, xdstest.QueryBody),
		code: FaultMustUnderstand, reason: "is not understood"},
	"mustUnderstand not a boolean": {
		body: xdstest.Envelope(xdstest.ActionHeader+`<x:Tx xmlns:x="urn:example:tx" s:mustUnderstand="yes"/>`, xdstest.QueryBody),
		code: FaultSender, reason: "env:mustUnderstand must be true, false, 1 or 0"},
	"two Security headers": {
		body: xdstest.Envelope(xdstest.ActionHeader+`<w:Security xmlns:w="`+NSWSSE+`"/><w:Security xmlns:w="`+NSWSSE+`"/>`, xdstest.QueryBody),
		code: FaultSender, subcode: "wsse:InvalidSecurity", reason: "more than one wsse:Security"},
	"no Body": {
		body: `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header>` + xdstest.ActionHeader + `</s:Header></s:Envelope>`,
		code: FaultSender, reason: "has no Body"},
	"element after Body": {
		body: strings.Replace(xdstest.Envelope(xdstest.ActionHeader, xdstest.QueryBody), "</s:Body>", "</s:Body><s:Trailer/>", 1),
		code: FaultSender, reason: "elements after the Body"},
	"empty Body": {body: xdstest.Envelope(xdstest.ActionHeader, ""), code: FaultSender, reason: "SOAP Body is empty"},
	"ISO-8859-1 declaration": {
		body: strings.Replace(xdstest.Envelope(xdstest.ActionHeader, xdstest.QueryBody), "UTF-8", "ISO-8859-1", 1),
		code: FaultSender, reason: "unsupported character encoding", status: 415},
	"UTF-16 byte order mark": {
		body: "\xff\xfe<\x00s\x00", code: FaultSender, reason: "unsupported character encoding", status: 415},
	"charset parameter ISO-8859-1": {
		body: xdstest.Envelope(xdstest.ActionHeader, xdstest.QueryBody), ctype: "application/soap+xml; charset=ISO-8859-1",
		code: FaultSender, reason: "unsupported character encoding", status: 415},
	"undeclared element prefix": {
		body: xdstest.Envelope(xdstest.ActionHeader, `<q:AdhocQueryRequest/>`), code: FaultSender, reason: "undeclared namespace prefix"},
	"undeclared attribute prefix": {
		body: xdstest.Envelope(xdstest.ActionHeader, `<q x:id="1"/>`), code: FaultSender, reason: "undeclared namespace prefix"},
	"prefix used after its declaration went out of scope": {
		body: xdstest.Envelope(xdstest.ActionHeader, `<r><q:x xmlns:q="urn:q"/><q:y/></r>`), code: FaultSender, reason: "undeclared namespace prefix"},
	"too many attributes": {
		body: xdstest.Envelope(xdstest.ActionHeader, "<q"+manyAttributes(300)+"/>"), code: FaultSender, reason: "more than 256 attributes", status: 413},
	"duplicate attribute": {
		body: xdstest.Envelope(xdstest.ActionHeader, `<q id="1" id="2"/>`), code: FaultSender, reason: "duplicate attribute"},
	"mismatched end tag": {
		body: strings.Replace(xdstest.Envelope(xdstest.ActionHeader, xdstest.QueryBody), "</s:Body>", "</s:Bodx>", 1),
		code: FaultSender, reason: "not well-formed XML"},
	"truncated XML": {
		body: xdstest.Envelope(xdstest.ActionHeader, xdstest.QueryBody)[:200], code: FaultSender, reason: "not well-formed XML"},
	"two root elements": {
		body: xdstest.Envelope(xdstest.ActionHeader, xdstest.QueryBody) + "<s:Envelope xmlns:s=\"" + NSSOAP12 + "\"/>",
		code: FaultSender, reason: "more than one root element"},
	"XML declaration not first": {
		body: "<!-- c -->" + xdstest.Envelope(xdstest.ActionHeader, xdstest.QueryBody), code: FaultSender, reason: "not well-formed XML"},
	"garbage bytes":   {body: garbage(4096), code: FaultSender, reason: "not well-formed XML"},
	"empty request":   {body: "", code: FaultSender, reason: "contains no XML element"},
	"only text":       {body: "hello", code: FaultSender, reason: "not well-formed XML"},
	"no Content-Type": {body: xdstest.Envelope(xdstest.ActionHeader, xdstest.QueryBody), ctype: "-", code: FaultSender, reason: "Content-Type header is missing", status: 415},
	"JSON Content-Type": {
		body: `{"resourceType":"Bundle"}`, ctype: "application/json",
		code: FaultSender, reason: "unsupported Content-Type", status: 415},
	"xop:Include in plain SOAP": {
		body: xdstest.Envelope(xdstest.ActionHeader, includeBody("cid:doc@test")), code: FaultSender, reason: "only allowed in an MTOM"},
}

// TestReadMessageRefuses checks every refused plain SOAP request yields its
// specific fault.
func TestReadMessageRefuses(t *testing.T) {
	runBadInputs(t, soapBadInputs)
}

// runBadInputs runs a table of refused requests and checks that nothing
// was left in the spool directory.
func runBadInputs(t *testing.T, table map[string]badInput) {
	for name, tc := range table {
		t.Run(name, func(t *testing.T) {
			lim := DefaultLimits()
			sp := newMemSpool()
			if tc.limits != nil {
				tc.limits(&lim)
			}
			ctype := tc.ctype
			switch ctype {
			case "":
				ctype = ContentTypeSOAP
			case "-":
				ctype = ""
			}
			m, err := spoolReader(lim, sp).Read(strings.NewReader(tc.body), ctype)
			if err == nil {
				m.Close()
				t.Fatalf("accepted; want fault %s %q", tc.code, tc.reason)
			}
			f := wantFault(t, err, tc.code, tc.subcode, tc.reason)
			if f.HTTPStatus != tc.status {
				t.Errorf("HTTPStatus = %d, want %d", f.HTTPStatus, tc.status)
			}
			noSpooledFiles(t, sp)
		})
	}
}

// TestReadMessageHeaders checks what is accepted and bound from headers.
func TestReadMessageHeaders(t *testing.T) {
	tests := map[string]struct {
		header string
		check  func(t *testing.T, m *Message)
	}{
		"all addressing headers, trimmed": {
			header: `<a:Action s:mustUnderstand="true">
				urn:ihe:iti:2007:CrossGatewayQuery </a:Action>
				<a:MessageID>urn:uuid:aa</a:MessageID><a:To s:mustUnderstand="1">https://kjdd.example/xca</a:To>
				<a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo>
				<a:RelatesTo>urn:uuid:bb</a:RelatesTo>`,
			check: func(t *testing.T, m *Message) {
				got := []string{m.Action, m.MessageID, m.To, m.ReplyTo, m.RelatesTo}
				want := []string{ActionCrossGatewayQuery, "urn:uuid:aa", "https://kjdd.example/xca", wsaAnonymous, "urn:uuid:bb"}
				for i := range got {
					if got[i] != want[i] {
						t.Errorf("header %d = %q, want %q", i, got[i], want[i])
					}
				}
			},
		},
		"addressing by default namespace, any prefix": {
			header: `<Action xmlns="http://www.w3.org/2005/08/addressing">urn:ihe:iti:2007:RetrieveDocumentSet</Action>`,
			check: func(t *testing.T, m *Message) {
				if m.Action != ActionRetrieveDocumentSet {
					t.Errorf("Action = %q", m.Action)
				}
			},
		},
		"unknown header without mustUnderstand is ignored": {
			header: xdstest.ActionHeader + `<sense:context xmlns:sense="http://sense.ith-icoserve.com/context/"/>`,
		},
		"unknown header mustUnderstand false": {
			header: xdstest.ActionHeader + `<x:Tx xmlns:x="urn:example:tx" s:mustUnderstand="false"/><x:Ty xmlns:x="urn:example:tx" s:mustUnderstand="0"/>`,
		},
		"unknown mustUnderstand header for another role": {
			header: xdstest.ActionHeader + `<x:Tx xmlns:x="urn:example:tx" s:mustUnderstand="true" s:role="http://www.w3.org/2003/05/soap-envelope/role/none"/>`,
		},
		"mustUnderstand in another namespace does not count": {
			header: xdstest.ActionHeader + `<x:Tx xmlns:x="urn:example:tx" mustUnderstand="1"/>`,
		},
		"wsse:Security mustUnderstand is understood": {
			header: xdstest.ActionHeader + `<w:Security xmlns:w="` + NSWSSE + `" s:mustUnderstand="1"><x/></w:Security>`,
			check: func(t *testing.T, m *Message) {
				if m.Security == nil || m.Security.Tag != "Security" {
					t.Error("Security not bound")
				}
			},
		},
		"unknown wsa header with mustUnderstand": {
			header: xdstest.ActionHeader + `<a:FaultTo s:mustUnderstand="1"><a:Address>http://x</a:Address></a:FaultTo>`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := ReadMessage(strings.NewReader(xdstest.Envelope(tc.header, xdstest.QueryBody)), ContentTypeSOAP, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

// TestReadMessageEncoding covers the encoding decisions of xmlguard.go.
func TestReadMessageEncoding(t *testing.T) {
	base := xdstest.Envelope(xdstest.ActionHeader, `<q:AdhocQueryRequest xmlns:q="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" id="`+"GR\xd8NN"+`"/>`)
	tests := map[string]struct {
		body         string
		ctype        string
		wantRepaired bool
		wantID       string
	}{
		"UTF-8":                       {body: strings.Replace(base, "\xd8", "Ø", 1), wantID: "GRØNN"},
		"UTF-8 with byte order mark":  {body: "\xef\xbb\xbf" + strings.Replace(base, "\xd8", "Ø", 1), wantID: "GRØNN"},
		"stray Latin-1 byte repaired": {body: base, wantRepaired: true, wantID: "GRØNN"},
		"US-ASCII declaration": {
			body: strings.Replace(strings.Replace(base, "\xd8", "O", 1), "UTF-8", "US-ASCII", 1), wantID: "GRONN"},
		"no declaration, newline first": {
			body: "\n" + strings.TrimPrefix(strings.Replace(base, "\xd8", "O", 1), `<?xml version="1.0" encoding="UTF-8"?>`), wantID: "GRONN"},
		"charset utf-8 parameter": {body: strings.Replace(base, "\xd8", "O", 1), ctype: "application/soap+xml;charset=utf-8", wantID: "GRONN"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctype := tc.ctype
			if ctype == "" {
				ctype = ContentTypeSOAP
			}
			m, err := ReadMessage(strings.NewReader(tc.body), ctype, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.EncodingRepaired != tc.wantRepaired {
				t.Errorf("EncodingRepaired = %v", m.EncodingRepaired)
			}
			if got := m.BodyRoot.SelectAttrValue("id", ""); got != tc.wantID {
				t.Errorf("id = %q, want %q", got, tc.wantID)
			}
		})
	}
}

// TestMaskDigits checks the log masking of digit runs.
func TestMaskDigits(t *testing.T) {
	tests := map[string]struct{ in, mask, nid string }{
		"fnr in text":          {in: "entity &#13116900216; bad", mask: "entity &#\x23; bad", nid: "entity &#***********; bad"},
		"short runs kept":      {in: "line 12: 2.16.578", mask: "line 12: 2.16.578", nid: "line 12: 2.16.578"},
		"twelve digits":        {in: "131169002161", mask: "#", nid: "131169002161"},
		"run at end and start": {in: "12345678901x12345678901", mask: "#x#", nid: "***********x***********"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := maskDigits(tc.in); got != tc.mask {
				t.Errorf("maskDigits = %q, want %q", got, tc.mask)
			}
			if got := hl7.RedactNationalIDs(tc.in); got != tc.nid {
				t.Errorf("RedactNationalIDs = %q, want %q", got, tc.nid)
			}
		})
	}
}

// TestReadMessageLimitsDefaulted checks that a zero Limits is not
// "unlimited".
func TestReadMessageLimitsDefaulted(t *testing.T) {
	_, err := ReadMessage(bytes.NewReader([]byte(xdstest.Envelope(xdstest.ActionHeader, nested(65)))), ContentTypeSOAP, Limits{})
	wantFault(t, err, FaultSender, "", "deeper than 64 levels")
}

// TestAssertionSourceHeldUntilClose: the sources of deferred assertions
// are copies of the request's bytes, and the tree lives in pooled slabs
// that the message holds until Close, so both stay as read whatever other
// messages are read and closed meanwhile (with one reader, so that their
// buffers and slabs are reused), and the message hands out neither
// afterwards.
func TestAssertionSourceHeldUntilClose(t *testing.T) {
	assertion := func(id string) string {
		return `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="` + id + `">` +
			`<saml:Issuer>` + strings.Repeat(id, 40) + `</saml:Issuer></saml:Assertion>`
	}
	reader := NewReader(ReaderConfig{AssertionMemoBytes: DefaultAssertionMemoBytes})
	read := func(id string) *Message {
		t.Helper()
		security := `<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">` +
			assertion(id) + `</wsse:Security>`
		m, err := reader.Read(strings.NewReader(xdstest.Envelope(xdstest.ActionHeader+security, xdstest.QueryBody)), ContentTypeSOAP)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	first := read("first")
	el := first.Security.SelectElement("Assertion")
	src, ok := first.assertionSource(el)
	if !ok {
		t.Fatal("the assertion was not kept as bytes")
	}
	want := assertion("first")
	tree, err := first.Doc.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		// Closed at once, so their buffers go back to the pool while
		// first is open.
		other := read(fmt.Sprintf("other%d", i))
		if err := other.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if string(src.Raw) != want {
		t.Fatalf("an open message's assertion source changed:\n%s", src.Raw)
	}
	if now, _ := first.Doc.WriteToString(); now != tree {
		t.Fatalf("an open message's tree changed:\n%s\nwas\n%s", now, tree)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := first.assertionSource(el); ok || first.SecurityHeader().Assertion.Raw != nil {
		t.Fatal("a closed message still hands out an assertion source")
	}
	if err := first.Close(); err != nil {
		t.Fatal("Close is not idempotent:", err)
	}
}

// TestKeptElementIsPoisoned: an element kept past Close does not show
// another request's content: in test builds its slabs are poisoned and never
// reused, every read of it shows the poison, the tree library's own walks
// over it fail. (That the parsers refuse it loudly is
// TestParsersRefuseKeptElement, beside the parsers.)
func TestKeptElementIsPoisoned(t *testing.T) {
	if !checked.Build() {
		t.Skip("not a checked build: this binary runs benchmarks (internal/checked)")
	}
	reader := NewReader(ReaderConfig{AssertionMemoBytes: DefaultAssertionMemoBytes})
	read := func() *Message {
		t.Helper()
		m, err := reader.Read(strings.NewReader(xdstest.Envelope(xdstest.ActionHeader, xdstest.QueryBody)), ContentTypeSOAP)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := read()
	kept := m.BodyRoot
	if kept == nil || kept.Tag != "AdhocQueryRequest" {
		t.Fatalf("body root %v", kept)
	}
	tag := kept.Tag // a string read from the tree: a value of its own
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		// Were the slabs reused, these would be built into them.
		if err := read().Close(); err != nil {
			t.Fatal(err)
		}
	}
	if tag != "AdhocQueryRequest" {
		t.Fatalf("a string read before Close changed: %q", tag)
	}
	if kept.Tag != releasedName || kept.Space != releasedName {
		t.Fatalf("a kept element reads %s:%s after Close, not the poison", kept.Space, kept.Tag)
	}
	mustPanic := func(what string, use func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s on an element kept after Close did not fail", what)
			}
		}()
		use()
	}
	mustPanic("SelectElement", func() { _ = kept.SelectElement("ResponseOption") })
	mustPanic("Copy", func() { _ = kept.Copy() })
}
