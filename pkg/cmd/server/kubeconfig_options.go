package server

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

// KubeconfigOptions tune the kubeconfigs issued by shoots/adminkubeconfig and
// shoots/viewerkubeconfig.
type KubeconfigOptions struct {
	// MaxExpiration clamps the validity of issued kubeconfigs.
	MaxExpiration time.Duration
	// KeyType is the algorithm of issued client keys.
	KeyType string
}

// NewKubeconfigOptions returns the defaults.
func NewKubeconfigOptions() *KubeconfigOptions {
	return &KubeconfigOptions{MaxExpiration: 24 * time.Hour, KeyType: string(pki.ECDSAP256)}
}

// AddFlags registers the flags.
func (o *KubeconfigOptions) AddFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&o.MaxExpiration, "shoot-admin-kubeconfig-max-expiration", o.MaxExpiration,
		"Longest validity of kubeconfigs issued by shoots/adminkubeconfig and shoots/viewerkubeconfig; longer requests are clamped.")
	fs.StringVar(&o.KeyType, "shoot-kubeconfig-key-type", o.KeyType,
		fmt.Sprintf("Algorithm of the client key in issued kubeconfigs, one of %v.", pki.KeyTypes))
}

// Validate checks the flags.
func (o *KubeconfigOptions) Validate() []error {
	var errs []error
	if o.MaxExpiration < 10*time.Minute {
		errs = append(errs, fmt.Errorf("--shoot-admin-kubeconfig-max-expiration must be at least 10m, got %s", o.MaxExpiration))
	}
	if _, err := pki.NewKey(pki.KeyType(o.KeyType)); err != nil {
		errs = append(errs, fmt.Errorf("--shoot-kubeconfig-key-type: %w", err))
	}
	return errs
}
