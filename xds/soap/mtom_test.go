package soap

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"kjdd/xds/internal/xdstest"
)

// mtomCT is the Content-Type of the messages mimeMessage builds.
const mtomCT = `multipart/related; type="application/xop+xml"; boundary="b0undary"; start="<root@test>"; start-info="application/soap+xml"`

// rootWithInclude is a root part referring to cid:doc@test.
var rootWithInclude = [2]string{rootPartHeader, xdstest.Envelope(xdstest.ActionHeader, includeBody("cid:doc@test"))}

// docPart is an attachment with Content-ID doc@test.
func docPart(content string) [2]string {
	return [2]string{"Content-Type: application/pdf\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <doc@test>", content}
}

// mtomBadInputs are refused MTOM requests.
var mtomBadInputs = map[string]badInput{
	"no boundary": {
		body:  mimeMessage(rootWithInclude, docPart("%PDF")),
		ctype: `multipart/related; type="application/xop+xml"; start="<root@test>"`,
		code:  FaultSender, reason: "without a boundary parameter"},
	"boundary not in body": {
		body:  strings.ReplaceAll(mimeMessage(rootWithInclude, docPart("%PDF")), "b0undary", "other"),
		ctype: mtomCT, code: FaultSender, reason: "no part with the declared boundary"},
	"missing root": {
		body:  mimeMessage(rootWithInclude, docPart("%PDF")),
		ctype: strings.Replace(mtomCT, "<root@test>", "<elsewhere@test>", 1),
		code:  FaultSender, reason: "root part named by the start parameter is missing"},
	"missing referenced part": {
		body:  mimeMessage(rootWithInclude),
		ctype: mtomCT, code: FaultSender, reason: "refers to a MIME part that is not in the message"},
	"include href not cid": {
		body:  mimeMessage([2]string{rootPartHeader, xdstest.Envelope(xdstest.ActionHeader, includeBody("http://attacker.example/doc"))}),
		ctype: mtomCT, code: FaultSender, reason: "href must be a cid: URL"},
	"too many parts": {
		body: mimeMessage(rootWithInclude, docPart("%PDF"),
			[2]string{"Content-ID: <b@test>", "b"}, [2]string{"Content-ID: <c@test>", "c"}),
		ctype:  mtomCT,
		limits: func(l *Limits) { l.MaxParts = 3 },
		code:   FaultSender, reason: "more than 3 parts", status: 413},
	"part too large in memory": {
		body: mimeMessage(rootWithInclude, docPart(strings.Repeat("x", 2000))), ctype: mtomCT,
		limits: func(l *Limits) { l.MaxPartBytes = 1024 },
		code:   FaultSender, reason: "attachment is larger than the limit of 1024 bytes", status: 413},
	"part too large while spooling": {
		body: mimeMessage(rootWithInclude, docPart(strings.Repeat("x", 5000))), ctype: mtomCT,
		limits: func(l *Limits) { l.MaxPartBytes = 4096; l.MemoryPartBytes = 512 },
		code:   FaultSender, reason: "attachment is larger than the limit of 4096 bytes", status: 413},
	"base64 part too large on the wire": {
		body: mimeMessage(rootWithInclude, [2]string{"Content-ID: <doc@test>\r\nContent-Transfer-Encoding: base64",
			strings.Repeat("\r\n", 4000) + "eA=="}), ctype: mtomCT,
		limits: func(l *Limits) { l.MaxPartBytes = 1024 },
		code:   FaultSender, reason: "attachment is larger than the limit", status: 413},
	"root part too large": {
		body: mimeMessage([2]string{rootPartHeader, xdstest.Envelope(xdstest.ActionHeader, "<q>"+strings.Repeat("x", 5000)+"</q>")}), ctype: mtomCT,
		limits: func(l *Limits) { l.MaxBodyBytes = 4096 },
		code:   FaultSender, reason: "MTOM root part is larger than the limit of 4096 bytes", status: 413},
	"truncated multipart": {
		body: mimeMessage(rootWithInclude, docPart(strings.Repeat("x", 3000)))[:1500], ctype: mtomCT,
		code: FaultSender, reason: "malformed or truncated"},
	"truncated spooled part": {
		body: strings.TrimSuffix(mimeMessage(rootWithInclude, docPart(strings.Repeat("x", 3000))), "\r\n--b0undary--\r\n"), ctype: mtomCT,
		limits: func(l *Limits) { l.MemoryPartBytes = 512 },
		code:   FaultSender, reason: "malformed or truncated"},
	"unsupported transfer encoding": {
		body: mimeMessage(rootWithInclude, [2]string{"Content-ID: <doc@test>\r\nContent-Transfer-Encoding: x-uuencode", "begin"}), ctype: mtomCT,
		code: FaultSender, reason: "unsupported Content-Transfer-Encoding"},
	"invalid base64 part": {
		body: mimeMessage(rootWithInclude, [2]string{"Content-ID: <doc@test>\r\nContent-Transfer-Encoding: base64", "!!!not base64!!!"}), ctype: mtomCT,
		code: FaultSender, reason: "not valid base64"},
	"attachment without Content-ID": {
		body: mimeMessage(rootWithInclude, [2]string{"Content-Type: application/pdf", "%PDF"}), ctype: mtomCT,
		code: FaultSender, reason: "has no Content-ID"},
	"duplicate Content-ID": {
		body: mimeMessage(rootWithInclude, docPart("a"), docPart("b")), ctype: mtomCT,
		code: FaultSender, reason: "same Content-ID"},
	"multipart without type": {
		body: mimeMessage(rootWithInclude, docPart("a")), ctype: `multipart/related; boundary="b0undary"`,
		code: FaultSender, reason: `needs the parameter type="application/xop+xml"`, status: 415},
	"multipart of another type": {
		body: mimeMessage(rootWithInclude, docPart("a")), ctype: `multipart/related; type="image/png"; boundary="b0undary"`,
		code: FaultSender, reason: "unsupported multipart/related type", status: 415},
	"SOAP 1.1 with attachments": {
		body: mimeMessage(rootWithInclude, docPart("a")), ctype: `multipart/related; type="text/xml"; boundary="b0undary"`,
		code: FaultVersionMismatch, reason: "SOAP 1.1 with attachments"},
	"SOAP 1.1 MTOM start-info": {
		body: mimeMessage(rootWithInclude, docPart("a")), ctype: `multipart/related; type="application/xop+xml"; start-info="text/xml"; boundary="b0undary"`,
		code: FaultVersionMismatch, reason: "start-info text/xml"},
	"root part SOAP 1.1 type": {
		body:  mimeMessage([2]string{"Content-Type: application/xop+xml; type=\"text/xml\"\r\nContent-ID: <root@test>", xdstest.Envelope(xdstest.ActionHeader, xdstest.QueryBody)}),
		ctype: mtomCT, code: FaultVersionMismatch, reason: "root type text/xml"},
	"root part not XML": {
		body:  mimeMessage([2]string{"Content-Type: application/octet-stream\r\nContent-ID: <root@test>", xdstest.Envelope(xdstest.ActionHeader, xdstest.QueryBody)}),
		ctype: mtomCT, code: FaultSender, reason: "root part must be application/xop+xml"},
	"root part without Content-Type": {
		body:  mimeMessage([2]string{"Content-ID: <root@test>", xdstest.Envelope(xdstest.ActionHeader, xdstest.QueryBody)}),
		ctype: mtomCT, code: FaultSender, reason: "root part has no valid Content-Type"},
	"root part DTD": {
		body:  mimeMessage([2]string{rootPartHeader, `<!DOCTYPE x [<!ENTITY a "b">]>` + xdstest.Envelope(xdstest.ActionHeader, xdstest.QueryBody)}),
		ctype: mtomCT, code: FaultSender, reason: "DTDs and entity declarations are not allowed"},
	"root part missing Action": {
		body:  mimeMessage([2]string{rootPartHeader, xdstest.Envelope("", xdstest.QueryBody)}),
		ctype: mtomCT, code: FaultSender, subcode: "wsa:MessageAddressingHeaderRequired", reason: "wsa:Action header is required"},
	"garbage multipart": {
		body: garbage(8192), ctype: mtomCT, code: FaultSender, reason: "no part with the declared boundary"},
}

// TestReadMessageRefusesMTOM checks every refused MTOM request yields its
// specific fault and leaves no spooled file.
func TestReadMessageRefusesMTOM(t *testing.T) {
	runBadInputs(t, mtomBadInputs)
}

// smallParts returns n attachments of size bytes each.
func smallParts(n, size int) [][2]string {
	var parts [][2]string
	for i := range n {
		parts = append(parts, [2]string{fmt.Sprintf("Content-ID: <p%d@test>", i), strings.Repeat("p", size)})
	}
	return parts
}

// TestReadMessageMTOMParts covers accepted MTOM variants and Blob.
func TestReadMessageMTOMParts(t *testing.T) {
	const content = "%PDF-1.7 Grønn\r\n=tekst\x00\xff"
	b64 := base64.StdEncoding.EncodeToString([]byte(content))
	tests := map[string]struct {
		body   string
		ctype  string
		limits func(l *Limits)
		// spooled: the attachment must be on disk until Close.
		spooled bool
	}{
		"binary attachment": {body: mimeMessage(rootWithInclude, docPart(content))},
		"root not first, found by start": {
			body: mimeMessage(docPart(content), rootWithInclude)},
		"no start: first part is the root": {
			body:  mimeMessage(rootWithInclude, docPart(content)),
			ctype: `multipart/related; type="application/xop+xml"; boundary="b0undary"`},
		"base64 attachment with line breaks": {
			body: mimeMessage(rootWithInclude, [2]string{"Content-ID: <doc@test>\r\nContent-Transfer-Encoding: BASE64",
				b64[:8] + "\r\n" + b64[8:]})},
		"quoted-printable attachment": {
			body: mimeMessage(rootWithInclude, [2]string{"Content-ID: <doc@test>\r\nContent-Transfer-Encoding: quoted-printable",
				"%PDF-1.7 Gr=C3=B8nn=0D=0A=3Dtekst=00=FF"})},
		"URL-encoded cid href": {
			body: mimeMessage(
				[2]string{rootPartHeader, xdstest.Envelope(xdstest.ActionHeader, includeBody("cid:8ba22b9e-1@urn%3Aihe%3Aiti%3Axds-b%3A2007"))},
				[2]string{"Content-ID: <8ba22b9e-1@urn:ihe:iti:xds-b:2007>", content})},
		"href not URL-encoded by the sender": {
			body: mimeMessage(
				[2]string{rootPartHeader, xdstest.Envelope(xdstest.ActionHeader, includeBody("cid:a%b@test"))},
				[2]string{"Content-ID: <a%b@test>", content})},
		"base64-encoded root part": {
			body: mimeMessage(
				[2]string{"Content-Type: application/xop+xml; type=\"application/soap+xml\"\r\nContent-Transfer-Encoding: base64\r\nContent-ID: <root@test>",
					base64.StdEncoding.EncodeToString([]byte(rootWithInclude[1]))},
				docPart(content))},
		"memory budget exhausted by earlier parts": {
			body:    mimeMessage(append(smallParts(8, 64), rootWithInclude, docPart(content))...),
			limits:  func(l *Limits) { l.MemoryPartBytes = 64 }, // budget 8 × 64 bytes
			spooled: true},
		"attachment spooled to disk": {
			body:    mimeMessage(rootWithInclude, docPart(content)),
			limits:  func(l *Limits) { l.MemoryPartBytes = 8 },
			spooled: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			lim := DefaultLimits()
			sp := newMemSpool()
			if tc.limits != nil {
				tc.limits(&lim)
			}
			ctype := tc.ctype
			if ctype == "" {
				ctype = mtomCT
			}
			m, err := spoolReader(lim, sp).Read(strings.NewReader(tc.body), ctype)
			if err != nil {
				t.Fatal(err)
			}
			if !m.MTOM || m.Action != ActionRegistryStoredQuery {
				t.Errorf("MTOM %v Action %q", m.MTOM, m.Action)
			}
			if got := readBlob(t, m, m.BodyRoot.FindElement("Document")); got != content {
				t.Errorf("attachment = %q, want %q", got, content)
			}
			entries := sp.names()
			if tc.spooled != (len(entries) == 1) {
				t.Errorf("%d files spooled, want spooled=%v", len(entries), tc.spooled)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			noSpooledFiles(t, sp)
		})
	}
}

// TestBlob covers inline base64 and the refusals of Message.Blob.
func TestBlob(t *testing.T) {
	plain := func(t *testing.T, body string) *Message {
		m, err := ReadMessage(strings.NewReader(xdstest.Envelope(xdstest.ActionHeader, body)), ContentTypeSOAP, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	t.Run("inline base64 with XML white space", func(t *testing.T) {
		m := plain(t, "<Document>\n\t SGVp\r\n IGRl\tcg==\n</Document>")
		if got := readBlob(t, m, m.BodyRoot); got != "Hei der" {
			t.Errorf("content = %q", got)
		}
	})
	t.Run("empty inline content", func(t *testing.T) {
		m := plain(t, "<Document/>")
		if got := readBlob(t, m, m.BodyRoot); got != "" {
			t.Errorf("content = %q", got)
		}
	})
	refusals := map[string]struct {
		body, reason string
	}{
		"invalid base64":   {body: "<Document>SGVp!!</Document>", reason: "not valid base64"},
		"truncated base64": {body: "<Document>SGV</Document>", reason: "not valid base64"},
		"child element":    {body: "<Document><b/></Document>", reason: "base64 text or a single xop:Include"},
	}
	for name, tc := range refusals {
		t.Run(name, func(t *testing.T) {
			m := plain(t, tc.body)
			_, err := m.Blob(m.BodyRoot)
			wantFault(t, err, FaultSender, "", tc.reason)
		})
	}
	t.Run("include and text", func(t *testing.T) {
		body := strings.Replace(rootWithInclude[1], "<xop:Include", "SGVp<xop:Include", 1)
		m, err := ReadMessage(strings.NewReader(mimeMessage([2]string{rootPartHeader, body}, docPart("x"))), mtomCT, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		_, err = m.Blob(m.BodyRoot.FindElement("Document"))
		wantFault(t, err, FaultSender, "", "not both")
	})
	t.Run("element built after reading refers to a missing part", func(t *testing.T) {
		m, err := ReadMessage(strings.NewReader(mimeMessage(rootWithInclude, docPart("x"))), mtomCT, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		el := etree.NewElement("Document")
		el.AddChild(XOPInclude("gone@test"))
		_, err = m.Blob(el)
		wantFault(t, err, FaultSender, "", "not in the message")
	})
	t.Run("open after close", func(t *testing.T) {
		sp := newMemSpool()
		m, err := spoolReader(Limits{MemoryPartBytes: 10}, sp).Read(strings.NewReader(mimeMessage(rootWithInclude, docPart(strings.Repeat("x", 100)))), mtomCT)
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.Blob(m.BodyRoot.FindElement("Document"))
		if err != nil {
			t.Fatal(err)
		}
		m.Close()
		m.Close() // idempotent
		if _, err := b.Open(); err == nil {
			t.Error("a blob of a closed message opened")
		}
		// The message's tree is gone with Close: ask with an element of
		// one's own that names the same part.
		el := etree.NewElement("Document")
		el.AddChild(XOPInclude("doc@test"))
		if _, err := m.Blob(el); err == nil {
			t.Error("Blob of a closed message succeeded")
		}
		if m.Doc != nil || m.BodyRoot != nil || m.Security != nil {
			t.Error("a closed message still hands out its tree")
		}
		if left := sp.names(); len(left) != 0 {
			t.Errorf("left %v", left)
		}
	})
}

// TestNoSpoolRefusesLargeParts: a reader without a spool keeps what fits
// in memory and refuses a larger attachment with a clear fault, instead of
// holding it in memory or writing it anywhere.
func TestNoSpoolRefusesLargeParts(t *testing.T) {
	lim := Limits{MemoryPartBytes: 10}
	m, err := ReadMessage(strings.NewReader(mimeMessage(rootWithInclude, docPart("small"))), mtomCT, lim)
	if err != nil {
		t.Fatalf("a part that fits in memory: %v", err)
	}
	m.Close()
	_, err = ReadMessage(strings.NewReader(mimeMessage(rootWithInclude, docPart(strings.Repeat("x", 100)))), mtomCT, lim)
	f := wantFault(t, err, FaultSender, "", "no spool is configured")
	if f.HTTPStatus != 413 {
		t.Errorf("HTTPStatus %d, want 413", f.HTTPStatus)
	}
}
