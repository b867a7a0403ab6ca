// Package pki creates and loads the certificates and keys the server needs: the
// standalone client and serving CAs, and the short-lived kubeconfig client certificates.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/util/keyutil"
)

// KeyType names an algorithm for a freshly generated key.
type KeyType string

const (
	ECDSAP256 KeyType = "ecdsa-p256"
	RSA2048   KeyType = "rsa-2048"
	RSA3072   KeyType = "rsa-3072"
)

// KeyTypes lists the accepted values of KeyType.
var KeyTypes = []KeyType{RSA3072, RSA2048, ECDSAP256}

// DefaultKeyType is what Gardener issues and what every Gardener client accepts.
const DefaultKeyType = RSA3072

// NewKey generates a private key of the given type (empty: DefaultKeyType). EncodeKey writes
// RSA keys as PKCS#1 ("RSA PRIVATE KEY") and ECDSA keys as SEC 1 ("EC PRIVATE KEY").
func NewKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072, "":
		return rsa.GenerateKey(rand.Reader, 3072)
	}
	return nil, fmt.Errorf("unknown key type %q (want one of %v)", t, KeyTypes)
}

// CA is a certificate authority that can sign leaf certificates.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// NewCA creates a self-signed CA with an ECDSA P-256 key.
func NewCA(commonName string, validity time.Duration) (*CA, error) {
	key, err := NewKey(ECDSAP256)
	if err != nil {
		return nil, err
	}
	serial, err := RandomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key}, nil
}

// RandomSerial returns a random 128-bit certificate serial number.
func RandomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

// Leaf describes a certificate to issue.
type Leaf struct {
	CommonName    string
	Organizations []string
	DNSNames      []string
	IPs           []net.IP
	NotBefore     time.Time // zero: a minute ago
	NotAfter      time.Time
	Server        bool // server auth instead of client auth
}

// Issue signs a certificate for pub and returns it parsed and PEM-encoded.
func (ca *CA) Issue(l Leaf, pub crypto.PublicKey) (*x509.Certificate, []byte, error) {
	serial, err := RandomSerial()
	if err != nil {
		return nil, nil, err
	}
	usage := x509.ExtKeyUsageClientAuth
	if l.Server {
		usage = x509.ExtKeyUsageServerAuth
	}
	notBefore := l.NotBefore
	if notBefore.IsZero() {
		// Backdate a little so that clocks slightly behind still accept the cert.
		notBefore = time.Now().Add(-time.Minute)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: l.CommonName, Organization: l.Organizations},
		DNSNames:     l.DNSNames,
		IPAddresses:  l.IPs,
		NotBefore:    notBefore,
		NotAfter:     l.NotAfter,
		KeyUsage:     leafKeyUsage(pub),
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("signing certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return cert, EncodeCert(cert), nil
}

// leafKeyUsage: key encipherment exists only for RSA keys (RFC 5480 forbids it for ECDSA).
func leafKeyUsage(pub crypto.PublicKey) x509.KeyUsage {
	if _, ok := pub.(*rsa.PublicKey); ok {
		return x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	}
	return x509.KeyUsageDigitalSignature
}

// EncodeCert returns the PEM encoding of a certificate.
func EncodeCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// EncodeKey returns the PEM encoding of a private key.
func EncodeKey(k crypto.Signer) ([]byte, error) {
	return keyutil.MarshalPrivateKeyToPEM(k)
}

// WriteCA writes the CA's certificate and key (0600) to certPath and keyPath.
func (ca *CA) WriteCA(certPath, keyPath string) error {
	keyPEM, err := EncodeKey(ca.Key)
	if err != nil {
		return err
	}
	if err := WriteFile(keyPath, keyPEM); err != nil {
		return err
	}
	return WriteFile(certPath, EncodeCert(ca.Cert))
}

// LoadCA reads a CA written by WriteCA.
func LoadCA(certPath, keyPath string) (*CA, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	return ParseCA(certPEM, keyPEM)
}

// WriteFile writes data with mode 0600, creating parent directories 0700.
func WriteFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// IssueKeyPair generates a key of type t and signs a certificate for it: the parsed
// certificate, and certificate and key PEM-encoded.
func (ca *CA) IssueKeyPair(l Leaf, t KeyType) (cert *x509.Certificate, certPEM, keyPEM []byte, err error) {
	key, err := NewKey(t)
	if err != nil {
		return nil, nil, nil, err
	}
	if cert, certPEM, err = ca.Issue(l, key.Public()); err != nil {
		return nil, nil, nil, err
	}
	keyPEM, err = EncodeKey(key)
	return cert, certPEM, keyPEM, err
}
