package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// selfSigned returns a CA certificate for key valid from notBefore to notAfter.
func selfSigned(t *testing.T, key crypto.Signer, name string, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	serial, err := RandomSerial()
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name}, NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c
}

// TestParseCAPicksTheCertificateValidNow: a CA renewed with the same key keeps issuing whatever
// the order of the bundle; a certificate not yet valid is not chosen either.
func TestParseCAPicksTheCertificateValidNow(t *testing.T) {
	key, err := NewKey(ECDSAP256)
	require.NoError(t, err)
	keyPEM, err := EncodeKey(key)
	require.NoError(t, err)
	now := time.Now()
	expired := selfSigned(t, key, "expired", now.Add(-48*time.Hour), now.Add(-time.Hour))
	renewed := selfSigned(t, key, "renewed", now.Add(-2*time.Hour), now.Add(24*time.Hour))
	older := selfSigned(t, key, "older", now.Add(-3*time.Hour), now.Add(24*time.Hour))
	future := selfSigned(t, key, "future", now.Add(time.Hour), now.Add(48*time.Hour))

	for name, tc := range map[string]struct {
		bundle []*x509.Certificate
		want   string
	}{
		"expired first":               {[]*x509.Certificate{expired, renewed}, "renewed"},
		"renewed first":               {[]*x509.Certificate{renewed, expired}, "renewed"},
		"newest valid of two":         {[]*x509.Certificate{older, renewed, expired}, "renewed"},
		"not yet valid is skipped":    {[]*x509.Certificate{future, older}, "older"},
		"not yet valid, then expired": {[]*x509.Certificate{expired, future}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			var certPEM []byte
			for _, c := range tc.bundle {
				certPEM = append(certPEM, EncodeCert(c)...)
			}
			got, err := ParseCA(certPEM, keyPEM)
			if tc.want == "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), `the CA certificate "future" is not valid now`, "names the newest candidate")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.Cert.Subject.CommonName)
		})
	}
}

// TestIssueKeyUsage: key encipherment only for RSA leaves.
func TestIssueKeyUsage(t *testing.T) {
	ca, err := NewCA("ca", time.Hour)
	require.NoError(t, err)
	for kt, want := range map[KeyType]x509.KeyUsage{
		ECDSAP256: x509.KeyUsageDigitalSignature,
		RSA2048:   x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	} {
		leaf, _, _, err := ca.IssueKeyPair(Leaf{CommonName: "u", NotAfter: time.Now().Add(time.Hour)}, kt)
		require.NoError(t, err)
		assert.Equal(t, want, leaf.KeyUsage, kt)
	}
}
