package apiserver

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/klog/v2"

	gardenadmission "github.com/garden-apiserver/garden-apiserver/pkg/admission"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/encryption"
	"github.com/garden-apiserver/garden-apiserver/pkg/etcd"
	generatedopenapi "github.com/garden-apiserver/garden-apiserver/pkg/generated/openapi"
	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

// DefaultEtcdPathPrefix is Gardener's prefix, so the server can share an etcd with kube-apiserver.
const DefaultEtcdPathPrefix = "/registry-gardener"

// Options are the command-line options of garden-apiserver.
type Options struct {
	Recommended *genericoptions.RecommendedOptions
	// ServerRun carries the request limits and timeouts (--max-requests-inflight,
	// --request-timeout, --shutdown-delay-duration, ...), as in kube-apiserver.
	ServerRun *genericoptions.ServerRunOptions

	// StateDir holds the embedded etcd data and, in standalone mode, keys and kubeconfig.
	StateDir string
	// Standalone runs without a Kubernetes cluster: local client CA, system:masters only.
	Standalone bool
	// MaxKubeconfigExpiration clamps the validity of issued kubeconfigs.
	MaxKubeconfigExpiration time.Duration
	// KubeconfigKeyType is the algorithm of issued client keys.
	KubeconfigKeyType string
	// Encryption tunes re-encryption after encryption configuration changes.
	Encryption *encryption.Options
	// ClusterCheckTimeout bounds the delegated-mode start-up check of the cluster (preflight.go).
	ClusterCheckTimeout time.Duration

	Out io.Writer
}

// NewOptions returns options with the defaults of a production deployment.
func NewOptions(out io.Writer) *Options {
	o := &Options{
		Recommended: genericoptions.NewRecommendedOptions(DefaultEtcdPathPrefix,
			Codecs.LegacyCodec(v1beta1.SchemeGroupVersion)),
		ServerRun:               genericoptions.NewServerRunOptions(),
		StateDir:                defaultStateDir(),
		MaxKubeconfigExpiration: 24 * time.Hour,
		KubeconfigKeyType:       string(pki.ECDSAP256),
		Encryption:              encryption.NewOptions(),
		ClusterCheckTimeout:     30 * time.Second,
		Out:                     out,
	}
	o.Recommended.Etcd.StorageConfig.EncodeVersioner = runtime.NewMultiGroupVersioner(
		v1beta1.SchemeGroupVersion, schema.GroupKind{Group: core.GroupName})
	gardenadmission.Configure(o.Recommended)
	return o
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

// AddFlags registers all flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	o.Recommended.AddFlags(fs)
	o.ServerRun.AddUniversalFlags(fs)
	fs.StringVar(&o.StateDir, "state-dir", o.StateDir,
		"Directory for the embedded etcd's data (used when --etcd-servers is empty) and, with --standalone, the generated CAs, keys and admin kubeconfig.")
	fs.BoolVar(&o.Standalone, "standalone", o.Standalone,
		"Run without a Kubernetes cluster: authenticate client certificates of a CA generated in --state-dir, allow only group system:masters, and write an admin kubeconfig there.")
	fs.DurationVar(&o.MaxKubeconfigExpiration, "shoot-admin-kubeconfig-max-expiration", o.MaxKubeconfigExpiration,
		"Longest validity of kubeconfigs issued by shoots/adminkubeconfig and shoots/viewerkubeconfig; longer requests are clamped.")
	fs.StringVar(&o.KubeconfigKeyType, "shoot-kubeconfig-key-type", o.KubeconfigKeyType,
		fmt.Sprintf("Algorithm of the client key in issued kubeconfigs, one of %v.", pki.KeyTypes))
	o.Encryption.AddFlags(fs)
	fs.DurationVar(&o.ClusterCheckTimeout, "cluster-check-timeout", o.ClusterCheckTimeout,
		"Without --standalone: how long to wait at start-up for the cluster behind --kubeconfig, --authentication-kubeconfig and --authorization-kubeconfig to answer before exiting with an error (0 skips the check).")
}

// Validate checks the options.
func (o *Options) Validate() error {
	errs := append(o.Recommended.Validate(), o.ServerRun.Validate()...)
	if o.MaxKubeconfigExpiration < 10*time.Minute {
		errs = append(errs, fmt.Errorf("--shoot-admin-kubeconfig-max-expiration must be at least 10m, got %s", o.MaxKubeconfigExpiration))
	}
	if _, err := pki.NewKey(pki.KeyType(o.KubeconfigKeyType)); err != nil {
		errs = append(errs, fmt.Errorf("--shoot-kubeconfig-key-type: %w", err))
	}
	errs = append(errs, o.Encryption.Validate()...)
	return utilerrors.NewAggregate(errs)
}

// Run builds the server from the options and serves until ctx is done.
func (o *Options) Run(ctx context.Context) error {
	if len(o.Recommended.Etcd.StorageConfig.Transport.ServerList) == 0 || o.Standalone {
		if err := privateDir(o.StateDir); err != nil {
			return fmt.Errorf("--state-dir: %w", err)
		}
	}
	if len(o.Recommended.Etcd.StorageConfig.Transport.ServerList) == 0 {
		embedded, err := etcd.StartEmbedded(ctx, filepath.Join(o.StateDir, "etcd"))
		if err != nil {
			return err
		}
		// Runs after the server has drained, so in-flight writes finish first.
		defer embedded.Close()
		klog.InfoS("Started embedded etcd", "dataDir", filepath.Join(o.StateDir, "etcd"), "endpoint", embedded.Endpoint)
		o.Recommended.Etcd.StorageConfig.Transport.ServerList = []string{embedded.Endpoint}
	}
	if err := o.Validate(); err != nil {
		return err
	}

	var standalone *standaloneState
	if o.Standalone {
		var err error
		if standalone, err = o.prepareStandalone(); err != nil {
			return fmt.Errorf("preparing standalone mode: %w", err)
		}
	} else if o.Recommended.Etcd.EncryptionProviderConfigFilepath == "" {
		klog.Warning("No --encryption-provider-config given: InternalSecrets are stored in etcd in PLAINTEXT. " +
			"Configure encryption at rest (see docs/encryption.md) before storing real secrets.")
	}
	if !o.Standalone {
		if err := o.checkCluster(ctx, o.ClusterCheckTimeout); err != nil {
			return err
		}
	}

	config, err := o.Config()
	if err != nil {
		return err
	}
	server, err := config.New()
	if err != nil {
		return err
	}
	if standalone != nil {
		addr := config.GenericConfig.SecureServing.Listener.Addr().(*net.TCPAddr)
		if err := standalone.writeKubeconfig(addr.Port); err != nil {
			return err
		}
		server.GenericAPIServer.AddPostStartHookOrDie("print-kubectl-hint", func(genericapiserver.PostStartHookContext) error {
			fmt.Fprintf(o.Out, "\ngarden-apiserver is serving on https://127.0.0.1:%d (state in %s)\nTry:\n  kubectl --kubeconfig %s get internalsecrets -A\n\n",
				addr.Port, o.StateDir, standalone.kubeconfigPath)
			return nil
		})
	}
	return server.GenericAPIServer.PrepareRun().RunWithContext(ctx)
}

// Config turns the options into a server configuration.
func (o *Options) Config() (*Config, error) {
	if err := o.Recommended.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil,
		[]net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback}); err != nil {
		return nil, fmt.Errorf("creating self-signed serving certificate: %w", err)
	}

	c := genericapiserver.NewRecommendedConfig(Codecs)
	// Before the recommended options: priority and fairness sizes itself from the in-flight limits.
	if err := o.ServerRun.ApplyTo(&c.Config); err != nil {
		return nil, err
	}
	namer := openapi.NewDefinitionNamer(Scheme)
	c.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(generatedopenapi.GetOpenAPIDefinitions, namer)
	c.OpenAPIConfig.Info.Title = "garden-apiserver"
	c.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(generatedopenapi.GetOpenAPIDefinitions, namer)
	c.OpenAPIV3Config.Info.Title = "garden-apiserver"
	c.FeatureGate = utilfeature.DefaultFeatureGate
	c.EffectiveVersion = buildVersion{c.EffectiveVersion}

	if err := o.Recommended.ApplyTo(c); err != nil {
		return nil, err
	}
	// Health endpoints stay reachable for probes; everything else needs credentials (401).
	if c.Authentication.Authenticator != nil {
		c.Authentication.Authenticator = healthOnlyAnonymous{c.Authentication.Authenticator}
	}
	// After ApplyTo: wraps the storage transformers the etcd options built.
	enc, err := o.Encryption.ApplyTo(c, o.Recommended.Etcd)
	if err != nil {
		return nil, err
	}
	return &Config{
		GenericConfig: c,
		ExtraConfig: ExtraConfig{
			Encryption:              enc,
			MaxKubeconfigExpiration: o.MaxKubeconfigExpiration,
			KubeconfigKeyType:       pki.KeyType(o.KubeconfigKeyType),
		},
	}, nil
}

// privateDir creates dir mode 0700, or tightens an existing one: it holds etcd's data and,
// in standalone mode, the CA keys.
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
