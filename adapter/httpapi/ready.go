package httpapi

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// ReadyCheck is one dependency /readyz asks about.
type ReadyCheck struct {
	// Name is what /readyz reports when the check fails: a dependency's
	// name, never its address or the error, which go to the log only.
	Name  string
	Check func(ctx context.Context) error
	// Degraded marks a dependency whose failure is reported but keeps the
	// instance ready, because requests are still answered correctly
	// without it (Redis: sperring reads the store meanwhile).
	Degraded bool
}

// readyTimeout bounds all checks of one /readyz together.
const readyTimeout = 2 * time.Second

// readyz answers 200 {"status":"ready"} when every check passes, 200
// {"status":"degraded","failing":[…]} when only degraded ones fail, and
// 503 {"status":"unavailable","failing":[…]} otherwise. The checks run at
// once, so that one hanging dependency does not make the others look
// failed.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	errs := make([]error, len(s.ready))
	var wg sync.WaitGroup
	for i, rc := range s.ready {
		wg.Go(func() { errs[i] = rc.Check(ctx) })
	}
	wg.Wait()
	status, state, failing := http.StatusOK, "ready", []string{}
	for i, rc := range s.ready {
		if errs[i] == nil {
			continue
		}
		s.log.Warn("not ready", "check", rc.Name, "err", errs[i])
		failing = append(failing, rc.Name)
		if rc.Degraded {
			if status == http.StatusOK {
				state = "degraded"
			}
			continue
		}
		status, state = http.StatusServiceUnavailable, "unavailable"
	}
	if len(failing) == 0 {
		c.JSON(status, gin.H{"status": state})
		return
	}
	c.JSON(status, gin.H{"status": state, "failing": failing})
}
