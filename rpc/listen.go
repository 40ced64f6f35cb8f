package rpc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	"redeemer/rpc/pb"
)

// MaxMessageBytes bounds a request. A ticket is well under 1 KiB; anything
// far larger is garbage or abuse and is refused before it is decoded.
const MaxMessageBytes = 16 << 10

// TLSConfig says how the gRPC listener is secured.
type TLSConfig struct {
	// CertFile and KeyFile name the operator's certificate. When both are
	// empty a self-signed certificate is generated once in DataDir and reused,
	// which is enough for go-livepeer's client: it does not verify the server.
	CertFile, KeyFile string
	DataDir           string
	// Plaintext turns TLS off. It is accepted only for loopback addresses.
	Plaintext bool
	// ClientCAFile, when set, names the PEM certificates that sign client
	// certificates: every client must then present one (go-livepeer's
	// client presents none, so this is for deployments with their own
	// clients or a TLS-terminating proxy).
	ClientCAFile string
}

// NewGRPCServer builds a gRPC server for addr with the TicketRedeemer service
// registered, message size limits and keepalive enforcement. extra options
// (interceptors, for metrics) are applied after these.
func NewGRPCServer(addr string, tc TLSConfig, svc *Server, extra ...grpc.ServerOption) (*grpc.Server, error) {
	svc.codec = newMalformedCodec()
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		grpc.ForceServerCodecV2(svc.codec),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}
	if tc.Plaintext {
		if !isLoopback(addr) {
			return nil, fmt.Errorf("plaintext gRPC is allowed on loopback addresses only, not %q", addr)
		}
	} else {
		cert, err := LoadOrCreateCert(tc)
		if err != nil {
			return nil, err
		}
		cfg := &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
		}
		if tc.ClientCAFile != "" {
			pem, err := os.ReadFile(tc.ClientCAFile)
			if err != nil {
				return nil, fmt.Errorf("client CA file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("client CA file %s holds no PEM certificate", tc.ClientCAFile)
			}
			cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg)))
	}
	srv := grpc.NewServer(append(opts, extra...)...)
	pb.RegisterTicketRedeemerServer(srv, svc)
	return srv, nil
}

// The messages RejectedRule reads: the reject in server.go answers a broken
// rule as "invalid ticket: " + RuleError ("rule: why"), and the codec
// answers bytes that do not decode with malformedPrefix.
const (
	rejectedPrefix  = "invalid ticket: "
	refusedPrefix   = "ticket refused: "
	malformedPrefix = "request is not a valid protobuf message"
)

// RejectedRule names the intake rule that a QueueTicket error reports, for
// metrics: the rule named in an InvalidArgument, FailedPrecondition or
// ResourceExhausted refusal, "recipient" for a foreign recipient,
// "malformed" for bytes that are no protobuf message and "other" for a
// refusal that names no rule. ok is false for errors that are not the
// caller's (Unavailable, Internal, a cancelled call).
func RejectedRule(err error) (rule string, ok bool) {
	st, isStatus := status.FromError(err)
	if err == nil || !isStatus {
		return "", false
	}
	switch st.Code() {
	case codes.PermissionDenied:
		return "recipient", true
	case codes.InvalidArgument, codes.FailedPrecondition, codes.ResourceExhausted:
	default:
		return "", false
	}
	msg := st.Message()
	if strings.HasPrefix(msg, malformedPrefix) {
		return "malformed", true
	}
	rest, found := strings.CutPrefix(msg, rejectedPrefix)
	if !found {
		rest, found = strings.CutPrefix(msg, refusedPrefix)
	}
	if !found {
		return "other", true
	}
	rule, _, found = strings.Cut(rest, ":")
	// A rule is a short field-like name; anything else would let a message
	// change mint new label values.
	if !found || len(rule) == 0 || len(rule) > 40 || strings.IndexFunc(rule, notRuleChar) >= 0 {
		return "other", true
	}
	return rule, true
}

func notRuleChar(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.')
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Names of the generated certificate inside the data directory.
const (
	generatedCertName = "grpc-tls-cert.pem"
	generatedKeyName  = "grpc-tls-key.pem"
)

// LoadOrCreateCert returns the operator's certificate, or the self-signed one
// kept in DataDir, generating it on first use so clients that pin it keep
// working across restarts.
func LoadOrCreateCert(tc TLSConfig) (tls.Certificate, error) {
	if tc.CertFile != "" || tc.KeyFile != "" {
		if tc.CertFile == "" || tc.KeyFile == "" {
			return tls.Certificate{}, errors.New("TLS certificate and key must be given together")
		}
		cert, err := tls.LoadX509KeyPair(tc.CertFile, tc.KeyFile)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("load TLS certificate: %w", err)
		}
		return cert, nil
	}
	if tc.DataDir == "" {
		return tls.Certificate{}, errors.New("a data directory is needed to keep the generated TLS certificate")
	}
	certPath := filepath.Join(tc.DataDir, generatedCertName)
	keyPath := filepath.Join(tc.DataDir, generatedKeyName)
	if cert, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		return cert, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return tls.Certificate{}, fmt.Errorf("load generated TLS certificate from %s: %w", tc.DataDir, err)
	}
	certPEM, keyPEM, err := selfSigned()
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.MkdirAll(tc.DataDir, 0o700); err != nil {
		return tls.Certificate{}, fmt.Errorf("create data dir: %w", err)
	}
	// Key first: a crash between the writes leaves no certificate, so the
	// next start generates a fresh pair instead of loading a half.
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

func selfSigned() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("generate serial: %w", err)
	}
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "redeemer"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if host != "" {
		tmpl.DNSNames = append(tmpl.DNSNames, host)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create TLS certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode TLS key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	return nil
}

// ParseAllowList parses comma-separated CIDRs (a bare address is a /32 or
// /128); empty allows everyone.
func ParseAllowList(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			ip := net.ParseIP(part)
			if ip == nil {
				return nil, fmt.Errorf("%q is neither an address nor a CIDR", part)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", part, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// AllowListener closes, before any TLS or gRPC work, every connection from
// an address outside allow; an empty allow lets every connection through.
func AllowListener(l net.Listener, allow []*net.IPNet) net.Listener {
	if len(allow) == 0 {
		return l
	}
	return &allowListener{Listener: l, allow: allow}
}

type allowListener struct {
	net.Listener
	allow []*net.IPNet
}

func (l *allowListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if a, ok := c.RemoteAddr().(*net.TCPAddr); ok && allowed(a.IP, l.allow) {
			return c, nil
		}
		c.Close()
	}
}

func allowed(ip net.IP, allow []*net.IPNet) bool {
	for _, n := range allow {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}
