package main

import (
	"runtime/debug"
	"strings"
)

// version is the module version and the VCS revision this binary was
// built from, as the go command stamped them (go build in a git checkout
// does; -buildvcs=false or a build outside one leaves them out).
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(no build information)"
	}
	parts := []string{info.Main.Version}
	if info.Main.Version == "" {
		parts[0] = "(devel)"
	}
	var rev, when string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" {
		r := "revision " + rev
		if modified {
			r += " (modified)"
		}
		if when != "" {
			r += " " + when
		}
		parts = append(parts, r)
	} else {
		parts = append(parts, "revision unknown")
	}
	parts = append(parts, info.GoVersion)
	return strings.Join(parts, ", ")
}
