package soap

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/beevik/etree"

	"kjdd/xds/hl7"
	"kjdd/xds/internal/xmlw"
)

// ContentTypeSOAP is the HTTP Content-Type of a plain SOAP 1.2 message.
const ContentTypeSOAP = "application/soap+xml; charset=UTF-8"

// SOAPContentType is ContentTypeSOAP with the SOAP 1.2 action parameter
// (RFC 3902), which some stacks dispatch on before reading wsa:Action.
func SOAPContentType(action string) string {
	if action == "" || !isPlainParam(action) {
		return ContentTypeSOAP
	}
	return ContentTypeSOAP + `; action="` + action + `"`
}

// isPlainParam reports whether s can go into a quoted MIME parameter as is:
// printable ASCII without quote or backslash.
func isPlainParam(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// NewEnvelope returns a SOAP 1.2 envelope with the WS-Addressing headers of
// an answer: wsa:Action (mustUnderstand), a fresh wsa:MessageID and, when
// relatesTo is not empty, wsa:RelatesTo. body becomes the Body's only
// child (it is moved if it already has a parent) and must declare the
// namespaces it uses itself; nil leaves the Body empty.
func NewEnvelope(action, relatesTo string, body *etree.Element) *etree.Document {
	doc, b := newEnvelope(action, relatesTo, nil)
	if body != nil {
		b.AddChild(body)
	}
	return doc
}

// newEnvelope builds the envelope and header and returns the empty Body.
// extra, when not nil, adds header blocks after the WS-Addressing ones.
func newEnvelope(action, relatesTo string, extra func(h *etree.Element)) (*etree.Document, *etree.Element) {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	env := doc.CreateElement("env:Envelope")
	env.CreateAttr("xmlns:env", NSSOAP12)
	env.CreateAttr("xmlns:wsa", NSWSA)
	h := env.CreateElement("env:Header")
	a := h.CreateElement("wsa:Action")
	a.CreateAttr("env:mustUnderstand", "true")
	a.SetText(action)
	h.CreateElement("wsa:MessageID").SetText(NewMessageID())
	if relatesTo != "" {
		h.CreateElement("wsa:RelatesTo").SetText(relatesTo)
	}
	if extra != nil {
		extra(h)
	}
	return doc, env.CreateElement("env:Body")
}

// AppendEnvelope appends to dst the SOAP 1.2 answer envelope that
// NewEnvelope(action, relatesTo, body) serialises to, byte for byte, where
// appendBody appends the body element's serialisation (it must declare the
// namespaces it uses, and add exactly one element); nil leaves the Body
// empty. It is the fast path for large answers: nothing is built as a tree.
func AppendEnvelope(dst []byte, action, relatesTo string, appendBody func(dst []byte) []byte) []byte {
	return appendEnvelope(dst, action, NewMessageID(), relatesTo, appendBody)
}

// appendEnvelope is AppendEnvelope with the message id given.
func appendEnvelope(dst []byte, action, messageID, relatesTo string, appendBody func(dst []byte) []byte) []byte {
	w := xmlw.Writer{B: dst}
	w.B = append(w.B, `<?xml version="1.0" encoding="UTF-8"?>`...)
	w.Start("env:Envelope")
	w.Attr("xmlns:env", NSSOAP12)
	w.Attr("xmlns:wsa", NSWSA)
	w.Start("env:Header")
	w.Start("wsa:Action")
	w.Attr("env:mustUnderstand", "true")
	w.SetText("wsa:Action", action)
	w.Start("wsa:MessageID")
	w.SetText("wsa:MessageID", messageID)
	if relatesTo != "" {
		w.Start("wsa:RelatesTo")
		w.SetText("wsa:RelatesTo", relatesTo)
	}
	w.End("env:Header")
	w.Start("env:Body")
	if appendBody != nil {
		w.B = append(w.B, '>')
		w.Open = false
		w.B = appendBody(w.B)
	}
	w.End("env:Body")
	w.End("env:Envelope")
	return w.B
}

// NewMessageID returns a fresh WS-Addressing message id: a random (version
// 4) UUID as a urn:uuid: URI.
func NewMessageID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails (Go 1.24+)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return "urn:uuid:" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// subcodeNamespaces are the prefixes a Fault.Subcode may use.
var subcodeNamespaces = map[string]string{
	"env":  NSSOAP12,
	"wsa":  NSWSA,
	"wsse": NSWSSE,
}

// FaultEnvelope renders f as a SOAP 1.2 Fault: env:Code/env:Value, the
// subcode (a wsa:, wsse: or env: qualified name; others are dropped since
// their namespace is unknown), and env:Reason/env:Text xml:lang="en". The
// WS-Addressing Action is the WS-A fault action for wsa: subcodes and the
// SOAP fault action otherwise (WS-Addressing SOAP Binding §6). f.Detail is
// never rendered, and runs of exactly eleven digits in the reason are
// masked as a last guard against leaking a national identity number. A
// VersionMismatch fault carries the env:Upgrade header naming SOAP 1.2; a
// wsa: fault with a ProblemAction carries it in env:Detail.
func FaultEnvelope(f *Fault, relatesTo string) *etree.Document {
	if f == nil {
		f = &Fault{Code: FaultReceiver, Reason: "internal error"}
	}
	code := f.Code
	switch code {
	case FaultSender, FaultReceiver, FaultVersionMismatch, FaultMustUnderstand, FaultDataEncodingUnkn:
	default:
		code = FaultReceiver
	}
	prefix, local, _ := strings.Cut(f.Subcode, ":")
	subNS := subcodeNamespaces[prefix]
	action := ActionSOAPFault
	if prefix == "wsa" && local != "" {
		action = ActionFault
	}
	var upgrade func(h *etree.Element)
	if code == FaultVersionMismatch {
		upgrade = func(h *etree.Element) {
			se := h.CreateElement("env:Upgrade").CreateElement("env:SupportedEnvelope")
			se.CreateAttr("qname", "env:Envelope")
		}
	}
	doc, body := newEnvelope(action, relatesTo, upgrade)
	fault := body.CreateElement("env:Fault")
	c := fault.CreateElement("env:Code")
	c.CreateElement("env:Value").SetText("env:" + string(code))
	if subNS != "" && local != "" && !strings.ContainsAny(local, ": \t\r\n") {
		v := c.CreateElement("env:Subcode").CreateElement("env:Value")
		if prefix == "wsse" {
			v.CreateAttr("xmlns:wsse", subNS)
		}
		v.SetText(prefix + ":" + local)
	}
	reason := f.Reason
	if strings.TrimSpace(reason) == "" {
		reason = defaultReason(code)
	}
	t := fault.CreateElement("env:Reason").CreateElement("env:Text")
	t.CreateAttr("xml:lang", "en")
	t.SetText(hl7.RedactNationalIDs(reason))
	if f.ProblemAction != "" && subNS == NSWSA {
		// The caller's own action, echoed under the same guard as the
		// reason.
		pa := fault.CreateElement("env:Detail").CreateElement("wsa:ProblemAction")
		pa.CreateElement("wsa:Action").SetText(hl7.RedactNationalIDs(f.ProblemAction))
	}
	return doc
}

// defaultReason is the reason text of a fault created without one.
func defaultReason(code FaultCode) string {
	switch code {
	case FaultSender:
		return "the request was refused"
	case FaultVersionMismatch:
		return "only SOAP 1.2 is supported"
	case FaultMustUnderstand:
		return "a mandatory header was not understood"
	default:
		return "internal error"
	}
}
