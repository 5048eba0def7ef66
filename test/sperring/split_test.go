package sperring

import (
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"kjdd/test/internal/redistest"
)

// cutProxy forwards TCP connections to one address until it is cut: then
// every open connection is dropped and new ones are refused, as when a
// network link between one kjdd instance and Redis fails while the others
// still reach it.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { _ = ln.Close(); p.setCut(true) })
	go p.serve()
	return p
}

// URL is the redis:// URL of the proxy.
func (p *cutProxy) URL() string { return "redis://" + p.ln.Addr().String() }

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			_ = c.Close()
			continue
		}
		go p.forward(c)
	}
}

func (p *cutProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	p.conns[c] = true
	return true
}

func (p *cutProxy) forward(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, time.Second)
	if err != nil || !p.track(up) {
		_ = c.Close()
		if up != nil {
			_ = up.Close()
		}
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	_ = c.Close()
	_ = up.Close()
}

// setCut cuts the link (dropping what is open) or restores it.
func (p *cutProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			_ = c.Close()
		}
		clear(p.conns)
	}
}

// TestNetworkSplit: instance A reaches Redis through a link the test cuts,
// instance B directly. With the link cut, sperring changes made through A
// are acknowledged (the store holds them) and from that moment no instance
// answers with the old sperring: not A, which cannot reach Redis, and not
// B, whose Redis still holds the old inputs with no announcement of the
// change. The same holds for a record lifted through A, and after the link
// is restored.
func TestNetworkSplit(t *testing.T) {
	rs := redistest.New(t)
	proxy := newCutProxy(t, strings.TrimPrefix(rs.URL(), "redis://"))
	dsn, _, kind := sharedStore(t)
	t.Logf("store: %s", kind)
	seed := leakSeed(t)
	t.Logf("seed %d (replay with KJDD_LEAK_SEED=%d)", seed, seed)
	f := newFixture(t)
	a := startNode(t, "a", f, "", map[string]string{"KJDD_REDIS_URL": proxy.URL(), "KJDD_STORE": dsn})
	b := startNode(t, "b", f, "", map[string]string{"KJDD_REDIS_URL": rs.URL(), "KJDD_STORE": dsn})
	nodes := []*node{a, b}
	r := mathrand.New(mathrand.NewPCG(seed, 0))
	w := newWorld(r, faultShape)
	w.register(t, f, a, r)
	for _, rec := range w.drawRecords(r, faultShape) {
		w.create(t, f, nodes[r.IntN(len(nodes))], rec)
	}
	s := newSearch(w, f, nodes, nil, seed)
	// Every patient's inputs are now in Redis and in both instances.
	s.run(t, 1500, 1)

	proxy.setCut(true)
	// Blocks through A, each checked on both instances at once: no
	// settling, no waiting for an announcement that cannot come.
	changed := map[*patient]bool{}
	for i, kind := range []string{"patient", "practitioner", "document"} {
		p := s.d.patientWithDocs(mathrand.New(mathrand.NewPCG(seed, uint64(10+i))))
		rec := &record{p: p, kind: kind}
		switch kind {
		case "practitioner":
			rec.hpr = hprNumbers[0]
		case "document":
			rec.uid = p.docs[0].uid
		}
		w.create(t, f, a, rec)
		changed[p] = true
		s.probeNow(t, p)
	}
	// A lift through A, seen at once too.
	if rec := s.someRecord(changed); rec != nil {
		w.remove(t, f, a, rec)
		s.probeNow(t, rec.p)
	}
	s.run(t, 1500, 2)

	proxy.setCut(false)
	s.run(t, 1500, 3)
}

// probeNow asks every instance, once, for p's documents as each HPR number
// with TREAT, and fails on any answer that does not match p's sperring as
// it stands now.
func (s *search) probeNow(t *testing.T, p *patient) {
	t.Helper()
	for _, nd := range s.nodes {
		for _, hpr := range hprNumbers {
			s.d.expect(t, nd, p, requester{hpr: hpr, purpose: "TREAT"},
				fmt.Sprintf("%s answers patient %d's old sperring right after the change was acknowledged", nd.name, p.idx))
		}
	}
}

// someRecord is a record of a patient not in skip, or nil.
func (s *search) someRecord(skip map[*patient]bool) *record {
	for _, rec := range s.w.records {
		if !skip[rec.p] && len(rec.p.docs) > 0 {
			return rec
		}
	}
	return nil
}
