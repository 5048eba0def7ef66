package soap

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"kjdd/xds/internal/xdstest"
)

// memoEnvelope is a request whose wsse:Security, wrapped in depth
// elements of its own, holds assertion; outer adds attributes to the
// envelope and before adds elements ahead of the header's security.
func memoEnvelope(outer string, depth int, before, assertion, body string) []byte {
	return []byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"` + outer + `><s:Header>` + before +
		strings.Repeat("<w>", depth) +
		`<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">` +
		assertion + `</wsse:Security>` + strings.Repeat("</w>", depth) + `</s:Header><s:Body>` + body + `</s:Body></s:Envelope>`)
}

// memoAssertion holds three elements, nested two deep below it.
const memoAssertion = `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0">` +
	`<saml:Issuer>helseid</saml:Issuer><saml:Subject><saml:NameID>n &amp; m</saml:NameID></saml:Subject></saml:Assertion>`

// checkMemoAgrees primes a fresh memo with prime, then wants the guard
// over data with that memo to give what it gives without one: the same
// fault, or the same tree, includes and assertion sources. It reports
// whether the memo was used.
func checkMemoAgrees(t *testing.T, prime, data []byte, lim Limits) bool {
	t.Helper()
	memo := newAssertionMemo(DefaultAssertionMemoBytes)
	var slabs sync.Pool
	if scan, err := guardXML(prime, lim, memo, &slabs); err != nil {
		t.Logf("prime refused: %v", err)
	} else {
		verified(scan, memo)
	}
	before := memo.hits.Load()
	got, gerr := guardXML(data, lim, memo, &slabs)
	want, werr := guardXML(data, lim, nil, &slabs)
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("with the memo: %v; without: %v\ninput %q", gerr, werr, data)
	}
	if gerr != nil {
		g, w := gerr.(*Fault), werr.(*Fault)
		if *g != *w {
			t.Fatalf("with the memo refused with %+v, without with %+v\ninput %q", g, w, data)
		}
		return memo.hits.Load() > before
	}
	if strings.Join(got.includes, "\n") != strings.Join(want.includes, "\n") || (got.doc == nil) != (want.doc == nil) {
		t.Fatalf("includes %q (tree %v), without the memo %q (tree %v)", got.includes, got.doc != nil, want.includes, want.doc != nil)
	}
	if len(got.assertions) != len(want.assertions) {
		t.Fatalf("%d assertions kept as bytes, without the memo %d", len(got.assertions), len(want.assertions))
	}
	for i := range got.assertions {
		g, w := got.assertions[i].src, want.assertions[i].src
		if string(g.Raw) != string(w.Raw) || !slices.Equal(g.Namespaces, w.Namespaces) {
			t.Fatalf("assertion %d kept as %q under %q, without the memo %q under %q", i, g.Raw, g.Namespaces, w.Raw, w.Namespaces)
		}
	}
	if got.xua != want.xua {
		t.Fatalf("XUA facts %+v, without the memo %+v", got.xua, want.xua)
	}
	if got.doc != nil {
		expandDeferred(t, got)
		expandDeferred(t, want)
		if d := treeDiff("", &got.doc.Element, &want.doc.Element); d != "" {
			t.Fatalf("the tree differs with the memo: %s\ninput %q", d, data)
		}
	}
	return memo.hits.Load() > before
}

// TestAssertionMemoAgrees: the guard steps over an assertion it passed
// before only where scanning it again would pass it with the same effect,
// and every refusal is the one a full scan gives.
func TestAssertionMemoAgrees(t *testing.T) {
	lim := DefaultLimits()
	base := memoEnvelope("", 0, "", memoAssertion, "<q/>")
	inherits := strings.Replace(memoAssertion, ` xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"`, "", 1)
	withX := strings.Replace(memoAssertion, "<saml:Issuer>", "<x:e/><saml:Issuer>", 1)
	tests := map[string]struct {
		prime, data []byte
		lim         func(*Limits)
		hit         bool
	}{
		"the same request again": {prime: base, data: base, hit: true},
		"deeper, within the limit": {prime: base, data: memoEnvelope("", 3, "", memoAssertion, "<q/>"),
			lim: func(l *Limits) { l.MaxDepth = 9 }, hit: true},
		// NameID is at level 6 in base, at 7 one level deeper.
		"deeper, past the depth limit": {prime: base, data: memoEnvelope("", 1, "", memoAssertion, "<q/>"),
			lim: func(l *Limits) { l.MaxDepth = 6 }},
		// Four elements before the assertion, three in it, and two more
		// before it here: the memo's count does not fit, so it is scanned.
		"past the element limit inside the assertion": {prime: base, data: memoEnvelope("", 0, "<x/><x/>", memoAssertion, "<q/>"),
			lim: func(l *Limits) { l.MaxElements = 8 }},
		"past the element limit after the assertion": {prime: base, data: memoEnvelope("", 0, "", memoAssertion, "<q/><q/><q/>"),
			lim: func(l *Limits) { l.MaxElements = 10 }, hit: true},
		"a byte changed in the content": {prime: base, data: memoEnvelope("", 0, "", strings.Replace(memoAssertion, "helseid", "helseiD", 1), "<q/>")},
		"an unused binding in scope":    {prime: base, data: memoEnvelope(` xmlns:u="urn:u"`, 0, "", memoAssertion, "<q/>")},
		"its prefix bound by an ancestor": {
			prime: memoEnvelope(` xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"`, 0, "", inherits, "<q/>"),
			data:  memoEnvelope(` xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"`, 0, "", inherits, "<q/>"), hit: true},
		"a prefix it uses no longer declared": {
			prime: memoEnvelope(` xmlns:x="urn:x"`, 0, "", withX, "<q/>"),
			data:  memoEnvelope("", 0, "", withX, "<q/>")},
		"ends inside the assertion":  {prime: base, data: base[:len(base)-len("</saml:Subject></saml:Assertion></wsse:Security></s:Header><s:Body><q/></s:Body></s:Envelope>")]},
		"broken after the assertion": {prime: base, data: []byte(strings.Replace(string(base), "</wsse:Security>", "</wsse:Securit>", 1)), hit: true},
		"an xop:Include inside is never stepped over": {
			prime: memoEnvelope("", 0, "", strings.Replace(memoAssertion, "<saml:Issuer>", `<xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:a"/><saml:Issuer>`, 1), "<q/>"),
			data:  memoEnvelope("", 0, "", strings.Replace(memoAssertion, "<saml:Issuer>", `<xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:a"/><saml:Issuer>`, 1), "<q/>")},
		"an assertion inside the assertion": {
			prime: memoEnvelope("", 0, "", strings.Replace(memoAssertion, "<saml:Issuer>", `<saml:Assertion ID="_b"/><saml:Issuer>`, 1), "<q/>"),
			data:  memoEnvelope("", 0, "", strings.Replace(memoAssertion, "<saml:Issuer>", `<saml:Assertion ID="_b"/><saml:Issuer>`, 1), "<q/>"), hit: true},
		"an empty assertion": {prime: memoEnvelope("", 0, "", `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"/>`, ""),
			data: memoEnvelope("", 0, "", `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"/>`, "")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			l := lim
			if tc.lim != nil {
				tc.lim(&l)
			}
			if hit := checkMemoAgrees(t, tc.prime, tc.data, l); hit != tc.hit {
				t.Fatalf("memo used: %v, want %v", hit, tc.hit)
			}
		})
	}
	t.Run("NHN's ITI-38", func(t *testing.T) {
		data, _, err := prepareXML(xdstest.ReadSample(t, "iti38-FindDocuments-pjd-kjernejournal-saml.xml"))
		if err != nil {
			t.Fatal(err)
		}
		if !checkMemoAgrees(t, data, data, lim) {
			t.Fatal("the memo was not used for the same request again")
		}
	})
}

// FuzzAssertionMemo: whatever primed the memo, the guard gives with it
// what it gives without it.
func FuzzAssertionMemo(f *testing.F) {
	base := memoEnvelope("", 0, "", memoAssertion, "<q/>")
	f.Add(base, base)
	f.Add(base, memoEnvelope("", 2, "<x/>", memoAssertion, "<q/><q/>"))
	f.Add(memoEnvelope(` xmlns:x="urn:x"`, 0, "", memoAssertion, ""), memoEnvelope("", 0, "", memoAssertion, ""))
	f.Fuzz(func(t *testing.T, prime, data []byte) {
		prime, _, err := prepareXML(prime)
		if err != nil {
			return
		}
		data, _, err = prepareXML(data)
		if err != nil || strings.Count(string(data), "<") > 50000 {
			return
		}
		checkMemoAgrees(t, prime, data, Limits{MaxDepth: 12, MaxElements: 40}.orDefaults())
	})
}

// verified puts what a scan found into memo, as Message.AssertionVerified
// does once a message's assertion was verified.
func verified(scan *xmlScan, memo *assertionMemo) {
	for _, k := range scan.assertions {
		if k.memo != nil {
			memo.add(*k.memo)
		}
	}
}

// TestMemoKeepsOnlyVerified: the guard remembers nothing by itself; an
// assertion enters the memo only when its message says it was verified,
// and is stepped over only after that.
func TestMemoKeepsOnlyVerified(t *testing.T) {
	r := NewReader(ReaderConfig{AssertionMemoBytes: DefaultAssertionMemoBytes})
	msg := memoEnvelope(` xmlns:a="http://www.w3.org/2005/08/addressing"`, 0, xdstest.ActionHeader, memoAssertion, "<q/>")
	read := func() *Message {
		t.Helper()
		m, err := r.Read(strings.NewReader(string(msg)), ContentTypeSOAP)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for range 3 {
		read().Close()
	}
	if s := r.AssertionMemo(); s.Entries != 0 || s.Hits != 0 {
		t.Fatalf("memo %+v after three unverified messages, want nothing kept", s)
	}
	m := read()
	m.AssertionVerified()
	m.Close()
	if s := r.AssertionMemo(); s.Entries != 1 {
		t.Fatalf("memo %+v after a verified message, want its assertion", s)
	}
	read().Close()
	if s := r.AssertionMemo(); s.Hits != 1 {
		t.Fatalf("memo %+v: the verified assertion was not stepped over", s)
	}
}
