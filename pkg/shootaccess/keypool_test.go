package shootaccess

import (
	"context"
	"crypto"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/testutil"

	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
)

// runPool starts p's workers and returns a stop function that waits for them to return.
func runPool(t *testing.T, p *KeyPool) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the pool's workers did not stop with their context")
		}
	}
	t.Cleanup(stop)
	return stop
}

func waitForKeys(t *testing.T, p *KeyPool, n int) {
	t.Helper()
	require.NoError(t, wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 30*time.Second, true,
		func(context.Context) (bool, error) { return p.Len() == n, nil }), "the pool holds %d keys", p.Len())
}

func counter(t *testing.T, c metrics.CounterMetric) float64 {
	t.Helper()
	RegisterMetrics() // unregistered metrics do not count
	v, err := testutil.GetCounterMetricValue(c)
	require.NoError(t, err)
	return v
}

// TestKeyPoolFillsToItsSizeAndStops: workers generate only into free places, so a full pool has
// every worker blocked and generates nothing more; each key taken is replaced by exactly one.
func TestKeyPoolFillsToItsSizeAndStops(t *testing.T) {
	generated := counter(t, keyPoolGenerated)
	p := NewKeyPool(pki.ECDSAP256, 8, 4)
	runPool(t, p)
	waitForKeys(t, p, 8)
	assert.Equal(t, 8.0, counter(t, keyPoolGenerated)-generated, "no key generated beyond the size")
	assert.Zero(t, len(p.slots), "no free place left: every worker waits")

	key, err := p.Key()
	require.NoError(t, err)
	require.NotNil(t, key)
	waitForKeys(t, p, 8)
	assert.Equal(t, 9.0, counter(t, keyPoolGenerated)-generated, "one key taken, one generated")
}

// TestKeyPoolKeysAreUsedOnce: concurrent takers never get the same key.
func TestKeyPoolKeysAreUsedOnce(t *testing.T) {
	p := NewKeyPool(pki.ECDSAP256, 16, 2)
	stop := runPool(t, p)
	waitForKeys(t, p, 16)
	stop()

	keys := make(chan crypto.Signer, 32)
	for range 32 {
		go func() {
			k, err := p.Key()
			assert.NoError(t, err)
			keys <- k
		}()
	}
	seen := map[string]bool{}
	for range 32 {
		der, err := pki.EncodeKey(<-keys)
		require.NoError(t, err)
		assert.False(t, seen[string(der)], "a key was handed out twice")
		seen[string(der)] = true
	}
	assert.Zero(t, p.Len())
}

// TestKeyPoolEmptyGeneratesOnRequest: an empty pool (or one whose workers stopped) never fails
// a request; it counts the miss.
func TestKeyPoolEmptyGeneratesOnRequest(t *testing.T) {
	misses := counter(t, keyPoolMisses)
	p := NewKeyPool(pki.RSA3072, 4, 1)
	key, err := p.Key()
	require.NoError(t, err)
	rsaKey, ok := key.(*rsa.PrivateKey)
	require.True(t, ok, "the pool's key type: %T", key)
	assert.Equal(t, 3072, rsaKey.N.BitLen())
	assert.Equal(t, 1.0, counter(t, keyPoolMisses)-misses)
}

// TestKeyPoolRSAKeys: pooled keys are of the pool's type.
func TestKeyPoolRSAKeys(t *testing.T) {
	misses := counter(t, keyPoolMisses)
	p := NewKeyPool(pki.RSA3072, 1, 1)
	runPool(t, p)
	waitForKeys(t, p, 1)
	key, err := p.Key()
	require.NoError(t, err)
	assert.Equal(t, 3072, key.(*rsa.PrivateKey).N.BitLen())
	assert.Zero(t, counter(t, keyPoolMisses)-misses, "served from the pool")
}

// TestKeyPoolStopsWithItsContext: Run returns once its context ends, also while keys are missing.
func TestKeyPoolStopsWithItsContext(t *testing.T) {
	p := NewKeyPool(pki.ECDSAP256, 2, 3)
	stop := runPool(t, p)
	waitForKeys(t, p, 2)
	_, err := p.Key()
	require.NoError(t, err)
	stop() // fails the test if Run does not return
}
