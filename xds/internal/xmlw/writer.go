// Package xmlw appends XML to a byte slice exactly as etree writes the
// corresponding tree (default WriteSettings). It is what the SOAP envelope
// writer of package soap and the registry-object writer of package rim
// share, below both; it imports nothing of kjdd.
package xmlw

import "unicode/utf8"

// Writer appends XML to B. Like etree it writes "<a/>" for an element
// that got no child, so a start tag stays open until the element's first
// child, text or end.
type Writer struct {
	B []byte
	// Open: the innermost start tag still lacks its '>'.
	Open bool
}

// Start opens the element tag (prefix:local as written).
func (w *Writer) Start(tag string) {
	if w.Open {
		w.B = append(w.B, '>')
	}
	w.B = append(w.B, '<')
	w.B = append(w.B, tag...)
	w.Open = true
}

// Attr writes an attribute of the element just started.
func (w *Writer) Attr(key, value string) {
	w.B = append(w.B, ' ')
	w.B = append(w.B, key...)
	w.B = append(w.B, '=', '"')
	w.B = AppendEscaped(w.B, value)
	w.B = append(w.B, '"')
}

// Text writes character data into the current element. Even empty text
// counts as a child, as an empty etree CharData does.
func (w *Writer) Text(s string) {
	if w.Open {
		w.B = append(w.B, '>')
		w.Open = false
	}
	w.B = AppendEscaped(w.B, s)
}

// End closes the element tag.
func (w *Writer) End(tag string) {
	if w.Open {
		w.B = append(w.B, '/', '>')
		w.Open = false
		return
	}
	w.B = append(w.B, '<', '/')
	w.B = append(w.B, tag...)
	w.B = append(w.B, '>')
}

// SetText writes text into the element tag just started and ends it, as
// etree's SetText on an empty element: no text means no child ("<tag/>").
func (w *Writer) SetText(tag, text string) {
	if text != "" {
		w.Text(text)
	}
	w.End(tag)
}

// TextElem writes <tag>text</tag>, as the tree oracle of package rim writes it.
func (w *Writer) TextElem(tag, text string) {
	w.Start(tag)
	w.Text(text)
	w.End(tag)
}

// xmlEscapes maps each ASCII byte to its escape in etree's normal mode:
// the five predefined entities, U+FFFD for control characters XML 1.0
// does not allow, "" for bytes written as they are. xmlPlain marks the
// bytes written as they are; bytes from 0x80 are never plain (they start a
// multi-byte character that needs checking).
var (
	xmlEscapes [utf8.RuneSelf]string
	xmlPlain   [256]bool
)

func init() {
	for c := range byte(0x20) {
		if c != '\t' && c != '\n' && c != '\r' {
			xmlEscapes[c] = "\uFFFD"
		}
	}
	xmlEscapes['&'], xmlEscapes['<'], xmlEscapes['>'] = "&amp;", "&lt;", "&gt;"
	xmlEscapes['\''], xmlEscapes['"'] = "&apos;", "&quot;"
	for c := range utf8.RuneSelf {
		xmlPlain[c] = xmlEscapes[c] == ""
	}
}

// AppendEscaped appends s escaped for an attribute value or text, exactly
// as etree's escapeString in normal mode: bytes that are not UTF-8 and
// characters outside the XML 1.0 Char production become U+FFFD.
func AppendEscaped(dst []byte, s string) []byte {
	i := 0
	for i < len(s) && xmlPlain[s[i]] {
		i++
	}
	if i == len(s) {
		// Nearly every value: ids, codes, dates, plain text.
		return append(dst, s...)
	}
	last := 0
	for i < len(s) {
		c := s[i]
		if xmlPlain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[last:i]...)
			dst = append(dst, xmlEscapes[c]...)
			i++
			last = i
			continue
		}
		r, width := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && width == 1 || !IsChar(r) {
			dst = append(dst, s[last:i]...)
			dst = append(dst, "\uFFFD"...)
			last = i + width
		}
		i += width
	}
	return append(dst, s[last:]...)
}

// IsChar reports whether r is in XML 1.0's Char production.
func IsChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
