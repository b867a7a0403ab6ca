package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/pflag"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

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

// standaloneState is what standalone mode keeps in the state directory.
type standaloneState struct {
	stateDir       string
	kubeconfigPath string
	// host is the address of the admin kubeconfig: the bind address, or 127.0.0.1 when the
	// server listens on every interface.
	host net.IP
	// encryptionConfig is set when no --encryption-provider-config was given: the generated one.
	encryptionConfig bool
	// Loaded or created by prepare.
	clientCA, servingCA *pki.CA
}

// completeStandalone sets what standalone mode implies where the flags leave it open: the
// serving certificate, client CA and encryption configuration of the state directory, and no
// cluster.
func (o *ServerOptions) completeStandalone() {
	dir, r := o.Standalone.StateDir, o.Recommended
	o.standalone = &standaloneState{stateDir: dir, kubeconfigPath: filepath.Join(dir, AdminKubeconfigFile),
		host: kubeconfigHost(r.SecureServing.BindAddress)}
	defaultTo(&r.SecureServing.ServerCert.CertKey.CertFile, filepath.Join(dir, servingCert))
	defaultTo(&r.SecureServing.ServerCert.CertKey.KeyFile, filepath.Join(dir, servingKey))
	defaultTo(&r.Authentication.ClientCert.ClientCA, filepath.Join(dir, clientCACert))
	r.Authentication.RemoteKubeConfigFileOptional = true
	r.Authentication.SkipInClusterLookup = true
	r.Authorization.RemoteKubeConfigFileOptional = true
	// Without a cluster there is no core API for informers, webhooks or priority and fairness;
	// max-in-flight limits still apply.
	r.CoreAPI = nil
	r.Features.EnablePriorityAndFairness = false
	// What these plugins read lives in a kube-apiserver; Validate refuses enabling them.
	for name := range gardenadmission.ClusterPlugins {
		o.Admission.DefaultOffPlugins.Insert(name)
	}
	// Secure by default: InternalSecrets are encrypted with a key generated once in the state directory.
	if r.Etcd.EncryptionProviderConfigFilepath == "" {
		o.standalone.encryptionConfig = true
		r.Etcd.EncryptionProviderConfigFilepath = filepath.Join(dir, encryption.StandaloneConfigFile)
		r.Etcd.EncryptionProviderConfigAutomaticReload = true
	}
}

func defaultTo(value *string, def string) {
	if *value == "" {
		*value = def
	}
}

// validateStandalone refuses what standalone mode cannot honour: its admin kubeconfig trusts
// the generated serving CA and is signed by the generated client CA, and there is no cluster.
func (o *ServerOptions) validateStandalone() []error {
	if !o.Standalone.Enabled {
		return nil
	}
	dir, r := o.Standalone.StateDir, o.Recommended
	generated := []struct{ flag, value, want string }{
		{"--tls-cert-file", r.SecureServing.ServerCert.CertKey.CertFile, filepath.Join(dir, servingCert)},
		{"--tls-private-key-file", r.SecureServing.ServerCert.CertKey.KeyFile, filepath.Join(dir, servingKey)},
		{"--client-ca-file", r.Authentication.ClientCert.ClientCA, filepath.Join(dir, clientCACert)},
	}
	var errs []error
	for _, g := range generated {
		if g.value != g.want {
			errs = append(errs, fmt.Errorf("%s cannot be combined with --standalone, which generates it in --state-dir", g.flag))
		}
	}
	for _, name := range o.Admission.EnablePlugins {
		if why, ok := gardenadmission.ClusterPlugins[name]; ok {
			errs = append(errs, fmt.Errorf("--enable-admission-plugins: %s cannot run with --standalone: %s", name, why))
		}
	}
	return errs
}

// prepare creates, once, the CAs, the serving certificate and the encryption configuration the
// options point at; the state directory exists.
func (s *standaloneState) prepare() error {
	var err error
	if s.clientCA, err = loadOrCreateCA(s.stateDir, clientCACert, clientCAKey, "garden-apiserver-client-ca"); err != nil {
		return err
	}
	if s.servingCA, err = loadOrCreateCA(s.stateDir, servingCACert, servingCAKey, "garden-apiserver-serving-ca"); err != nil {
		return err
	}
	if err := s.ensureServingCert(); err != nil {
		return err
	}
	if s.encryptionConfig {
		if _, err := encryption.EnsureStandaloneConfig(s.stateDir); err != nil {
			return fmt.Errorf("creating the encryption configuration: %w", err)
		}
	}
	return nil
}

func kubeconfigHost(bind net.IP) net.IP {
	if bind == nil || bind.IsUnspecified() {
		return net.IPv4(127, 0, 0, 1)
	}
	return bind
}

// servingIPs are the addresses the serving certificate is valid for: loopback and the admin
// kubeconfig's host.
func (s *standaloneState) servingIPs() []net.IP {
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	if host := kubeconfigHost(s.host); !host.Equal(ips[0]) && !host.Equal(ips[1]) {
		ips = append(ips, host)
	}
	return ips
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
		IPs:        s.servingIPs(),
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

// servingCertCurrent: the files hold a key pair signed by the serving CA, valid for 30 more
// days and for every address of servingIPs.
func (s *standaloneState) servingCertCurrent(certPath, keyPath string) bool {
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return false
	}
	leaf := pair.Leaf
	for _, ip := range s.servingIPs() {
		if leaf.VerifyHostname(ip.String()) != nil {
			return false
		}
	}
	return leaf.CheckSignatureFrom(s.servingCA.Cert) == nil && time.Until(leaf.NotAfter) > 30*24*time.Hour
}

func (s *standaloneState) serverURL(port int) string {
	return "https://" + net.JoinHostPort(kubeconfigHost(s.host).String(), strconv.Itoa(port))
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
		Server:                   s.serverURL(port),
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
