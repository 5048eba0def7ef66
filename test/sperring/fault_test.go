package sperring

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	mathrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"

	"kjdd/test/internal/harness"
	"kjdd/test/internal/redistest"
	"kjdd/test/testkit/pgtest"
)

// faultShape is a smaller world: the fault tests are about what happens
// around the requests, not how many there are.
var faultShape = shape{patients: 14, maxDocs: 10, nors: 0.2, patientBlocked: 0.1, hprBlocked: 0.35, docRecords: 0.15}

// sharedStore returns a KJDD_STORE several instances can share and a
// connection the test reaches it with: a PostgreSQL schema of its own when
// KJDD_TEST_POSTGRES_URL is set, else a SQLite file.
func sharedStore(t *testing.T) (dsn string, db *sql.DB, kind string) {
	t.Helper()
	if base := os.Getenv("KJDD_TEST_POSTGRES_URL"); base != "" {
		dsn := pgtest.Schema(t, base, "kjdd_sperring_")
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return dsn, db, "postgres"
	}
	path := filepath.Join(t.TempDir(), "kjdd.db")
	db, err := sql.Open("sqlite", path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return "sqlite:" + path, db, "sqlite"
}

// events reads kjdd_sperring_cache_events_total of n by event.
func events(t *testing.T, n *node) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for name, v := range metrics(t, n) {
		if ev, ok := strings.CutPrefix(name, `kjdd_sperring_cache_events_total{event="`); ok {
			out[strings.TrimSuffix(ev, `"}`)] = v
		}
	}
	return out
}

// metrics reads n's /metrics as name{labels} -> value.
func metrics(t *testing.T, n *node) map[string]float64 {
	t.Helper()
	rep, err := n.do(request{method: http.MethodGet, path: "/metrics"})
	if err != nil || rep.status != http.StatusOK {
		t.Fatalf("metrics of %s: %v HTTP %d", n.name, err, rep.status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(rep.body))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

func ready(n *node) int {
	rep, err := n.do(request{method: http.MethodGet, path: "/readyz"})
	if err != nil {
		return 0
	}
	return rep.status
}

// waitFor polls cond every 20 ms for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// faultWorld starts two instances sharing the store and rs, registers a
// world and its records, and returns the search over it.
func faultWorld(t *testing.T, rs *redistest.Server, dsn string) (*search, []*node, *mathrand.Rand) {
	t.Helper()
	seed := leakSeed(t)
	t.Logf("seed %d (replay with KJDD_LEAK_SEED=%d)", seed, seed)
	f := newFixture(t)
	shared := map[string]string{"KJDD_REDIS_URL": rs.URL(), "KJDD_MAX_RESULTS": strconv.Itoa(leakMaxResults), "KJDD_STORE": dsn}
	nodes := []*node{startNode(t, "a", f, "", shared), startNode(t, "b", f, "", shared)}
	r := mathrand.New(mathrand.NewPCG(seed, 0))
	w := newWorld(r, faultShape)
	w.register(t, f, nodes[0], r)
	for _, rec := range w.drawRecords(r, faultShape) {
		w.create(t, f, nodes[r.IntN(len(nodes))], rec)
	}
	return newSearch(w, f, nodes, nil, seed), nodes, r
}

// TestRedisOutage stops the test's redis-server under load: nothing
// leaks, answers come from the store (cache_error events), a change made
// during the outage is enforced by both instances at once; restarted, the
// cache is used again (hit events).
func TestRedisOutage(t *testing.T) {
	rs := redistest.New(t)
	dsn, _, kind := sharedStore(t)
	s, nodes, _ := faultWorld(t, rs, dsn)
	t.Logf("store: %s", kind)

	s.run(t, 1500, 1)
	before := map[string]map[string]float64{}
	for _, n := range nodes {
		before[n.name] = events(t, n)
		if before[n.name]["hit"] == 0 {
			t.Fatalf("%s: no cache hits with Redis up: %v", n.name, before[n.name])
		}
	}

	done := make(chan []string)
	go func() { done <- s.load(3000, 2) }()
	time.Sleep(300 * time.Millisecond)
	rs.Stop()
	stopped := time.Now()
	for _, f := range <-done {
		t.Error(f)
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("redis stopped under load: 3000 requests, no leak")
	for _, n := range nodes {
		ev := events(t, n)
		if ev["cache_error"] <= before[n.name]["cache_error"] {
			t.Errorf("%s: no store reads after cache errors with Redis down: before %v, after %v", n.name, before[n.name], ev)
		}
		if ev["store_error"] != 0 {
			t.Errorf("%s: store errors with the store up: %v", n.name, ev)
		}
		if st := ready(n); st != http.StatusOK {
			t.Errorf("%s: not ready with the store up and Redis down (HTTP %d)", n.name, st)
		}
		t.Logf("%s during the outage: %v", n.name, ev)
	}

	// A change while Redis is down: its write-through fails, every
	// instance reads the store, so it holds everywhere at once.
	p := s.d.patientWithDocs(mathrand.New(mathrand.NewPCG(1, 1)))
	s.w.create(t, s.d.f, nodes[0], &record{p: p, kind: "patient"})
	s.settle(t, []*patient{p})
	s.run(t, 1500, 3)

	rs.Restart()
	t.Logf("redis restarted after %s down", time.Since(stopped).Round(time.Millisecond))
	for _, n := range nodes {
		waitFor(t, 15*time.Second, n.name+" re-subscribed to sperring changes", func() bool {
			return metrics(t, n)["kjdd_sperring_cache_subscribed"] == 1
		})
	}
	// After a run of failed dials the Redis client dials again in the
	// background, once a second: a node may fail over to the store for
	// up to a second after Redis is back. Load (and leak-check) until
	// a batch passes without a cache error on any node.
	waitFor(t, 15*time.Second, "every node reads the cache without errors", func() bool {
		before := map[string]float64{}
		for _, n := range nodes {
			before[n.name] = events(t, n)["cache_error"]
		}
		s.run(t, 100, 4)
		for _, n := range nodes {
			if events(t, n)["cache_error"] > before[n.name] {
				return false
			}
		}
		return true
	})
	mid := map[string]map[string]float64{}
	for _, n := range nodes {
		mid[n.name] = events(t, n)
	}
	s.run(t, 1500, 4)
	for _, n := range nodes {
		ev := events(t, n)
		hits, misses := ev["hit"]-mid[n.name]["hit"], ev["miss"]-mid[n.name]["miss"]
		if hits <= misses {
			t.Errorf("%s: cache not used again after the restart: %.0f hits, %.0f misses", n.name, hits, misses)
		}
		t.Logf("%s after the restart: %.0f hits, %.0f misses (store reads), %.0f cache errors", n.name, hits, misses, ev["cache_error"]-mid[n.name]["cache_error"])
	}
}

// TestStoreAndCacheUnavailable takes Redis down and makes the store's
// sperring tables unreadable (renamed, while the registry stays up):
// requests are denied, never served, and readiness fails; put back, the
// instances serve again.
func TestStoreAndCacheUnavailable(t *testing.T) {
	rs := redistest.New(t)
	dsn, db, kind := sharedStore(t)
	s, nodes, r := faultWorld(t, rs, dsn)
	t.Logf("store: %s", kind)
	s.run(t, 600, 1)

	rs.Stop()
	rename := func(from, to string) {
		t.Helper()
		for _, table := range []string{"sperring_versions", "sperring_records"} {
			if _, err := db.ExecContext(context.Background(), "ALTER TABLE "+table+from+" RENAME TO "+table+to); err != nil {
				t.Fatalf("rename %s%s: %v", table, from, err)
			}
		}
	}
	rename("", "_away")
	for _, n := range nodes {
		waitFor(t, 10*time.Second, n.name+" not ready", func() bool { return ready(n) == http.StatusServiceUnavailable })
		// Until the instance sees its subscription gone it may still
		// answer from its in-process layer: a cache, and answers from a
		// cache are legitimate. Denial is what follows.
		waitFor(t, 10*time.Second, n.name+" dropped its in-process layer", func() bool {
			return metrics(t, n)["kjdd_sperring_cache_subscribed"] == 0
		})
	}

	denied, empty := 0, 0
	for i := range 800 {
		dr := s.d.next(r)
		n := nodes[i%len(nodes)]
		rep, err := n.do(dr.req)
		if err != nil {
			t.Fatal(err)
		}
		problems, wasDenied := s.w.checkDenied(dr, rep)
		for _, p := range problems {
			t.Errorf("%s %s on %s as %v: %s", dr.kind, dr.query, n.name, dr.r, p)
		}
		if wasDenied {
			denied++
		} else {
			empty++
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	t.Logf("store and cache unavailable: 800 requests, %d denied with an error, %d answered with no document (nothing to decide on); none served a document", denied, empty)
	for _, n := range nodes {
		t.Logf("%s: %v", n.name, events(t, n))
	}

	rename("_away", "")
	rs.Restart()
	for _, n := range nodes {
		waitFor(t, 10*time.Second, n.name+" ready again", func() bool { return ready(n) == http.StatusOK })
	}
	s.run(t, 600, 2)
}

// checkDenied checks an answer given while sperring cannot be decided: it
// must serve no document, and a request that would have listed or
// returned some must fail rather than pretend there are none. denied
// reports whether the answer was an error.
func (w *world) checkDenied(dr draw, rep reply) (problems []string, denied bool) {
	if rep.status != http.StatusOK && rep.status != http.StatusInternalServerError {
		return []string{fmt.Sprintf("HTTP %d", rep.status)}, false
	}
	for x := range w.referenced(rep.body, !dr.expect.retrieve) {
		problems = append(problems, "SERVED: the answer refers to "+x.uid)
	}
	status := responseStatus(rep.body)
	denied = status == "Failure" || len(errorCodes(rep.body)) > 0
	if dr.expect.retrieve {
		msg, err := harness.ParseMessage(rep.contentType, rep.body)
		if err != nil {
			return append(problems, "retrieve answer does not parse: "+err.Error()), denied
		}
		if docs, _ := msg.Documents(); len(docs) > 0 {
			problems = append(problems, fmt.Sprintf("SERVED: retrieve returned %d documents", len(docs)))
		}
		if len(dr.expect.want) > 0 && status != "Failure" {
			problems = append(problems, "a retrieve of visible documents did not fail: "+status)
		}
		return problems, denied
	}
	if dr.expect.exact && len(dr.expect.want) > 0 && !denied {
		problems = append(problems, fmt.Sprintf("a query that would list %d documents answered %s without an error", len(dr.expect.want), status))
	}
	return problems, denied
}
