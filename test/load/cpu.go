package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPU time, to say where a measurement's cycles went: kjdd runs in its own
// process, the load generator and the bare server in this one.

// clockTicks is the unit of /proc/PID/stat's times (USER_HZ), 100 on every
// Linux kjdd runs on.
const clockTicks = 100

// processCPU is the user and system CPU time process pid has used.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count fields after its closing one.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 { // state is field 3, utime 14, stime 15
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// selfCPU is the CPU time this process (load generator, bare server) has
// used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter measures the CPU time of this process and, if pid > 0, of a
// server process across a load.
type cpuMeter struct {
	pid          int
	self, server time.Duration
}

func startCPU(pid int) cpuMeter {
	m := cpuMeter{pid: pid, self: selfCPU()}
	if pid > 0 {
		m.server, _ = processCPU(pid)
	}
	return m
}

// stop returns the CPU time used since start: by this process and by the
// server (0 without one).
func (m cpuMeter) stop() (self, server time.Duration) {
	self = selfCPU() - m.self
	if m.pid > 0 {
		if s, err := processCPU(m.pid); err == nil {
			server = s - m.server
		}
	}
	return self, server
}
