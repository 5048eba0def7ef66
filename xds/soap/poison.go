package soap

import (
	"github.com/beevik/etree"

	"kjdd/internal/checked"
)

// Poisoning. A message's tree lives in slabs that Close hands back to the
// reader for the next request, so an element kept past Close would show
// another request's content: a privacy breach, not a crash. In checked
// builds (internal/checked: tests, the race detector, and the kjdd_poison
// tag that test/internal/harness builds the binary with), released slabs
// are never reused but poisoned: every element, text and attribute they hold reads
// as releasedName, each element's only child is a nil element that the
// tree library's own walks dereference, and the parsers of this package
// panic when handed such an element. TestKeptElementIsPoisoned holds that.

// releasedName is what a poisoned token reads as.
const releasedName = "kjdd-element-used-after-Message.Close"

// poisonSlabs poisons every token of s.
func poisonSlabs(s *treeSlabs) {
	for i := range s.elements[:cap(s.elements)] {
		e := &s.elements[:cap(s.elements)][i]
		e.Space, e.Tag = releasedName, releasedName
		for j := range e.Attr {
			e.Attr[j].Space, e.Attr[j].Key, e.Attr[j].Value = releasedName, releasedName, releasedName
		}
		e.Child = []etree.Token{(*etree.Element)(nil)}
	}
	for i := range s.texts[:cap(s.texts)] {
		s.texts[:cap(s.texts)][i].Data = releasedName
	}
	for i := range s.attrs[:cap(s.attrs)] {
		a := &s.attrs[:cap(s.attrs)][i]
		a.Space, a.Key, a.Value = releasedName, releasedName, releasedName
	}
	for i := range s.children[:cap(s.children)] {
		s.children[:cap(s.children)][i] = (*etree.Element)(nil)
	}
}

// MustBeLive panics when el is a poisoned element: a use after
// Message.Close. In other than checked builds it does nothing. Every parser
// of a message's tree (packages rim and query) calls it on the element it
// is handed.
func MustBeLive(el *etree.Element) {
	if el != nil && el.Tag == releasedName && checked.Build() {
		panic("xds: an element of a message was used after Message.Close")
	}
}
