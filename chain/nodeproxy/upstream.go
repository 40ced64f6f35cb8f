package nodeproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// ErrWebSocket reports a websocket upstream or upgrade request. The proxy
// speaks HTTP only: a websocket would carry calls past the counters and the
// rate limit, and the figures that benchmarks read would be wrong.
var ErrWebSocket = errors.New("nodeproxy: websocket is not supported, use the node's HTTP endpoint")

// maxBody bounds what the proxy buffers of a request or an answer; a node's
// own limit for requests is 5 MiB, and blocks with every transaction stay
// well under this.
const maxBody = 128 << 20

// response is an upstream's answer, read whole: faults and rewrites need
// the body before the client sees any of it.
type response struct {
	status int
	header http.Header
	body   []byte
}

// upstream is where the proxy sends requests it lets through.
type upstream interface {
	roundTrip(ctx context.Context, r *http.Request, body []byte) (*response, error)
	close()
}

// handlerUpstream calls an in-process handler, with no socket between.
type handlerUpstream struct{ h http.Handler }

func (u handlerUpstream) roundTrip(ctx context.Context, r *http.Request, body []byte) (*response, error) {
	req := r.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	rec := &recorder{header: http.Header{}}
	u.h.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return &response{status: rec.status, header: rec.header, body: rec.body.Bytes()}, nil
}

func (handlerUpstream) close() {}

// recorder captures an in-process handler's answer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// Flush lets handlers that flush as they go write into the recorder.
func (r *recorder) Flush() {}

// urlUpstream sends requests to a node over HTTP.
type urlUpstream struct {
	base   *url.URL
	client *http.Client
}

func newURLUpstream(raw string) (*urlUpstream, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("nodeproxy: upstream URL %q: %w", raw, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "ws", "wss":
		return nil, fmt.Errorf("upstream %s: %w", raw, ErrWebSocket)
	default:
		return nil, fmt.Errorf("nodeproxy: upstream URL %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("nodeproxy: upstream URL %q has no host", raw)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Clients of a node keep many calls in flight; with the default two
	// idle connections per host most would dial afresh and the proxy would
	// add connection setup the hosted endpoint does not have.
	tr.MaxIdleConnsPerHost = 64
	return &urlUpstream{base: u, client: &http.Client{
		Transport: tr,
		// A redirect is the node's answer to pass on, not to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// target is the upstream URL for r: the node's own URL for the root path,
// which is where JSON-RPC goes, and other paths below it.
func (u *urlUpstream) target(r *http.Request) string {
	t := *u.base
	if p := r.URL.Path; p != "" && p != "/" {
		t.Path = strings.TrimSuffix(t.Path, "/") + p
		t.RawPath = ""
	}
	if r.URL.RawQuery != "" {
		if t.RawQuery != "" {
			t.RawQuery += "&"
		}
		t.RawQuery += r.URL.RawQuery
	}
	return t.String()
}

func (u *urlUpstream) roundTrip(ctx context.Context, r *http.Request, body []byte) (*response, error) {
	var rd io.Reader = http.NoBody
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u.target(r), rd)
	if err != nil {
		return nil, fmt.Errorf("nodeproxy: build upstream request: %w", err)
	}
	copyHeader(req.Header, r.Header)
	// The transport asks for gzip itself and unpacks it; passing on the
	// client's Accept-Encoding would hand the proxy a packed body it could
	// not rewrite.
	req.Header.Del("Accept-Encoding")
	res, err := u.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("nodeproxy: upstream: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("nodeproxy: read upstream answer: %w", err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: b}, nil
}

func (u *urlUpstream) close() { u.client.CloseIdleConnections() }

// isHopHeader reports a header that belongs to one connection and is not
// passed on. Content-Length is the proxy's to set, as it may change the
// body.
func isHopHeader(k string) bool {
	switch http.CanonicalHeaderKey(k) {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length":
		return true
	}
	return false
}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		if isHopHeader(k) {
			continue
		}
		for _, v := range vs {
			dst.Add(k, v)
		}
	}
}

// isWebSocket reports a websocket upgrade request.
func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}
