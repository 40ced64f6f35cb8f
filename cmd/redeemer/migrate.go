package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"redeemer/store"
)

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		dsn, passwordFile string
		lf                logFlags
	)
	fs.StringVar(&dsn, "database-url", "", "PostgreSQL URL (required)")
	fs.StringVar(&passwordFile, "database-password-file", "", databasePasswordFileUsage)
	lf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	if dsn == "" {
		return errRequired("database-url")
	}
	if dsn, err = withDatabasePassword(dsn, passwordFile); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return errors.New("usage: redeemer migrate [--database-url URL] up|down|status|version")
	}
	switch rest[0] {
	case "up", "down", "status", "version":
	default:
		return fmt.Errorf("unknown migrate command %q: want up, down, status or version", rest[0])
	}
	return store.Migrate(ctx, log, dsn, rest[0], rest[1:]...)
}
