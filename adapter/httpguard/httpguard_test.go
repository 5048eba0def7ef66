package httpguard

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// clock is the fake time of the table tests: a client's bytes arrive
// when the script says, and a read or write past the connection's
// deadline fails as net.Conn's would.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type conn struct {
	c               *clock
	readDL, writeDL time.Time
}

func (d *conn) SetReadDeadline(t time.Time) error  { d.readDL = t; return nil }
func (d *conn) SetWriteDeadline(t time.Time) error { d.writeDL = t; return nil }

// step is one read or write: the handler works for work (time not the
// client's), then the client takes wait to move n bytes.
type step struct {
	work, wait time.Duration
	n          int
}

// repeat is n copies of s.
func repeat(n int, s step) []step {
	out := make([]step, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// advance moves the clock by wait unless the deadline comes first.
func (c *clock) advance(wait time.Duration, deadline time.Time) bool {
	at := c.t.Add(wait)
	if !deadline.IsZero() && at.After(deadline) {
		c.t = deadline
		return false
	}
	c.t = at
	return true
}

type scriptedBody struct {
	c     *clock
	conn  *conn
	steps []step
	i     int
}

func (b *scriptedBody) Read(p []byte) (int, error) {
	if b.i == len(b.steps) {
		return 0, io.EOF
	}
	s := b.steps[b.i]
	if !b.c.advance(s.wait, b.conn.readDL) {
		return 0, &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}
	}
	b.i++
	return min(s.n, len(p)), nil
}

func (b *scriptedBody) Close() error { return nil }

func TestReaderRate(t *testing.T) {
	const grace = 5 * time.Second
	const rate = 64 << 10
	tests := []struct {
		name  string
		steps []step
		// ok: the whole body is read; else it fails with ErrTooSlow
		// after received bytes, waitedMax being the bound on the
		// client's waiting (grace + received/rate).
		ok       bool
		received int64
	}{
		{name: "fast client, 8 MiB", steps: repeat(128, step{wait: 10 * time.Millisecond, n: 64 << 10}), ok: true},
		{name: "just above the rate", steps: repeat(100, step{wait: 900 * time.Millisecond, n: 64 << 10}), ok: true},
		{name: "one byte every three seconds", steps: repeat(10, step{wait: 3 * time.Second, n: 1}), received: 1},
		{name: "nothing at all", steps: []step{{wait: time.Hour, n: 1}}, received: 0},
		{name: "just below the rate", steps: repeat(100, step{wait: 1100 * time.Millisecond, n: 64 << 10}), received: 40 * 64 << 10},
		{name: "fast start, then a trickle", steps: append(repeat(16, step{wait: time.Millisecond, n: 64 << 10}), repeat(100, step{wait: 3 * time.Second, n: 1})...),
			received: 16*64<<10 + 6},
		{name: "handler work is not the client's time", steps: repeat(20, step{work: 30 * time.Second, wait: 100 * time.Millisecond, n: 1000}), ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: time.Unix(1e9, 0)}
			d := &conn{c: c}
			body := &scriptedBody{c: c, conn: d, steps: tt.steps}
			r := &reader{body: body, conn: d, b: budget{rate: rate, grace: grace}, now: c.now, st: &state{}, log: slog.New(slog.DiscardHandler)}
			buf := make([]byte, 64<<10)
			var err error
			for err == nil {
				if body.i < len(tt.steps) {
					c.t = c.t.Add(tt.steps[body.i].work)
				}
				_, err = r.Read(buf)
			}
			if tt.ok {
				if err != io.EOF {
					t.Fatalf("err = %v, want the whole body", err)
				}
				if !d.readDL.IsZero() {
					t.Errorf("read deadline %v left set after EOF", d.readDL)
				}
				return
			}
			if !errors.Is(err, ErrTooSlow) || !r.st.tooSlow.Load() {
				t.Fatalf("err = %v, want ErrTooSlow", err)
			}
			if r.b.done != tt.received {
				t.Errorf("received %d bytes, want %d", r.b.done, tt.received)
			}
			// The client waited exactly what its budget allowed.
			if want := grace + time.Duration(float64(r.b.done)/rate*float64(time.Second)); r.b.waited != want {
				t.Errorf("waited %v, want %v", r.b.waited, want)
			}
			if _, err := r.Read(buf); !errors.Is(err, ErrTooSlow) {
				t.Errorf("read after the cut: %v", err)
			}
		})
	}
}

type scriptedWriter struct {
	http.ResponseWriter
	c     *clock
	conn  *conn
	steps []step
	i     int
}

func (w *scriptedWriter) Write(p []byte) (int, error) {
	s := w.steps[w.i]
	if !w.c.advance(s.wait, w.conn.writeDL) {
		return 0, &net.OpError{Op: "write", Err: os.ErrDeadlineExceeded}
	}
	w.i++
	return len(p), nil
}

func TestWriterRate(t *testing.T) {
	const grace = 5 * time.Second
	const rate = 64 << 10
	tests := []struct {
		name    string
		steps   []step
		written int64 // -1: all written
	}{
		{name: "fast reader, 100 MiB", steps: repeat(3200, step{wait: 5 * time.Millisecond}), written: -1},
		{name: "just above the rate", steps: repeat(100, step{wait: 450 * time.Millisecond}), written: -1},
		{name: "client stops reading", steps: append(repeat(10, step{}), step{wait: time.Hour}), written: 10 * 32 << 10},
		{name: "just below the rate", steps: repeat(200, step{wait: 600 * time.Millisecond}), written: 50 * 32 << 10},
		{name: "handler work is not the client's time", steps: repeat(20, step{work: time.Minute, wait: 10 * time.Millisecond}), written: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: time.Unix(1e9, 0)}
			d := &conn{c: c}
			sw := &scriptedWriter{c: c, conn: d, steps: tt.steps}
			w := &writer{ResponseWriter: sw, conn: d, b: budget{rate: rate, grace: grace}, now: c.now, log: slog.New(slog.DiscardHandler)}
			chunk := make([]byte, 32<<10)
			var err error
			for i := 0; i < len(tt.steps) && err == nil; i++ {
				c.t = c.t.Add(tt.steps[i].work)
				_, err = w.Write(chunk)
			}
			if tt.written < 0 {
				if err != nil {
					t.Fatalf("err = %v, want everything written", err)
				}
				return
			}
			if !errors.Is(err, errWriteTooSlow) {
				t.Fatalf("err = %v, want errWriteTooSlow", err)
			}
			if w.b.done != tt.written {
				t.Errorf("written %d, want %d", w.b.done, tt.written)
			}
		})
	}
}

// TestTrickledBodyOverTCP runs the guard in a real net/http server: a
// client that sends its body a byte at a time gets a 408 and a closed
// connection within the grace, and a fast client on the same server is
// answered meanwhile.
func TestTrickledBodyOverTCP(t *testing.T) {
	const grace = 500 * time.Millisecond
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if TooSlow(r) {
			http.Error(w, "too slow", http.StatusRequestTimeout)
			return
		}
		if err != nil {
			http.Error(w, "broken", http.StatusBadRequest)
			return
		}
		_, _ = w.Write(b[:len(b)/2])
		// gin's Flush asserts http.Flusher on the guard's writer.
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush: %v", err)
		}
		_, _ = w.Write(b[len(b)/2:])
	})
	srv := httptest.NewServer(Handler(h, Settings{MinReadRate: 64 << 10, MinWriteRate: 64 << 10, Grace: grace, Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()

	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			if _, err := c.Write([]byte{'x'}); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()

	// Meanwhile a fast client is served, body and answer, 1 MiB each way.
	big := strings.Repeat("y", 1<<20)
	resp, err := http.Post(srv.URL, "text/plain", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(got) != len(big) {
		t.Fatalf("fast client: %d, %d bytes", resp.StatusCode, len(got))
	}

	br := bufio.NewReader(c)
	slow, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to the slow client: %v", err)
	}
	if slow.StatusCode != http.StatusRequestTimeout {
		t.Errorf("slow client: status %d, want 408", slow.StatusCode)
	}
	_, _ = io.Copy(io.Discard, slow.Body)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("connection not closed: %v", err)
	}
	if took := time.Since(start); took < grace || took > grace+time.Second {
		t.Errorf("closed after %v, want between %v and %v", took, grace, grace+time.Second)
	}
	c.Close()
	<-done
}
