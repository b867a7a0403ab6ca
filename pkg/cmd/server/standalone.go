package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/klog/v2"

	gardenadmission "github.com/garden-apiserver/garden-apiserver/pkg/admission"
	"github.com/garden-apiserver/garden-apiserver/pkg/encryption"
	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

// Files of standalone mode, relative to the state directory.
const (
	clientCACert        = "pki/client-ca.crt"
	clientCAKey         = "pki/client-ca.key"
	servingCACert       = "pki/serving-ca.crt"
	servingCAKey        = "pki/serving-ca.key"
	servingCert         = "pki/serving.crt"
	servingKey          = "pki/serving.key"
	AdminKubeconfigFile = "admin.kubeconfig"
)

// StandaloneOptions are the local state of the server and standalone mode.
type StandaloneOptions struct {
	// StateDir holds the embedded etcd data and, in standalone mode, keys and kubeconfig.
	StateDir string
	// Enabled runs without a Kubernetes cluster: local client CA, system:masters only.
	Enabled bool
}

// NewStandaloneOptions returns the defaults.
func NewStandaloneOptions() *StandaloneOptions {
	return &StandaloneOptions{StateDir: defaultStateDir()}
}

func defaultStateDir() string {
	if dir := os.Getenv("XDG_STATE_HOME"); dir != "" {
		return filepath.Join(dir, "garden-apiserver")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "garden-apiserver")
	}
	return "garden-apiserver-state"
}

// AddFlags registers the flags.
func (o *StandaloneOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.StateDir, "state-dir", o.StateDir,
		"Directory for the embedded etcd's data (used when --etcd-servers is empty) and, with --standalone, the generated CAs, keys and admin kubeconfig.")
	fs.BoolVar(&o.Enabled, "standalone", o.Enabled,
		"Run without a Kubernetes cluster: authenticate client certificates of a CA generated in --state-dir, allow only group system:masters, and write an admin kubeconfig there.")
}

// Validate checks the flags.
func (o *StandaloneOptions) Validate() []error {
	if o.StateDir == "" {
		return []error{fmt.Errorf("--state-dir must not be empty")}
	}
	return nil
}

// standaloneState is what standalone mode created in the state directory.
type standaloneState struct {
	stateDir       string
	clientCA       *pki.CA
	servingCA      *pki.CA
	kubeconfigPath string
}

// prepareStandalone creates (once) the CAs and serving certificate in the state directory
// and points authentication, authorization and serving at them.
func (o *ServerOptions) prepareStandalone() (*standaloneState, error) {
	dir := o.Standalone.StateDir
	s := &standaloneState{stateDir: dir, kubeconfigPath: filepath.Join(dir, AdminKubeconfigFile)}
	var err error
	if s.clientCA, err = loadOrCreateCA(dir, clientCACert, clientCAKey, "garden-apiserver-client-ca"); err != nil {
		return nil, err
	}
	if s.servingCA, err = loadOrCreateCA(dir, servingCACert, servingCAKey, "garden-apiserver-serving-ca"); err != nil {
		return nil, err
	}
	if err := s.ensureServingCert(); err != nil {
		return nil, err
	}

	r := o.Recommended
	r.SecureServing.ServerCert.CertKey.CertFile = filepath.Join(dir, servingCert)
	r.SecureServing.ServerCert.CertKey.KeyFile = filepath.Join(dir, servingKey)
	r.Authentication.ClientCert.ClientCA = filepath.Join(dir, clientCACert)
	r.Authentication.RemoteKubeConfigFileOptional = true
	r.Authentication.SkipInClusterLookup = true
	r.Authorization.RemoteKubeConfigFileOptional = true
	// Without a cluster there is no core API for informers, webhooks or priority and fairness;
	// max-in-flight limits still apply.
	r.CoreAPI = nil
	// The generic admission ApplyTo needs a kube client: our chain is built without it, minus
	// the kube-dependent plugins (pkg/admission).
	r.ExtraAdmissionInitializers = gardenadmission.StandaloneInitializers(r.Admission, r.ExtraAdmissionInitializers)
	r.Admission = nil
	r.Features.EnablePriorityAndFairness = false
	// Secure by default: InternalSecrets are encrypted with a key generated once in the state directory.
	if r.Etcd.EncryptionProviderConfigFilepath == "" {
		path, err := encryption.EnsureStandaloneConfig(dir)
		if err != nil {
			return nil, fmt.Errorf("creating the encryption configuration: %w", err)
		}
		r.Etcd.EncryptionProviderConfigFilepath, r.Etcd.EncryptionProviderConfigAutomaticReload = path, true
		klog.InfoS("Standalone mode: InternalSecrets are encrypted at rest with a generated key", "config", path)
	}
	klog.InfoS("Standalone mode: no Kubernetes cluster; client certificates of the local CA are authenticated, group system:masters is authorized",
		"clientCA", r.Authentication.ClientCert.ClientCA)
	return s, nil
}

func loadOrCreateCA(dir, certFile, keyFile, name string) (*pki.CA, error) {
	certPath, keyPath := filepath.Join(dir, certFile), filepath.Join(dir, keyFile)
	ca, err := pki.LoadCA(certPath, keyPath)
	if err == nil {
		return ca, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("loading %s: %w", certPath, err)
	}
	if ca, err = pki.NewCA(name, 10*365*24*time.Hour); err != nil {
		return nil, err
	}
	return ca, ca.WriteCA(certPath, keyPath)
}

// ensureServingCert issues a serving certificate for loopback, renewed when it nears expiry.
func (s *standaloneState) ensureServingCert() error {
	certPath, keyPath := filepath.Join(s.stateDir, servingCert), filepath.Join(s.stateDir, servingKey)
	if s.servingCertCurrent(certPath, keyPath) {
		return nil
	}
	_, certPEM, keyPEM, err := s.servingCA.IssueKeyPair(pki.Leaf{
		CommonName: "localhost",
		DNSNames:   []string{"localhost"},
		IPs:        []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
		NotAfter:   time.Now().Add(365 * 24 * time.Hour),
		Server:     true,
	}, pki.ECDSAP256)
	if err != nil {
		return err
	}
	if err := pki.WriteFile(keyPath, keyPEM); err != nil {
		return err
	}
	return pki.WriteFile(certPath, certPEM)
}

// servingCertCurrent: the files hold a key pair signed by the serving CA, valid for 30 more days.
func (s *standaloneState) servingCertCurrent(certPath, keyPath string) bool {
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return false
	}
	leaf := pair.Leaf
	return leaf.CheckSignatureFrom(s.servingCA.Cert) == nil && time.Until(leaf.NotAfter) > 30*24*time.Hour
}

// writeKubeconfig writes an admin kubeconfig (system:masters, one year) for the given port.
func (s *standaloneState) writeKubeconfig(port int) error {
	_, certPEM, keyPEM, err := s.clientCA.IssueKeyPair(pki.Leaf{
		CommonName:    "admin",
		Organizations: []string{"system:masters"},
		NotAfter:      time.Now().Add(365 * 24 * time.Hour),
	}, pki.ECDSAP256)
	if err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["garden-apiserver"] = &clientcmdapi.Cluster{
		Server:                   fmt.Sprintf("https://127.0.0.1:%d", port),
		CertificateAuthorityData: pki.EncodeCert(s.servingCA.Cert),
	}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}
	cfg.Contexts["garden-apiserver"] = &clientcmdapi.Context{Cluster: "garden-apiserver", AuthInfo: "admin"}
	cfg.CurrentContext = "garden-apiserver"
	if err := os.MkdirAll(s.stateDir, 0o700); err != nil {
		return err
	}
	// clientcmd writes with mode 0600.
	return clientcmd.WriteToFile(*cfg, s.kubeconfigPath)
}
