package helseid

import (
	"bytes"
	"context"
	"crypto/x509"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"kjdd/helseid/helseidtest"
)

// switchableTrust is a trust set a test can change between requests.
type switchableTrust struct {
	mu    sync.Mutex
	certs []*x509.Certificate
}

func (s *switchableTrust) Certificates(context.Context) ([]*x509.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.certs, nil
}

func (s *switchableTrust) set(c []*x509.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.certs = c
}

// TestSAMLVerifiedAssertionReuse: an assertion is verified once and then
// reused, but every rule that can change between requests is applied
// again: its lifetime, the trust set it verified under, and a single
// changed byte.
func TestSAMLVerifiedAssertionReuse(t *testing.T) {
	signer := helseidtest.NewSAMLSigner(t)
	other := helseidtest.NewSAMLSigner(t)
	start := time.Now().UTC().Truncate(time.Second)
	clock := start
	trust := &switchableTrust{certs: trusting(t, signer)}
	v := newSAMLValidator(t, trust, func(c *SAMLConfig) { c.Now = func() time.Time { return clock } })
	msg := signer.Security(helseidtest.XUAValidity(start.Add(-time.Minute), start.Add(10*time.Minute)))

	first, err := v.Authenticate(testCtx, securityOf(t, msg))
	if err != nil {
		t.Fatalf("first use: %v", err)
	}
	if n := len(v.verified.entries); n != 1 {
		t.Fatalf("%d verified assertions cached, want 1", n)
	}
	second, err := v.Authenticate(testCtx, securityOf(t, msg))
	if err != nil {
		t.Fatalf("reuse: %v", err)
	}
	if second == first || second.TokenID != first.TokenID || second.HPRNumber != first.HPRNumber {
		t.Fatalf("reuse gave %+v, want an equal copy of %+v", second, first)
	}
	second.Scopes = append(second.Scopes, "injected")
	if third, _ := v.Authenticate(testCtx, securityOf(t, msg)); third == nil || third.HasScope("injected") {
		t.Fatal("a caller's change to its Principal reached the cache")
	}

	t.Run("changed byte is verified afresh", func(t *testing.T) {
		wantKind(t, func() error {
			_, err := v.Authenticate(testCtx, securityOf(t, signer.Security(helseidtest.Tampered())))
			return err
		}(), FailedAuthentication, "")
	})
	t.Run("trust set without the signer", func(t *testing.T) {
		trust.set(trusting(t, other))
		defer trust.set(trusting(t, signer))
		_, err := v.Authenticate(testCtx, securityOf(t, msg))
		wantKind(t, err, FailedAuthentication, "signature does not verify")
	})
	t.Run("lifetime is checked on reuse", func(t *testing.T) {
		clock = start.Add(16 * time.Minute) // past NotOnOrAfter plus the 5 min skew
		defer func() { clock = start }()
		_, err := v.Authenticate(testCtx, securityOf(t, msg))
		wantKind(t, err, FailedAuthentication, "expired")
	})
	t.Run("reuse ends with the assertion", func(t *testing.T) {
		for _, e := range v.verified.entries {
			if want := start.Add(15 * time.Minute); e.until.After(want) {
				t.Fatalf("reused until %v, past the assertion's end plus skew %v", e.until, want)
			}
		}
	})
}

// TestVerifiedCacheBounded: distinct assertions never grow the cache past
// its bound.
func TestVerifiedCacheBounded(t *testing.T) {
	c := newVerifiedCache(3)
	until := time.Now().Add(time.Hour)
	for i := range 10 {
		c.put(reuseKey{head: []byte{byte(i)}}, verifiedAssertion{principal: &Principal{}, until: until})
		if len(c.entries) > 3 {
			t.Fatalf("cache holds %d entries, bound 3", len(c.entries))
		}
	}
	k := reuseKey{head: []byte("expired")}
	c.put(k, verifiedAssertion{principal: &Principal{}, until: time.Now().Add(-time.Second)})
	if _, ok := c.get(k, time.Now()); ok {
		t.Fatal("an expired verification was reused")
	}
}

// TestVerifiedCacheComparesKeys: an entry is found by its key's hash but
// used only for an equal key, so a colliding key (made here by filing an
// entry under another key's hash) gets no verification; and the cache
// keeps its own copy of the key, whose bytes the caller may reuse.
func TestVerifiedCacheComparesKeys(t *testing.T) {
	c := newVerifiedCache(10)
	until := time.Now().Add(time.Hour)
	body := []byte("<saml:Assertion>verified</saml:Assertion>")
	verified := reuseKey{head: []byte("R1"), body: body}
	c.put(verified, verifiedAssertion{principal: &Principal{HPRNumber: "1"}, until: until})
	forged := reuseKey{head: []byte("R1"), body: []byte("<saml:Assertion>forged!!</saml:Assertion>")}
	c.entries[forged.hash(c.seed)] = c.entries[verified.hash(c.seed)]
	if _, ok := c.get(forged, time.Now()); ok {
		t.Fatal("a verification was lent to another key with the same hash")
	}
	if _, ok := c.get(reuseKey{head: []byte("R"), body: append([]byte("1"), body...)}, time.Now()); ok {
		t.Fatal("head and body ran together")
	}
	copy(body, "<saml:Assertion>changed!</saml:Assertion>")
	if _, ok := c.get(reuseKey{head: []byte("R1"), body: []byte("<saml:Assertion>verified</saml:Assertion>")}, time.Now()); !ok {
		t.Fatal("the cached key changed with the caller's bytes")
	}
}

// TestAssertionKey: the key that lets a verification be reused is equal
// only when the bytes serialise produces (the bytes that are verified) are
// equal: it sees a changed byte anywhere in the assertion, a changed
// namespace binding the assertion inherits, and a changed trust set, and
// ignores what lies outside the assertion. (Keyed by the assertion's own
// bytes and bindings, it may tell apart sources that serialise alike, such
// as an unused binding added: that costs a verification, never lends one.)
func TestAssertionKey(t *testing.T) {
	signer := helseidtest.NewSAMLSigner(t)
	other := helseidtest.NewSAMLSigner(t)
	v := newSAMLValidator(t, &switchableTrust{certs: trusting(t, signer)}, nil)
	sec := string(signer.Security())
	in := func(outer, security string) string {
		return `<o:Outer xmlns:o="urn:kjdd:test:outer"` + outer + `>` + security + `<o:After/></o:Outer>`
	}
	assertion := func(sec string) string {
		i, j := strings.Index(sec, "<saml:Assertion"), strings.Index(sec, "</saml:Assertion>")
		if i < 0 || j < 0 {
			t.Fatal("no saml:Assertion in the signer's header")
		}
		return sec[i : j+len("</saml:Assertion>")]
	}
	a := assertion(sec)
	// An assertion that leaves the prefix it uses for its own elements to
	// an ancestor.
	inherits := strings.Replace(a, ` xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"`, "", 1)
	if inherits == a {
		t.Fatal("the signer's assertion does not declare saml: itself")
	}
	wsse := `<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">`
	cases := map[string]string{
		"as signed":                        in("", sec),
		"as signed, other surroundings":    in(` o:k="v"`, "<o:Before/>"+sec) + "\n",
		"a byte changed in the assertion":  in("", strings.Replace(sec, "ID=\"", "ID=\"x", 1)),
		"text changed in the assertion":    in("", strings.Replace(sec, "<saml:Issuer>", "<saml:Issuer> ", 1)),
		"a comment added to the assertion": in("", strings.Replace(sec, "<saml:Issuer>", "<!--c--><saml:Issuer>", 1)),
		"prefix bound by an ancestor":      in(` xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"`, wsse+inherits+`</wsse:Security>`),
		"prefix bound elsewhere":           in(` xmlns:saml="urn:kjdd:test:not-saml"`, wsse+inherits+`</wsse:Security>`),
		"an unused ancestor binding added": in(` xmlns:q="urn:kjdd:test:q"`, sec),
		"default namespace of an ancestor": in(` xmlns="urn:kjdd:test:default"`, sec),
	}
	type keyed struct {
		name string
		key  reuseKey
		raw  []byte
	}
	var all []keyed
	for name, msg := range cases {
		// Found by name: whether its namespace makes it an assertion is
		// soleAssertion's to decide, not the key's.
		a := securityOf(t, []byte(msg)).SelectElement("Assertion")
		if a == nil {
			t.Fatalf("%s: no Assertion", name)
		}
		raw, err := v.serialise(a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		src := sourceOf(t, msg, a)
		all = append(all, keyed{name, assertionKey(src, v.trustDigest(trusting(t, signer))), raw})
		if assertionKey(src, v.trustDigest(trusting(t, signer))).equal(assertionKey(src, v.trustDigest(trusting(t, other)))) {
			t.Errorf("%s: the key does not depend on the trust set", name)
		}
	}
	for i := range all {
		for j := range i {
			x, y := all[i], all[j]
			if x.key.equal(y.key) && !bytes.Equal(x.raw, y.raw) {
				t.Errorf("%q and %q: equal keys for different serialised bytes", x.name, y.name)
			}
		}
	}
	byName := map[string]reuseKey{}
	for _, k := range all {
		byName[k.name] = k.key
	}
	if !byName["as signed"].equal(byName["as signed, other surroundings"]) {
		t.Error("what lies outside the assertion changed its key")
	}
	if byName["prefix bound by an ancestor"].equal(byName["prefix bound elsewhere"]) {
		t.Error("an inherited namespace binding does not change the key")
	}
}

// sourceOf is the Assertion the SOAP reader keeps of element a of msg: its
// bytes as written (msg holds one saml:Assertion) and the bindings in scope
// at its start tag, the nearest of each prefix, sorted by prefix.
func sourceOf(t *testing.T, msg string, a *etree.Element) Assertion {
	t.Helper()
	i, j := strings.Index(msg, "<saml:Assertion"), strings.Index(msg, "</saml:Assertion>")
	if i < 0 || j < 0 {
		t.Fatal("no saml:Assertion in the message")
	}
	var ns [][2]string
	seen := map[string]bool{}
	for e := a; e != nil; e = e.Parent() {
		for _, at := range e.Attr {
			prefix, ok := "", false
			switch {
			case at.Space == "xmlns":
				prefix, ok = at.Key, true
			case at.Space == "" && at.Key == "xmlns":
				ok = true
			}
			if ok && !seen[prefix] {
				seen[prefix] = true
				ns = append(ns, [2]string{prefix, at.Value})
			}
		}
	}
	slices.SortFunc(ns, func(x, y [2]string) int { return strings.Compare(x[0], y[0]) })
	return Assertion{Raw: []byte(msg[i : j+len("</saml:Assertion>")]), Namespaces: ns}
}
