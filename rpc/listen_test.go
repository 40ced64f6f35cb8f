package rpc

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
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
