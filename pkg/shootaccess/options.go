package shootaccess

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/spf13/pflag"

	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

// Bounds of the --shoot-*-kubeconfig-max-expiration flags, as Gardener's.
const (
	MinMaxExpiration = time.Hour
	MaxMaxExpiration = time.Duration(math.MaxUint32) * time.Second
)

// Options configure issuance.
type Options struct {
	AdminMaxExpiration  time.Duration
	ViewerMaxExpiration time.Duration
	KeyType             string
	LegacyIdentity      bool
	CACacheSize         int
	// ClusterCASources are the objects <shoot>.ca-cluster is read from, in order.
	ClusterCASources []string
	KeyPoolSize      int
	KeyPoolWorkers   int
}

// Bounds and defaults of the key pool flags. 64 RSA-3072 keys hold about 200 KiB.
const (
	DefaultKeyPoolSize    = 64
	MaxKeyPoolSize        = 4096
	DefaultKeyPoolWorkers = 1
	MaxKeyPoolWorkers     = 64
)

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		AdminMaxExpiration:  24 * time.Hour,
		ViewerMaxExpiration: 24 * time.Hour,
		KeyType:             string(pki.DefaultKeyType),
		CACacheSize:         DefaultCACacheSize,
		ClusterCASources:    slices.Clone(DefaultClusterCASources),
		KeyPoolSize:         DefaultKeyPoolSize,
		KeyPoolWorkers:      DefaultKeyPoolWorkers,
	}
}

// AddFlags registers the issuance flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&o.AdminMaxExpiration, "shoot-admin-kubeconfig-max-expiration", o.AdminMaxExpiration,
		"Longest validity of kubeconfigs issued by shoots/adminkubeconfig, in [1h, 2^32s]; longer requests are clamped.")
	fs.DurationVar(&o.ViewerMaxExpiration, "shoot-viewer-kubeconfig-max-expiration", o.ViewerMaxExpiration,
		"Longest validity of kubeconfigs issued by shoots/viewerkubeconfig, in [1h, 2^32s]; longer requests are clamped.")
	fs.StringVar(&o.KeyType, "shoot-kubeconfig-key-type", o.KeyType,
		fmt.Sprintf("Algorithm of the client key in issued kubeconfigs, one of %v. RSA keys are written as PKCS#1, as Gardener "+
			"issues them; gardenlogin, gardenctl and the Gardener dashboard accept nothing else. ecdsa-p256 is cheaper for clients that accept it.", pki.KeyTypes))
	fs.BoolVar(&o.LegacyIdentity, "shoot-kubeconfig-legacy-identity", o.LegacyIdentity,
		"DANGEROUS: issue certificates with the old subject (CN=<user>; O=system:masters for admin kubeconfigs, "+
			"which bypasses the shoot's RBAC and cannot be revoked). Only for shoots that lack the bindings of artifacts/shoot-rbac.")
	fs.IntVar(&o.CACacheSize, "shoot-kubeconfig-ca-cache-size", o.CACacheSize,
		"Parsed shoot client CAs kept in memory (least recently used are dropped; about 3 KiB each).")
	fs.StringSliceVar(&o.ClusterCASources, "shoot-cluster-ca-sources", o.ClusterCASources,
		"Where the cluster CA of issued kubeconfigs (ca.crt of <shoot>.ca-cluster in the shoot's namespace) is read, "+
			"in order: internalsecret, configmap, secret. Each source trusts whoever may write that object in the project "+
			"namespace; configmap and secret are writable by the default admin and edit roles. Gardener's behaviour is configmap,secret.")
	fs.IntVar(&o.KeyPoolSize, "shoot-kubeconfig-key-pool-size", o.KeyPoolSize,
		fmt.Sprintf("Client keys generated ahead of time, in [0, %d]: bursts of issuances up to this size do not wait for key generation. "+
			"Each key is used once; an issuance that finds the pool empty generates its own. 0 turns the pool off.", MaxKeyPoolSize))
	fs.IntVar(&o.KeyPoolWorkers, "shoot-kubeconfig-key-pool-workers", o.KeyPoolWorkers,
		fmt.Sprintf("Goroutines refilling the key pool, in [1, %d]; each keeps up to one core busy until the pool is full again.", MaxKeyPoolWorkers))
}

// Validate checks the flags.
func (o *Options) Validate() []error {
	var errs []error
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"--shoot-admin-kubeconfig-max-expiration", o.AdminMaxExpiration}, {"--shoot-viewer-kubeconfig-max-expiration", o.ViewerMaxExpiration}} {
		if f.d < MinMaxExpiration || f.d > MaxMaxExpiration {
			errs = append(errs, fmt.Errorf("%s must be in [1h, 2^32s], got %s", f.name, f.d))
		}
	}
	if !slices.Contains(pki.KeyTypes, pki.KeyType(o.KeyType)) {
		errs = append(errs, fmt.Errorf("--shoot-kubeconfig-key-type must be one of %v, got %q", pki.KeyTypes, o.KeyType))
	}
	if _, err := ParseClusterCASources(o.ClusterCASources); err != nil {
		errs = append(errs, fmt.Errorf("--shoot-cluster-ca-sources: %w", err))
	}
	if o.CACacheSize < 1 {
		errs = append(errs, fmt.Errorf("--shoot-kubeconfig-ca-cache-size must be at least 1, got %d", o.CACacheSize))
	}
	if o.KeyPoolSize < 0 || o.KeyPoolSize > MaxKeyPoolSize {
		errs = append(errs, fmt.Errorf("--shoot-kubeconfig-key-pool-size must be in [0, %d], got %d", MaxKeyPoolSize, o.KeyPoolSize))
	}
	if o.KeyPoolWorkers < 1 || o.KeyPoolWorkers > MaxKeyPoolWorkers {
		errs = append(errs, fmt.Errorf("--shoot-kubeconfig-key-pool-workers must be in [1, %d], got %d", MaxKeyPoolWorkers, o.KeyPoolWorkers))
	}
	return errs
}

// ClusterCAFromCluster reports whether a cluster CA source is read from the Kubernetes cluster.
func (o *Options) ClusterCAFromCluster() bool {
	return o.ClusterCASourceOn(SourceConfigMap) || o.ClusterCASourceOn(SourceSecret)
}

// ClusterCASourceOn reports whether src is one of the cluster CA sources.
func (o *Options) ClusterCASourceOn(src ClusterCASource) bool {
	return slices.Contains(o.ClusterCASources, string(src))
}

// Kinds returns the admin and viewer kinds with the longest validity of their flags.
func (o *Options) Kinds() (admin, viewer Kind) {
	admin, viewer = Admin, Viewer
	admin.MaxExpiration, viewer.MaxExpiration = o.AdminMaxExpiration, o.ViewerMaxExpiration
	return admin, viewer
}
