package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Identifiers every test server is configured with.
const (
	HomeCommunityID    = "2.16.578.1.12.4.5.100.1"
	RepositoryUniqueID = "2.16.578.1.12.4.5.100.1.2"
	// HospitalOrgNumber is a valid organisation number (Finnmarkssykehuset
	// HF, as in NHN's PJD test data).
	HospitalOrgNumber = "983974880"
)

// newAuditKey is a fresh KJDD_AUDIT_KEY: base64 of 32 random bytes.
func newAuditKey() string {
	var k [32]byte
	_, _ = rand.Read(k[:])
	return base64.StdEncoding.EncodeToString(k[:])
}

// Options configures a kjdd process. Env entries are added to (and
// override) the defaults; an entry with an empty value removes a default.
// Headers are sent with every request the Server makes, so that later
// issues can add credentials without changing the tests' calls.
type Options struct {
	Env     map[string]string
	Headers http.Header
	// Dir holds the store and anything else of this process; a fresh
	// temporary directory when empty.
	Dir string
	// ReadyTimeout bounds the wait for GET /readyz (default 30s).
	ReadyTimeout time.Duration
	// Identity is the fake HelseID Start configures kjdd to trust; a fresh
	// one when nil. Pass one Identity to several servers to make them
	// instances of one deployment. Launch ignores it (see Identity.Env).
	Identity *Identity
	// Auth is what credentials Start's Server attaches (default AuthAuto).
	Auth Auth
}

// Process is a running `kjdd serve`.
type Process struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234.
	URL string
	// Addr is host:port of the listener.
	Addr string
	// Dir is the process' directory; DBPath the SQLite store in it.
	Dir    string
	DBPath string
	// PID is the operating-system process id (for /proc RSS readings).
	PID int

	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	logs    *logBuffer
	once    sync.Once
}

// Launch starts bin as `kjdd serve` with opts and waits until it is ready.
func Launch(bin string, opts Options) (*Process, error) {
	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "kjdd-run-")
		if err != nil {
			return nil, err
		}
		dir = d
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	db := filepath.Join(dir, "kjdd.db")
	env := map[string]string{
		"KJDD_LISTEN":               addr,
		"KJDD_STORE":                "sqlite:" + db,
		"KJDD_HOME_COMMUNITY_ID":    HomeCommunityID,
		"KJDD_REPOSITORY_UNIQUE_ID": RepositoryUniqueID,
		"KJDD_HOSPITAL_ORGNR":       HospitalOrgNumber,
		"KJDD_AUDIT_KEY":            newAuditKey(),
		// The URL clients call, which DPoP proofs name.
		"KJDD_PUBLIC_URL": "http://" + addr,
	}
	for k, v := range opts.Env {
		if v == "" {
			delete(env, k)
			continue
		}
		env[k] = v
	}
	p := &Process{
		URL: "http://" + addr, Addr: addr, Dir: dir, DBPath: db,
		logs: &logBuffer{limit: 4 << 20},
		done: make(chan struct{}),
	}
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = processEnv(env)
	cmd.Stdout = p.logs
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start kjdd: %w", err)
	}
	p.cmd, p.PID = cmd, cmd.Process.Pid
	go func() { p.waitErr = cmd.Wait(); close(p.done) }()
	timeout := opts.ReadyTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	if err := p.waitReady(timeout); err != nil {
		_ = p.Stop()
		return nil, fmt.Errorf("%w\nkjdd output:\n%s", err, p.Logs())
	}
	return p, nil
}

// processEnv is the parent environment without any KJDD_ or OTEL_
// variable (a developer's shell must not change what tests run against),
// plus env.
func processEnv(env map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KJDD_") || strings.HasPrefix(kv, "OTEL_") {
			continue
		}
		out = append(out, kv)
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+env[k])
	}
	return out
}

func (p *Process) waitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("kjdd exited before it was ready: %v", p.waitErr)
		default:
		}
		resp, err := client.Get(p.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("kjdd not ready within %s", timeout)
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM, waits up to 15s for a graceful exit (then kills) and
// returns an error unless the process exited cleanly.
func (p *Process) Stop() error {
	var err error
	p.once.Do(func() {
		if p.Exited() {
			err = exitError(p.waitErr)
			return
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
			err = exitError(p.waitErr)
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			err = errors.New("kjdd did not stop within 15s of SIGTERM; killed")
		}
	})
	return err
}

func exitError(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("kjdd exit: %w", err)
}

// Logs returns what the process wrote to stdout and stderr so far.
func (p *Process) Logs() string { return p.logs.String() }

// Context returns a context that is cancelled when the process exits.
func (p *Process) Context() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-p.done; cancel() }()
	return ctx
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// logBuffer keeps the first limit bytes of output and counts the rest, so a
// chatty server cannot exhaust the test's memory.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	limit   int
	dropped int
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	room := l.limit - l.buf.Len()
	switch {
	case room >= len(p):
		l.buf.Write(p)
	case room > 0:
		l.buf.Write(p[:room])
		l.dropped += len(p) - room
	default:
		l.dropped += len(p)
	}
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	if l.dropped > 0 {
		s += fmt.Sprintf("\n... %d bytes of output dropped", l.dropped)
	}
	return s
}
