package server

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

func standaloneFor(t *testing.T, dir string) *standaloneState {
	t.Helper()
	ca, err := loadOrCreateCA(dir, servingCACert, servingCAKey, "test-serving-ca")
	require.NoError(t, err)
	return &standaloneState{stateDir: dir, servingCA: ca}
}

func readCert(t *testing.T, dir string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, servingCert))
	require.NoError(t, err)
	block, _ := pem.Decode(b)
	require.NotNil(t, block)
	c, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return c
}

func TestServingCertIsKeptAcrossStarts(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, standaloneFor(t, dir).ensureServingCert())
	first := readCert(t, dir)
	require.NoError(t, standaloneFor(t, dir).ensureServingCert())
	assert.Equal(t, first.Raw, readCert(t, dir).Raw, "a valid certificate is kept")
}

func TestServingCertIsRenewedNearExpiry(t *testing.T) {
	dir := t.TempDir()
	s := standaloneFor(t, dir)
	key, err := pki.NewKey(pki.ECDSAP256)
	require.NoError(t, err)
	_, certPEM, err := s.servingCA.Issue(pki.Leaf{CommonName: "localhost", DNSNames: []string{"localhost"},
		IPs: []net.IP{net.ParseIP("127.0.0.1")}, NotAfter: time.Now().Add(24 * time.Hour), Server: true}, key.Public())
	require.NoError(t, err)
	keyPEM, err := pki.EncodeKey(key)
	require.NoError(t, err)
	require.NoError(t, pki.WriteFile(filepath.Join(dir, servingKey), keyPEM))
	require.NoError(t, pki.WriteFile(filepath.Join(dir, servingCert), certPEM))

	require.NoError(t, standaloneFor(t, dir).ensureServingCert())
	renewed := readCert(t, dir)
	assert.Greater(t, time.Until(renewed.NotAfter), 300*24*time.Hour, "renewed for a year")
	require.NoError(t, renewed.CheckSignatureFrom(s.servingCA.Cert))
}

func TestServingCertOfAnotherCAIsReplaced(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, standaloneFor(t, dir).ensureServingCert())
	first := readCert(t, dir)
	require.NoError(t, os.Remove(filepath.Join(dir, servingCACert)))
	s := standaloneFor(t, dir) // a new serving CA
	require.NoError(t, s.ensureServingCert())
	assert.NotEqual(t, first.Raw, readCert(t, dir).Raw)
	require.NoError(t, readCert(t, dir).CheckSignatureFrom(s.servingCA.Cert))
}
