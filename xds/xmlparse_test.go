package xds

import (
	"fmt"
	"strings"
	"testing"

	"github.com/beevik/etree"
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

// checkBuiltTree compares the guard's tree of data with etree's reader's,
// for data the guard accepts. It reports whether the guard accepted data.
func checkBuiltTree(t *testing.T, data []byte, lim Limits) bool {
	t.Helper()
	scan, err := guardXML(data, lim)
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
		scan, err := guardXML([]byte("<r><a"+manyAttributes(maxTreeAttributes+1)+"/></r>"), lim)
		if err != nil || scan.doc != nil {
			t.Fatalf("scan.doc = %v, err %v; want no tree and no error", scan.doc, err)
		}
	})
	for name := range plainSamples {
		t.Run(name, func(t *testing.T) {
			data, _, err := prepareXML(readSample(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if !checkBuiltTree(t, data, lim) {
				t.Fatal("guard refused a corpus sample")
			}
		})
	}
	for name, tc := range soapBadInputs {
		t.Run("bad input "+name, func(t *testing.T) {
			lim := DefaultLimits()
			if tc.limits != nil {
				tc.limits(&lim)
			}
			if data, _, err := prepareXML([]byte(tc.body)); err == nil {
				checkBuiltTree(t, data, lim.orDefaults())
			}
		})
	}
}

// FuzzGuardTree holds the guard's tree to etree's on arbitrary input the
// guard accepts.
func FuzzGuardTree(f *testing.F) {
	for name := range plainSamples {
		f.Add(readSample(f, name))
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
