package soap

import (
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/beevik/etree"
)

// pnrWithInclude is an ITI-41 body whose one Document refers to cid.
func pnrWithInclude(cid string) *etree.Element {
	el := etree.NewElement("xdsb:ProvideAndRegisterDocumentSetRequest")
	el.CreateAttr("xmlns:xdsb", nsXDSB)
	d := el.CreateElement("xdsb:Document")
	d.CreateAttr("id", "Document01")
	d.AddChild(XOPInclude(cid))
	return el
}

// TestMTOMRoundTrip20MB streams a 20 MB attachment through MTOMWriter
// into ReadMessage over a pipe (neither side holds it whole), and checks
// the content hash, the spooling and the clean-up on Close.
func TestMTOMRoundTrip20MB(t *testing.T) {
	const size = 20 << 20
	sp := newMemSpool()
	pr, pw := io.Pipe()
	w := NewMTOMWriter(pw, ActionProvideAndRegister)
	sent := make(chan []byte, 1)
	go func() {
		h := sha256.New()
		src := io.TeeReader(io.LimitReader(rand.NewChaCha8([32]byte{7}), size), h)
		cid := w.NewContentID()
		err := w.WriteRoot(NewEnvelope(ActionProvideAndRegister, "", pnrWithInclude(cid)))
		if err == nil {
			_, err = w.WritePart(cid, "application/pdf", src)
		}
		if err == nil {
			err = w.Close()
		}
		sent <- h.Sum(nil)
		pw.CloseWithError(err)
	}()
	m, err := spoolReader(Limits{}, sp).Read(pr, w.ContentType())
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Blob(m.BodyRoot.FindElement("Document"))
	if err != nil {
		t.Fatal(err)
	}
	if got := b.(SizedBlob).Size(); got != size {
		t.Errorf("size %d, want %d", got, size)
	}
	rc, err := b.Open()
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if want := <-sent; !bytes.Equal(h.Sum(nil), want) {
		t.Error("content hash differs after the round trip")
	}
	if entries := sp.names(); len(entries) != 1 {
		t.Fatalf("%d spooled files, want the one attachment", len(entries))
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	noSpooledFiles(t, sp)
}
