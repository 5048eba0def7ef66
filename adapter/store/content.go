package store

import (
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// ChunkSize is the size of the pieces document content is stored and read
// in: big enough that a 100 MB document is 400 rows, small enough that
// holding one is no burden.
const ChunkSize = 256 << 10

type contentMeta struct {
	size   int64
	sha1   string
	chunks int
}

// putContent streams r into content_chunks under uniqueID.
func putContent(ctx context.Context, d dialect, q querier, uniqueID string, r io.Reader) (int64, string, error) {
	// The chunks go with their contents row (ON DELETE CASCADE).
	if _, err := q.ExecContext(ctx, d.rebind(`DELETE FROM contents WHERE unique_id = ?`), uniqueID); err != nil {
		return 0, "", fmt.Errorf("store: put content: %w", d.classify(err))
	}
	if _, err := q.ExecContext(ctx, d.rebind(`INSERT INTO contents (unique_id, size, sha1, chunks) VALUES (?, 0, '', 0)`), uniqueID); err != nil {
		return 0, "", fmt.Errorf("store: put content: %w", d.classify(err))
	}
	h := sha1.New()
	buf := make([]byte, ChunkSize)
	insert := d.rebind(`INSERT INTO content_chunks (unique_id, seq, data) VALUES (?, ?, ?)`)
	var size int64
	seq := 0
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			h.Write(buf[:n])
			size += int64(n)
			if _, err := q.ExecContext(ctx, insert, uniqueID, seq, buf[:n]); err != nil {
				return 0, "", fmt.Errorf("store: put content chunk: %w", d.classify(err))
			}
			seq++
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return 0, "", fmt.Errorf("store: put content: read: %w", rerr)
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if _, err := q.ExecContext(ctx, d.rebind(`UPDATE contents SET size = ?, sha1 = ?, chunks = ? WHERE unique_id = ?`), size, sum, seq, uniqueID); err != nil {
		return 0, "", fmt.Errorf("store: put content: %w", d.classify(err))
	}
	return size, sum, nil
}

func contentInfo(ctx context.Context, d dialect, q querier, uniqueID string) (contentMeta, error) {
	var m contentMeta
	err := q.QueryRowContext(ctx, d.rebind(`SELECT size, sha1, chunks FROM contents WHERE unique_id = ?`), uniqueID).Scan(&m.size, &m.sha1, &m.chunks)
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("store: content: %w", ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("store: content: %w", d.classify(err))
	}
	return m, nil
}

func openContent(ctx context.Context, d dialect, q querier, uniqueID string) (io.ReadCloser, error) {
	m, err := contentInfo(ctx, d, q, uniqueID)
	if err != nil {
		return nil, err
	}
	return &contentReader{ctx: ctx, d: d, q: q, id: uniqueID, meta: m, query: d.rebind(`SELECT data FROM content_chunks WHERE unique_id = ? AND seq = ?`)}, nil
}

// contentReader reads a document one chunk query at a time, so that no
// connection is held between Reads and memory stays at one chunk.
type contentReader struct {
	ctx   context.Context
	d     dialect
	q     querier
	id    string
	meta  contentMeta
	query string

	next   int    // next chunk to fetch
	buf    []byte // current chunk
	off    int    // read position in buf
	read   int64  // bytes returned so far
	closed bool
}

func (r *contentReader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, errors.New("store: read of closed content")
	}
	for r.off == len(r.buf) {
		if r.next >= r.meta.chunks {
			if r.read != r.meta.size {
				return 0, fmt.Errorf("store: content %d bytes short", r.meta.size-r.read)
			}
			return 0, io.EOF
		}
		if err := r.fetch(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	r.read += int64(n)
	return n, nil
}

func (r *contentReader) fetch() error {
	rows, err := r.q.QueryContext(r.ctx, r.query, r.id, r.next)
	if err != nil {
		return fmt.Errorf("store: read content chunk: %w", r.d.classify(err))
	}
	defer func() { _ = rows.Close() }()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: read content chunk: %w", err)
		}
		return fmt.Errorf("store: content chunk %d missing", r.next)
	}
	var raw sql.RawBytes
	if err := rows.Scan(&raw); err != nil {
		return fmt.Errorf("store: read content chunk: %w", err)
	}
	// RawBytes is only valid until the next Next/Close: copy into the
	// reader's own buffer, reused for every chunk.
	r.buf = append(r.buf[:0], raw...)
	r.off = 0
	r.next++
	return rows.Close()
}

func (r *contentReader) Close() error {
	r.closed = true
	r.buf = nil
	return nil
}
