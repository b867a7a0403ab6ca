package server

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/klog/v2"

	"github.com/garden-apiserver/garden-apiserver/pkg/apiserver"
	"github.com/garden-apiserver/garden-apiserver/pkg/etcd"
)

// Run serves until ctx is done. The options must be completed and validated; Run reads them
// and changes none.
func (o *ServerOptions) Run(ctx context.Context) error {
	if err := o.prepareStateDir(); err != nil {
		return err
	}
	stopEtcd, err := o.startEmbeddedEtcd(ctx)
	if err != nil {
		return err
	}
	// Runs after the server has drained, so in-flight writes finish first.
	defer stopEtcd()
	if err := o.checkMode(ctx); err != nil {
		return err
	}
	config, err := o.Config()
	if err != nil {
		return err
	}
	server, err := config.Complete().New()
	if err != nil {
		return err
	}
	if o.standalone != nil {
		if err := o.announceStandalone(config, server); err != nil {
			return err
		}
	}
	return server.GenericAPIServer.PrepareRun().RunWithContext(ctx)
}

// prepareStateDir creates the state directory when the embedded etcd or standalone mode use
// it, and in standalone mode the files the options point at.
func (o *ServerOptions) prepareStateDir() error {
	if !o.embeddedEtcd && o.standalone == nil {
		return nil
	}
	if err := privateDir(o.Standalone.StateDir); err != nil {
		return fmt.Errorf("--state-dir: %w", err)
	}
	if o.standalone == nil {
		return nil
	}
	if err := o.standalone.prepare(); err != nil {
		return fmt.Errorf("preparing standalone mode: %w", err)
	}
	return nil
}

// startEmbeddedEtcd starts etcd in the state directory, on the socket Complete pointed the
// storage at, when no --etcd-servers are given, and returns how to stop it.
func (o *ServerOptions) startEmbeddedEtcd(ctx context.Context) (func(), error) {
	if !o.embeddedEtcd {
		return func() {}, nil
	}
	dir := filepath.Join(o.Standalone.StateDir, "etcd")
	socket, err := o.etcdSocket()
	if err != nil {
		return nil, err
	}
	embedded, err := etcd.StartEmbedded(ctx, dir, socket)
	if err != nil {
		return nil, err
	}
	klog.InfoS("Started embedded etcd", "dataDir", dir, "endpoint", embedded.Endpoint)
	return embedded.Close, nil
}

// checkMode says what standalone mode does, or checks the cluster a delegated server needs.
func (o *ServerOptions) checkMode(ctx context.Context) error {
	r := o.Recommended
	if o.standalone != nil {
		klog.InfoS("Standalone mode: no Kubernetes cluster; client certificates of the local CA are authenticated, group system:masters is authorized",
			"clientCA", r.Authentication.ClientCert.ClientCA, "encryptionConfig", r.Etcd.EncryptionProviderConfigFilepath)
		if bind := r.SecureServing.BindAddress; !bind.IsLoopback() {
			klog.Warningf("Standalone mode listens on %s, not only on loopback: other machines can reach it. "+
				"Only holders of a client certificate of its CA are served; omit --bind-address to listen on 127.0.0.1 only.", bind)
		}
		return nil
	}
	if r.Etcd.EncryptionProviderConfigFilepath == "" {
		klog.Warning("No --encryption-provider-config given: InternalSecrets are stored in etcd in PLAINTEXT. " +
			"Configure encryption at rest (see docs/encryption.md) before storing real secrets.")
	}
	return o.checkCluster(ctx, o.ClusterCheck.Timeout)
}

// announceStandalone writes the admin kubeconfig for the port served and prints how to use it.
func (o *ServerOptions) announceStandalone(config *apiserver.Config, server *apiserver.Server) error {
	s := o.standalone
	addr := config.GenericConfig.SecureServing.Listener.Addr().(*net.TCPAddr)
	if err := s.writeKubeconfig(addr.Port); err != nil {
		return err
	}
	server.GenericAPIServer.AddPostStartHookOrDie("print-kubectl-hint", func(genericapiserver.PostStartHookContext) error {
		fmt.Fprintf(o.Out, "\ngarden-apiserver is serving on %s (state in %s)\nTry:\n  kubectl --kubeconfig %s get internalsecrets -A\n\n",
			s.serverURL(addr.Port), s.stateDir, s.kubeconfigPath)
		return nil
	})
	return nil
}

// privateDir creates dir mode 0700, or tightens an existing one: it holds etcd's data and
// socket and, in standalone mode, the CA keys.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		klog.InfoS("Restricting the state directory to its owner", "dir", dir, "from", st.Mode().Perm(), "to", fs.FileMode(0o700))
		return os.Chmod(dir, 0o700)
	}
	return nil
}
