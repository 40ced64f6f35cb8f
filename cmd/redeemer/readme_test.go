package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"redeemer/monitor"
	"redeemer/store/storetest"
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
// to the next heading of the same or a higher level; lines in code blocks
// (a "# comment" in a shell example) are no headings.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	level := strings.Index(heading, " ")
	var out []string
	in, fenced := false, false
	for line := range strings.SplitSeq(string(readme), "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if !fenced && strings.HasPrefix(line, "#") {
			hashes := len(line) - len(strings.TrimLeft(line, "#"))
			if line == heading {
				in = true
			} else if in && hashes <= level && strings.HasPrefix(line[hashes:], " ") {
				break
			}
		}
		if in {
			out = append(out, line)
		}
	}
	if len(out) == 0 {
		t.Fatalf("README has no %q section", heading)
	}
	return strings.Join(out, "\n")
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

// README's configuration table lists every flag of serve, dev, migrate
// and healthcheck with the commands that take it, and nothing else; and
// every flag in --help names its REDEEMER_* variable.
func TestReadmeConfigurationTableMatchesHelp(t *testing.T) {
	section := readmeSection(t, "### Configuration")
	commands := []string{"serve", "dev", "migrate", "healthcheck"}
	inTable := map[string]map[string]bool{} // command -> flag
	for _, c := range commands {
		inTable[c] = map[string]bool{}
	}
	flagName := regexp.MustCompile("`--([a-z0-9-]+)`")
	rows := 0
	for line := range strings.SplitSeq(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.Contains(cells[1], "`--") {
			continue
		}
		rows++
		for _, c := range strings.Split(cells[2], ",") {
			c = strings.TrimSpace(c)
			if inTable[c] == nil {
				t.Errorf("README row %q names command %q, which the table does not cover", strings.TrimSpace(cells[1]), c)
				continue
			}
			for _, m := range flagName.FindAllStringSubmatch(cells[1], -1) {
				inTable[c][m[1]] = true
			}
		}
	}
	if rows < 20 {
		t.Fatalf("found %d rows in README's configuration table; the parser is looking at the wrong thing", rows)
	}
	for _, c := range commands {
		help := helpFlags(t, c)
		var missing, extra []string
		for name, env := range help {
			if env != envName(name) {
				t.Errorf("%s --help: --%s names $%s, want $%s", c, name, env, envName(name))
			}
			if !inTable[c][name] {
				missing = append(missing, name)
			}
		}
		for name := range inTable[c] {
			if _, ok := help[name]; !ok {
				extra = append(extra, name)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing) > 0 {
			t.Errorf("README's configuration table lacks these flags of %s: %s", c, strings.Join(missing, ", "))
		}
		if len(extra) > 0 {
			t.Errorf("README's configuration table lists flags %s does not have: %s", c, strings.Join(extra, ", "))
		}
	}
}

// README's metric list names every redeemer_* metric the service
// registers, and no other.
func TestReadmeListsEveryMetric(t *testing.T) {
	section := readmeSection(t, "## Metrics and health")
	start := strings.Index(section, "- `/metrics`")
	end := strings.Index(section, "\nLogs go to stderr")
	if start < 0 || end < start {
		t.Fatal("README's metrics list not found")
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("`(redeemer_[a-z_]+)").FindAllStringSubmatch(section[start:end], -1) {
		listed[m[1]] = true
	}

	st := storetest.NewStore(t)
	discard := slog.New(slog.DiscardHandler)
	f := serviceFlags{ethTimeout: time.Second, dbTimeout: 5 * time.Second}
	o, err := newOps(discard, st, &f)
	if err != nil {
		t.Fatal(err)
	}
	o.setNode(fixedHeads{})
	fl := &floats{hub: monitor.NewHub(st, monitor.HubOptions{Logger: discard})}
	if err := fl.registerMetrics(o); err != nil {
		t.Fatal(err)
	}
	// Labelled series appear once they have a value.
	o.intake.rejected.WithLabelValues("sig")
	o.queue.AccountBalanceWei.WithLabelValues("0x01")
	o.queue.AccountRedemptionsLeft.WithLabelValues("0x01")
	registered := map[string]bool{}
	families, err := o.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		registered[mf.GetName()] = true
	}
	// The leader-only gauges of the scrape-time collector, from their
	// descriptions.
	descs := make(chan *prometheus.Desc, 64)
	newOpsCollector(o).Describe(descs)
	close(descs)
	fqName := regexp.MustCompile(`fqName: "([a-z_]+)"`)
	for d := range descs {
		m := fqName.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("no name in %s", d)
		}
		registered[m[1]] = true
	}

	var missing, stale []string
	for name := range registered {
		if strings.HasPrefix(name, "redeemer_") && !listed[name] {
			missing = append(missing, name)
		}
	}
	for name := range listed {
		if !registered[name] {
			stale = append(stale, name)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("README's metric list lacks %s", strings.Join(missing, ", "))
	}
	if len(stale) > 0 {
		t.Errorf("README lists metrics the service does not have: %s", strings.Join(stale, ", "))
	}
	if len(listed) < 30 {
		t.Errorf("only %d metrics found in README's list; the parser is looking at the wrong thing", len(listed))
	}
}
