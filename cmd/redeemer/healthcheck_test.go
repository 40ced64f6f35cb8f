package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"redeemer/store"
	"redeemer/store/storetest"
)

func healthcheck(args ...string) (stdout string, err error) {
	var out bytes.Buffer
	err = run(context.Background(), append([]string{"healthcheck"}, args...), &out, io.Discard)
	return out.String(), err
}

// healthcheck against the service's own /readyz: not ready while no
// replica leads, ready once one does.
func TestHealthcheckAgainstServiceReadyz(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := storetest.New(t)
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := serviceFlags{ethTimeout: time.Second, dbTimeout: 2 * time.Second,
		ops: opsFlags{metricsAddr: "0.0.0.0:0", maxHeadLag: time.Minute}}
	o, err := newOps(slog.New(slog.DiscardHandler), st, &f)
	if err != nil {
		t.Fatal(err)
	}
	o.setNode(fixedHeads{})
	o.interval = time.Hour
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	addrc := make(chan string, 1)
	go func() { done <- o.run(rctx, f.ops.metricsAddr, func(a string) { addrc <- a }) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("ops server: %v", err)
		}
	}()
	// The service listens on every address, as in a container; the check
	// goes to loopback, as the image's HEALTHCHECK does.
	_, port, err := net.SplitHostPort(<-addrc)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("REDEEMER_METRICS_ADDR", "0.0.0.0:"+port)

	_, err = healthcheck()
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "leader election") ||
		strings.Contains(err.Error(), "\n") {
		t.Fatalf("healthcheck without a leader: err = %v, want one line with 503 and the failing check", err)
	}

	other, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lease, err := other.AcquireLease(ctx, "other replica", time.Minute)
	if err != nil || lease == nil {
		t.Fatalf("leader lease: %v %v", lease, err)
	}
	defer other.ReleaseLease(context.WithoutCancel(ctx), lease.Term)
	out, err := healthcheck("--timeout", "10s")
	if err != nil {
		t.Fatalf("healthcheck with a leader elsewhere: %v", err)
	}
	if strings.TrimSpace(out) != "ready" {
		t.Errorf("healthcheck printed %q, want ready", out)
	}
}

func TestHealthcheckAnswers(t *testing.T) {
	handler := func(code int, delay time.Duration, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/readyz" {
				http.NotFound(w, r)
				return
			}
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
			w.WriteHeader(code)
			fmt.Fprint(w, body)
		}
	}
	ok := httptest.NewServer(handler(http.StatusOK, 0, "ready\n"))
	defer ok.Close()
	down := httptest.NewServer(handler(http.StatusServiceUnavailable, 0, "not ready:\ndatabase: connection refused\nnode: timeout\n"))
	defer down.Close()
	slow := httptest.NewServer(handler(http.StatusOK, 5*time.Second, "ready\n"))
	defer slow.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedAddr := closed.Listener.Addr().String()
	closed.Close()

	if out, err := healthcheck("--metrics-addr", ok.Listener.Addr().String()); err != nil || strings.TrimSpace(out) != "ready" {
		t.Errorf("200: out %q err %v, want ready and no error", out, err)
	}
	if _, err := healthcheck("--url", ok.URL+"/readyz"); err != nil {
		t.Errorf("200 by --url: %v", err)
	}

	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"503", []string{"--metrics-addr", down.Listener.Addr().String()},
			[]string{"503 Service Unavailable", "not ready:; database: connection refused; node: timeout"}},
		{"timeout", []string{"--url", slow.URL + "/readyz", "--timeout", "200ms"}, []string{"no answer within 200ms"}},
		{"nothing listening", []string{"--metrics-addr", closedAddr}, []string{"connection refused"}},
		{"metrics off", []string{"--metrics-addr", ""}, []string{"--metrics-addr is empty"}},
		{"bad address", []string{"--metrics-addr", "9102"}, []string{"--metrics-addr"}},
		{"404", []string{"--url", ok.URL + "/elsewhere"}, []string{"404"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := healthcheck(tc.args...)
			if err == nil {
				t.Fatal("exit 0")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("reason spans lines: %q", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("reason %q does not contain %q", err, w)
				}
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

func TestReadyzURL(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:9102": "http://127.0.0.1:9102/readyz",
		"0.0.0.0:9102":   "http://127.0.0.1:9102/readyz",
		":9102":          "http://127.0.0.1:9102/readyz",
		"[::]:9102":      "http://[::1]:9102/readyz",
		"10.1.2.3:9102":  "http://10.1.2.3:9102/readyz",
		"redeemer:9102":  "http://redeemer:9102/readyz",
	} {
		got, err := readyzURL(in)
		if err != nil || got != want {
			t.Errorf("readyzURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
