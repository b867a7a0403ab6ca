package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

// ParseCA parses a CA from PEM. certPEM may be a bundle (as during CA rotation, or after a CA
// was renewed with the same key): among the CA certificates whose public key matches the key,
// the newest that is valid now signs.
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
	var matching []*x509.Certificate
	for _, c := range certs {
		if pub.Equal(c.PublicKey) {
			matching = append(matching, c)
		}
	}
	if len(matching) == 0 {
		return nil, errors.New("no certificate in ca.crt matches ca.key")
	}
	c, err := usableNow(matching, time.Now())
	if err != nil {
		return nil, err
	}
	return &CA{Cert: c, Key: key}, nil
}

// usableNow returns the newest CA certificate valid at now; otherwise the reason the newest
// candidate cannot sign.
func usableNow(certs []*x509.Certificate, now time.Time) (*x509.Certificate, error) {
	slices.SortStableFunc(certs, func(a, b *x509.Certificate) int { return b.NotBefore.Compare(a.NotBefore) })
	var firstErr error
	for _, c := range certs {
		var err error
		switch {
		case !c.IsCA || c.KeyUsage&x509.KeyUsageCertSign == 0:
			err = fmt.Errorf("the certificate matching ca.key (%q) is not a CA", c.Subject.CommonName)
		case now.After(c.NotAfter) || now.Before(c.NotBefore):
			err = fmt.Errorf("the CA certificate %q is not valid now (valid %s to %s)",
				c.Subject.CommonName, c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
		default:
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}
