package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/peterbourgon/ff/v3"
)

// configFlag names the settings file of the long-running commands. Its
// format is go-livepeer's -config file: one `flag value` per line, `#`
// comments, a flag alone on its line meaning true.
const configFlag = "config"

func registerConfigFlag(fs *flag.FlagSet) {
	fs.String(configFlag, "", "file of settings, one `flag value` per line as in go-livepeer's -config file; the command line and REDEEMER_* variables win over it")
}

// parseFlags parses args, then fills every flag not given on the command line
// from its REDEEMER_* variable, then every flag still unset from the --config
// file if the command has one: command line > environment > file > default.
// Containers and systemd units need no flags.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: redeemer %s [flags]\n\n", fs.Name())
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" {
				def = fmt.Sprintf(" (default %q)", f.DefValue)
			}
			fmt.Fprintf(fs.Output(), "  --%s  [$%s]%s\n      %s\n", f.Name, envName(f.Name), def, f.Usage)
		})
		if fs.Lookup(configFlag) != nil {
			fmt.Fprintln(fs.Output(), "\nA setting comes from the command line, else $REDEEMER_<FLAG>, else the --config file, else its default.")
		}
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		// LookupEnv, not a non-empty test: an empty variable is a setting
		// too (REDEEMER_METRICS_ADDR= turns the endpoints off).
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			set[f.Name] = true
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", envName(f.Name), err))
			}
		}
	})
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if cf := fs.Lookup(configFlag); cf != nil && cf.Value.String() != "" {
		return readConfigFile(fs, cf.Value.String(), set)
	}
	return nil
}

// readConfigFile sets the flags named in the file at path that are not in
// set already. Each line goes through ff's plain-text parser on its own, so
// an error can name the line it is on.
func readConfigFile(fs *flag.FlagSet, path string, set map[string]bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("--%s: %w", configFlag, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		err := ff.PlainParser(strings.NewReader(sc.Text()), func(name, value string) error {
			name = strings.TrimLeft(name, "-")
			switch {
			case name == configFlag:
				return errors.New("a config file cannot name another one")
			case fs.Lookup(name) == nil:
				return fmt.Errorf("unknown setting %q (`redeemer %s --help` lists them)", name, fs.Name())
			case set[name]:
				return nil
			}
			// Only typed flags (numbers, durations, booleans) refuse a value,
			// so quoting it shows no secret.
			if err := fs.Set(name, value); err != nil {
				return fmt.Errorf("%s %q: %w", name, value, err)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("--%s %s line %d: %w", configFlag, path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("--%s %s: %w", configFlag, path, err)
	}
	return nil
}

// secretPath resolves a secret file's path. Under systemd, LoadCredential=
// puts secrets in $CREDENTIALS_DIRECTORY, whose path is only known at run
// time; a relative path names a credential there. Elsewhere paths are taken
// as given.
func secretPath(path string) string {
	if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" && path != "" && !filepath.IsAbs(path) {
		return filepath.Join(dir, path)
	}
	return path
}

// readSecret reads a one-line secret file (a password) without its trailing
// line breaks, so a file written by echo works. The path may name a systemd
// credential (see secretPath).
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(secretPath(path))
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

const databasePasswordFileUsage = "file holding the database password, put into --database-url so the URL need not hold it " +
	"(trailing newline ignored; a relative path under systemd names a credential in $CREDENTIALS_DIRECTORY)"

// passwordKeyword finds a password in a keyword/value DSN.
var passwordKeyword = regexp.MustCompile(`(^|\s)password\s*=`)

// withDatabasePassword puts the password held in passwordFile into dsn, a
// PostgreSQL URL or keyword/value string, so the password need not be
// written into the URL, where it shows in process listings and unit files.
// An empty passwordFile leaves dsn as it is.
func withDatabasePassword(dsn, passwordFile string) (string, error) {
	if passwordFile == "" || dsn == "" {
		return dsn, nil
	}
	const setting = "database-password-file"
	pw, err := readSecret(passwordFile)
	if err != nil {
		return "", fmt.Errorf("--%s: %w", setting, err)
	}
	if pw == "" {
		return "", fmt.Errorf("--%s %s is empty", setting, passwordFile)
	}
	errTwice := fmt.Errorf("--%s: --database-url already holds a password; give it in one place only", setting)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, perr := url.Parse(dsn)
		if perr != nil {
			// url's error would repeat the URL, and with it whatever
			// credentials it holds.
			return "", errors.New("--database-url is not a valid URL")
		}
		if _, has := u.User.Password(); has {
			return "", errTwice
		}
		u.User = url.UserPassword(u.User.Username(), pw)
		return u.String(), nil
	}
	if passwordKeyword.MatchString(dsn) {
		return "", errTwice
	}
	quoted := strings.ReplaceAll(strings.ReplaceAll(pw, `\`, `\\`), `'`, `\'`)
	return strings.TrimSpace(dsn) + " password='" + quoted + "'", nil
}
