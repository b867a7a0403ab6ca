package server

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/klog/v2"

	"github.com/garden-apiserver/garden-apiserver/pkg/encryption"
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

// completedOptions parses args, with a fresh --state-dir, and completes them.
func completedOptions(t *testing.T, args ...string) *ServerOptions {
	t.Helper()
	o := NewServerOptions(io.Discard)
	fs := pflag.NewFlagSet("garden-apiserver", pflag.ContinueOnError)
	o.AddFlags(fs)
	require.NoError(t, fs.Parse(append([]string{"--state-dir", filepath.Join(t.TempDir(), "state")}, args...)))
	require.NoError(t, o.Complete())
	return o
}

func TestCompleteFillsTheStandaloneDefaults(t *testing.T) {
	o := completedOptions(t, "--standalone")
	require.NoError(t, o.Validate())
	dir, r := o.Standalone.StateDir, o.Recommended
	assert.Equal(t, []string{"unix://" + filepath.Join(dir, "etcd.sock")}, r.Etcd.StorageConfig.Transport.ServerList)
	assert.Equal(t, "127.0.0.1", r.SecureServing.BindAddress.String(), "loopback by default")
	assert.Equal(t, filepath.Join(dir, servingCert), r.SecureServing.ServerCert.CertKey.CertFile)
	assert.Equal(t, filepath.Join(dir, clientCACert), r.Authentication.ClientCert.ClientCA)
	assert.Equal(t, filepath.Join(dir, encryption.StandaloneConfigFile), r.Etcd.EncryptionProviderConfigFilepath)
	assert.True(t, r.Etcd.EncryptionProviderConfigAutomaticReload)
	assert.Nil(t, r.CoreAPI, "no cluster")
	assert.False(t, r.Features.EnablePriorityAndFairness)
	_, err := os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "Complete writes nothing: %v", err)

	given := filepath.Join(t.TempDir(), "encryption.yaml")
	o = completedOptions(t, "--standalone", "--encryption-provider-config="+given)
	assert.Equal(t, given, o.Recommended.Etcd.EncryptionProviderConfigFilepath, "a given configuration is kept")
	assert.False(t, o.standalone.encryptionConfig)
}

func TestCompleteDefaultsOfDelegatedMode(t *testing.T) {
	o := completedOptions(t, "--etcd-servers=https://etcd:2379")
	assert.Equal(t, "0.0.0.0", o.Recommended.SecureServing.BindAddress.String(), "every interface, as kube-apiserver")
	assert.Equal(t, []string{"https://etcd:2379"}, o.Recommended.Etcd.StorageConfig.Transport.ServerList)
	assert.False(t, o.embeddedEtcd)
	assert.Nil(t, o.standalone)

	o = completedOptions(t)
	assert.Equal(t, []string{"unix://" + filepath.Join(o.Standalone.StateDir, "etcd.sock")},
		o.Recommended.Etcd.StorageConfig.Transport.ServerList, "the embedded etcd is the default outside standalone mode too")
}

func TestBindAddressOverridesTheStandaloneDefault(t *testing.T) {
	o := completedOptions(t, "--standalone", "--bind-address=0.0.0.0")
	assert.Equal(t, "0.0.0.0", o.Recommended.SecureServing.BindAddress.String())
	assert.Equal(t, "https://127.0.0.1:8443", o.standalone.serverURL(8443), "every interface includes loopback")

	o = completedOptions(t, "--standalone", "--bind-address=192.0.2.10")
	assert.Equal(t, "https://192.0.2.10:8443", o.standalone.serverURL(8443))
	require.NoError(t, privateDir(o.Standalone.StateDir))
	require.NoError(t, o.standalone.prepare())
	cert := readCert(t, o.Standalone.StateDir)
	assert.NoError(t, cert.VerifyHostname("192.0.2.10"), "the serving certificate covers the bind address")
	assert.NoError(t, cert.VerifyHostname("127.0.0.1"))
}

func TestStandaloneWarnsWhenNotOnLoopback(t *testing.T) {
	logs := captureKlog(t)
	require.NoError(t, completedOptions(t, "--standalone").checkMode(context.Background()))
	assert.NotContains(t, logs.String(), "not only on loopback")
	require.NoError(t, completedOptions(t, "--standalone", "--bind-address=0.0.0.0").checkMode(context.Background()))
	assert.Contains(t, logs.String(), "Standalone mode listens on 0.0.0.0, not only on loopback")
}

func TestStandaloneRefusesWhatItGenerates(t *testing.T) {
	for _, flag := range []string{"--tls-cert-file", "--tls-private-key-file", "--client-ca-file"} {
		o := completedOptions(t, "--standalone", flag+"=/etc/x.pem")
		assert.ErrorContains(t, o.Validate(), flag+" cannot be combined with --standalone")
	}
}

func TestValidateRefusesALongSocketPath(t *testing.T) {
	o := completedOptions(t, "--state-dir="+filepath.Join(t.TempDir(), strings.Repeat("s", 120)))
	assert.ErrorContains(t, o.Validate(), "use a shorter --state-dir")
}

// captureKlog collects klog's output for the rest of the test.
func captureKlog(t *testing.T) *syncBuffer {
	t.Helper()
	buf := &syncBuffer{}
	klog.SetLogger(funcr.New(func(prefix, args string) { buf.write(prefix + " " + args + "\n") }, funcr.Options{}))
	t.Cleanup(klog.ClearLogger)
	return buf
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) write(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.WriteString(s)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
