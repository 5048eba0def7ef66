package soap

import (
	"bytes"
	"io"
	"testing"

	"kjdd/xds/internal/xdstest"
)

// BenchmarkReadMessageSOAP reads NHN's kjernejournal ITI-38 request
// (SAML assertion in the header) as plain SOAP: again and again, as a
// session's requests come (the guard steps over the assertion it passed
// before), and with an assertion the guard has not seen.
func BenchmarkReadMessageSOAP(b *testing.B) {
	data := xdstest.ReadSample(b, "iti38-FindDocuments-pjd-kjernejournal-saml.xml")
	r := NewReader(ReaderConfig{AssertionMemoBytes: DefaultAssertionMemoBytes})
	for _, fresh := range []bool{false, true} {
		name := "assertion seen before"
		if fresh {
			name = "assertion new"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if fresh {
					r.memo.mu.Lock()
					clear(r.memo.entries)
					r.memo.mu.Unlock()
				}
				m, err := r.Read(bytes.NewReader(data), ContentTypeSOAP)
				if err != nil {
					b.Fatal(err)
				}
				m.AssertionVerified() // as the endpoint does once it served the request
				m.Close()
			}
		})
	}
}

// patternReader yields an endless byte pattern without allocating.
type patternReader struct{ next byte }

func (p *patternReader) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = p.next
		p.next++
	}
	return len(b), nil
}

// BenchmarkMTOMWrite100MB writes an MTOM message with a 100 MB part. The
// allocated bytes per operation stay a few tens of KiB, independent of
// the part size: the part is streamed, never buffered.
func BenchmarkMTOMWrite100MB(b *testing.B) {
	const size = 100 << 20
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		w := NewMTOMWriter(io.Discard, ActionRetrieveDocumentSetResponse)
		cid := w.NewContentID()
		if err := w.WriteRoot(NewEnvelope(ActionRetrieveDocumentSetResponse, "urn:uuid:1", retrieveResponse(XOPInclude(cid)))); err != nil {
			b.Fatal(err)
		}
		n, err := w.WritePart(cid, "application/pdf", io.LimitReader(&patternReader{}, size))
		if err != nil || n != size {
			b.Fatal(n, err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
