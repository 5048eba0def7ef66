package soap

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"kjdd/xds/internal/xmlw"
)

// xmlScanner is the guard's tokenizer: a strict, non-validating reader of
// XML 1.0 over a message held in memory. encoding/xml reads byte by byte
// through an io.ByteReader and copies every token; on kjdd's hot path that
// was most of the cost of a request. The scanner slices the input instead.
//
// It accepts exactly what encoding/xml's Decoder (Strict, RawToken) accepts
// and yields the same tokens, so that the tree the guard builds is the tree
// etree (which reads with encoding/xml) builds, including the trees goxmldsig
// verifies signatures over. FuzzGuardTree and FuzzScannerMatchesDecoder hold
// it to that. The rules it follows, all of encoding/xml's:
//
//   - names are runs of ASCII name bytes and any byte >= 0x80, then checked
//     as XML names; a name with two colons is refused, and a single colon
//     splits prefix and local part only when both are non-empty;
//   - text and attribute values decode the five predefined entities and
//     character references (a surrogate becomes U+FFFD), turn CR LF and a
//     lone CR into LF, and must then consist of XML characters; "]]>" is
//     refused in text, "<" in attribute values;
//   - attribute values are quoted, and nothing is required between one
//     attribute's closing quote and the next attribute;
//   - comments end at the first "--", which must be followed by ">";
//   - an "xml" processing instruction may only declare version 1.0, and an
//     encoding that is UTF-8 or US-ASCII (checked by the caller).
//
// Directives (<!DOCTYPE ...>) are reported, not parsed: the guard refuses
// them whatever they contain.
type xmlScanner struct {
	in  []byte
	pos int
	// attrs is reused from one start tag to the next.
	attrs []scanAttr
	// scratch holds decoded text that differs from its input bytes.
	scratch []byte
}

type scanKind uint8

const (
	scanEOF scanKind = iota
	scanStart
	scanEnd
	scanText
	scanComment
	scanProcInst
	scanDirective
)

// scanName is a name as written: prefix and local part, or only a local
// part when the name has no colon or starts or ends with one.
type scanName struct{ prefix, local string }

type scanAttr struct {
	name  scanName
	value string
}

// scanToken is one token. Its fields are valid until the next call to
// next.
type scanToken struct {
	kind scanKind
	// name is the element's (start and end) or the processing
	// instruction's target (in local).
	name scanName
	// attrs of a start element, in document order.
	attrs []scanAttr
	// empty marks a start element written <a/>: its end follows without a
	// token of its own.
	empty bool
	// data is text (decoded), a comment or a processing instruction's
	// content; it may alias the input or the scanner's scratch space.
	data []byte
}

// scanError is a well-formedness error at a byte offset.
type scanError struct {
	offset int
	msg    string
}

func (e *scanError) Error() string {
	return "XML syntax error at byte " + strconv.Itoa(e.offset) + ": " + e.msg
}

// declaredEncoding is returned by next for an XML declaration whose
// encoding is neither UTF-8 nor US-ASCII.
type declaredEncoding struct{ label string }

func (e *declaredEncoding) Error() string { return "unsupported encoding " + strconv.Quote(e.label) }

func newXMLScanner(in []byte) *xmlScanner {
	return &xmlScanner{in: in, attrs: make([]scanAttr, 0, 8)}
}

func (s *xmlScanner) fail(msg string) error { return &scanError{offset: s.pos, msg: msg} }

// errUnexpectedEOF is the message for input that ends inside a token.
const errUnexpectedEOF = "unexpected EOF"

// next reads the next token.
func (s *xmlScanner) next(t *scanToken) error {
	*t = scanToken{}
	if s.pos >= len(s.in) {
		return nil // scanEOF
	}
	if s.in[s.pos] != '<' {
		end := bytes.IndexByte(s.in[s.pos:], '<')
		if end < 0 {
			end = len(s.in)
		} else {
			end += s.pos
		}
		data, err := s.decode(s.in[s.pos:end], decodeText)
		if err != nil {
			return err
		}
		s.pos = end
		t.kind, t.data = scanText, data
		return nil
	}
	s.pos++
	if s.pos >= len(s.in) {
		return s.fail(errUnexpectedEOF)
	}
	switch s.in[s.pos] {
	case '/':
		s.pos++
		n, ok, err := s.nsname()
		if err != nil {
			return err
		}
		if !ok {
			return s.fail("expected element name after </")
		}
		s.space()
		if s.pos >= len(s.in) {
			return s.fail(errUnexpectedEOF)
		}
		if s.in[s.pos] != '>' {
			return s.fail("invalid characters between </" + n.local + " and >")
		}
		s.pos++
		t.kind, t.name = scanEnd, n
		return nil
	case '?':
		s.pos++
		return s.procInst(t)
	case '!':
		s.pos++
		return s.bang(t)
	}
	return s.startTag(t)
}

// startTag reads <name attr="value" ...> or <name .../>, after the "<".
func (s *xmlScanner) startTag(t *scanToken) error {
	n, ok, err := s.nsname()
	if err != nil {
		return err
	}
	if !ok {
		return s.fail("expected element name after <")
	}
	attrs := s.attrs[:0]
	for {
		s.space()
		if s.pos >= len(s.in) {
			return s.fail(errUnexpectedEOF)
		}
		switch s.in[s.pos] {
		case '/':
			s.pos++
			if s.pos >= len(s.in) {
				return s.fail(errUnexpectedEOF)
			}
			if s.in[s.pos] != '>' {
				return s.fail("expected /> in element")
			}
			s.pos++
			t.empty = true
		case '>':
			s.pos++
		default:
			a, err := s.attribute()
			if err != nil {
				return err
			}
			attrs = append(attrs, a)
			continue
		}
		break
	}
	s.attrs = attrs
	t.kind, t.name, t.attrs = scanStart, n, attrs
	return nil
}

// attribute reads name="value".
func (s *xmlScanner) attribute() (scanAttr, error) {
	n, ok, err := s.nsname()
	if err != nil {
		return scanAttr{}, err
	}
	if !ok {
		return scanAttr{}, s.fail("expected attribute name in element")
	}
	s.space()
	if s.pos >= len(s.in) {
		return scanAttr{}, s.fail(errUnexpectedEOF)
	}
	if s.in[s.pos] != '=' {
		return scanAttr{}, s.fail("attribute name without = in element")
	}
	s.pos++
	s.space()
	if s.pos >= len(s.in) {
		return scanAttr{}, s.fail(errUnexpectedEOF)
	}
	q := s.in[s.pos]
	if q != '"' && q != '\'' {
		return scanAttr{}, s.fail("unquoted or missing attribute value in element")
	}
	s.pos++
	end := bytes.IndexByte(s.in[s.pos:], q)
	if end < 0 {
		return scanAttr{}, &scanError{offset: len(s.in), msg: errUnexpectedEOF}
	}
	v, err := s.decode(s.in[s.pos:s.pos+end], decodeAttr)
	if err != nil {
		return scanAttr{}, err
	}
	s.pos += end + 1
	return scanAttr{name: n, value: internValue(v)}, nil
}

// procInst reads a processing instruction after "<?".
func (s *xmlScanner) procInst(t *scanToken) error {
	target, ok, err := s.name()
	if err != nil {
		return err
	}
	if !ok {
		return s.fail("expected target name after <?")
	}
	s.space()
	end := bytes.Index(s.in[s.pos:], []byte("?>"))
	if end < 0 {
		return &scanError{offset: len(s.in), msg: errUnexpectedEOF}
	}
	data := s.in[s.pos : s.pos+end]
	if target == "xml" {
		content := string(data)
		if v := pseudoAttr("version", content); v != "" && v != "1.0" {
			return s.fail("unsupported XML version " + strconv.Quote(v))
		}
		if enc := pseudoAttr("encoding", content); enc != "" && !strings.EqualFold(enc, "utf-8") && !isASCIILabel(enc) {
			return &declaredEncoding{label: enc}
		}
	}
	s.pos += end + 2
	t.kind, t.name, t.data = scanProcInst, scanName{local: target}, data
	return nil
}

// pseudoAttr returns the value of param="..." (or '...') in the content of
// an XML declaration, found as encoding/xml finds it: the first occurrence
// of param= that is followed by a quote, up to the next such quote, or ""
// when there is none or it is unterminated.
func pseudoAttr(param, content string) string {
	key := param + "="
	for i := 0; i < len(content); {
		k := strings.Index(content[i:], key)
		if k < 0 {
			return ""
		}
		j := i + k + len(key)
		if j >= len(content) {
			return ""
		}
		i = j + 1
		if q := content[j]; q == '"' || q == '\'' {
			end := strings.IndexByte(content[i:], q)
			if end < 0 {
				return ""
			}
			return content[i : i+end]
		}
	}
	return ""
}

// bang reads a comment, a CDATA section or a directive after "<!".
func (s *xmlScanner) bang(t *scanToken) error {
	if s.pos >= len(s.in) {
		return s.fail(errUnexpectedEOF)
	}
	switch s.in[s.pos] {
	case '-':
		s.pos++
		if s.pos >= len(s.in) {
			return s.fail(errUnexpectedEOF)
		}
		if s.in[s.pos] != '-' {
			return s.fail("invalid sequence <!- not part of <!--")
		}
		s.pos++
		end := bytes.Index(s.in[s.pos:], []byte("--"))
		if end < 0 {
			return &scanError{offset: len(s.in), msg: errUnexpectedEOF}
		}
		after := s.pos + end + 2
		if after >= len(s.in) {
			return &scanError{offset: len(s.in), msg: errUnexpectedEOF}
		}
		if s.in[after] != '>' {
			s.pos = after
			return s.fail(`invalid sequence "--" not allowed in comments`)
		}
		t.kind, t.data = scanComment, s.in[s.pos:s.pos+end]
		s.pos = after + 1
		return nil
	case '[':
		s.pos++
		const open = "CDATA["
		for i := range len(open) {
			if s.pos >= len(s.in) {
				return s.fail(errUnexpectedEOF)
			}
			if s.in[s.pos] != open[i] {
				return s.fail("invalid <![ sequence")
			}
			s.pos++
		}
		end := bytes.Index(s.in[s.pos:], []byte("]]>"))
		if end < 0 {
			return &scanError{offset: len(s.in), msg: "unexpected EOF in CDATA section"}
		}
		data, err := s.decode(s.in[s.pos:s.pos+end], decodeCDATA)
		if err != nil {
			return err
		}
		s.pos += end + 3
		t.kind, t.data = scanText, data
		return nil
	}
	t.kind = scanDirective
	return nil
}

// space skips XML white space.
func (s *xmlScanner) space() {
	for s.pos < len(s.in) {
		switch s.in[s.pos] {
		case ' ', '\r', '\n', '\t':
			s.pos++
		default:
			return
		}
	}
}

// nameBytes reads an XML name: a run of ASCII name characters and bytes
// of multi-byte characters, whose validity isXMLName decides. ok is false,
// with no error, when there is none; the caller says what was expected.
func (s *xmlScanner) nameBytes() ([]byte, bool, error) {
	// Locals, not fields, in the loop: the compiler keeps them in
	// registers.
	in, start, end := s.in, s.pos, s.pos
	var high byte
	for end < len(in) && nameByte[in[end]] {
		high |= in[end]
		end++
	}
	s.pos = end
	ascii := high < utf8.RuneSelf
	run := in[start:end]
	if s.pos >= len(s.in) {
		// A name is always followed by something; encoding/xml reports
		// the end of input here.
		return nil, false, s.fail(errUnexpectedEOF)
	}
	if len(run) == 0 {
		return nil, false, nil
	}
	if ascii && !nameStartByte[run[0]] || !ascii && !isXMLName(run) {
		return nil, false, s.fail("invalid XML name")
	}
	return run, true, nil
}

// name reads an XML name as a whole (a processing instruction's target).
func (s *xmlScanner) name() (string, bool, error) {
	run, ok, err := s.nameBytes()
	if !ok {
		return "", false, err
	}
	return intern(run), true, nil
}

// nsname reads a name and splits it at its colon.
func (s *xmlScanner) nsname() (scanName, bool, error) {
	run, ok, err := s.nameBytes()
	if !ok {
		return scanName{}, false, err
	}
	i := bytes.IndexByte(run, ':')
	switch {
	case i < 0:
		return scanName{local: intern(run)}, true, nil
	case bytes.IndexByte(run[i+1:], ':') >= 0:
		return scanName{}, false, nil
	case i == 0 || i == len(run)-1:
		return scanName{local: intern(run)}, true, nil
	}
	return scanName{prefix: intern(run[:i]), local: intern(run[i+1:])}, true, nil
}

// nameByte marks the bytes a name is read over: ASCII letters, digits,
// "_", ":", ".", "-", and every byte of a multi-byte character. nameStartByte
// marks the ASCII bytes a name may start with.
var nameByte, nameStartByte = func() (in, start [256]bool) {
	for c := range 256 {
		letter := 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
		start[c] = letter || c == '_' || c == ':'
		in[c] = start[c] || '0' <= c && c <= '9' || c == '.' || c == '-' || c >= utf8.RuneSelf
	}
	return in, start
}()

// isXMLName reports whether a name with characters beyond ASCII is an XML
// name, by encoding/xml's rules, so that both agree on the Unicode tables:
// a first character from its "first" table, the others from "first" or
// "second". Such names are rare in SOAP, but a request could hold millions,
// so the tables are read once into bitsets (nameRunes) rather than asked
// per name. encoding/xml's tables hold no character beyond the BMP.
func isXMLName(b []byte) bool {
	nameRunesOnce.Do(loadNameRunes)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		var ok bool
		switch {
		case r < utf8.RuneSelf:
			ok = i == 0 && nameStartByte[r] || i > 0 && nameByte[r]
		case r <= 0xFFFF:
			set := &nameRunes.later
			if i == 0 {
				set = &nameRunes.first
			}
			ok = set[r/64]&(1<<(r%64)) != 0
		}
		if !ok {
			return false
		}
		i += size
	}
	return true
}

// nameRunes are, for the BMP beyond ASCII, the characters encoding/xml
// accepts first in a name and later in one.
var (
	nameRunes struct {
		first, later [0x10000 / 64]uint64
	}
	nameRunesOnce sync.Once
)

// loadNameRunes asks encoding/xml about every character of the BMP beyond
// ASCII, as the first character of a name and as a later one. It runs once,
// the first time a name with such a character is read.
func loadNameRunes() {
	accepts := func(doc string) bool {
		_, err := xml.NewDecoder(strings.NewReader(doc)).RawToken()
		return err == nil
	}
	for r := rune(utf8.RuneSelf); r <= 0xFFFF; r++ {
		if !utf8.ValidRune(r) {
			continue // surrogates: never in valid UTF-8
		}
		c := string(r)
		if accepts("<" + c + "/>") {
			nameRunes.first[r/64] |= 1 << (r % 64)
		}
		if accepts("<a" + c + "/>") {
			nameRunes.later[r/64] |= 1 << (r % 64)
		}
	}
}

// byteClass marks the bytes decode must look at rather than copy: control
// characters (tab, LF and CR among them), the "&" of a reference, the "]"
// that may begin "]]>", "<", and the bytes of multi-byte characters.
var byteClass = func() (c [256]bool) {
	for b := range 0x20 {
		c[b] = true
	}
	for b := 0x80; b < 0x100; b++ {
		c[b] = true
	}
	c['&'], c[']'], c['<'] = true, true, true
	return c
}()

// plainPrefix returns how many bytes at the start of b need no attention
// (see byteClass). It tests eight bytes at a time: whether any is below
// 0x20 or above 0x7F, or is "&", "]" or "<".
func plainPrefix(b []byte) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		amp, rsb, lt := w^(ones*'&'), w^(ones*']'), w^(ones*'<')
		// (x - ones) & ^x & highs is non-zero when a byte of x is zero;
		// (w - 0x20 * ones) & ^w & highs when a byte of w is below 0x20.
		special := w&highs | (w-ones*0x20)&^w&highs |
			(amp-ones)&^amp&highs | (rsb-ones)&^rsb&highs | (lt-ones)&^lt&highs
		if special != 0 {
			break
		}
	}
	for i < len(b) && !byteClass[b[i]] {
		i++
	}
	return i
}

// Modes of decode.
const (
	decodeText  = iota // character data: references, no "]]>"
	decodeAttr         // an attribute value: references, no "<"
	decodeCDATA        // a CDATA section's content: taken as written
)

// decode returns text, an attribute value or a CDATA section's content
// with references replaced (not in CDATA) and line ends normalised, after
// checking every character. The result aliases raw when nothing had to be
// replaced, and the scanner's scratch space otherwise; the caller turns it
// into a string or copies it before the next token.
func (s *xmlScanner) decode(raw []byte, mode int) ([]byte, error) {
	i := plainPrefix(raw)
	if i == len(raw) {
		return raw, nil
	}
	// out stays nil until a byte of the result differs from the input.
	var out []byte
	for i < len(raw) {
		c := raw[i]
		if !byteClass[c] {
			n := i + 1 + plainPrefix(raw[i+1:])
			if out != nil {
				out = append(out, raw[i:n]...)
			}
			i = n
			continue
		}
		switch {
		case c == '&' && mode != decodeCDATA:
			n, r, ok := reference(raw[i:])
			if !ok {
				return nil, &scanError{offset: s.pos + i, msg: "invalid character entity"}
			}
			if !xmlw.IsChar(r) {
				return nil, &scanError{offset: s.pos + i, msg: "illegal character code " + runeCode(r)}
			}
			if out == nil {
				out = append(s.scratch[:0], raw[:i]...)
			}
			out = utf8.AppendRune(out, r)
			i += n
			continue
		case c == '<' && mode == decodeAttr:
			return nil, &scanError{offset: s.pos + i, msg: "unescaped < inside quoted string"}
		case c == ']' && mode == decodeText && bytes.HasPrefix(raw[i:], []byte("]]>")):
			return nil, &scanError{offset: s.pos + i, msg: "unescaped ]]> not in CDATA section"}
		case c == '\r':
			if out == nil {
				out = append(s.scratch[:0], raw[:i]...)
			}
			out = append(out, '\n')
			i++
			if i < len(raw) && raw[i] == '\n' {
				i++
			}
			continue
		case c < 0x20 && c != '\t' && c != '\n':
			return nil, &scanError{offset: s.pos + i, msg: "illegal character code " + runeCode(rune(c))}
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, &scanError{offset: s.pos + i, msg: "invalid UTF-8"}
			}
			if !xmlw.IsChar(r) {
				return nil, &scanError{offset: s.pos + i, msg: "illegal character code " + runeCode(r)}
			}
			if out != nil {
				out = append(out, raw[i:i+size]...)
			}
			i += size
			continue
		}
		// Tab, LF, a "]" that does not start "]]>", and in CDATA "&"
		// and "<": copied as they are.
		if out != nil {
			out = append(out, c)
		}
		i++
	}
	if out == nil {
		return raw, nil
	}
	s.scratch = out
	return out, nil
}

func runeCode(r rune) string { return "U+" + strconv.FormatUint(uint64(r), 16) }

// reference decodes the entity or character reference at the start of b
// ("&..."), which ends where the text or attribute value does. n is the
// bytes it spans.
func reference(b []byte) (n int, r rune, ok bool) {
	i := 1
	if i < len(b) && b[i] == '#' {
		i++
		base := 10
		if i < len(b) && b[i] == 'x' {
			base = 16
			i++
		}
		start := i
		for i < len(b) && (b[i] >= '0' && b[i] <= '9' || base == 16 && (b[i] >= 'a' && b[i] <= 'f' || b[i] >= 'A' && b[i] <= 'F')) {
			i++
		}
		if i >= len(b) || b[i] != ';' {
			return i, 0, false
		}
		v, err := strconv.ParseUint(string(b[start:i]), base, 64)
		if err != nil || v > utf8.MaxRune {
			return i, 0, false
		}
		r := rune(v)
		if !utf8.ValidRune(r) {
			// A surrogate: encoding/xml writes it as U+FFFD, as
			// string(rune) does.
			r = utf8.RuneError
		}
		return i + 1, r, true
	}
	start := i
	for i < len(b) && nameByte[b[i]] {
		i++
	}
	if i >= len(b) || b[i] != ';' {
		return i, 0, false
	}
	switch string(b[start:i]) {
	case "lt":
		return i + 1, '<', true
	case "gt":
		return i + 1, '>', true
	case "amp":
		return i + 1, '&', true
	case "apos":
		return i + 1, '\'', true
	case "quot":
		return i + 1, '"', true
	}
	return i, 0, false
}
