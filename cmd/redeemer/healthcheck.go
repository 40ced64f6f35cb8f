package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// runHealthcheck is `redeemer healthcheck`: it asks a running service's
// /readyz and exits 0 only on a 200 within the timeout. Container images
// without a shell or curl (distroless) run it as their HEALTHCHECK; it reads
// the same REDEEMER_METRICS_ADDR as the service it checks.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		metricsAddr, rawURL string
		timeout             time.Duration
	)
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&metricsAddr, "metrics-addr", "127.0.0.1:9102",
		"the service's --metrics-addr; /readyz there is asked, on loopback when the host is a wildcard (0.0.0.0, ::)")
	fs.StringVar(&rawURL, "url", "", "URL to ask instead of --metrics-addr's /readyz, such as http://10.0.0.5:9102/readyz")
	fs.DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for the answer")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return errArgs("healthcheck", rest)
	}
	target := rawURL
	if target == "" {
		if target, err = readyzURL(metricsAddr); err != nil {
			return err
		}
	}
	if timeout <= 0 {
		return fmt.Errorf("--timeout must be positive, got %s", timeout)
	}
	line, err := checkReady(ctx, target, timeout)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, line)
	return nil
}

// readyzURL is where a service listening on metricsAddr answers /readyz,
// seen from the same host.
func readyzURL(metricsAddr string) (string, error) {
	if metricsAddr == "" {
		return "", errors.New("--metrics-addr is empty, so the service serves no /readyz; give its address or --url")
	}
	host, port, err := net.SplitHostPort(metricsAddr)
	if err != nil {
		return "", fmt.Errorf("--metrics-addr %q: %w", metricsAddr, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		// The service listens on every address; loopback is one of them
		// and needs no route.
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}

// checkReady asks target once and returns its first line when it answers
// 200, or an error of one line saying why not: a health checker shows only
// that line.
func checkReady(ctx context.Context, target string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "", fmt.Errorf("--url %q: %w", target, err)
	}
	// No proxy: the target is the service itself, usually on loopback, and
	// a proxy from the environment would answer for it.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return "", fmt.Errorf("%s: no answer within %s", target, timeout)
		}
		return "", fmt.Errorf("%s: %w", target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil && resp.StatusCode == http.StatusOK {
		return "", fmt.Errorf("%s: reading the answer: %w", target, err)
	}
	text := joinLines(string(body))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s: %s", target, resp.Status, text)
	}
	return text, nil
}

// joinLines joins the non-empty lines of s with "; ", keeping /readyz's
// one-check-per-line answer readable on one line.
func joinLines(s string) string {
	var parts []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}
