package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The deploy files are checked here as far as this machine can: no Docker
// engine or systemd runs, so the files are parsed and cross-checked against
// each other and the binary, and systemd's own analyzer reads the unit.

const repoRoot = "../.."

func readRepoFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dockerfile holds the instructions of the final stage, by keyword.
func dockerfile(t *testing.T) map[string][]string {
	t.Helper()
	var joined []string
	cont := ""
	for line := range strings.SplitSeq(string(readRepoFile(t, "Dockerfile")), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cont += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		joined = append(joined, cont+line)
		cont = ""
	}
	inst := map[string][]string{}
	for _, l := range joined {
		kw, rest, _ := strings.Cut(strings.TrimSpace(l), " ")
		if kw == "" {
			continue
		}
		if kw == "FROM" {
			inst = map[string][]string{} // only the last stage ships
		}
		inst[kw] = append(inst[kw], strings.TrimSpace(rest))
	}
	return inst
}

func TestDockerfileHealthcheckAndMetrics(t *testing.T) {
	inst := dockerfile(t)
	if len(inst["HEALTHCHECK"]) != 1 {
		t.Fatalf("HEALTHCHECK instructions %q, want one", inst["HEALTHCHECK"])
	}
	_, cmd, ok := strings.Cut(inst["HEALTHCHECK"][0], "CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK %q has no CMD", inst["HEALTHCHECK"][0])
	}
	var argv []string
	if err := json.Unmarshal([]byte(cmd), &argv); err != nil {
		t.Fatalf("HEALTHCHECK CMD %q is not the exec (JSON) form, which distroless needs (no shell): %v", cmd, err)
	}
	var entry []string
	if len(inst["ENTRYPOINT"]) != 1 || json.Unmarshal([]byte(inst["ENTRYPOINT"][0]), &entry) != nil || len(entry) != 1 {
		t.Fatalf("ENTRYPOINT %q, want the binary in exec form", inst["ENTRYPOINT"])
	}
	if len(argv) < 2 || argv[0] != entry[0] || argv[1] != "healthcheck" {
		t.Fatalf("HEALTHCHECK runs %q, want %s healthcheck", argv, entry[0])
	}
	env := map[string]string{}
	for _, e := range inst["ENV"] {
		k, v, _ := strings.Cut(e, "=")
		env[k] = v
	}
	if env["REDEEMER_METRICS_ADDR"] != "0.0.0.0:9102" {
		t.Errorf("ENV REDEEMER_METRICS_ADDR = %q, want 0.0.0.0:9102", env["REDEEMER_METRICS_ADDR"])
	}
	exposed := strings.Fields(strings.Join(inst["EXPOSE"], " "))
	for _, port := range []string{"8935", "9102"} {
		if !strings.Contains(" "+strings.Join(exposed, " ")+" ", " "+port+" ") {
			t.Errorf("EXPOSE %v lacks %s", exposed, port)
		}
	}

	// The HEALTHCHECK's own arguments, run as the image would run them
	// (with the image's metrics address, here on a test port): 200 passes,
	// 503 fails.
	for _, code := range []int{http.StatusOK, http.StatusServiceUnavailable} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
			fmt.Fprintln(w, http.StatusText(code))
		}))
		_, port, _ := strings.Cut(srv.Listener.Addr().String(), ":")
		t.Setenv("REDEEMER_METRICS_ADDR", "0.0.0.0:"+port)
		err := run(context.Background(), argv[1:], io.Discard, io.Discard)
		srv.Close()
		if (err == nil) != (code == http.StatusOK) {
			t.Errorf("HEALTHCHECK %q against %d: err = %v", argv, code, err)
		}
	}
}

// dockerIgnored approximates Docker's matching for the simple patterns the
// project uses: a path is ignored when a pattern matches it or one of its
// parent directories.
func dockerIgnored(patterns []string, path string) bool {
	for _, p := range patterns {
		p = strings.TrimSuffix(p, "/")
		for sub := path; sub != "."; sub = filepath.Dir(sub) {
			if ok, _ := filepath.Match(p, sub); ok {
				return true
			}
			if ok, _ := filepath.Match(p, filepath.Base(sub)); ok && !strings.Contains(p, "/") && strings.HasPrefix(p, "*") {
				return true
			}
		}
	}
	return false
}

func TestDockerignore(t *testing.T) {
	var patterns []string
	sc := bufio.NewScanner(bytes.NewReader(readRepoFile(t, ".dockerignore")))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	for _, must := range []string{".git", "redeemer-data", "bin", "x.test", "bench.out", "redeemer-dev.json",
		"chain/contracts/node_modules", "deploy/secrets/keystore.json"} {
		if !dockerIgnored(patterns, must) {
			t.Errorf(".dockerignore does not leave out %s", must)
		}
	}
	// Nothing the build needs is left out.
	out, err := exec.Command("git", "-C", repoRoot, "ls-files").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (the check needs the repository's file list)", err)
	}
	needed := 0
	for f := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if f == "go.mod" || f == "go.sum" || strings.HasSuffix(f, ".go") || strings.HasPrefix(f, "migrations/") ||
			strings.HasPrefix(f, "chain/contracts/") {
			needed++
			if dockerIgnored(patterns, f) {
				t.Errorf(".dockerignore leaves out %s, which the build needs", f)
			}
		}
	}
	if needed < 50 {
		t.Errorf("only %d files checked; the file list looks wrong", needed)
	}
}

// composeFile is the part of the compose schema the file uses; decoding
// with KnownFields catches a misspelt key.
type composeFile struct {
	Name     string `yaml:"name"`
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       map[string]string `yaml:"build"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Secrets     []string          `yaml:"secrets"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
		DependsOn   any               `yaml:"depends_on"`
		Healthcheck struct {
			Test     []string `yaml:"test"`
			Interval string   `yaml:"interval"`
			Timeout  string   `yaml:"timeout"`
			Retries  int      `yaml:"retries"`
		} `yaml:"healthcheck"`
		StopGracePeriod string `yaml:"stop_grace_period"`
		Restart         string `yaml:"restart"`
	} `yaml:"services"`
	Secrets map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
	Volumes map[string]any `yaml:"volumes"`
}

func TestComposeFile(t *testing.T) {
	var c composeFile
	dec := yaml.NewDecoder(bytes.NewReader(readRepoFile(t, "deploy/compose.yaml")))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("deploy/compose.yaml: %v", err)
	}
	for _, name := range []string{"postgres", "redeemer", "prometheus"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("compose has no %s service", name)
		}
	}
	r := c.Services["redeemer"]
	if ctx := r.Build["context"]; ctx == "" {
		t.Error("the redeemer service is not built from the repository")
	} else if _, err := os.Stat(filepath.Join(repoRoot, "deploy", ctx, "Dockerfile")); err != nil {
		t.Errorf("build context %s holds no Dockerfile: %v", ctx, err)
	}

	// Every setting it passes is a serve flag, and the node is the
	// operator's to name.
	serve := helpFlags(t, "serve")
	known := map[string]bool{}
	for _, env := range serve {
		known[env] = true
	}
	for k := range r.Environment {
		if !known[k] {
			t.Errorf("compose sets %s, which is no flag of serve", k)
		}
	}
	for _, k := range []string{"REDEEMER_ETH_URL", "REDEEMER_CONTROLLER", "REDEEMER_RECIPIENT"} {
		if !strings.HasPrefix(r.Environment[k], "${"+k+":?") {
			t.Errorf("%s = %q, want it required from the operator's environment (${%s:?…})", k, r.Environment[k], k)
		}
	}
	for _, k := range []string{"REDEEMER_DATABASE_PASSWORD_FILE", "REDEEMER_PASSWORD_FILE", "REDEEMER_KEYSTORE"} {
		name := strings.TrimPrefix(r.Environment[k], "/run/secrets/")
		if _, ok := c.Secrets[name]; !ok || !containsString(r.Secrets, name) {
			t.Errorf("%s = %q is not a secret given to the service", k, r.Environment[k])
		}
	}
	if !strings.Contains(r.Environment["REDEEMER_DATABASE_URL"], "@postgres:5432/") {
		t.Errorf("REDEEMER_DATABASE_URL %q does not point at the postgres service", r.Environment["REDEEMER_DATABASE_URL"])
	}
	if !containsString(r.Ports, "127.0.0.1:9102:9102") {
		t.Errorf("redeemer ports %v do not publish metrics on loopback", r.Ports)
	}

	// Prometheus scrapes that service on the image's metrics port and
	// loads the alert rules from where compose mounts them.
	p := c.Services["prometheus"]
	mounts := map[string]string{} // container path -> host path
	for _, v := range p.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 {
			mounts[parts[1]] = parts[0]
			if _, err := os.Stat(filepath.Join(repoRoot, "deploy", parts[0])); err != nil {
				t.Errorf("prometheus mounts %s, which is missing: %v", parts[0], err)
			}
		}
	}
	var prom struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(readRepoFile(t, "deploy/prometheus.yml"), &prom); err != nil {
		t.Fatalf("deploy/prometheus.yml: %v", err)
	}
	if len(prom.RuleFiles) != 1 || mounts[prom.RuleFiles[0]] != "./alerts.yml" {
		t.Errorf("rule_files %v, want the path compose mounts ./alerts.yml at (%v)", prom.RuleFiles, mounts)
	}
	if len(prom.ScrapeConfigs) != 1 || prom.ScrapeConfigs[0].JobName != "redeemer" ||
		len(prom.ScrapeConfigs[0].StaticConfigs) != 1 ||
		strings.Join(prom.ScrapeConfigs[0].StaticConfigs[0].Targets, ",") != "redeemer:9102" {
		t.Errorf("scrape configs %+v, want job redeemer scraping redeemer:9102", prom.ScrapeConfigs)
	}
	var alerts struct {
		Groups []struct {
			Rules []map[string]any `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(readRepoFile(t, "deploy/alerts.yml"), &alerts); err != nil || len(alerts.Groups) == 0 {
		t.Errorf("deploy/alerts.yml: %d groups, %v", len(alerts.Groups), err)
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// skipSystemdEnv opts out of the systemd checks on machines that cannot
// have systemd-analyze; CI installs it (.ci/run).
const skipSystemdEnv = "REDEEMER_SKIP_SYSTEMD_ANALYZE"

// maxSecurityExposure is the highest `systemd-analyze security` score the
// unit may have (0 is best, 10 worst).
const maxSecurityExposure = 3.0

// The unit passes `systemd-analyze verify` without a warning, and its
// hardening scores under maxSecurityExposure.
func TestSystemdUnit(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv(skipSystemdEnv) == "1" {
			t.Skipf("systemd-analyze not found and %s=1: the unit is not checked", skipSystemdEnv)
		}
		t.Fatalf("systemd-analyze not found: install it (apt-get install systemd) or set %s=1 to skip this check", skipSystemdEnv)
	}
	unit := string(readRepoFile(t, "deploy/redeemer.service"))
	const bin = "/usr/local/bin/redeemer"
	if !strings.Contains(unit, "ExecStart="+bin+" serve ") {
		t.Fatalf("the unit does not run %s serve", bin)
	}
	// verify wants ExecStart's binary to exist; any executable stands in.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "redeemer.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, bin, self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}

	out, err = exec.Command(analyze, "security", "--offline=true", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for redeemer\.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure in:\n%s", out)
	}
	score, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("systemd-analyze security: exposure %.1f", score)
	if score >= maxSecurityExposure {
		t.Errorf("exposure %.1f, want under %.1f:\n%s", score, maxSecurityExposure, out)
	}

	// The secrets arrive as credentials under the names the service is told.
	for _, want := range []string{
		"LoadCredential=keystore.json:/etc/redeemer/keystore.json",
		"LoadCredential=keystore-password:/etc/redeemer/keystore-password",
		"Environment=REDEEMER_KEYSTORE=keystore.json",
		"Environment=REDEEMER_PASSWORD_FILE=keystore-password",
		"EnvironmentFile=",
		"--config /etc/redeemer/redeemer.conf",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
}
