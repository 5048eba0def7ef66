package spool

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kjdd/xds/soap"
)

// TestDirKeepsAndRemoves: a spooled file lives in the directory, readable
// as written and by kjdd only, until it is removed; names that are not the
// spool's are refused, so that no name can reach outside the directory.
func TestDirKeepsAndRemoves(t *testing.T) {
	dir := t.TempDir()
	d := Dir(dir)
	w, name, err := d.Create()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "%PDF-1.7 ..."); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("the spooled file is not in the directory: %v", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		t.Errorf("spooled file mode %v: others may read it", info.Mode().Perm())
	}
	for range 2 {
		r, err := d.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		if string(b) != "%PDF-1.7 ..." {
			t.Fatalf("read back %q", b)
		}
	}
	if err := d.Remove(name); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(name); err != nil {
		t.Fatalf("removing twice: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("%d files left", len(entries))
	}
	for _, bad := range []string{"../etc/passwd", "kjdd-part-1/../../x", "other-file", ""} {
		if _, err := d.Open(bad); err == nil {
			t.Errorf("opened %q", bad)
		}
		if err := d.Remove(bad); err == nil {
			t.Errorf("removed %q", bad)
		}
	}
}

// TestReaderSpoolsIntoDir: the SOAP reader, given the spool, keeps a large
// MTOM attachment as a file there until the message is closed, and leaves
// nothing behind after an upload that breaks off.
func TestReaderSpoolsIntoDir(t *testing.T) {
	dir := t.TempDir()
	r := soap.NewReader(soap.ReaderConfig{Limits: soap.Limits{MemoryPartBytes: 16}, Spool: Dir(dir)})
	doc := strings.Repeat("x", 4096)
	msg := func(content string) string {
		return "--b\r\nContent-Type: application/xop+xml; type=\"application/soap+xml\"\r\nContent-ID: <root>\r\n\r\n" +
			`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">` +
			`<s:Header><a:Action>urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b</a:Action></s:Header>` +
			`<s:Body><d xmlns:xop="http://www.w3.org/2004/08/xop/include"><xop:Include href="cid:doc"/></d></s:Body></s:Envelope>` +
			"\r\n--b\r\nContent-Type: application/pdf\r\nContent-ID: <doc>\r\n\r\n" + content
	}
	const ct = `multipart/related; boundary=b; type="application/xop+xml"; start="<root>"; start-info="application/soap+xml"`
	m, err := r.Read(strings.NewReader(msg(doc)+"\r\n--b--\r\n"), ct)
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("%d files spooled, want the attachment's", len(entries))
	}
	b, err := m.Blob(m.BodyRoot)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := b.Open()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, []byte(doc)) {
		t.Fatal("the spooled attachment reads back differently")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("%d files left after Close", len(entries))
	}

	// Broken off in the middle of the attachment.
	_, err = r.Read(io.MultiReader(strings.NewReader(msg(doc)), errReader{}), ct)
	var f *soap.Fault
	if !errors.As(err, &f) || f.Code != soap.FaultSender {
		t.Fatalf("broken upload: %v, want a Sender fault", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("%d files left after a broken upload", len(entries))
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }
