package compat

import (
	"context"
	"testing"
	"time"

	gardencorev1beta1 "github.com/gardener/gardener/pkg/apis/core/v1beta1"
	v1beta1constants "github.com/gardener/gardener/pkg/apis/core/v1beta1/constants"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestGardenerClientShoots drives Shoots through Gardener's controller-runtime client: create (with
// Gardener fields we do not serve), get, list, update, status update and status patches as
// gardenlet sends them (merge patch and strategic merge patch of advertisedAddresses), delete.
func TestGardenerClientShoots(t *testing.T) {
	for _, mode := range clientModes {
		t.Run(mode.name, func(t *testing.T) {
			ctx := context.Background()
			c, rec := newGardenClient(t, mode.contentType)
			shoot := newShoot("garden-compat-shoot-"+mode.name, "compat")
			shoot.Spec.Region = "local" // Gardener's, not ours: dropped
			spec := shoot.Spec.DeepCopy()

			require.NoError(t, c.Create(ctx, shoot))
			require.Equal(t, spec.Kubernetes, shoot.Spec.Kubernetes)
			require.Equal(t, spec.Hibernation, shoot.Spec.Hibernation)
			require.Empty(t, shoot.Spec.Region, "a field we do not serve is dropped")
			require.Equal(t, int64(1), shoot.Generation)

			got := &gardencorev1beta1.Shoot{}
			require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(shoot), got))
			require.Equal(t, spec.Kubernetes, got.Spec.Kubernetes)
			require.Equal(t, spec.Hibernation, got.Spec.Hibernation)

			list := &gardencorev1beta1.ShootList{}
			require.NoError(t, c.List(ctx, list, client.InNamespace(shoot.Namespace)))
			require.Len(t, list.Items, 1)
			require.Equal(t, spec.Kubernetes, list.Items[0].Spec.Kubernetes)

			got.Spec.Kubernetes.Version = "1.33.1"
			require.NoError(t, c.Update(ctx, got))
			require.Equal(t, "1.33.1", got.Spec.Kubernetes.Version)
			require.Equal(t, int64(2), got.Generation, "a spec update bumps the generation")

			status := fullStatus(got.Generation)
			got.Status = *status.DeepCopy()
			require.NoError(t, c.Status().Update(ctx, got))
			requireStatus(t, c, got, status)

			patchAddresses(t, c, got, status)
			deleteShoot(t, c, got)
			rec.requireMediaType(t, mode.contentType)
		})
	}
}

// newShoot is a Shoot with every spec field we serve set.
func newShoot(namespace, name string) *gardencorev1beta1.Shoot {
	return &gardencorev1beta1.Shoot{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: gardencorev1beta1.ShootSpec{
			Hibernation: &gardencorev1beta1.Hibernation{Enabled: ptr.To(false)},
			Kubernetes: gardencorev1beta1.Kubernetes{
				Version: "1.33.0",
				KubeAPIServer: &gardencorev1beta1.KubeAPIServerConfig{
					EncryptionConfig: &gardencorev1beta1.EncryptionConfig{
						Resources: []string{"configmaps", "jobs.batch"},
						Provider:  gardencorev1beta1.EncryptionProvider{Type: ptr.To(gardencorev1beta1.EncryptionProviderType("aesgcm"))},
					},
				},
			},
		},
	}
}

// fullStatus sets every status field we serve, with times of whole seconds (what JSON carries)
// and initiation and completion times apart, so a swap of the two shows.
func fullStatus(generation int64) *gardencorev1beta1.ShootStatus {
	now := time.Now().Truncate(time.Second)
	return &gardencorev1beta1.ShootStatus{
		AdvertisedAddresses: []gardencorev1beta1.ShootAdvertisedAddress{{Name: "external", URL: "https://api.compat.example.test"}},
		Credentials: &gardencorev1beta1.ShootCredentials{
			Rotation: &gardencorev1beta1.ShootCredentialsRotation{
				ETCDEncryptionKey: &gardencorev1beta1.ETCDEncryptionKeyRotation{
					Phase:              gardencorev1beta1.RotationCompleted,
					LastInitiationTime: ptr.To(metav1.NewTime(now.Add(-2 * time.Hour))),
					LastCompletionTime: ptr.To(metav1.NewTime(now.Add(-time.Hour))),
				},
			},
			EncryptionAtRest: &gardencorev1beta1.EncryptionAtRest{
				Resources: []string{"configmaps", "jobs.batch"},
				Provider:  gardencorev1beta1.EncryptionProviderStatus{Type: "aesgcm"},
			},
		},
		IsHibernated: true,
		LastOperation: &gardencorev1beta1.LastOperation{
			Description: "Shoot cluster has been successfully reconciled.", LastUpdateTime: metav1.NewTime(now),
			Progress: 100, State: gardencorev1beta1.LastOperationStateSucceeded, Type: gardencorev1beta1.LastOperationTypeCreate,
		},
		ObservedGeneration: generation,
	}
}

func requireStatus(t *testing.T, c client.Client, shoot *gardencorev1beta1.Shoot, want *gardencorev1beta1.ShootStatus) {
	t.Helper()
	got := &gardencorev1beta1.Shoot{}
	require.NoError(t, c.Get(context.Background(), client.ObjectKeyFromObject(shoot), got))
	require.Equal(t, want, &got.Status)
}

// patchAddresses patches status.advertisedAddresses as gardenlet does (UpdateInfoStatus): a merge
// patch of the whole list, then a strategic merge patch adding one entry, which has to keep the
// others (Gardener's list merges by name).
func patchAddresses(t *testing.T, c client.Client, shoot *gardencorev1beta1.Shoot, status *gardencorev1beta1.ShootStatus) {
	ctx := context.Background()
	t.Run("merge patch of advertisedAddresses", func(t *testing.T) {
		before := shoot.DeepCopy()
		status.AdvertisedAddresses = []gardencorev1beta1.ShootAdvertisedAddress{
			{Name: "external", URL: "https://api.compat.example.test"},
			{Name: "internal", URL: "https://api.compat.internal.example.test"},
		}
		shoot.Status.AdvertisedAddresses = status.AdvertisedAddresses
		require.NoError(t, c.Status().Patch(ctx, shoot, client.MergeFrom(before)))
		require.Equal(t, status.AdvertisedAddresses, shoot.Status.AdvertisedAddresses, "the patch response")
		requireStatus(t, c, shoot, status)
	})
	t.Run("strategic merge patch of advertisedAddresses", func(t *testing.T) {
		before := shoot.DeepCopy()
		issuer := gardencorev1beta1.ShootAdvertisedAddress{Name: "service-account-issuer", URL: "https://discovery.example.test/compat/issuer"}
		want := status.DeepCopy()
		want.AdvertisedAddresses = append(want.AdvertisedAddresses, issuer)
		shoot.Status.AdvertisedAddresses = append(shoot.Status.AdvertisedAddresses, issuer)
		require.NoError(t, c.Status().Patch(ctx, shoot, client.StrategicMergeFrom(before)))
		requireStatus(t, c, shoot, want)
	})
}

// deleteShoot confirms the deletion (annotation), deletes and waits until the Shoot is gone.
func deleteShoot(t *testing.T, c client.Client, shoot *gardencorev1beta1.Shoot) {
	t.Helper()
	ctx := context.Background()
	before := shoot.DeepCopy()
	metav1.SetMetaDataAnnotation(&shoot.ObjectMeta, v1beta1constants.ConfirmationDeletion, "true")
	require.NoError(t, c.Patch(ctx, shoot, client.MergeFrom(before)))
	require.NoError(t, c.Delete(ctx, shoot))
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKeyFromObject(shoot), &gardencorev1beta1.Shoot{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	require.NoError(t, err, "waiting for the Shoot to be gone")
}
