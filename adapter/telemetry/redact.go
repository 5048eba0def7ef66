package telemetry

import (
	"context"
	"fmt"
	"log/slog"
)

// minRedactedDigits is the shortest run of digits Redact masks. A
// fødselsnummer or D-number has 11 digits, an HPR number up to nine; six
// catches either when a caller splits or truncates it, and leaves OIDs
// (short arcs between dots), status codes and counts readable.
const minRedactedDigits = 6

// Redact masks, in text that may have come from a request, every run of
// at least six digits, counting digits separated by single spaces or
// hyphens as one run ("131169 00216", "131169-00216"): a national id in
// any of the ways people and systems write it. Each masked digit becomes
// '*', so the shape of the text stays readable. It is what every log line
// of kjdd goes through (RedactingHandler).
func Redact(s string) string {
	var out []byte
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		start, end, digits := i, i, 0
		for j := i; j < len(s); {
			switch {
			case isDigit(s[j]):
				digits++
				j++
				end = j
				continue
			case (s[j] == ' ' || s[j] == '-') && j+1 < len(s) && isDigit(s[j+1]):
				j++
				continue
			}
			break
		}
		if digits >= minRedactedDigits {
			if out == nil {
				out = []byte(s)
			}
			for k := start; k < end; k++ {
				if isDigit(out[k]) {
					out[k] = '*'
				}
			}
		}
		i = end
	}
	if out == nil {
		return s
	}
	return string(out)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// RedactingHandler wraps h so that the message and every string, error,
// Stringer and other non-scalar attribute value, also inside groups and in
// attributes added with WithAttrs, is passed through Redact before h sees
// it. Numbers, booleans, times and durations are kept as they are: kjdd
// never logs a national id as a number.
func RedactingHandler(h slog.Handler) slog.Handler {
	if r, ok := h.(redacting); ok {
		return r
	}
	return redacting{h}
}

type redacting struct{ next slog.Handler }

func (r redacting) Enabled(ctx context.Context, l slog.Level) bool { return r.next.Enabled(ctx, l) }

func (r redacting) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, Redact(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return r.next.Handle(ctx, out)
}

func (r redacting) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = redactAttr(a)
	}
	return redacting{r.next.WithAttrs(red)}
}

func (r redacting) WithGroup(name string) slog.Handler {
	return redacting{r.next.WithGroup(Redact(name))}
}

func redactAttr(a slog.Attr) slog.Attr {
	a.Key = Redact(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(Redact(v.String()))
	case slog.KindGroup:
		group := v.Group()
		red := make([]slog.Attr, len(group))
		for i, g := range group {
			red[i] = redactAttr(g)
		}
		a.Value = slog.GroupValue(red...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			a.Value = slog.StringValue(Redact(x.Error()))
		case fmt.Stringer:
			a.Value = slog.StringValue(Redact(x.String()))
		default:
			a.Value = slog.StringValue(Redact(fmt.Sprintf("%+v", x)))
		}
	default:
		a.Value = v
	}
	return a
}
