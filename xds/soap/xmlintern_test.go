package soap

import (
	"strings"
	"testing"
)

// TestInternTableHoldsEveryWord: every word of the vocabulary has a slot,
// so that none of them costs an allocation per occurrence, and a word not
// in it comes back as itself.
func TestInternTableHoldsEveryWord(t *testing.T) {
	placed := 0
	for _, s := range internTable {
		if s != "" {
			placed++
		}
	}
	if placed != internWords {
		t.Errorf("%d of %d words placed", placed, internWords)
	}
	for _, w := range strings.Fields(internVocabulary) {
		if got := intern([]byte(w)); got != w {
			t.Errorf("intern(%q) = %q", w, got)
		}
	}
	for _, w := range []string{"", "Envelopf", "urn:kjdd:not-a-word", strings.Repeat("x", 200)} {
		if got := intern([]byte(w)); got != w {
			t.Errorf("intern(%q) = %q", w, got)
		}
	}
}
