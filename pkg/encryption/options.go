package encryption

import (
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/wait"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
)

// Options tune how the server applies a changed encryption configuration.
type Options struct {
	// ReloadInterval is how often the configuration file is checked for changes.
	ReloadInterval time.Duration
	// Rate limits rewrites (objects per second, 0: unlimited).
	Rate float64
	// BatchSize is the page size of scans.
	BatchSize int64
	// Workers rewrite objects of one page in parallel.
	Workers int
	// ResyncInterval is how often a clean state is re-verified by a full scan.
	ResyncInterval time.Duration
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{ReloadInterval: time.Minute, Rate: 200, BatchSize: 100, Workers: 2, ResyncInterval: 10 * time.Minute}
}

// AddFlags registers the flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&o.ReloadInterval, "encryption-provider-config-reload-interval", o.ReloadInterval,
		"How often the file of --encryption-provider-config is checked for changes when --encryption-provider-config-automatic-reload is set.")
	fs.Float64Var(&o.Rate, "encryption-migration-rate", o.Rate,
		"Objects per second the server rewrites at most when the encryption configuration changes (0: unlimited).")
	fs.Int64Var(&o.BatchSize, "encryption-migration-batch-size", o.BatchSize,
		"Objects read from etcd per page while checking stored objects against the encryption configuration.")
	fs.IntVar(&o.Workers, "encryption-migration-workers", o.Workers,
		"Objects rewritten in parallel when the encryption configuration changes.")
}

// Validate checks the options.
func (o *Options) Validate() []error {
	var errs []error
	if o.ReloadInterval < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("--encryption-provider-config-reload-interval must be at least 100ms"))
	}
	if o.Rate < 0 {
		errs = append(errs, fmt.Errorf("--encryption-migration-rate must not be negative"))
	}
	if o.BatchSize < 1 || o.BatchSize > 10000 {
		errs = append(errs, fmt.Errorf("--encryption-migration-batch-size must be between 1 and 10000"))
	}
	if o.Workers < 1 || o.Workers > 64 {
		errs = append(errs, fmt.Errorf("--encryption-migration-workers must be between 1 and 64"))
	}
	return errs
}

// ApplyTo must run before the generic options are applied to c: it loads the encryption
// configuration and sets c.ResourceTransformers, so the etcd options build every store with
// the keyring's transformers and do not load the file themselves. It adds the KMS health
// checks to healthz and readyz, as the library does, and returns the controller that keeps
// etcd in line with the configuration. Install it on the server once the stores exist.
func (o *Options) ApplyTo(c *genericapiserver.RecommendedConfig, etcd *genericoptions.EtcdOptions) (*Controller, error) {
	if c.ResourceTransformers != nil {
		return nil, fmt.Errorf("encryption: storage transformers are already configured")
	}
	registerMetrics()
	// KMS connections live as long as the server serves requests.
	k, err := newKeyring(wait.ContextForChannel(c.DrainedNotify()), etcd.EncryptionProviderConfigFilepath,
		etcd.EncryptionProviderConfigAutomaticReload, o.ReloadInterval, c.APIServerID)
	if err != nil {
		return nil, err
	}
	if k.file != "" {
		recordConfigInfo(c.APIServerID, k.current().hash)
	}
	c.ResourceTransformers = k
	if !etcd.SkipHealthEndpoints {
		c.HealthzChecks = append(c.HealthzChecks, k.healthChecks()...)
		c.ReadyzChecks = append(c.ReadyzChecks, k.healthChecks()...)
	}

	host, _ := os.Hostname()
	// The library's APIServerID is the same for all replicas on one host.
	replicaID := host + "-" + uuid.NewString()[:8]
	etcdConn := &etcdClient{transport: etcd.StorageConfig.Transport}
	rep := newReporter(etcd.EncryptionProviderConfigFilepath, etcd.EncryptionProviderConfigAutomaticReload, replicaID)
	k.onNewLoadError = rep.configLoadFailed
	return &Controller{
		opts:       *o,
		keyring:    k,
		etcdPrefix: etcd.StorageConfig.Prefix,
		migrator:   newMigrator(*o, etcdConn, rep),
		replicas:   newReplicaSet(replicaID, etcd.StorageConfig.Prefix, etcdConn),
		reporter:   rep,
		etcd:       etcdConn,
	}, nil
}
