package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

// ParseCA parses a CA from PEM. certPEM may be a bundle (as during CA rotation): the
// certificate whose public key matches the key is the one that signs.
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	parsedKey, err := keyutil.ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, errors.New("ca.key is not a PEM-encoded private key")
	}
	key, ok := parsedKey.(crypto.Signer)
	if !ok {
		return nil, errors.New("ca.key is not a signing key")
	}
	certs, err := cert.ParseCertsPEM(certPEM)
	if err != nil {
		return nil, errors.New("ca.crt is not a PEM-encoded certificate bundle")
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return nil, errors.New("ca.key has an unsupported key type")
	}
	for _, c := range certs {
		if !pub.Equal(c.PublicKey) {
			continue
		}
		if !c.IsCA || c.KeyUsage&x509.KeyUsageCertSign == 0 {
			return nil, fmt.Errorf("the certificate matching ca.key (%q) is not a CA", c.Subject.CommonName)
		}
		if now := time.Now(); now.After(c.NotAfter) || now.Before(c.NotBefore) {
			return nil, fmt.Errorf("the CA certificate %q is not valid now (valid %s to %s)",
				c.Subject.CommonName, c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
		}
		return &CA{Cert: c, Key: key}, nil
	}
	return nil, errors.New("no certificate in ca.crt matches ca.key")
}
