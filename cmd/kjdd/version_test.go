package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVersionFromBuildInfo builds kjdd in a git checkout and wants
// `kjdd version` and `kjdd --version` to print the module version and the
// revision the go command stamped. The checkout is a fresh repository of
// this tree's files: go does not stamp builds in a linked git worktree
// (golang/go#58218), which is where this test may well run.
func TestVersionFromBuildInfo(t *testing.T) {
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=kjdd test", "GIT_AUTHOR_EMAIL=test@kjdd.invalid",
			"GIT_COMMITTER_NAME=kjdd test", "GIT_COMMITTER_EMAIL=test@kjdd.invalid")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	root := git(".", "rev-parse", "--show-toplevel")
	repo := t.TempDir()
	for _, name := range strings.Split(git(root, "ls-files", "-co", "--exclude-standard"), "\n") {
		data, err := os.ReadFile(filepath.Join(root, name))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(repo, "init", "-q")
	git(repo, "add", "-A")
	git(repo, "commit", "-q", "-m", "version test")
	rev := git(repo, "rev-parse", "HEAD")

	bin := filepath.Join(t.TempDir(), "kjdd")
	// -buildvcs=true on the command line: it overrides a GOFLAGS that
	// switches stamping off, and fails rather than build without it.
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/kjdd")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// Go stamps a pseudo-version from the commit when no tag names it.
	want := regexp.MustCompile(`^kjdd v0\.0\.0-\d{14}-` + rev[:12] + `, revision ` + rev + ` \S+, go1\.\S+\n$`)
	for _, arg := range []string{"version", "--version"} {
		t.Run(arg, func(t *testing.T) {
			out, err := exec.Command(bin, arg).Output()
			if err != nil {
				t.Fatalf("kjdd %s: %v", arg, err)
			}
			if !want.Match(out) {
				t.Fatalf("kjdd %s printed %q, want the module version and revision %s", arg, out, rev)
			}
		})
	}
}
