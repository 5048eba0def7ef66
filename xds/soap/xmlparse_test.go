package soap

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/beevik/etree"

	"kjdd/helseid"
	"kjdd/xds/internal/xdstest"
)

// The guard builds the envelope's tree from the tokens it checks, instead
// of leaving a second pass to etree's reader. These tests hold the built
// tree to the one etree's reader makes of the same bytes.

// treeDiff describes the first difference between two token trees, or
// returns "" when they are identical: same token kinds in the same order,
// same names, attributes (order, prefix, key, value, owning element),
// text (and its whitespace and CDATA flags), comments and processing
// instructions, and consistent parent and index links.
func treeDiff(path string, got, want *etree.Element) string {
	if got.Space != want.Space || got.Tag != want.Tag {
		return fmt.Sprintf("%s: element %s:%s, want %s:%s", path, got.Space, got.Tag, want.Space, want.Tag)
	}
	if len(got.Attr) != len(want.Attr) {
		return fmt.Sprintf("%s: %d attributes, want %d", path, len(got.Attr), len(want.Attr))
	}
	for i := range got.Attr {
		g, w := got.Attr[i], want.Attr[i]
		if g.Space != w.Space || g.Key != w.Key || g.Value != w.Value {
			return fmt.Sprintf("%s: attribute %d is %q:%q=%q, want %q:%q=%q", path, i, g.Space, g.Key, g.Value, w.Space, w.Key, w.Value)
		}
		if g.Element() != got || g.NamespaceURI() != w.NamespaceURI() {
			return fmt.Sprintf("%s: attribute %d is not bound to its element", path, i)
		}
	}
	if got.NamespaceURI() != want.NamespaceURI() {
		return fmt.Sprintf("%s: namespace %q, want %q", path, got.NamespaceURI(), want.NamespaceURI())
	}
	if len(got.Child) != len(want.Child) {
		return fmt.Sprintf("%s: %d child tokens, want %d", path, len(got.Child), len(want.Child))
	}
	for i := range got.Child {
		g, w := got.Child[i], want.Child[i]
		if g.Parent() != got || g.Index() != i {
			return fmt.Sprintf("%s: child %d has a wrong parent or index", path, i)
		}
		here := fmt.Sprintf("%s/%d", path, i)
		switch w := w.(type) {
		case *etree.Element:
			g, ok := g.(*etree.Element)
			if !ok {
				return fmt.Sprintf("%s: %T, want an element", here, got.Child[i])
			}
			if d := treeDiff(here, g, w); d != "" {
				return d
			}
		case *etree.CharData:
			g, ok := g.(*etree.CharData)
			if !ok || g.Data != w.Data || g.IsWhitespace() != w.IsWhitespace() || g.IsCData() != w.IsCData() {
				return fmt.Sprintf("%s: text %#v, want %#v", here, got.Child[i], w)
			}
		case *etree.Comment:
			if g, ok := g.(*etree.Comment); !ok || g.Data != w.Data {
				return fmt.Sprintf("%s: %#v, want comment %q", here, got.Child[i], w.Data)
			}
		case *etree.ProcInst:
			if g, ok := g.(*etree.ProcInst); !ok || g.Target != w.Target || g.Inst != w.Inst {
				return fmt.Sprintf("%s: %#v, want processing instruction %q %q", here, got.Child[i], w.Target, w.Inst)
			}
		case *etree.Directive:
			if g, ok := g.(*etree.Directive); !ok || g.Data != w.Data {
				return fmt.Sprintf("%s: %#v, want directive %q", here, got.Child[i], w.Data)
			}
		default:
			return fmt.Sprintf("%s: unexpected token %T", here, w)
		}
	}
	return ""
}

// expandDeferred gives the assertions the guard kept as bytes their
// children back, built from their sources, so that the tree compares whole:
// which also holds each source to the subtree it stands for.
func expandDeferred(t testing.TB, scan *xmlScan) {
	t.Helper()
	for _, k := range scan.assertions {
		el, src := k.el, k.src
		if len(el.Child) != 0 {
			t.Fatalf("deferred assertion has %d children", len(el.Child))
		}
		full, err := helseid.Assertion(src).Tree()
		if err != nil {
			t.Fatalf("deferred assertion: %v", err)
		}
		same := el.Space == full.Space && el.Tag == full.Tag && len(el.Attr) == len(full.Attr)
		for i := 0; same && i < len(el.Attr); i++ {
			a, b := el.Attr[i], full.Attr[i]
			same = a.Space == b.Space && a.Key == b.Key && a.Value == b.Value
		}
		if !same {
			t.Fatalf("deferred assertion %s:%s differs from its source %s:%s", el.Space, el.Tag, full.Space, full.Tag)
		}
		for _, c := range slices.Clone(full.Child) {
			el.AddChild(c)
		}
	}
}

// checkBuiltTree compares the guard's tree of data with etree's reader's,
// for data the guard accepts. It reports whether the guard accepted data.
func checkBuiltTree(t *testing.T, data []byte, lim Limits) bool {
	t.Helper()
	scan, err := guardXML(data, lim, nil, new(sync.Pool))
	if err != nil {
		return false
	}
	want := etree.NewDocument()
	want.ReadSettings.MaxDepth = lim.MaxDepth + 1
	if err := want.ReadFromBytes(data); err != nil {
		t.Fatalf("the guard accepted what etree refuses: %v", err)
	}
	if scan.doc == nil {
		return true // built by etree's reader (maxTreeAttributes)
	}
	expandDeferred(t, scan)
	if d := treeDiff("", &scan.doc.Element, &want.Element); d != "" {
		t.Fatalf("guard-built tree differs from etree's: %s", d)
	}
	got, err := scan.doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	again, err := want.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(again) {
		t.Fatal("guard-built tree serialises differently from etree's")
	}
	return true
}

func TestGuardBuildsEtreesTree(t *testing.T) {
	lim := DefaultLimits()
	inputs := map[string]string{
		"prolog, comments and trailing whitespace": "\n<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- c -->\n<a xmlns=\"urn:a\"><?pi data?><b/><!--in--></a>\n\t",
		"cdata and whitespace-only text":           "<a>  <b><![CDATA[ <x> ]]></b>\n<c><![CDATA[   ]]></c>\r\n</a>",
		"entities and character references":        "<a t=\"&lt;&amp;&#x41;&#10;\">&gt;&apos;&quot;&#9;&#xD;</a>",
		"odd names the decoder does not split":     `<a xmlns:b="urn:b" b:c="1" :e="2" f:="3"><b:c/><:x/><y:/></a>`,
		"prefixed and default namespaces":          `<p:a xmlns:p="urn:p" xmlns="urn:d" p:x="1" y="2"><b xmlns="urn:e"><p:c/></b></p:a>`,
		"xml:lang and xmlns attributes in order":   `<a xml:lang="nb" xmlns:z="urn:z" z:k="v" xmlns="urn:q"/>`,
		"attribute at the builder's bound":         "<a" + manyAttributes(maxTreeAttributes) + "/>",
		"attributes over the builder's bound":      "<r><a" + manyAttributes(maxTreeAttributes+1) + "/></r>",
		"empty text between elements":              "<a><b></b><c>x</c></a>",
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			if !checkBuiltTree(t, []byte(data), lim) {
				t.Fatalf("guard refused %q", data)
			}
		})
	}
	t.Run("gives up above maxTreeAttributes", func(t *testing.T) {
		scan, err := guardXML([]byte("<r><a"+manyAttributes(maxTreeAttributes+1)+"/></r>"), lim, nil, new(sync.Pool))
		if err != nil || scan.doc != nil {
			t.Fatalf("scan.doc = %v, err %v; want no tree and no error", scan.doc, err)
		}
	})
	forEachCorpusInput(t, func(t *testing.T, data []byte, lim Limits, sample bool) {
		if !checkBuiltTree(t, data, lim) && sample {
			t.Fatal("guard refused a corpus sample")
		}
	})
}

// forEachCorpusInput runs check as a subtest on every plain sample of the
// corpus (sample true, default limits) and on every bad input that
// prepareXML lets through, under that input's limits.
func forEachCorpusInput(t *testing.T, check func(t *testing.T, data []byte, lim Limits, sample bool)) {
	for name := range plainSamples {
		t.Run(name, func(t *testing.T) {
			data, _, err := prepareXML(xdstest.ReadSample(t, name))
			if err != nil {
				t.Fatal(err)
			}
			check(t, data, DefaultLimits(), true)
		})
	}
	for name, tc := range soapBadInputs {
		t.Run("bad input "+name, func(t *testing.T) {
			lim := DefaultLimits()
			if tc.limits != nil {
				tc.limits(&lim)
			}
			if data, _, err := prepareXML([]byte(tc.body)); err == nil {
				check(t, data, lim.orDefaults(), false)
			}
		})
	}
}

// FuzzGuardTree holds the guard's tree to etree's on arbitrary input the
// guard accepts.
func FuzzGuardTree(f *testing.F) {
	for name := range plainSamples {
		f.Add(xdstest.ReadSample(f, name))
	}
	for _, tc := range soapBadInputs {
		if len(tc.body) < 64<<10 {
			f.Add([]byte(tc.body))
		}
	}
	f.Add([]byte(`<a xmlns:b="urn:b" :c="1" d:="2"><![CDATA[x]]><!--c--><?p i?></a>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		data, _, err := prepareXML(data)
		if err != nil {
			return
		}
		lim := Limits{MaxDepth: 64, MaxElements: 20000}.orDefaults()
		if strings.Count(string(data), "<") > 50000 {
			return
		}
		checkBuiltTree(t, data, lim)
	})
}

// checkGuardsAgree holds guardXML (the scanner) to guardXMLDecoder (the
// same rules over encoding/xml): both accept or both refuse, with the same
// fault, and what they accept they build into the same tree with the same
// xop:Include references. A directive is refused by the scanner before it
// is read to its end, so an unterminated one is refused for a different
// reason, and the decoder's messages differ from the scanner's in detail.
func checkGuardsAgree(t *testing.T, data []byte, lim Limits) {
	t.Helper()
	got, gerr := guardXML(data, lim, nil, new(sync.Pool))
	want, werr := guardXMLDecoder(data, lim)
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("scanner: %v; decoder: %v\ninput %q", gerr, werr, data)
	}
	if gerr != nil {
		g, w := gerr.(*Fault), werr.(*Fault)
		const dtd = "DTDs and entity declarations are not allowed"
		if g.HTTPStatus != w.HTTPStatus || g.Reason != w.Reason && g.Reason != dtd && w.Reason != dtd {
			t.Fatalf("scanner refuses with %d %q (%s), decoder with %d %q (%s)\ninput %q",
				g.HTTPStatus, g.Reason, g.Detail, w.HTTPStatus, w.Reason, w.Detail, data)
		}
		return
	}
	if strings.Join(got.includes, "\n") != strings.Join(want.includes, "\n") {
		t.Fatalf("includes %q, decoder %q", got.includes, want.includes)
	}
	if (got.doc == nil) != (want.doc == nil) {
		t.Fatalf("scanner built a tree: %v, decoder: %v", got.doc != nil, want.doc != nil)
	}
	if got.doc != nil {
		expandDeferred(t, got)
		if d := treeDiff("", &got.doc.Element, &want.doc.Element); d != "" {
			t.Fatalf("scanner's tree differs from the decoder's: %s\ninput %q", d, data)
		}
	}
}

// scannerEdgeCases are inputs at the edges of what encoding/xml accepts.
var scannerEdgeCases = []string{
	`<a/>`, `<a></a>`, `<a/ >`, `<a / >`, `<a  />`, `< a/>`, `<a></ a>`, `<a></a >`, `<a></a`, `<a>`, `<`, `<a`, `<a b`,
	`<a b="1"c="2"/>`, `<a b = '1' />`, `<a b=1/>`, `<a b/>`, `<a b=/>`, `<a b="<"/>`, `<a b="]]>"/>`, `<a b="x`,
	`<a>]]></a>`, `<a>]]&gt;</a>`, `<a>]&#93;></a>`, `<a>x]]</a>`,
	`<a>&lt;&gt;&amp;&apos;&quot;</a>`, `<a>&lt</a>`, `<a>&lt </a>`, `<a>&ltx;</a>`, `<a>&;</a>`, `<a>&#;</a>`, `<a>&#x;</a>`,
	`<a>&#65;&#x41;&#X41;</a>`, `<a>&#0;</a>`, `<a>&#9;&#10;&#13;</a>`, `<a>&#xD800;</a>`, `<a>&#xFFFE;</a>`, `<a>&#x10FFFF;</a>`,
	`<a>&#x110000;</a>`, `<a>&#99999999999999999999;</a>`, `<a>&#0065;</a>`, `<a>&#x00041;</a>`, `<a>&é;</a>`, `<a>&`, `<a>&amp`,
	"<a>\r\n\r\r\n\n</a>", "<a b=\"\r\n\t\"/>", "<a>&#13;\n</a>", "<a>\r&amp;\n</a>", "<a><![CDATA[\r\n]]></a>",
	"<a>\x01</a>", "<a b=\"\x01\"/>", "<a><![CDATA[\x01]]></a>", "<a><!--\x01--></a>", "<a>\uFFFE</a>", "<a>\u0085\u00a0</a>",
	`<a><![CDATA[]]></a>`, `<a><![CDATA[]]]></a>`, `<a><![CDATA[x]]]]></a>`, `<a><![CDATA[x</a>`, `<a><![CDAT[x]]></a>`, `<a><![cdata[x]]></a>`,
	`<a><!----></a>`, `<a><!-- - --></a>`, `<a><!-- -- --></a>`, `<a><!-- ---></a>`, `<a><!---></a>`, `<a><!- x --></a>`, `<a><!--x`,
	`<a><?p?></a>`, `<a><?p x?></a>`, `<a><?p??></a>`, `<a><?p:q:r x?></a>`, `<a><? p?></a>`, `<a><?p`, `<a><?p x`, `<a><?1p?></a>`,
	`<?xml version="1.0"?><a/>`, `<?xml version="1.1"?><a/>`, `<?xml version='1.0' encoding='UTF-8'?><a/>`,
	`<?xml version="1.0" encoding="latin1"?><a/>`, `<?xml version="1.0" encoding="utf8"?><a/>`, `<?xml version="1.0" encoding=" ASCII "?><a/>`,
	`<?xml encoding=latin1 encoding="x"?><a/>`, `<?xml version=1.1 version="1.0"?><a/>`, `<?xml version="1.0`, " \n<?xml version=\"1.0\"?><a/>",
	`<a/><?xml version="1.0"?>`, `<?xml?><a/>`, `<?xmlx?><a/>`, `<?XML version="9"?><a/>`,
	`<!DOCTYPE a><a/>`, `<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`, `<a><!DOCTYPE</a>`, `<!`, `<!x`,
	`<a:b xmlns:a="u"/>`, `<a:b:c xmlns:a="u"/>`, `<:a/>`, `<a:/>`, `<:/>`, `<a b:c:d="1"/>`, `<a :b="1" b:="2"/>`,
	`<1a/>`, `<-a/>`, `<.a/>`, `<_a/>`, `<a1.-_/>`, `<é/>`, `<aé/>`, `<a·/>`, `<·a/>`, `<a b·="1"/>`, "<a\u00a0/>", `<ĳ:b xmlns:ĳ="u"/>`,
	`<a></b>`, `<a><b></a></b>`, `<a/><b/>`, `x<a/>`, `<a/>x`, `<a/> `, ` <a/>`, `<a/>]]>`, `&amp;<a/>`,
	`<a xmlns:p=""/>`, `<p:a/>`, `<a p:b="1"/>`, `<a xmlns="" b="1"/>`, `<a b="1" b="2"/>`, `<a xmlns:b="u" xmlns:c="u" b:x="1" c:x="2"/>`,
	`<a xml:lang="nb"/>`, `<xml:a/>`, `<xmlns:a/>`,
	`<a xmlns:xop="http://www.w3.org/2004/08/xop/include"><xop:Include href="cid:x"/><xop:Include/></a>`,
}

// manyDeclarations are documents with more namespace declarations in scope
// than linearScopeMax, declared, redeclared and going out of scope.
func manyDeclarations() []string {
	var decls strings.Builder
	for i := range linearScopeMax + 8 {
		fmt.Fprintf(&decls, ` xmlns:p%d="urn:u%d"`, i, i)
	}
	return []string{
		`<a` + decls.String() + `><p39:b xmlns:p0="urn:v"><p0:c/></p39:b><p0:d/><p20:e xmlns:p20="urn:w"/></a>`,
		`<r><a` + decls.String() + `/><p1:x/></r>`,
		`<r xmlns:z="urn:z"><a` + decls.String() + `><z:y/></a><z:y/><p3:y/></r>`,
		// The guard acts on what a prefix resolves to: xop:Include.
		`<a xmlns:x="urn:not-xop"` + decls.String() + `><b xmlns:x="` + NSXOP + `"><x:Include href="cid:1"/></b><x:Include href="cid:2"/></a>`,
	}
}

func TestScannerMatchesDecoder(t *testing.T) {
	lim := DefaultLimits()
	for _, in := range append(manyDeclarations(), scannerEdgeCases...) {
		t.Run(in, func(t *testing.T) {
			data, _, err := prepareXML([]byte(in))
			if err != nil {
				return
			}
			checkGuardsAgree(t, data, lim)
		})
	}
	forEachCorpusInput(t, func(t *testing.T, data []byte, lim Limits, _ bool) {
		checkGuardsAgree(t, data, lim)
	})
}

// FuzzScannerMatchesDecoder holds the scanner to encoding/xml on arbitrary
// input.
func FuzzScannerMatchesDecoder(f *testing.F) {
	for _, in := range append(manyDeclarations(), scannerEdgeCases...) {
		f.Add([]byte(in))
	}
	for name := range plainSamples {
		f.Add(xdstest.ReadSample(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		data, _, err := prepareXML(data)
		if err != nil {
			return
		}
		checkGuardsAgree(t, data, Limits{MaxDepth: 64, MaxElements: 20000}.orDefaults())
	})
}

// TestMessageOwnsItsBytes: a parsed message keeps nothing of the bytes it
// was parsed from, so the reader may reuse its body buffer: overwriting
// them after parsing changes nothing in the message, neither its tree nor
// its assertion's source.
func TestMessageOwnsItsBytes(t *testing.T) {
	for name := range plainSamples {
		t.Run(name, func(t *testing.T) {
			data, _, err := prepareXML(xdstest.ReadSample(t, name))
			if err != nil {
				t.Fatal(err)
			}
			data = append([]byte(nil), data...)
			m, err := NewReader(ReaderConfig{}).parseEnvelope(data, nil)
			if err != nil {
				t.Skip("refused sample:", err)
			}
			assertion := string(m.SecurityHeader().Assertion.Raw)
			before, err := m.Doc.WriteToString()
			if err != nil {
				t.Fatal(err)
			}
			for i := range data {
				data[i] = 'x'
			}
			after, _ := m.Doc.WriteToString()
			if after != before || string(m.SecurityHeader().Assertion.Raw) != assertion {
				t.Fatal("the message changed with the bytes it was parsed from")
			}
		})
	}
}

// TestNSScope holds the namespace scope, in both its forms (searched, then
// indexed past linearScopeMax), to a plain list searched from the end,
// over random declarations and closes.
func TestNSScope(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		s := newNSScope()
		var naive [][2]string // every declaration in scope
		var counts []int
		for step := range 400 {
			if len(counts) > 0 && rng.IntN(3) == 0 {
				n := counts[len(counts)-1]
				counts = counts[:len(counts)-1]
				naive = naive[:len(naive)-n]
				s.pop()
			} else {
				var prefixes, uris []string
				used := map[string]bool{}
				for range rng.IntN(4) {
					p := fmt.Sprintf("p%d", rng.IntN(6))
					if used[p] {
						continue
					}
					used[p] = true
					u := fmt.Sprintf("urn:%d:%d", round, step)
					prefixes, uris = append(prefixes, p), append(uris, u)
					naive = append(naive, [2]string{p, u})
				}
				s.push(prefixes, uris)
				counts = append(counts, len(prefixes))
			}
			for i := range 7 {
				p := fmt.Sprintf("p%d", i)
				want, wantOK := "", false
				for j := len(naive) - 1; j >= 0; j-- {
					if naive[j][0] == p {
						want, wantOK = naive[j][1], true
						break
					}
				}
				if got, ok := s.resolve(p); got != want || ok != wantOK {
					t.Fatalf("round %d step %d (%d in scope): resolve(%s) = %q %v, want %q %v", round, step, len(naive), p, got, ok, want, wantOK)
				}
			}
			// The snapshot: each prefix's innermost binding, by prefix.
			inner := map[string]string{}
			for _, b := range naive {
				inner[b[0]] = b[1]
			}
			var want [][2]string
			for p, u := range inner {
				want = append(want, [2]string{p, u})
			}
			slices.SortFunc(want, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
			if got := s.snapshot(); !slices.Equal(got, want) {
				t.Fatalf("round %d step %d (%d in scope): snapshot %v, want %v", round, step, len(naive), got, want)
			}
		}
	}
}

// TestTextString: a text run's string is always its bytes; a line break
// with indentation is the shared string, anything else a copy of its own.
func TestTextString(t *testing.T) {
	tests := []struct {
		text   string
		shared bool
	}{
		{"", false},
		{"\n", true},
		{"\n    ", true},
		{"\n\t\t", true},
		{"\n" + strings.Repeat(" ", 128), true},
		{"\n" + strings.Repeat(" ", 129), false},
		{"\n \t", false},
		{"\n\t ", false},
		{"\r\n  ", false},
		{"  \n", false},
		{"\nx", false},
		{"text", false},
	}
	for _, tc := range tests {
		b := []byte(tc.text)
		got := textString(b)
		if got != tc.text {
			t.Fatalf("textString(%q) = %q", tc.text, got)
		}
		shared := len(got) > 0 && (unsafe.StringData(got) == unsafe.StringData(indentSpaces) || unsafe.StringData(got) == unsafe.StringData(indentTabs))
		if shared != tc.shared {
			t.Errorf("textString(%q): shared %v, want %v", tc.text, shared, tc.shared)
		}
		if len(b) > 0 {
			b[0] = 'x' // the result must not alias the input
			if got != tc.text {
				t.Fatalf("textString(%q) changed with its input", tc.text)
			}
		}
	}
}
