package compat

import (
	"context"
	"testing"

	gardencorev1beta1 "github.com/gardener/gardener/pkg/apis/core/v1beta1"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestGardenerClientInternalSecrets drives InternalSecrets through Gardener's controller-runtime
// client: create (data, stringData, immutable), get, list, update, patch, delete.
func TestGardenerClientInternalSecrets(t *testing.T) {
	for _, mode := range clientModes {
		t.Run(mode.name, func(t *testing.T) {
			ctx := context.Background()
			c, rec := newGardenClient(t, mode.contentType)
			ns := "garden-compat-is-" + mode.name

			s := &gardencorev1beta1.InternalSecret{
				ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: ns, Labels: map[string]string{"compat": "yes"}},
				Data:       map[string][]byte{"ca.crt": []byte("cert")},
				StringData: map[string]string{"token": "t0"},
				Type:       corev1.SecretTypeOpaque,
			}
			require.NoError(t, c.Create(ctx, s))
			require.NotEmpty(t, s.UID, "the create response is decoded into the object")
			require.Equal(t, map[string][]byte{"ca.crt": []byte("cert"), "token": []byte("t0")}, s.Data, "stringData merged into data")
			require.Empty(t, s.StringData, "stringData is write-only")

			frozen := &gardencorev1beta1.InternalSecret{
				ObjectMeta: metav1.ObjectMeta{Name: "frozen", Namespace: ns},
				Data:       map[string][]byte{"k": []byte("v")},
				Immutable:  ptr.To(true),
				Type:       corev1.SecretTypeOpaque,
			}
			require.NoError(t, c.Create(ctx, frozen))

			got := &gardencorev1beta1.InternalSecret{}
			require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(frozen), got))
			require.Equal(t, ptr.To(true), got.Immutable)
			require.Equal(t, map[string][]byte{"k": []byte("v")}, got.Data)
			require.Equal(t, corev1.SecretTypeOpaque, got.Type)

			list := &gardencorev1beta1.InternalSecretList{}
			require.NoError(t, c.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{"compat": "yes"}))
			require.Len(t, list.Items, 1)
			require.Equal(t, s.Data, list.Items[0].Data)
			require.Equal(t, corev1.SecretTypeOpaque, list.Items[0].Type)

			s.Data["extra"] = []byte("x")
			require.NoError(t, c.Update(ctx, s))
			require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(s), got))
			require.Equal(t, []byte("x"), got.Data["extra"])

			before := got.DeepCopy()
			got.Labels["patched"] = "yes"
			got.Data["extra"] = []byte("y")
			require.NoError(t, c.Patch(ctx, got, client.MergeFrom(before)))
			require.Equal(t, "yes", got.Labels["patched"], "the patch response is decoded")
			require.Equal(t, []byte("y"), got.Data["extra"])

			err := c.Update(ctx, withData(frozen, "k", "changed"))
			require.True(t, apierrors.IsInvalid(err), "an immutable InternalSecret's data cannot change: %v", err)

			for _, obj := range []*gardencorev1beta1.InternalSecret{s, frozen} {
				require.NoError(t, c.Delete(ctx, obj))
				err := c.Get(ctx, client.ObjectKeyFromObject(obj), &gardencorev1beta1.InternalSecret{})
				require.True(t, apierrors.IsNotFound(err), "after delete: %v", err)
			}
			rec.requireMediaType(t, mode.contentType)
		})
	}
}

func withData(s *gardencorev1beta1.InternalSecret, key, value string) *gardencorev1beta1.InternalSecret {
	s = s.DeepCopy()
	s.Data[key] = []byte(value)
	return s
}
