package encryption

import (
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/pflag"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/healthz"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	encryptioncontroller "k8s.io/apiserver/pkg/server/options/encryptionconfig/controller"
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

// ApplyTo must run after the generic options were applied to c: it wraps the storage
// transformers the etcd options set up and returns the controller that keeps etcd in line with
// the configuration. Install it on the server once the stores exist.
func (o *Options) ApplyTo(c *genericapiserver.RecommendedConfig, etcd *genericoptions.EtcdOptions) (*Controller, error) {
	if c.RESTOptionsGetter == nil {
		return nil, fmt.Errorf("encryption: storage is not configured")
	}
	// Process-wide; the library reads it when its reload controller starts, after ApplyTo.
	if encryptioncontroller.EncryptionConfigFileChangePollDuration != o.ReloadInterval {
		encryptioncontroller.EncryptionConfigFileChangePollDuration = o.ReloadInterval
	}
	host, _ := os.Hostname()
	// The library's APIServerID is the same for all replicas on one host.
	replicaID := host + "-" + uuid.NewString()[:8]
	etcdConn := &etcdClient{transport: etcd.StorageConfig.Transport}
	rep := newReporter(etcd.EncryptionProviderConfigFilepath, etcd.EncryptionProviderConfigAutomaticReload, replicaID)
	ctrl := &Controller{
		opts: *o,
		config: &configTracker{
			file:          etcd.EncryptionProviderConfigFilepath,
			apiServerID:   c.APIServerID,
			libraryHealth: findCheck(c.ReadyzChecks, "kms-providers"),
		},
		migrator:  newMigrator(*o, etcdConn, rep),
		replicas:  newReplicaSet(replicaID, etcd.StorageConfig.Prefix, etcdConn),
		reporter:  rep,
		etcd:      etcdConn,
		resources: map[string]*resource{},
	}
	c.RESTOptionsGetter = restOptionsGetter{delegate: c.RESTOptionsGetter, c: ctrl,
		mediaType: writeMediaType(etcd.DefaultStorageMediaType)}
	return ctrl, nil
}

func findCheck(checks []healthz.HealthChecker, name string) healthz.HealthChecker {
	for _, h := range checks {
		if h.Name() == name {
			return h
		}
	}
	return nil
}
