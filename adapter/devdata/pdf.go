package devdata

import (
	"bytes"
	"fmt"
	"strings"
)

// simplePDF renders a one-page A4 PDF 1.4 with a title and lines of text in
// Helvetica. It is just enough PDF for a viewer to open a demo document:
// the standard font needs no embedding, and WinAnsiEncoding covers the
// Norwegian letters æ, ø and å.
func simplePDF(title string, lines []string) []byte {
	var content bytes.Buffer
	fmt.Fprintf(&content, "BT /F1 16 Tf 56 786 Td (%s) Tj ET\n", pdfString(title))
	content.WriteString("BT /F1 11 Tf 56 752 Td 15 TL\n")
	for _, l := range lines {
		fmt.Fprintf(&content, "(%s) Tj T*\n", pdfString(l))
	}
	content.WriteString("ET\n")

	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
	}
	var out bytes.Buffer
	// The comment line of high bytes marks the file as binary for
	// transfer tools, as PDF 1.4 §3.4.1 recommends.
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		// Each entry is exactly 20 bytes, end of line included.
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return out.Bytes()
}

// pdfString encodes s as the body of a PDF literal string in
// WinAnsiEncoding: Latin-1 letters as octal escapes, delimiters escaped,
// anything outside Latin-1 as '?'.
func pdfString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r >= 0xa0 && r <= 0xff:
			fmt.Fprintf(&b, "\\%03o", r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
