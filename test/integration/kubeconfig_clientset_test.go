package integration

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	authv1alpha1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1"
	clientscheme "github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned/scheme"
	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

// TestKubeconfigGeneratedClientsetOnly: a program that has only the generated clientset issues
// admin and viewer kubeconfigs, over JSON and over protobuf. Neither its scheme nor client-go's
// knows the request kinds, and nothing in this process adds them.
func TestKubeconfigGeneratedClientsetOnly(t *testing.T) {
	for _, s := range []*runtime.Scheme{clientscheme.Scheme, scheme.Scheme} {
		for _, kind := range []string{"AdminKubeconfigRequest", "ViewerKubeconfigRequest"} {
			require.False(t, s.Recognizes(authv1alpha1.SchemeGroupVersion.WithKind(kind)), "%s is in a client scheme", kind)
		}
	}
	s := framework.Start(t, "")
	createShoot(t, s.Client, "only", external, internal)
	ctx := context.Background()

	for _, contentType := range []string{runtime.ContentTypeJSON, runtime.ContentTypeProtobuf} {
		t.Run(contentType, func(t *testing.T) {
			c, wire := wireClient(t, s, contentType)
			shoots := c.CoreV1beta1().Shoots(ns)

			admin, err := shoots.CreateAdminKubeconfigRequest(ctx, "only", &authv1alpha1.AdminKubeconfigRequest{
				Spec: authv1alpha1.AdminKubeconfigRequestSpec{ExpirationSeconds: ptr.To[int64](900)}}, metav1.CreateOptions{})
			require.NoError(t, err)
			requireWire(t, wire, "POST", "/shoots/only/adminkubeconfig", contentType, contentType)
			cfg, err := clientcmd.Load(admin.Status.Kubeconfig)
			require.NoError(t, err)
			assert.Equal(t, ns+"--only-external", cfg.CurrentContext)
			assert.Len(t, cfg.Clusters, 2)
			assert.Equal(t, []string{"gardener.cloud:system:admins"}, clientCert(t, admin.Status.Kubeconfig).Subject.Organization)
			assert.False(t, admin.Status.ExpirationTimestamp.IsZero())

			viewer, err := shoots.CreateViewerKubeconfigRequest(ctx, "only", &authv1alpha1.ViewerKubeconfigRequest{}, metav1.CreateOptions{})
			require.NoError(t, err)
			requireWire(t, wire, "POST", "/shoots/only/viewerkubeconfig", contentType, contentType)
			assert.Equal(t, []string{"gardener.cloud:system:viewers"}, clientCert(t, viewer.Status.Kubeconfig).Subject.Organization)

			// Errors decode too.
			_, err = shoots.CreateViewerKubeconfigRequest(ctx, "only", &authv1alpha1.ViewerKubeconfigRequest{
				Spec: authv1alpha1.ViewerKubeconfigRequestSpec{ExpirationSeconds: ptr.To[int64](60)}}, metav1.CreateOptions{})
			requireStatus(t, err, 422, "may not specify a duration less than 10 minutes")
		})
	}
}
