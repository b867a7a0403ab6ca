package framework

import (
	"crypto/x509"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/cert"
)

// ClientCert returns the client certificate of the kubeconfig's current context.
func ClientCert(t testing.TB, kubeconfig []byte) *x509.Certificate {
	t.Helper()
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	if ctx == nil || cfg.AuthInfos[ctx.AuthInfo] == nil {
		t.Fatalf("kubeconfig: no user for the current context %q", cfg.CurrentContext)
	}
	certs, err := cert.ParseCertsPEM(cfg.AuthInfos[ctx.AuthInfo].ClientCertificateData)
	if err != nil {
		t.Fatalf("kubeconfig: client certificate: %v", err)
	}
	return certs[0]
}
