package health

import (
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"kjdd/test/internal/harness"
	"kjdd/test/internal/redistest"
)

func TestMain(m *testing.M) { os.Exit(harness.Run(m)) }

type readiness struct {
	code    int
	Status  string
	Failing []string
}

func readyz(t *testing.T, srv *harness.Server) readiness {
	t.Helper()
	code, body := srv.Get(t, "/readyz")
	r := readiness{code: code}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("/readyz body: %v: %s", err, body)
	}
	return r
}

// TestReadyzNamesRedis runs kjdd against a real redis-server and changes
// Redis step by step: /readyz names redis while it is down, and only
// degrades (sperring reads the store meanwhile, as test/sperring's
// TestRedisOutage requires); without KJDD_REDIS_URL there is no redis
// check at all.
func TestReadyzNamesRedis(t *testing.T) {
	rs := redistest.New(t)
	withRedis := harness.Start(t, harness.Options{Env: map[string]string{"KJDD_REDIS_URL": rs.URL()}})
	withoutRedis := harness.Start(t, harness.Options{})
	steps := []struct {
		name   string
		srv    *harness.Server
		change func()
		want   readiness
	}{
		{name: "without KJDD_REDIS_URL", srv: withoutRedis, want: readiness{code: http.StatusOK, Status: "ready"}},
		{name: "redis up", srv: withRedis, want: readiness{code: http.StatusOK, Status: "ready"}},
		{name: "redis stopped", srv: withRedis, change: rs.Stop,
			want: readiness{code: http.StatusOK, Status: "degraded", Failing: []string{"redis"}}},
		{name: "redis stopped, the other instance", srv: withoutRedis, want: readiness{code: http.StatusOK, Status: "ready"}},
		{name: "redis restarted", srv: withRedis, change: rs.Restart, want: readiness{code: http.StatusOK, Status: "ready"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.change != nil {
				st.change()
			}
			// The Redis client notices a stop or a restart within a
			// dial or two; poll until the answer settles.
			var got readiness
			deadline := time.Now().Add(10 * time.Second)
			for {
				got = readyz(t, st.srv)
				if got.code == st.want.code && got.Status == st.want.Status && slices.Equal(got.Failing, st.want.Failing) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("/readyz HTTP %d %q failing %v, want HTTP %d %q failing %v",
						got.code, got.Status, got.Failing, st.want.code, st.want.Status, st.want.Failing)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if st.want.Failing != nil {
				// The log line is written as the answer goes out and read
				// from the process's output a moment later.
				logged := false
				for wait := time.Now().Add(5 * time.Second); !logged && time.Now().Before(wait); time.Sleep(20 * time.Millisecond) {
					logged = strings.Contains(st.srv.Logs(), `"check":"redis"`)
				}
				if !logged {
					t.Errorf("the failing check is not logged by name")
				}
			}
		})
	}
}
