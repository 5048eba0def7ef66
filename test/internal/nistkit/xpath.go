package nistkit

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// The testkit's Asserts and Reports use a small XPath subset: location
// paths of `*[local-name()='X']` steps (optionally with namespace-uri()),
// positional and attribute-equality predicates, a final `@attr`, wrapped
// in `count(...) = N` or compared with `= 'value'`. Paths start at NIST's
// log (`//XCQTransaction[...]/Result/...`); the part up to Result is
// dropped and the rest is evaluated against the response's body root.

var (
	countExpr = regexp.MustCompile(`(?s)^count\((.*)\)\s*=\s*["']?(\d+)["']?$`)
	equalExpr = regexp.MustCompile(`(?s)^(.*?)\s*=\s*'([^']*)'$`)
	nameTest  = regexp.MustCompile(`^\*\[(?:namespace-uri\(\)\s*=\s*'([^']*)'\s+and\s+)?local-name\(\.?\)\s*=\s*'([^']+)'\]`)
	posPred   = regexp.MustCompile(`^\[(\d+)\]`)
	attrPred  = regexp.MustCompile(`^\[@([A-Za-z_:][\w:.-]*)\s*=\s*['"]([^'"]*)['"]\]`)
)

// ErrUnsupportedXPath is returned for expressions outside the subset.
var ErrUnsupportedXPath = errors.New("unsupported xpath")

// EvalAssert evaluates an Assert expression against root (the response
// body's root element) after substituting vars; it reports whether it
// holds and, when not, what was found.
func EvalAssert(expr string, root *etree.Element, vars map[string]string) (bool, string, error) {
	expr = Substitute(strings.TrimSpace(expr), vars, false)
	if m := countExpr.FindStringSubmatch(expr); m != nil {
		want, _ := strconv.Atoi(m[2])
		nodes, attrs, err := evalPath(m[1], root)
		if err != nil {
			return false, "", err
		}
		got := len(nodes) + len(attrs)
		return got == want, fmt.Sprintf("count %d, want %d", got, want), nil
	}
	if m := equalExpr.FindStringSubmatch(expr); m != nil {
		values, err := EvalValues(m[1], root)
		if err != nil {
			return false, "", err
		}
		for _, v := range values {
			if v == m[2] {
				return true, "", nil
			}
		}
		return false, fmt.Sprintf("values %q, want %q", values, m[2]), nil
	}
	return false, "", fmt.Errorf("%w: %s", ErrUnsupportedXPath, expr)
}

// EvalValues returns the string values a path selects: attribute values,
// or the trimmed text of elements.
func EvalValues(path string, root *etree.Element) ([]string, error) {
	nodes, attrs, err := evalPath(path, root)
	if err != nil {
		return nil, err
	}
	out := attrs
	for _, n := range nodes {
		out = append(out, strings.TrimSpace(n.Text()))
	}
	return out, nil
}

func evalPath(path string, root *etree.Element) ([]*etree.Element, []string, error) {
	if root == nil {
		return nil, nil, errors.New("no result to evaluate against")
	}
	path = strings.TrimSpace(path)
	descendant := strings.HasPrefix(path, "//")
	steps := splitSteps(strings.TrimLeft(path, "/"))
	// Drop NIST's log prefix up to and including the Result step.
	for i, s := range steps {
		if s == "Result" || strings.HasPrefix(s, "Result[") {
			steps = steps[i+1:]
			descendant = false
			break
		}
	}
	if len(steps) == 0 {
		return nil, nil, fmt.Errorf("%w: empty path", ErrUnsupportedXPath)
	}
	// The first step selects the result's root element itself (or, for a
	// path starting with //, elements anywhere in it).
	virtual := etree.NewElement("result")
	virtual.AddChild(root.Copy())
	ctx := []*etree.Element{virtual}
	if descendant {
		ctx = descendantsOrSelf(virtual)
	}
	for i, s := range steps {
		if strings.HasPrefix(s, "@") {
			if i != len(steps)-1 {
				return nil, nil, fmt.Errorf("%w: attribute step not last", ErrUnsupportedXPath)
			}
			var vals []string
			for _, e := range ctx {
				if a := e.SelectAttr(strings.TrimPrefix(s, "@")); a != nil {
					vals = append(vals, a.Value)
				}
			}
			return nil, vals, nil
		}
		next, err := applyStep(s, ctx)
		if err != nil {
			return nil, nil, err
		}
		ctx = next
	}
	return ctx, nil, nil
}

func applyStep(step string, ctx []*etree.Element) ([]*etree.Element, error) {
	m := nameTest.FindStringSubmatch(step)
	if m == nil {
		return nil, fmt.Errorf("%w: step %q", ErrUnsupportedXPath, step)
	}
	ns, local := m[1], m[2]
	preds := step[len(m[0]):]
	var out []*etree.Element
	for _, parent := range ctx {
		var sel []*etree.Element
		for _, c := range parent.ChildElements() {
			if c.Tag == local && (ns == "" || c.NamespaceURI() == ns) {
				sel = append(sel, c)
			}
		}
		rest := preds
		for rest != "" {
			if pm := posPred.FindStringSubmatch(rest); pm != nil {
				n, _ := strconv.Atoi(pm[1])
				if n >= 1 && n <= len(sel) {
					sel = sel[n-1 : n]
				} else {
					sel = nil
				}
				rest = rest[len(pm[0]):]
				continue
			}
			if am := attrPred.FindStringSubmatch(rest); am != nil {
				var keep []*etree.Element
				for _, e := range sel {
					if e.SelectAttrValue(am[1], "\x00") == am[2] {
						keep = append(keep, e)
					}
				}
				sel = keep
				rest = rest[len(am[0]):]
				continue
			}
			return nil, fmt.Errorf("%w: predicate %q", ErrUnsupportedXPath, rest)
		}
		out = append(out, sel...)
	}
	return out, nil
}

// splitSteps splits a location path on '/' outside brackets and quotes.
func splitSteps(p string) []string {
	var steps []string
	depth, start := 0, 0
	var quote rune
	for i, r := range p {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '[':
			depth++
		case r == ']':
			depth--
		case r == '/' && depth == 0:
			if s := strings.TrimSpace(p[start:i]); s != "" {
				steps = append(steps, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(p[start:]); s != "" {
		steps = append(steps, s)
	}
	return steps
}

func descendantsOrSelf(e *etree.Element) []*etree.Element {
	out := []*etree.Element{e}
	for _, c := range e.ChildElements() {
		out = append(out, descendantsOrSelf(c)...)
	}
	return out
}

// Substitute replaces every $name$ of vars in s. With xmlEscape the values
// are escaped for XML text and attributes (patient ids contain '&').
// Longer names go first: NIST also uses names without the closing $
// ("$patientid" beside "$patientid$"), which must not eat into longer ones.
func Substitute(s string, vars map[string]string, xmlEscape bool) string {
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) > len(keys[j])
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		v := vars[k]
		if xmlEscape {
			v = escapeXML(v)
		}
		s = strings.ReplaceAll(s, k, v)
	}
	return s
}

func escapeXML(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")
	return r.Replace(s)
}

// Placeholders lists the $name$ placeholders left in s.
func Placeholders(s string) []string {
	return placeholder.FindAllString(s, -1)
}

var placeholder = regexp.MustCompile(`\$[A-Za-z_][A-Za-z0-9_]*\$`)
