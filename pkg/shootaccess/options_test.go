package shootaccess

import (
	"math"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOptionsExpirationRange(t *testing.T) {
	for _, flag := range []string{"--shoot-admin-kubeconfig-max-expiration", "--shoot-viewer-kubeconfig-max-expiration"} {
		for value, ok := range map[string]bool{
			"1h": true, "24h": true, (time.Duration(math.MaxUint32) * time.Second).String(): true,
			"59m59s": false, "10m": false, (time.Duration(math.MaxUint32)*time.Second + time.Second).String(): false,
		} {
			o := NewOptions()
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			o.AddFlags(fs)
			require.NoError(t, fs.Parse([]string{flag + "=" + value}))
			errs := o.Validate()
			if ok {
				assert.Empty(t, errs, "%s=%s", flag, value)
				continue
			}
			require.Len(t, errs, 1, "%s=%s", flag, value)
			assert.Contains(t, errs[0].Error(), flag)
			assert.Contains(t, errs[0].Error(), "[1h, 2^32s]")
		}
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := NewOptions()
	assert.Empty(t, o.Validate())
	admin, viewer := o.Kinds()
	assert.Equal(t, 24*time.Hour, admin.MaxExpiration)
	assert.Equal(t, 24*time.Hour, viewer.MaxExpiration)
	assert.False(t, o.LegacyIdentity)
	assert.Equal(t, "rsa-3072", o.KeyType, "what Gardener issues and gardenlogin accepts")
	o.CACacheSize = 0
	assert.Len(t, o.Validate(), 1)

	o = NewOptions()
	o.KeyType = "dsa"
	require.Len(t, o.Validate(), 1)
	assert.Contains(t, o.Validate()[0].Error(), "--shoot-kubeconfig-key-type must be one of")
}

func TestOptionsKeyPool(t *testing.T) {
	o := NewOptions()
	assert.Equal(t, 64, o.KeyPoolSize)
	assert.Equal(t, 1, o.KeyPoolWorkers)
	for args, want := range map[string]string{
		"--shoot-kubeconfig-key-pool-size=0":     "",
		"--shoot-kubeconfig-key-pool-size=4096":  "",
		"--shoot-kubeconfig-key-pool-size=-1":    "--shoot-kubeconfig-key-pool-size must be in [0, 4096], got -1",
		"--shoot-kubeconfig-key-pool-size=4097":  "--shoot-kubeconfig-key-pool-size must be in [0, 4096], got 4097",
		"--shoot-kubeconfig-key-pool-workers=64": "",
		"--shoot-kubeconfig-key-pool-workers=0":  "--shoot-kubeconfig-key-pool-workers must be in [1, 64], got 0",
		"--shoot-kubeconfig-key-pool-workers=65": "--shoot-kubeconfig-key-pool-workers must be in [1, 64], got 65",
	} {
		o := NewOptions()
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		o.AddFlags(fs)
		require.NoError(t, fs.Parse([]string{args}))
		errs := o.Validate()
		if want == "" {
			assert.Empty(t, errs, args)
			continue
		}
		require.Len(t, errs, 1, args)
		assert.Equal(t, want, errs[0].Error())
	}
}
