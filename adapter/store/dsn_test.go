package store

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseDSN(t *testing.T) {
	tests := map[string]struct {
		dsn     string
		dialect string
		memory  bool
		wantErr string
	}{
		"sqlite file":                {dsn: "sqlite:kjdd.db", dialect: "sqlite"},
		"sqlite absolute path":       {dsn: "sqlite:/var/lib/kjdd/kjdd.db", dialect: "sqlite"},
		"sqlite url form":            {dsn: "sqlite:///var/lib/kjdd/kjdd.db", dialect: "sqlite"},
		"sqlite memory":              {dsn: "sqlite::memory:", dialect: "sqlite", memory: true},
		"postgres":                   {dsn: "postgres://kjdd@db:5432/kjdd?sslmode=require", dialect: "postgres"},
		"postgresql":                 {dsn: "postgresql://kjdd@db/kjdd", dialect: "postgres"},
		"fail/empty":                 {dsn: "", wantErr: "unsupported store"},
		"fail/sqlite without path":   {dsn: "sqlite:", wantErr: "needs a file path"},
		"fail/sqlite with query":     {dsn: "sqlite:kjdd.db?_pragma=foo", wantErr: "plain file path"},
		"fail/sqlite uri":            {dsn: "sqlite:file:kjdd.db", wantErr: "plain file path"},
		"fail/mysql":                 {dsn: "mysql://root:secret@db/kjdd", wantErr: "unsupported store"},
		"fail/no scheme":             {dsn: "kjdd.db", wantErr: "unsupported store"},
		"fail/secret is not echoed":  {dsn: "redis://:hunter2@cache", wantErr: `"redis:"`},
		"fail/long scheme truncated": {dsn: strings.Repeat("x", 40) + ":y", wantErr: `"?:"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			loc, err := parseDSN(tc.dsn)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error echoes the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if loc.dialect.name() != tc.dialect || loc.memory != tc.memory {
				t.Fatalf("got dialect %s memory %v, want %s %v", loc.dialect.name(), loc.memory, tc.dialect, tc.memory)
			}
			if tc.dialect == "sqlite" && !strings.Contains(loc.source, "_txlock=immediate") {
				t.Fatalf("sqlite source %q lacks _txlock=immediate", loc.source)
			}
		})
	}
}

func FuzzParseDSN(f *testing.F) {
	for _, seed := range []string{
		"sqlite:kjdd.db", "sqlite::memory:", "sqlite:", "sqlite:a?b",
		"postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "postgresql://x", "mysql://u:p@h/d", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		loc, err := parseDSN(dsn)
		if err != nil {
			return
		}
		if loc.driver != "sqlite" && loc.driver != "pgx" {
			t.Fatalf("driver %q", loc.driver)
		}
		if loc.driver == "sqlite" && !loc.memory {
			// Exactly the one '?' we added: the operator's path cannot
			// smuggle driver parameters.
			if strings.Count(loc.source, "?") != 1 {
				t.Fatalf("source %q", loc.source)
			}
		}
	})
}

func TestRebindPostgres(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"no placeholders": {"SELECT 1", "SELECT 1"},
		"several":         {"SELECT ? , ?, (?)", "SELECT $1 , $2, ($3)"},
		"ten and more":    {placeholders(11), "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := (postgresDialect{}).rebind(tc.in); got != tc.want {
				t.Fatalf("rebind(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestDSNText: a DSN is checked when read and never prints a password.
func TestDSNText(t *testing.T) {
	tests := map[string]struct {
		in, printed string
		wantErr     bool
	}{
		"sqlite":             {in: "sqlite:kjdd.db", printed: "sqlite:kjdd.db"},
		"postgres":           {in: "postgres://kjdd@db/kjdd", printed: "postgres://kjdd@db/kjdd"},
		"postgres password":  {in: "postgres://kjdd:hunter2@db/kjdd", printed: "postgres://kjdd:xxxxx@db/kjdd"},
		"fail/mysql":         {in: "mysql://root:hunter2@db/kjdd", wantErr: true},
		"fail/sqlite:":       {in: "sqlite:", wantErr: true},
		"fail/postgres junk": {in: "postgres://kjdd:hunter2@db:port/kjdd", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var d DSN
			err := d.UnmarshalText([]byte(tc.in))
			if tc.wantErr {
				if err == nil {
					t.Fatal("accepted")
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error echoes the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, out := range []string{d.String(), fmt.Sprintf("%v", d), fmt.Sprintf("%#v", d)} {
				if !strings.Contains(out, tc.printed) || strings.Contains(out, "hunter2") {
					t.Errorf("printed %q, want %q", out, tc.printed)
				}
			}
			if string(d) != tc.in {
				t.Errorf("DSN %q, want the value as read", string(d))
			}
		})
	}
}
