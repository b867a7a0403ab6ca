package integration

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	corev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	applycore "github.com/garden-apiserver/garden-apiserver/pkg/generated/applyconfiguration/core/v1beta1"
	typedcorev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned/typed/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

// assertApplyAndStatusPatch applies spec and status (through the subresource) of the Shoot
// "split" as two managers, then patches its status; it returns the patched Shoot.
func assertApplyAndStatusPatch(t *testing.T, c typedcorev1beta1.ShootInterface) *corev1beta1.Shoot {
	t.Helper()
	// Server-side apply of spec and of status through the subresource.
	ctx := context.Background()
	applied, err := c.Apply(ctx, applycore.Shoot("split", ns).WithSpec(applycore.ShootSpec().
		WithKubernetes(applycore.Kubernetes().WithVersion("1.32.0"))), metav1.ApplyOptions{FieldManager: "user", Force: true})
	require.NoError(t, err)
	assert.Equal(t, "1.32.0", applied.Spec.Kubernetes.Version)
	assert.EqualValues(t, 3, applied.Generation)
	appliedStatus, err := c.ApplyStatus(ctx, applycore.Shoot("split", ns).WithStatus(applycore.ShootStatus().WithObservedGeneration(3)),
		metav1.ApplyOptions{FieldManager: "gardenlet", Force: true})
	require.NoError(t, err)
	assert.EqualValues(t, 3, appliedStatus.Status.ObservedGeneration)
	assert.Equal(t, "1.32.0", appliedStatus.Spec.Kubernetes.Version)

	// Status patch through the subresource.
	patched, err := c.Patch(ctx, "split", types.MergePatchType,
		[]byte(`{"status":{"lastOperation":{"type":"Reconcile","state":"Succeeded","progress":100,"description":"ok","lastUpdateTime":"2026-01-01T00:00:00Z"}}}`),
		metav1.PatchOptions{}, "status")
	require.NoError(t, err)
	assert.Equal(t, "Succeeded", patched.Status.LastOperation.State)
	return patched

}

func TestShootSpecStatusSplit(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	c := s.Client.CoreV1beta1().Shoots(ns)

	in := &corev1beta1.Shoot{ObjectMeta: metav1.ObjectMeta{Name: "split", Namespace: ns},
		Spec:   corev1beta1.ShootSpec{Kubernetes: corev1beta1.Kubernetes{Version: "1.31.0"}},
		Status: corev1beta1.ShootStatus{ObservedGeneration: 5}}
	created, err := c.Create(ctx, in, metav1.CreateOptions{})
	require.NoError(t, err)
	assert.EqualValues(t, 1, created.Generation)
	assert.Zero(t, created.Status.ObservedGeneration, "status is dropped on create")

	// Status write: status changes, spec does not, generation stays.
	created.Status.ObservedGeneration = 1
	created.Status.AdvertisedAddresses = []corev1beta1.ShootAdvertisedAddress{external}
	created.Spec.Kubernetes.Version = "1.99.0"
	st, err := c.UpdateStatus(ctx, created, metav1.UpdateOptions{})
	require.NoError(t, err)
	assert.Equal(t, "1.31.0", st.Spec.Kubernetes.Version)
	assert.EqualValues(t, 1, st.Status.ObservedGeneration)
	assert.EqualValues(t, 1, st.Generation)

	// Spec write: spec changes and generation bumps, status does not.
	st.Spec.Kubernetes.Version = "1.31.1"
	st.Status.AdvertisedAddresses = nil
	sp, err := c.Update(ctx, st, metav1.UpdateOptions{})
	require.NoError(t, err)
	assert.EqualValues(t, 2, sp.Generation)
	assert.Len(t, sp.Status.AdvertisedAddresses, 1)

	patched := assertApplyAndStatusPatch(t, c)

	// Validation on the wire.
	bad := in.DeepCopy()
	bad.Name = "bad"
	bad.Spec.Kubernetes.Version = "latest"
	bad.Spec.Kubernetes.KubeAPIServer = &corev1beta1.KubeAPIServerConfig{EncryptionConfig: &corev1beta1.EncryptionConfig{
		Resources: []string{"secrets", "configmaps", "configmaps", "*.apps"}}}
	_, err = c.Create(ctx, bad, metav1.CreateOptions{})
	requireInvalid(t, err, "spec.kubernetes.version",
		"spec.kubernetes.kubeAPIServer.encryptionConfig.resources[0]",
		"spec.kubernetes.kubeAPIServer.encryptionConfig.resources[2]",
		"spec.kubernetes.kubeAPIServer.encryptionConfig.resources[3]")

	badStatus := patched.DeepCopy()
	badStatus.Status.AdvertisedAddresses = []corev1beta1.ShootAdvertisedAddress{{Name: "external", URL: "not a url"}}
	_, err = c.UpdateStatus(ctx, badStatus, metav1.UpdateOptions{})
	requireInvalid(t, err, "status.advertisedAddresses[0].url")

	list, err := c.List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=split"})
	require.NoError(t, err)
	assert.Len(t, list.Items, 1)
}
