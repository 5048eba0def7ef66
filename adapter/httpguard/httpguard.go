// Package httpguard keeps a slow client from holding a connection (and the
// goroutine serving it) for as long as it likes. net/http's ReadTimeout and
// WriteTimeout are one deadline for the whole request, which a legitimate
// 100 MB registration or retrieve cannot meet on a slow line; instead each
// request body and each answer gets a minimum rate: the time kjdd spends
// waiting for the client may be at most a grace period plus the bytes moved
// so far divided by the rate. The connection's deadline is moved forward
// (http.ResponseController) before every read and write, so a client that
// keeps up streams for as long as it needs, and one that trickles is cut
// off once it falls behind. Time the handler spends working between reads
// or writes is not counted against the client.
package httpguard

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// Settings are the minimum rates; a rate of 0 leaves that direction
// unguarded.
type Settings struct {
	MinReadRate  int64         // bytes per second of a request body
	MinWriteRate int64         // bytes per second of an answer
	Grace        time.Duration // waiting allowed before the rate applies
	Logger       *slog.Logger
}

// ErrTooSlow is the error a guarded body's Read returns when the client
// sends it slower than the minimum rate.
var ErrTooSlow = errors.New("the request body arrived slower than the minimum rate")

// errWriteTooSlow is the error a guarded answer's Write returns when the
// client reads it slower than the minimum rate.
var errWriteTooSlow = errors.New("the answer was read slower than the minimum rate")

// Handler guards h's request bodies and answers with s.
func Handler(h http.Handler, s Settings) http.Handler {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		st := &state{}
		r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
		var body *reader
		if s.MinReadRate > 0 && r.Body != nil && r.Body != http.NoBody {
			body = &reader{body: r.Body, conn: rc, b: budget{rate: s.MinReadRate, grace: s.Grace}, now: time.Now, st: st, log: s.Logger}
			r.Body = body
		}
		if s.MinWriteRate > 0 {
			// A deadline from the previous request on this connection
			// must not hold for this one (net/http resets it only when
			// a WriteTimeout is set), and what is written before the
			// handler's first Write (100 Continue) is bounded too.
			_ = rc.SetWriteDeadline(time.Now().Add(s.Grace))
			w = &writer{ResponseWriter: w, conn: rc, b: budget{rate: s.MinWriteRate, grace: s.Grace}, now: time.Now, log: s.Logger}
		}
		h.ServeHTTP(w, r)
		// net/http reads what the handler left of the body (up to
		// 256 KiB) before it writes the rest of the answer, then
		// flushes the last buffered bytes: both bounded here, the
		// write deadline after the read one.
		now := time.Now()
		writeBy := now.Add(s.Grace)
		switch {
		case body == nil || body.eof:
		case body.err != nil:
			// Cut off: nothing more is read from this client, and the
			// connection closes once the answer (408) is written.
			_ = rc.SetReadDeadline(longAgo)
		default:
			_ = rc.SetReadDeadline(now.Add(s.Grace))
			writeBy = writeBy.Add(s.Grace)
		}
		if s.MinWriteRate > 0 {
			_ = rc.SetWriteDeadline(writeBy)
		}
	})
}

// longAgo is a deadline that has passed.
var longAgo = time.Unix(1, 0)

// TooSlow reports whether r's body was cut off for arriving slower than
// the minimum rate, so that the handler answers 408 rather than with a
// fault about a malformed body.
func TooSlow(r *http.Request) bool {
	st, ok := r.Context().Value(stateKey{}).(*state)
	return ok && st.tooSlow.Load()
}

type stateKey struct{}

type state struct{ tooSlow atomic.Bool }

// budget is the time a transfer may spend waiting for the client: grace
// plus done/rate, less what it has waited already.
type budget struct {
	rate   int64
	grace  time.Duration
	done   int64
	waited time.Duration
}

// left is the waiting still allowed once n more bytes are moved.
func (b *budget) left(n int64) time.Duration {
	allowed := b.grace + time.Duration(float64(b.done+n)/float64(b.rate)*float64(time.Second))
	return allowed - b.waited
}

func (b *budget) moved(n int, waited time.Duration) {
	b.done += int64(n)
	b.waited += waited
}

// deadliner is what the guard needs of http.ResponseController.
type deadliner interface {
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// reader is a request body that fails once the client falls below the
// minimum rate.
type reader struct {
	body io.ReadCloser
	conn deadliner
	b    budget
	now  func() time.Time
	st   *state
	log  *slog.Logger
	eof  bool
	err  error
}

func (r *reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	left := r.b.left(0)
	if left <= 0 {
		return 0, r.tooSlow()
	}
	start := r.now()
	if err := r.conn.SetReadDeadline(start.Add(left)); err != nil {
		// A writer without deadlines (not a net/http connection):
		// nothing to guard with.
		return r.body.Read(p)
	}
	n, err := r.body.Read(p)
	r.b.moved(n, r.now().Sub(start))
	switch {
	case err == io.EOF:
		r.eof = true
		// Reading is over: net/http's background read (which notices
		// a client going away) must not trip on this deadline.
		_ = r.conn.SetReadDeadline(time.Time{})
	case err != nil && isTimeout(err):
		return n, r.tooSlow()
	}
	return n, err
}

func (r *reader) tooSlow() error {
	r.err = ErrTooSlow
	r.st.tooSlow.Store(true)
	// Sizes and times only: never what was sent.
	r.log.Info("request body too slow; connection closed", "received_bytes", r.b.done,
		"waited_ms", r.b.waited.Milliseconds(), "min_rate_bytes_per_s", r.b.rate)
	return r.err
}

func (r *reader) Close() error { return r.body.Close() }

// writer is an answer whose writes fail once the client reads below the
// minimum rate.
type writer struct {
	http.ResponseWriter
	conn   deadliner
	b      budget
	now    func() time.Time
	log    *slog.Logger
	logged bool
}

func (w *writer) Write(p []byte) (int, error) {
	left := w.b.left(int64(len(p)))
	start := w.now()
	if left <= 0 {
		return 0, w.tooSlow(errWriteTooSlow)
	}
	if err := w.conn.SetWriteDeadline(start.Add(left)); err != nil {
		return w.ResponseWriter.Write(p)
	}
	n, err := w.ResponseWriter.Write(p)
	w.b.moved(n, w.now().Sub(start))
	if err != nil && isTimeout(err) {
		return n, w.tooSlow(err)
	}
	return n, err
}

func (w *writer) tooSlow(err error) error {
	if !w.logged {
		w.logged = true
		w.log.Info("answer read too slowly; connection closed", "written_bytes", w.b.done,
			"waited_ms", w.b.waited.Milliseconds(), "min_rate_bytes_per_s", w.b.rate)
	}
	return errors.Join(errWriteTooSlow, err)
}

// Flush is gin's (it asserts http.Flusher on what it wraps). What it
// sends was counted when it was written; its waiting counts like a write's.
func (w *writer) Flush() {
	start := w.now()
	if left := w.b.left(0); left > 0 {
		_ = w.conn.SetWriteDeadline(start.Add(left))
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
	w.b.moved(0, w.now().Sub(start))
}

// Unwrap lets http.ResponseController reach the connection.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
