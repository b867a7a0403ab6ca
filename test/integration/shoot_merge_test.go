package integration

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	corev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	applycore "github.com/garden-apiserver/garden-apiserver/pkg/generated/applyconfiguration/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

// status.advertisedAddresses merges by name, as Gardener's: a strategic merge patch of one
// address keeps the others, and two appliers each owning one entry keep both.
func TestShootAdvertisedAddressesMergeByName(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	c := s.Client.CoreV1beta1().Shoots(ns)
	shoot := framework.CreateShoot(t, s.Client, ns, "merge")
	shoot.Status.AdvertisedAddresses = []corev1beta1.ShootAdvertisedAddress{
		{Name: "external", URL: "https://api.ext.example"}, {Name: "internal", URL: "https://api.int.example"}}
	_, err := c.UpdateStatus(ctx, shoot, metav1.UpdateOptions{})
	require.NoError(t, err)

	patch := []byte(`{"status":{"advertisedAddresses":[{"name":"internal","url":"https://api.int2.example"}]}}`)
	patched, err := c.Patch(ctx, "merge", types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	require.NoError(t, err)
	require.ElementsMatch(t, []corev1beta1.ShootAdvertisedAddress{
		{Name: "external", URL: "https://api.ext.example"}, {Name: "internal", URL: "https://api.int2.example"}},
		patched.Status.AdvertisedAddresses)

	for _, a := range []struct{ manager, name, url string }{
		{"gardenlet", "wildcard-tls-seed-bound", "https://api.wildcard.example"},
		{"issuer", "service-account-issuer", "https://issuer.example"},
	} {
		_, err := c.ApplyStatus(ctx, applycore.Shoot("merge", ns).WithStatus(applycore.ShootStatus().WithAdvertisedAddresses(
			applycore.ShootAdvertisedAddress().WithName(a.name).WithURL(a.url))), metav1.ApplyOptions{FieldManager: a.manager})
		require.NoError(t, err, a.manager)
	}
	got, err := c.Get(ctx, "merge", metav1.GetOptions{})
	require.NoError(t, err)
	require.ElementsMatch(t, []corev1beta1.ShootAdvertisedAddress{
		{Name: "external", URL: "https://api.ext.example"}, {Name: "internal", URL: "https://api.int2.example"},
		{Name: "wildcard-tls-seed-bound", URL: "https://api.wildcard.example"},
		{Name: "service-account-issuer", URL: "https://issuer.example"}}, got.Status.AdvertisedAddresses)
}
