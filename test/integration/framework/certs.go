package framework

import (
	"crypto/x509"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/garden-apiserver/garden-apiserver/test/fixture"
)

// ClientCert returns the client certificate of the kubeconfig's current context.
func ClientCert(t testing.TB, kubeconfig []byte) *x509.Certificate {
	t.Helper()
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c, err := fixture.ClientCert(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
