package apiserver

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/encryption"
	"github.com/garden-apiserver/garden-apiserver/pkg/monitoring"
	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
	"github.com/garden-apiserver/garden-apiserver/pkg/registry/internalsecret"
	"github.com/garden-apiserver/garden-apiserver/pkg/registry/shoot"
	"github.com/garden-apiserver/garden-apiserver/pkg/shootaccess"
)

// ExtraConfig is what this server needs beyond the generic config.
type ExtraConfig struct {
	// ShootAccess configures the kubeconfig subresources.
	ShootAccess shootaccess.Options
	// Encryption keeps stored objects in line with the encryption configuration.
	Encryption *encryption.Controller
}

// Config is the complete server configuration.
type Config struct {
	GenericConfig *genericapiserver.RecommendedConfig
	ExtraConfig   ExtraConfig
}

// Server is a running garden-apiserver.
type Server struct {
	GenericAPIServer *genericapiserver.GenericAPIServer
}

type completedConfig struct {
	GenericConfig genericapiserver.CompletedConfig
	ExtraConfig   *ExtraConfig
	// clusterClient reaches the cluster's core API; nil in standalone mode.
	clusterClient *restclient.Config
}

// CompletedConfig is a Config with every default filled in, ready for New.
type CompletedConfig struct {
	*completedConfig
}

// Complete fills in the defaults of the generic config and applies the server's own policy.
func (c *Config) Complete() CompletedConfig {
	// Health endpoints stay reachable for probes; everything else needs credentials (401).
	if authn := &c.GenericConfig.Authentication; authn.Authenticator != nil {
		if _, done := authn.Authenticator.(healthOnlyAnonymous); !done {
			authn.Authenticator = healthOnlyAnonymous{authn.Authenticator}
		}
	}
	// /version reports the project's build; the Kubernetes version of the libraries still decides APIs.
	if v := c.GenericConfig.EffectiveVersion; v != nil {
		if _, done := v.(buildVersion); !done {
			c.GenericConfig.EffectiveVersion = buildVersion{v}
		}
	}
	return CompletedConfig{&completedConfig{
		GenericConfig: c.GenericConfig.Complete(),
		ExtraConfig:   &c.ExtraConfig,
		clusterClient: c.GenericConfig.ClientConfig,
	}}
}

// New builds the server and installs the core.gardener.cloud group.
func (c completedConfig) New() (*Server, error) {
	generic, err := c.GenericConfig.New("garden-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}

	optsGetter := c.GenericConfig.RESTOptionsGetter
	secrets, err := internalsecret.NewREST(Scheme, optsGetter)
	if err != nil {
		return nil, err
	}
	shoots, shootStatus, err := shoot.NewREST(Scheme, optsGetter)
	if err != nil {
		return nil, err
	}

	issuer, err := c.newIssuer(generic, shoots.Store, secrets.Store)
	if err != nil {
		return nil, err
	}

	admin, viewer := c.ExtraConfig.ShootAccess.Kinds()
	adminKubeconfig, err := shoot.NewKubeconfigREST(Scheme, issuer, admin)
	if err != nil {
		return nil, err
	}
	viewerKubeconfig, err := shoot.NewKubeconfigREST(Scheme, issuer, viewer)
	if err != nil {
		return nil, err
	}

	group := genericapiserver.NewDefaultAPIGroupInfo(core.GroupName, Scheme, metav1.ParameterCodec, Codecs)
	group.VersionedResourcesStorageMap["v1beta1"] = map[string]rest.Storage{
		"internalsecrets":         secrets,
		"shoots":                  shoots,
		"shoots/status":           shootStatus,
		"shoots/adminkubeconfig":  adminKubeconfig,
		"shoots/viewerkubeconfig": viewerKubeconfig,
	}
	if err := generic.InstallAPIGroup(&group); err != nil {
		return nil, err
	}
	monitoring.RegisterShootCAExpiry(secrets.Store)
	// /readyz waits for the watch caches to be filled, as kube-apiserver's does; until then lists
	// with resourceVersion=0 go to etcd and watches are refused with 429.
	generic.AddPostStartHookOrDie("storage-readiness", generic.StorageReadinessHook.Hook)
	if err := c.ExtraConfig.Encryption.Install(generic, secrets.Store, shoots.Store); err != nil {
		return nil, err
	}
	return &Server{GenericAPIServer: generic}, nil
}

// newIssuer builds the kubeconfig issuer: the server's own authorizer decides the certificate's
// group; <shoot>.ca-cluster is read from the sources of --shoot-cluster-ca-sources, ConfigMaps and
// Secrets with a GET per issuance (no informer: a source that is off costs nothing).
func (c completedConfig) newIssuer(generic *genericapiserver.GenericAPIServer, shoots, secrets *genericregistry.Store) (*shootaccess.Issuer, error) {
	shootaccess.RegisterMetrics()
	opts := c.ExtraConfig.ShootAccess
	if opts.LegacyIdentity {
		klog.Warning("--shoot-kubeconfig-legacy-identity is set: admin kubeconfigs carry group system:masters, which " +
			"bypasses the shoot's RBAC and cannot be revoked before the certificate expires, and certificates are named " +
			"after the bare user, which may match RoleBindings in the shoot. Apply artifacts/shoot-rbac to the shoots and turn it off.")
	}
	issuer := shootaccess.NewIssuer(shoots, secrets,
		shootaccess.IdentityPolicy{Authorizer: c.GenericConfig.Authorization.Authorizer, Legacy: opts.LegacyIdentity}, opts)
	if opts.KeyPoolSize > 0 {
		pool := shootaccess.NewKeyPool(pki.KeyType(opts.KeyType), opts.KeyPoolSize, opts.KeyPoolWorkers)
		issuer.Keys = pool
		// The refill workers run as long as the server; a hook that returns at once keeps readiness untouched.
		generic.AddPostStartHookOrDie("shoot-kubeconfig-key-pool", func(ctx genericapiserver.PostStartHookContext) error {
			go pool.Run(ctx)
			return nil
		})
	}
	// Drop the parsed CA of a deleted InternalSecret at once (other replicas drop it on their next read).
	secrets.AfterDelete = func(obj runtime.Object, _ *metav1.DeleteOptions) { issuer.ForgetCA(obj) }

	if c.clusterClient == nil || !opts.ClusterCAFromCluster() {
		return issuer, nil
	}
	kube, err := kubernetes.NewForConfig(c.clusterClient)
	if err != nil {
		return nil, err
	}
	issuer.Kube = kube
	return issuer, nil
}
