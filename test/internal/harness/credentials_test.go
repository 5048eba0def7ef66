package harness

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/beevik/etree"

	"kjdd/helseid"
	"kjdd/helseid/helseidtest"
	"kjdd/test/testkit/paths"
)

const newSecurity = `<wsse:Security xmlns:wsse="` + nsWSSE + `"><fresh/></wsse:Security>`

func TestSpliceSecurity(t *testing.T) {
	const body = `<s:Body><x:Q xmlns:x="urn:x">keep</x:Q></s:Body>`
	const open = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:w="` + nsWSSE + `">`
	tests := map[string]struct {
		in string
	}{
		"replaces an expired assertion": {in: open + `<s:Header><a>1</a><w:Security><old/></w:Security><b>2</b></s:Header>` + body + `</s:Envelope>`},
		"replaces an empty header":      {in: open + `<s:Header><w:Security/></s:Header>` + body + `</s:Envelope>`},
		"keeps only one of two":         {in: open + `<s:Header><w:Security><old/></w:Security><w:Security><old2/></w:Security></s:Header>` + body + `</s:Envelope>`},
		"adds to a header without one":  {in: open + `<s:Header><a>1</a></s:Header>` + body + `</s:Envelope>`},
		"fills a self-closed header":    {in: open + `<s:Header/>` + body + `</s:Envelope>`},
		"adds a header":                 {in: open + body + `</s:Envelope>`},
		"default namespace envelope": {in: `<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"><Header><w:Security xmlns:w="` + nsWSSE + `"><old/></w:Security></Header>` +
			`<Body><x:Q xmlns:x="urn:x">keep</x:Q></Body></Envelope>`},
		"latin-1 byte elsewhere is kept": {in: open + "<s:Header><a>Tr\xf8ndelag</a><w:Security><old/></w:Security></s:Header>" + body + `</s:Envelope>`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env, err := parseLenient([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			out, err := spliceSecurity([]byte(tc.in), env, newSecurity)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(out), "<old") {
				t.Errorf("old security left in:\n%s", out)
			}
			if bytes.Count(out, []byte("<fresh/>")) != 1 {
				t.Errorf("want the new security once:\n%s", out)
			}
			if !bytes.Contains(out, []byte(`<x:Q xmlns:x="urn:x">keep</x:Q>`)) {
				t.Errorf("body changed:\n%s", out)
			}
			if strings.Contains(name, "latin-1") && !bytes.Contains(out, []byte("Tr\xf8ndelag")) {
				t.Errorf("bytes outside wsse:Security changed")
			}
			got, err := parseLenient(out)
			if err != nil {
				t.Fatalf("result does not parse: %v\n%s", err, out)
			}
			var secs []*etree.Element
			for _, h := range child(got, nsSOAP12, "Header").ChildElements() {
				if h.Tag == "Security" && h.NamespaceURI() == nsWSSE {
					secs = append(secs, h)
				}
			}
			if len(secs) != 1 || secs[0].SelectElement("fresh") == nil {
				t.Errorf("header holds %d wsse:Security, want the new one alone:\n%s", len(secs), out)
			}
		})
	}
}

func TestRewriteRootOfMTOM(t *testing.T) {
	env := Envelope("urn:ihe:iti:2007:CrossGatewayRetrieve", retrieveBody)
	attachment := []byte("binary \x00\x01 part")
	msg, ct, err := MTOM(env, "urn:ihe:iti:2007:CrossGatewayRetrieve", Part{ContentID: "a@kjdd.test", Body: bytes.NewReader(attachment)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := rewriteRoot(ct, msg, func(root []byte) ([]byte, error) {
		return bytes.Replace(root, []byte("1.2.3.4"), []byte("9.9.9.9"), 1), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseMessage(ct, out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(m.Root, []byte("9.9.9.9")) || bytes.Contains(m.Root, []byte("1.2.3.4")) {
		t.Errorf("root not rewritten:\n%s", m.Root)
	}
	if !bytes.Equal(m.Attachments["a@kjdd.test"], attachment) {
		t.Errorf("attachment changed: %q", m.Attachments["a@kjdd.test"])
	}
}

func TestPeekAction(t *testing.T) {
	tests := map[string]struct {
		in, want string
	}{
		"prefixed":       {in: string(Envelope("urn:ihe:iti:2007:RegisterDocumentSet-b", retrieveBody)), want: "urn:ihe:iti:2007:RegisterDocumentSet-b"},
		"default prefix": {in: `<Envelope><Header><Action xmlns="http://www.w3.org/2005/08/addressing"> urn:a </Action></Header></Envelope>`, want: "urn:a"},
		"no action":      {in: string(Envelope("x", retrieveBody, WithoutAction()))},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, rest := peekAction(strings.NewReader(tc.in))
			if got != tc.want {
				t.Errorf("action %q, want %q", got, tc.want)
			}
			var b bytes.Buffer
			if _, err := b.ReadFrom(rest); err != nil || b.String() != tc.in {
				t.Errorf("body not kept whole")
			}
		})
	}
}

// TestStartAttachesCredentials: a Server gets past authentication on every
// SOAP endpoint by default, and is refused with AuthNone.
func TestStartAttachesCredentials(t *testing.T) {
	s := Start(t, Options{})
	query := func(action string) []byte {
		return Envelope(action, `<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">`+
			`<query:ResponseOption returnType="ObjectRef" returnComposedObjects="true"/><rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">`+
			`<rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'13116900216^^^&amp;2.16.578.1.12.4.1.4.1&amp;ISO'</rim:Value></rim:ValueList></rim:Slot>`+
			`<rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>`+
			`</rim:AdhocQuery></query:AdhocQueryRequest>`)
	}
	tests := map[string]struct {
		path, action string
		auth         Auth
		wantSubcode  string // "" = answered by the registry
	}{
		"iti18 auto":    {path: PathRegistry, action: "urn:ihe:iti:2007:RegistryStoredQuery"},
		"iti38 auto":    {path: PathXCA, action: "urn:ihe:iti:2007:CrossGatewayQuery"},
		"iti18 none":    {path: PathRegistry, action: "urn:ihe:iti:2007:RegistryStoredQuery", auth: AuthNone, wantSubcode: "InvalidSecurity"},
		"iti38 none":    {path: PathXCA, action: "urn:ihe:iti:2007:CrossGatewayQuery", auth: AuthNone, wantSubcode: "InvalidSecurity"},
		"iti42 as user": {path: PathRegistry, action: "urn:ihe:iti:2007:RegisterDocumentSet-b", wantSubcode: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			body := query(tc.action)
			if tc.action == "urn:ihe:iti:2007:RegisterDocumentSet-b" {
				// A client token gets an ITI-42 past authentication: the
				// empty submission is refused by the registry, not the gate.
				body = Envelope(tc.action, `<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList/></lcm:SubmitObjectsRequest>`)
			}
			resp := s.With(tc.auth).SOAP(t, tc.path, body, ContentTypeSOAP)
			f := resp.Fault()
			switch {
			case tc.wantSubcode == "" && f != nil:
				t.Fatalf("fault %s", f)
			case tc.wantSubcode != "" && (f == nil || f.SubcodeLocal() != tc.wantSubcode):
				t.Fatalf("fault %v, want subcode %s", f, tc.wantSubcode)
			}
		})
	}
	if s.Identity() == nil || s.With(AuthNone).Identity() != s.Identity() {
		t.Error("views do not share the identity")
	}
}

// FuzzSpliceSecurity: putting a fresh wsse:Security into whatever a test
// sends never panics, and when it succeeds the new header is in place.
func FuzzSpliceSecurity(f *testing.F) {
	for _, name := range []string{"iti38-FindDocuments-pjd-kjernejournal-saml.xml", "iti39-request-pjd-helsenord-saml.xml", "iti18-FindDocuments-ihe-official-soap.xml"} {
		f.Add(paths.Sample(f, name))
	}
	f.Add(Envelope("urn:ihe:iti:2007:CrossGatewayQuery", retrieveBody))
	f.Fuzz(func(t *testing.T, raw []byte) {
		env, err := parseLenient(raw)
		if err != nil {
			return
		}
		out, err := spliceSecurity(raw, env, newSecurity)
		if err == nil && !bytes.Contains(out, []byte(newSecurity)) {
			t.Fatal("spliced without the new header")
		}
	})
}

// TestFreshAssertionKeepsLatin1: a request captured in ISO-8859-1 gets a
// fresh assertion written in ISO-8859-1 as well, naming the practitioner
// as the old one did, whose signature still verifies once the message is
// read as Latin-1 (as kjdd reads it).
func TestFreshAssertionKeepsLatin1(t *testing.T) {
	s := &Server{identity: NewIdentity(t), auth: AuthAuto}
	old := `<wsse:Security xmlns:wsse="` + nsWSSE + `"><saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">` +
		`<saml:AttributeStatement><saml:Attribute Name="urn:oasis:names:tc:xspa:1.0:subject:subject-id"><saml:AttributeValue>GR` + "\xd8" +
		`NN VITS</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion></wsse:Security>`
	query := `<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">` +
		`<query:ResponseOption returnType="LeafClass" returnComposedObjects="true"/><rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">` +
		`<rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'12119000465^^^&amp;2.16.578.1.12.4.1.4.1&amp;ISO'</rim:Value></rim:ValueList></rim:Slot>` +
		`</rim:AdhocQuery></query:AdhocQueryRequest>`
	raw := Envelope("urn:ihe:iti:2007:CrossGatewayQuery", query, WithHeader(old))
	out := s.withAssertion(t, ContentTypeSOAP, raw)
	if utf8.Valid(out) || !bytes.Contains(out, []byte("GR\xd8NN VITS")) || bytes.Contains(out, []byte("<saml:AttributeStatement><saml:Attribute Name=\"urn:oasis:names:tc:xspa:1.0:subject:subject-id\"><saml:AttributeValue>GR")) {
		t.Fatalf("want the fresh assertion in Latin-1 naming the same practitioner:\n%s", out)
	}
	env, err := parseLenient(out)
	if err != nil {
		t.Fatal(err)
	}
	v, err := helseid.NewSAMLValidator(helseid.SAMLConfig{Issuer: helseidtest.DefaultSAMLIssuer, Audience: helseidtest.DefaultSAMLAudience,
		Trust: helseid.StaticCertificates{s.identity.Issuer.SAML.Certificate}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Authenticate(context.Background(), env.FindElement("./Header/Security"))
	if err != nil {
		t.Fatalf("fresh assertion does not verify: %v", err)
	}
	if p.Name != "GRØNN VITS" || p.PatientID != "12119000465^^^&2.16.578.1.12.4.1.4.1&ISO" {
		t.Fatalf("principal %v", p)
	}
}
