package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"redeemer/store/storetest"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// configTestFlags is a flag set shaped like a long-running command's.
type configTestFlags struct {
	fromFile, fromEnv, fromFlag, untouched string
	emptyByEnv                             string
	grace                                  time.Duration
	migrate                                bool
}

func newConfigTestFlags() (*flag.FlagSet, *configTestFlags) {
	var f configTestFlags
	fs := flag.NewFlagSet("cfgtest", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.fromFile, "cfgtest-a", "default-a", "")
	fs.StringVar(&f.fromEnv, "cfgtest-b", "default-b", "")
	fs.StringVar(&f.fromFlag, "cfgtest-c", "default-c", "")
	fs.StringVar(&f.untouched, "cfgtest-d", "default-d", "")
	fs.StringVar(&f.emptyByEnv, "cfgtest-e", "default-e", "")
	fs.DurationVar(&f.grace, "cfgtest-grace", time.Second, "")
	fs.BoolVar(&f.migrate, "cfgtest-migrate", false, "")
	registerConfigFlag(fs)
	return fs, &f
}

// One precedence for every setting: command line, then environment, then
// the config file, then the default.
func TestConfigFilePrecedence(t *testing.T) {
	cfg := writeFile(t, "redeemer.conf", `# settings as go-livepeer's -config file has them
cfgtest-a file-a
cfgtest-b file-b
-cfgtest-c file-c

cfgtest-e file-e
cfgtest-grace 1m30s   # a trailing comment
cfgtest-migrate
`)
	t.Setenv("REDEEMER_CFGTEST_B", "env-b")
	t.Setenv("REDEEMER_CFGTEST_C", "env-c")
	t.Setenv("REDEEMER_CFGTEST_E", "")
	t.Setenv("REDEEMER_CONFIG", cfg)
	fs, f := newConfigTestFlags()
	if err := parseFlags(fs, []string{"--cfgtest-c", "flag-c"}); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{"a": f.fromFile, "b": f.fromEnv, "c": f.fromFlag, "d": f.untouched, "e": f.emptyByEnv,
		"grace": f.grace, "migrate": f.migrate}
	want := map[string]any{"a": "file-a", "b": "env-b", "c": "flag-c", "d": "default-d", "e": "",
		"grace": 90 * time.Second, "migrate": true}
	for k := range want {
		if got[k] != want[k] {
			t.Errorf("%s = %v, want %v", k, got[k], want[k])
		}
	}

	// --config on the command line wins over REDEEMER_CONFIG, like any flag.
	other := writeFile(t, "other.conf", "cfgtest-a other-a\n")
	fs, f = newConfigTestFlags()
	if err := parseFlags(fs, []string{"--config", other}); err != nil {
		t.Fatal(err)
	}
	if f.fromFile != "other-a" {
		t.Errorf("with --config on the command line: a = %q, want other-a", f.fromFile)
	}
}

// A bad line is reported with the file and its line number.
func TestConfigFileBadLineNamesLine(t *testing.T) {
	cases := []struct {
		name, content string
		want          []string
	}{
		{"bad value", "cfgtest-a x\n# fine\ncfgtest-grace soon\n", []string{"line 3", "cfgtest-grace", `"soon"`}},
		{"unknown setting", "cfgtest-a x\ncfgtest-typo y\n", []string{"line 2", `unknown setting "cfgtest-typo"`}},
		{"nested config", "config other.conf\n", []string{"line 1", "cannot name another"}},
		{"bad boolean", "\n\ncfgtest-migrate sometimes\n", []string{"line 3", "cfgtest-migrate"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "redeemer.conf", tc.content)
			fs, _ := newConfigTestFlags()
			err := parseFlags(fs, []string{"--config", path})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(tc.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	fs, _ := newConfigTestFlags()
	missing := filepath.Join(t.TempDir(), "missing.conf")
	if err := parseFlags(fs, []string{"--config", missing}); err == nil || !strings.Contains(err.Error(), "--config") ||
		!errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v, want one naming --config and wrapping ErrNotExist", err)
	}
	// A bad value on the command line is not blamed on the file.
	path := writeFile(t, "redeemer.conf", "cfgtest-grace soon\n")
	fs, f := newConfigTestFlags()
	if err := parseFlags(fs, []string{"--config", path, "--cfgtest-grace", "2s"}); err != nil || f.grace != 2*time.Second {
		t.Errorf("a setting given on the command line still read from the file: grace %s, err %v", f.grace, err)
	}
}

// serve takes its settings from the file: only the one left out is missing.
func TestServeReadsConfigFile(t *testing.T) {
	cfg := writeFile(t, "redeemer.conf", strings.Join([]string{
		"database-url postgres://redeemer@db.example:5432/redeemer",
		"eth-url https://arbitrum.example",
		"controller 0xD8E8328501E9645d16Cf49539efC04f734606ee4",
		"recipient 0x00000000000000000000000000000000000000a1",
		"keystore /nonexistent/keystore.json",
	}, "\n"))
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"serve", "--config", cfg}, io.Discard, &stderr)
	if err == nil {
		t.Fatal("serve started without --password-file")
	}
	msg := err.Error()
	if !strings.Contains(msg, "--password-file") {
		t.Errorf("error does not name the missing --password-file: %v", err)
	}
	for _, given := range []string{"--database-url", "--eth-url", "--controller", "--recipient", "--keystore ("} {
		if strings.Contains(msg, given) {
			t.Errorf("error names %s, which the file sets: %v", given, err)
		}
	}
}

// The password file's content reaches the DSN the store is opened with,
// in both DSN forms, whatever characters it holds.
func TestDatabasePasswordFileReachesDSN(t *testing.T) {
	const pw = `p@ss w/rd:'quote'\back#`
	file := writeFile(t, "db-password", pw+"\n")
	for _, dsn := range []string{
		"postgres://redeemer@db.example:5432/redeemer?sslmode=require",
		"host=db.example user=redeemer dbname=redeemer",
	} {
		got, err := withDatabasePassword(dsn, file)
		if err != nil {
			t.Fatalf("%s: %v", dsn, err)
		}
		cfg, err := pgconn.ParseConfig(got)
		if err != nil {
			t.Fatalf("%s: the DSN with the password does not parse: %v", dsn, err)
		}
		if cfg.Password != pw || cfg.User != "redeemer" || cfg.Database != "redeemer" || cfg.Host != "db.example" {
			t.Errorf("%s: parsed user %q password %q database %q host %q; want redeemer, %q, redeemer, db.example",
				dsn, cfg.User, cfg.Password, cfg.Database, cfg.Host, pw)
		}
	}

	// Through serve's settings check, as runServe uses it.
	f := serveFlags{databaseURL: "postgres://redeemer@db.example/redeemer", databasePasswordFile: file}
	f.validate()
	if cfg, err := pgconn.ParseConfig(f.databaseURL); err != nil || cfg.Password != pw {
		t.Errorf("after validate the database URL is %q (err %v), want it to carry the password", f.databaseURL, err)
	}

	// A missing file is reported as such, not as a missing database URL.
	bad := serveFlags{databaseURL: "postgres://redeemer@db.example/redeemer",
		databasePasswordFile: filepath.Join(t.TempDir(), "missing")}
	if _, _, err := bad.validate(); err == nil || !strings.Contains(err.Error(), "--database-password-file") ||
		strings.Contains(err.Error(), "--database-url (or") {
		t.Errorf("serve with a missing password file: err = %v, want it named alone", err)
	}

	// Under systemd a relative path names a credential.
	t.Setenv("CREDENTIALS_DIRECTORY", filepath.Dir(file))
	if got, err := withDatabasePassword("postgres://u@h/d", "db-password"); err != nil || !strings.Contains(got, "p%40ss") {
		t.Errorf("credential by relative name: %q, %v", got, err)
	}

	for _, tc := range []struct {
		dsn, file, want string
	}{
		{"postgres://u:inline@h/d", file, "already holds a password"},
		{"host=h password=inline", file, "already holds a password"},
		{"postgres://u@h/d", writeFile(t, "empty", "\n"), "is empty"},
		{"postgres://u@h/d", filepath.Join(t.TempDir(), "missing"), "no such file"},
	} {
		_, err := withDatabasePassword(tc.dsn, tc.file)
		if err == nil || !strings.Contains(err.Error(), "--database-password-file") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s with %s: err = %v, want one naming --database-password-file: %s", tc.dsn, tc.file, err, tc.want)
		}
	}
}

// The audit and migrate commands take the password file too, against a
// real server.
func TestDatabasePasswordFileOnAuditAndMigrate(t *testing.T) {
	dsn := storetest.New(t)
	file := writeFile(t, "db-password", "any password: the test server trusts loopback\n")
	for _, args := range [][]string{
		{"senders", "--database-url", dsn, "--database-password-file", file},
		{"migrate", "--database-url", dsn, "--database-password-file", file, "version"},
	} {
		var stderr bytes.Buffer
		if err := run(context.Background(), args, io.Discard, &stderr); err != nil {
			t.Errorf("%v: %v\n%s", args, err, stderr.String())
		}
	}
	missing := filepath.Join(t.TempDir(), "missing")
	for _, args := range [][]string{
		{"txs", "--database-url", dsn, "--database-password-file", missing},
		{"migrate", "--database-url", dsn, "--database-password-file", missing, "version"},
	} {
		err := run(context.Background(), args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--database-password-file") {
			t.Errorf("%v: err = %v, want one naming --database-password-file", args, err)
		}
	}
}
