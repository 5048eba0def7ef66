package xds

import "unicode/utf8"

// xmlWriter appends XML to b. Like etree it writes "<a/>" for an element
// that got no child, so a start tag stays open until the element's first
// child, text or end.
type xmlWriter struct {
	b []byte
	// open: the innermost start tag still lacks its '>'.
	open bool
}

// start opens the element tag (prefix:local as written).
func (w *xmlWriter) start(tag string) {
	if w.open {
		w.b = append(w.b, '>')
	}
	w.b = append(w.b, '<')
	w.b = append(w.b, tag...)
	w.open = true
}

// attr writes an attribute of the element just started.
func (w *xmlWriter) attr(key, value string) {
	w.b = append(w.b, ' ')
	w.b = append(w.b, key...)
	w.b = append(w.b, '=', '"')
	w.b = appendEscaped(w.b, value)
	w.b = append(w.b, '"')
}

// text writes character data into the current element. Even empty text
// counts as a child, as an empty etree CharData does.
func (w *xmlWriter) text(s string) {
	if w.open {
		w.b = append(w.b, '>')
		w.open = false
	}
	w.b = appendEscaped(w.b, s)
}

// end closes the element tag.
func (w *xmlWriter) end(tag string) {
	if w.open {
		w.b = append(w.b, '/', '>')
		w.open = false
		return
	}
	w.b = append(w.b, '<', '/')
	w.b = append(w.b, tag...)
	w.b = append(w.b, '>')
}

// setText writes text into the element tag just started and ends it, as
// etree's SetText on an empty element: no text means no child ("<tag/>").
func (w *xmlWriter) setText(tag, text string) {
	if text != "" {
		w.text(text)
	}
	w.end(tag)
}

// textElem writes <tag>text</tag>, as rimBuilder.textElem.
func (w *xmlWriter) textElem(tag, text string) {
	w.start(tag)
	w.text(text)
	w.end(tag)
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

// appendEscaped appends s escaped for an attribute value or text, exactly
// as etree's escapeString in normal mode: bytes that are not UTF-8 and
// characters outside the XML 1.0 Char production become U+FFFD.
func appendEscaped(dst []byte, s string) []byte {
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
		if r == utf8.RuneError && width == 1 || !isXMLChar(r) {
			dst = append(dst, s[last:i]...)
			dst = append(dst, "\uFFFD"...)
			last = i + width
		}
		i += width
	}
	return append(dst, s[last:]...)
}

// isXMLChar reports whether r is in XML 1.0's Char production.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
