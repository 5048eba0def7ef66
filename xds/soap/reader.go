package soap

import (
	"bytes"
	"io"
	"sync"
)

// Reader reads SOAP messages. It is a value that the process builds once
// (cmd/kjdd, from configuration) and that keeps what reading reuses from
// one request to the next: the memo of assertions the guard passed before
// (assertion.go), and pools of request buffers and tree slabs. Nothing of
// it is shared by the package, so tests and instances each have their own.
// A Reader is safe for concurrent use.
type Reader struct {
	limits Limits
	memo   *assertionMemo
	spool  Spool
	// bodies hold request bodies while they are parsed; slabs the first
	// slabs of message trees, returned by Message.Close.
	bodies sync.Pool
	slabs  sync.Pool
}

// ReaderConfig configures NewReader.
type ReaderConfig struct {
	// Limits bound what the reader accepts; zero fields mean the defaults.
	Limits Limits
	// AssertionMemoBytes bounds the memo of assertions passed before; 0
	// or less keeps none, so that every assertion is scanned.
	AssertionMemoBytes int
	// Spool keeps MTOM attachments larger than Limits.MemoryPartBytes;
	// nil refuses them.
	Spool Spool
}

// NewReader returns a reader configured by cfg.
func NewReader(cfg ReaderConfig) *Reader {
	return &Reader{limits: cfg.Limits.orDefaults(), memo: newAssertionMemo(cfg.AssertionMemoBytes), spool: cfg.Spool}
}

// Limits returns the limits the reader applies.
func (r *Reader) Limits() Limits { return r.limits }

// CacheStats describe a cache for /metrics.
type CacheStats struct {
	Hits, Misses uint64
	Entries      int
	Bytes        int
}

// AssertionMemo reports the use of the memo of assertions.
func (r *Reader) AssertionMemo() CacheStats { return r.memo.stats() }

// ReadMessage reads one message with a reader of its own: limits lim, no
// memo and no spool, nothing kept for the next call. For tests and tools.
func ReadMessage(rd io.Reader, contentType string, lim Limits) (*Message, error) {
	return NewReader(ReaderConfig{Limits: lim}).Read(rd, contentType)
}

// maxPooledBody bounds the buffers kept for reuse, so that one large
// request does not pin its memory.
const maxPooledBody = 256 << 10

// body returns a buffer for a request body.
func (r *Reader) body() *bytes.Buffer {
	if b, ok := r.bodies.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

// releaseBody returns a request buffer: nothing the message hands out
// aliases it (the tree and the assertion sources hold copies).
func (r *Reader) releaseBody(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBody {
		buf.Reset()
		r.bodies.Put(buf)
	}
}
