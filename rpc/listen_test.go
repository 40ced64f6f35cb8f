package rpc

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"redeemer/rpc/pb"
)

func TestGeneratedCertIsKeptAndReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first, err := LoadOrCreateCert(TLSConfig{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	second, err := LoadOrCreateCert(TLSConfig{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Certificate[0], second.Certificate[0]) {
		t.Fatal("a second start generated a new certificate instead of reusing the kept one")
	}
	fi, err := os.Stat(filepath.Join(dir, generatedKeyName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %o, want 600", fi.Mode().Perm())
	}
}

func TestTLSConfigErrors(t *testing.T) {
	if _, err := LoadOrCreateCert(TLSConfig{CertFile: "cert.pem"}); err == nil {
		t.Fatal("a certificate without a key must be refused")
	}
	if _, err := LoadOrCreateCert(TLSConfig{CertFile: "/nonexistent/c.pem", KeyFile: "/nonexistent/k.pem"}); err == nil {
		t.Fatal("missing certificate files must be an error")
	}
	svc := &Server{}
	if _, err := NewGRPCServer("0.0.0.0:0", TLSConfig{Plaintext: true}, svc); err == nil {
		t.Fatal("plaintext on a non-loopback address must be refused")
	}
	if _, err := NewGRPCServer("127.0.0.1:0", TLSConfig{Plaintext: true}, svc); err != nil {
		t.Fatalf("plaintext on loopback: %v", err)
	}
}

func TestParseAllowList(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ", nil},
		{"127.0.0.2", []string{"127.0.0.2/32"}},
		{"10.0.0.0/8, ::1", []string{"10.0.0.0/8", "::1/128"}},
		{"192.168.1.7/24", []string{"192.168.1.0/24"}},
	} {
		got, err := ParseAllowList(c.in)
		if err != nil {
			t.Fatalf("ParseAllowList(%q): %v", c.in, err)
		}
		var s []string
		for _, n := range got {
			s = append(s, n.String())
		}
		if !slices.Equal(s, c.want) {
			t.Errorf("ParseAllowList(%q) = %v, want %v", c.in, s, c.want)
		}
	}
	for _, bad := range []string{"localhost", "10.0.0.0/33", "10.0.0.1,nonsense", "::1/129"} {
		if _, err := ParseAllowList(bad); err == nil {
			t.Errorf("ParseAllowList(%q) accepted", bad)
		}
	}
}

// TestAllowListClosesOutsiders: a connection from outside --grpc-allow is
// closed before any TLS or gRPC work; one from inside is served.
func TestAllowListClosesOutsiders(t *testing.T) {
	t.Parallel()
	allow, err := ParseAllowList("127.0.0.2, 10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := NewServer(Config{Recipient: common.Address{1}, Store: nilStore{}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveAllowed(t, svc, TLSConfig{DataDir: t.TempDir()}, allow)
	creds := grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true}))
	ask := func(local string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := clientFrom(t, addr, local, creds).MaxFloat(ctx, &pb.MaxFloatReq{Sender: make([]byte, 20)})
		return err
	}
	// A server without floats answers MaxFloat Unimplemented: the call
	// reached the handler.
	if err := ask("127.0.0.2"); status.Code(err) != codes.Unimplemented {
		t.Fatalf("a client inside the allow list: %v, want its call served", err)
	}
	for _, local := range []string{"127.0.0.1", "127.0.0.3"} {
		if err := ask(local); status.Code(err) != codes.Unavailable {
			t.Fatalf("a client from %s: %v, want Unavailable", local, err)
		}
		// The server hangs up at once, without a byte: not even a TLS
		// alert.
		conn := rawDial(t, addr, local)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(make([]byte, 1))
		if n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("a connection from %s: read %d bytes, %v; want it closed", local, n, err)
		}
	}
	// From inside, the same raw connection is kept open for the TLS
	// handshake the server waits for.
	conn := rawDial(t, addr, "127.0.0.2")
	conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a connection from inside: %v, want it left open", err)
	}
	conn.SetReadDeadline(time.Time{})
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS handshake from inside the allow list: %v", err)
	}
}

func rawDial(t *testing.T, addr, local string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a client certificate.
func (ca *testCA) issue(t *testing.T, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestClientCertificateRequired: with a client CA, a client without a
// certificate, or with one another CA signed, is refused at the handshake;
// one with a certificate the CA signed is served.
func TestClientCertificateRequired(t *testing.T) {
	t.Parallel()
	ca, other := newTestCA(t, "clients"), newTestCA(t, "someone else")
	dir := t.TempDir()
	caFile := filepath.Join(dir, "clients.pem")
	if err := os.WriteFile(caFile, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	svc, err := NewServer(Config{Recipient: common.Address{1}, Store: nilStore{}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveOnLoopback(t, svc, TLSConfig{DataDir: filepath.Join(dir, "data"), ClientCAFile: caFile})
	ask := func(certs ...tls.Certificate) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		creds := credentials.NewTLS(&tls.Config{InsecureSkipVerify: true, Certificates: certs})
		_, err := clientFrom(t, addr, "127.0.0.1", grpc.WithTransportCredentials(creds)).
			MaxFloat(ctx, &pb.MaxFloatReq{Sender: make([]byte, 20)})
		return err
	}
	if err := ask(); status.Code(err) != codes.Unavailable {
		t.Fatalf("a client without a certificate: %v, want Unavailable", err)
	}
	if err := ask(other.issue(t, "stranger")); status.Code(err) != codes.Unavailable {
		t.Fatalf("a client with a certificate of another CA: %v, want Unavailable", err)
	}
	if err := ask(ca.issue(t, "orchestrator")); status.Code(err) != codes.Unimplemented {
		t.Fatalf("a client with a certificate the CA signed: %v, want its call served", err)
	}

	for name, content := range map[string][]byte{"missing.pem": nil, "empty.pem": []byte("no certificate here\n")} {
		path := filepath.Join(dir, name)
		if content != nil {
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := NewGRPCServer("127.0.0.1:0", TLSConfig{DataDir: filepath.Join(dir, "data"), ClientCAFile: path}, svc); err == nil {
			t.Errorf("client CA file %s accepted", name)
		}
	}
}
