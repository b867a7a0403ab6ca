package pki

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaultKeyIsPKCS1RSA3072: what Gardener issues and gardenlogin accepts.
func TestDefaultKeyIsPKCS1RSA3072(t *testing.T) {
	for _, kt := range []KeyType{DefaultKeyType, ""} {
		key, err := NewKey(kt)
		require.NoError(t, err)
		keyPEM, err := EncodeKey(key)
		require.NoError(t, err)
		block, rest := pem.Decode(keyPEM)
		require.NotNil(t, block)
		assert.Empty(t, rest, "exactly one PEM block")
		assert.Equal(t, "RSA PRIVATE KEY", block.Type)
		parsed, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		require.NoError(t, err, "PKCS#1")
		assert.Equal(t, 3072, parsed.N.BitLen())
		assert.True(t, parsed.Equal(key.(*rsa.PrivateKey)))
	}
}

func TestECDSAKeyIsSEC1(t *testing.T) {
	key, err := NewKey(ECDSAP256)
	require.NoError(t, err)
	keyPEM, err := EncodeKey(key)
	require.NoError(t, err)
	block, _ := pem.Decode(keyPEM)
	require.NotNil(t, block)
	assert.Equal(t, "EC PRIVATE KEY", block.Type)
}
