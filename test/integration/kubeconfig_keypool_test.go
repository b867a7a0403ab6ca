package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/garden-apiserver/garden-apiserver/test/fixture"
	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

const (
	poolKeys      = "garden_apiserver_shoot_kubeconfig_key_pool_keys"
	poolGenerated = "garden_apiserver_shoot_kubeconfig_key_pool_generated_total"
	poolMisses    = "garden_apiserver_shoot_kubeconfig_key_pool_misses_total"
)

func waitForPool(t *testing.T, s *framework.Server, keys float64) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 2*time.Minute, true,
		func(context.Context) (bool, error) { return s.Metric(t, poolKeys) == keys, nil })
	require.NoError(t, err, "the key pool holds %v keys, want %v", s.Metric(t, poolKeys), keys)
}

// TestKubeconfigKeyPool: the pool fills when the server starts, issuances take their RSA keys from
// it (each key once) and it refills exactly what was taken.
func TestKubeconfigKeyPool(t *testing.T) {
	s := framework.Start(t, "", "--shoot-kubeconfig-key-pool-size=3", "--shoot-kubeconfig-key-pool-workers=2")
	ctx := context.Background()
	createShoot(t, s.Client, "pooled", external)
	waitForPool(t, s, 3)
	generated, misses := s.Metric(t, poolGenerated), s.Metric(t, poolMisses)

	keys := map[string]bool{}
	for range 3 {
		res, err := s.Client.CoreV1beta1().Shoots(ns).CreateAdminKubeconfigRequest(ctx, "pooled", adminRequest(nil), metav1.CreateOptions{})
		require.NoError(t, err)
		cfg, err := clientcmd.Load(res.Status.Kubeconfig)
		require.NoError(t, err)
		blocks, bits, err := fixture.ClientKeyBlocks(cfg)
		require.NoError(t, err)
		assert.Equal(t, []string{"RSA PRIVATE KEY"}, blocks)
		assert.Equal(t, 3072, bits)
		key := string(cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo].ClientKeyData)
		assert.False(t, keys[key], "a pooled key was issued twice")
		keys[key] = true
	}
	assert.Equal(t, misses, s.Metric(t, poolMisses), "every key came from the pool")

	waitForPool(t, s, 3)
	assert.Equal(t, generated+3, s.Metric(t, poolGenerated), "the pool replaced the keys taken, nothing more")
}
