package compat

import (
	"context"
	"testing"
	"time"

	gardencorev1beta1 "github.com/gardener/gardener/pkg/apis/core/v1beta1"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestGardenerCacheWatchesShoots reads Shoots and InternalSecrets as Gardener's controllers do:
// through controller-runtime's cache (list, then watch), which sees creates, status changes and
// deletes.
func TestGardenerCacheWatchesShoots(t *testing.T) {
	for _, mode := range clientModes {
		t.Run(mode.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c, rec := newGardenClient(t, mode.contentType)
			cfg := restConfig(t)
			if mode.contentType == runtime.ContentTypeJSON {
				cfg.ContentType = mode.contentType
			}
			cfg.WrapTransport = rec.wrap
			informers, err := cache.New(cfg, cache.Options{Scheme: gardenClientScheme})
			require.NoError(t, err)
			go func() { _ = informers.Start(ctx) }()

			shoot := newShoot("garden-compat-cache-"+mode.name, "watched")
			require.NoError(t, c.Create(ctx, shoot))
			cached := &gardencorev1beta1.Shoot{}
			waitCached(t, informers, shoot, cached, func(found bool) bool { return found && cached.UID == shoot.UID })
			require.Equal(t, shoot.Spec.Kubernetes, cached.Spec.Kubernetes)

			status := fullStatus(shoot.Generation)
			shoot.Status = *status.DeepCopy()
			require.NoError(t, c.Status().Update(ctx, shoot))
			waitCached(t, informers, shoot, cached, func(found bool) bool { return found && cached.ResourceVersion == shoot.ResourceVersion })
			require.Equal(t, *status, cached.Status)

			deleteShoot(t, c, shoot)
			waitCached(t, informers, shoot, cached, func(found bool) bool { return !found })
			rec.requireMediaType(t, mode.contentType)
		})
	}
}

// waitCached polls the cache until done holds: done learns whether the object is in the cache
// (then read into into).
func waitCached(t *testing.T, informers cache.Cache, obj client.Object, into client.Object, done func(found bool) bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := informers.Get(ctx, client.ObjectKeyFromObject(obj), into)
		if err != nil && !apierrors.IsNotFound(err) {
			return false, err
		}
		return done(err == nil), nil
	})
	require.NoError(t, err, "waiting for the cache")
}
