package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/jackc/pgx/v5"
)

// helpFlags runs `redeemer <command> --help` and returns each flag it
// lists with the environment variable it names.
func helpFlags(t *testing.T, command ...string) map[string]string {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append(command, "--help"), io.Discard, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("%v --help: err = %v, want flag.ErrHelp", command, err)
	}
	flags := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^  --([a-z0-9-]+)  \[\$([A-Z0-9_]+)\]`).FindAllStringSubmatch(out.String(), -1) {
		flags[m[1]] = m[2]
	}
	if len(flags) == 0 {
		t.Fatalf("%v --help lists no flags:\n%s", command, out.String())
	}
	return flags
}

// readmeSection returns the README's section that starts with heading, up
// to the next heading of the same or a higher level.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	start := strings.Index(s, "\n"+heading+"\n")
	if start < 0 {
		t.Fatalf("README has no %q section", heading)
	}
	s = s[start+1:]
	level := strings.Index(heading, " ")
	next := regexp.MustCompile(`(?m)^#{1,` + string(rune('0'+level)) + `} `)
	if loc := next.FindStringIndex(s[len(heading):]); loc != nil {
		s = s[:len(heading)+loc[0]]
	}
	return s
}

// The queries in README's "Auditing with SQL" run as written, and those
// that look a sender up by its checksummed address find it.
func TestReadmeAuditQueriesRun(t *testing.T) {
	ctx := context.Background()
	section := readmeSection(t, "## Auditing with SQL")
	seed := newAuditSeed(t, ctx)

	const example = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"
	if common.HexToAddress(example).Hex() != example {
		t.Fatalf("README's example address %s is not EIP-55 checksummed", example)
	}
	nt := auditTicket(0xe0, common.HexToAddress(example), 7)
	if _, err := seed.st.InsertTicket(ctx, nt); err != nil {
		t.Fatal(err)
	}

	conn, err := pgx.Connect(ctx, seed.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var statements []string
	for _, block := range regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(section, -1) {
		var sql []string
		for line := range strings.SplitSeq(block[1], "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "--") {
				sql = append(sql, line)
			}
		}
		for st := range strings.SplitSeq(strings.Join(sql, "\n"), ";") {
			if st = strings.TrimSpace(st); st != "" {
				statements = append(statements, st)
			}
		}
	}
	if len(statements) < 8 {
		t.Fatalf("found %d statements in the section; the parser is looking at the wrong thing", len(statements))
	}
	lookups := 0
	for _, st := range statements {
		rows, err := conn.Query(ctx, st)
		if err != nil {
			t.Errorf("%s\n: %v", st, err)
			continue
		}
		n := 0
		var first any
		for rows.Next() {
			if n == 0 {
				vals, err := rows.Values()
				if err != nil {
					t.Fatal(err)
				}
				first = vals[0]
			}
			n++
		}
		if err := rows.Err(); err != nil {
			t.Errorf("%s\n: %v", st, err)
			continue
		}
		if !strings.Contains(st, example) {
			continue
		}
		lookups++
		if n == 0 || strings.Contains(st, "count(*)") && first != int64(1) {
			t.Errorf("%s\nfound %d rows (first column %v); want the example sender's one queued ticket", st, n, first)
		}
	}
	if lookups < 3 {
		t.Errorf("%d queries look up the example address; the README shows it on a table, a view and sender_summary", lookups)
	}
}
