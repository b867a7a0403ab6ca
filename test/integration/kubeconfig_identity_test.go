package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	authv1alpha1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

// TestKubeconfigLegacyIdentity: the opt-in flag restores the old subject for shoots without the
// gardener.cloud bindings.
func TestKubeconfigLegacyIdentity(t *testing.T) {
	s := framework.Start(t, "", "--shoot-kubeconfig-legacy-identity")
	ctx := context.Background()
	alice, err := versioned.NewForConfig(s.UserConfig(t, "alice", "system:masters"))
	require.NoError(t, err)
	createShoot(t, s.Client, "legacy", external)

	res, err := alice.CoreV1beta1().Shoots(ns).CreateAdminKubeconfigRequest(ctx, "legacy", adminRequest(nil), metav1.CreateOptions{})
	require.NoError(t, err)
	cert := clientCert(t, res.Status.Kubeconfig)
	assert.Equal(t, "alice", cert.Subject.CommonName)
	assert.Equal(t, []string{"system:masters"}, cert.Subject.Organization)

	viewer, err := alice.CoreV1beta1().Shoots(ns).CreateViewerKubeconfigRequest(ctx, "legacy", &authv1alpha1.ViewerKubeconfigRequest{}, metav1.CreateOptions{})
	require.NoError(t, err)
	vcert := clientCert(t, viewer.Status.Kubeconfig)
	assert.Equal(t, "alice", vcert.Subject.CommonName)
	assert.Equal(t, []string{"gardener.cloud:system:viewers"}, vcert.Subject.Organization)
}

// TestKubeconfigMetrics: issuance and refusals are counted by kind, group and reason on /metrics.
func TestKubeconfigMetrics(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	createShoot(t, s.Client, "metered", external)
	shoots := s.Client.CoreV1beta1().Shoots(ns)

	issued := []string{`kind="admin"`, `group="gardener.cloud:system:admins"`}
	missing := []string{`kind="viewer"`, `reason="shoot_not_found"`}
	invalid := []string{`kind="admin"`, `reason="invalid_request"`}
	issuedBefore := s.Metric(t, "garden_apiserver_shoot_kubeconfig_issued_total", issued...)
	missingBefore := s.Metric(t, "garden_apiserver_shoot_kubeconfig_refused_total", missing...)
	invalidBefore := s.Metric(t, "garden_apiserver_shoot_kubeconfig_refused_total", invalid...)

	_, err := shoots.CreateAdminKubeconfigRequest(ctx, "metered", adminRequest(nil), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = shoots.CreateViewerKubeconfigRequest(ctx, "nothere", &authv1alpha1.ViewerKubeconfigRequest{}, metav1.CreateOptions{})
	require.Error(t, err)
	short := int64(60)
	_, err = shoots.CreateAdminKubeconfigRequest(ctx, "metered", adminRequest(&short), metav1.CreateOptions{})
	require.Error(t, err)

	assert.Equal(t, issuedBefore+1, s.Metric(t, "garden_apiserver_shoot_kubeconfig_issued_total", issued...))
	assert.Equal(t, missingBefore+1, s.Metric(t, "garden_apiserver_shoot_kubeconfig_refused_total", missing...))
	assert.Equal(t, invalidBefore+1, s.Metric(t, "garden_apiserver_shoot_kubeconfig_refused_total", invalid...))
	// The histogram has observed at least the issuance above.
	assert.GreaterOrEqual(t, s.Metric(t, "garden_apiserver_shoot_kubeconfig_issuance_duration_seconds_count", `kind="admin"`), 1.0)
}

// TestKubeconfigCACacheFollowsDeletion: a deleted and recreated client CA is never served from
// the cache, and a deleted one is refused as missing.
func TestKubeconfigCACacheFollowsDeletion(t *testing.T) {
	// The protection plugin would refuse to delete a CA of an existing shoot.
	s := framework.Start(t, "", "--disable-admission-plugins=InternalSecretReferenceProtection")
	ctx := context.Background()
	createShoot(t, s.Client, "recreated", external)
	shoots := s.Client.CoreV1beta1().Shoots(ns)
	_, err := shoots.CreateAdminKubeconfigRequest(ctx, "recreated", adminRequest(nil), metav1.CreateOptions{})
	require.NoError(t, err)

	require.NoError(t, s.Client.CoreV1beta1().InternalSecrets(ns).Delete(ctx, "recreated.ca-client", metav1.DeleteOptions{}))
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := shoots.CreateAdminKubeconfigRequest(ctx, "recreated", adminRequest(nil), metav1.CreateOptions{})
		return err != nil, nil
	})
	require.NoError(t, err, "issuance keeps working after the client CA was deleted")
	_, err = shoots.CreateAdminKubeconfigRequest(ctx, "recreated", adminRequest(nil), metav1.CreateOptions{})
	assert.Contains(t, err.Error(), ns+"/recreated.ca-client")
}
