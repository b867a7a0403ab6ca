package framework

import (
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

// UserConfig returns a client config authenticated as user (in groups) by a client
// certificate of the server's standalone client CA.
func (s *Server) UserConfig(t testing.TB, user string, groups ...string) *rest.Config {
	t.Helper()
	ca, err := pki.LoadCA(filepath.Join(s.StateDir, "pki/client-ca.crt"), filepath.Join(s.StateDir, "pki/client-ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	_, certPEM, keyPEM, err := ca.IssueKeyPair(pki.Leaf{CommonName: user, Organizations: groups, NotAfter: time.Now().Add(time.Hour)}, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.AnonymousConfig()
	cfg.CertData, cfg.KeyData = certPEM, keyPEM
	return cfg
}

// AnonymousConfig trusts the server but presents no credentials.
func (s *Server) AnonymousConfig() *rest.Config {
	cfg := rest.AnonymousClientConfig(s.Admin)
	cfg.CAData = s.Admin.CAData
	return cfg
}
