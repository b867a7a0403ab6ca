package integration

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	corev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

// The encryption update rules are the Shoot's own update validation: switching the
// ShootValidator plugin off does not lift them.
func TestShootEncryptionRulesWithoutShootValidator(t *testing.T) {
	s := framework.Start(t, "", "--disable-admission-plugins=ShootValidator")
	ctx := context.Background()
	const namespace = "garden-rules"
	const fld = "spec.kubernetes.kubeAPIServer.encryptionConfig"
	shoots := s.Client.CoreV1beta1().Shoots(namespace)
	admissionShoot(t, s.Client, namespace, "foo", "configmaps")

	patch := func(body string) error {
		_, err := shoots.Patch(ctx, "foo", types.MergePatchType, []byte(body), metav1.PatchOptions{})
		return err
	}
	setStatus := func(mutate func(*corev1beta1.ShootStatus)) {
		cur, err := shoots.Get(ctx, "foo", metav1.GetOptions{})
		require.NoError(t, err)
		cur.Status.Credentials = &corev1beta1.ShootCredentials{EncryptionAtRest: &corev1beta1.EncryptionAtRest{
			Resources: []string{"configmaps"}, Provider: corev1beta1.EncryptionProviderStatus{Type: corev1beta1.EncryptionProviderTypeAESCBC}}}
		cur.Status.LastOperation = &corev1beta1.LastOperation{Type: "Reconcile", State: "Succeeded", LastUpdateTime: metav1.Now()}
		cur.Status.IsHibernated = false
		mutate(&cur.Status)
		_, err = shoots.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		require.NoError(t, err, "status writes are not subject to the spec rules")
	}
	const addDeployments = `{"spec":{"kubernetes":{"kubeAPIServer":{"encryptionConfig":{"resources":["configmaps","deployments.apps"]}}}}}`
	const toAESGCM = `{"spec":{"kubernetes":{"kubeAPIServer":{"encryptionConfig":{"provider":{"type":"aesgcm"}}}}}}`

	// No status yet: the first change (configmaps) has not been rolled out.
	err := patch(addDeployments)
	requireStatus(t, err, http.StatusUnprocessableEntity, fld+".resources: Forbidden: resources cannot be changed because a previous encryption configuration change is currently being rolled out")
	requireInvalid(t, err, fld+".resources")

	setStatus(func(st *corev1beta1.ShootStatus) {
		st.Credentials.Rotation = &corev1beta1.ShootCredentialsRotation{ETCDEncryptionKey: &corev1beta1.ETCDEncryptionKeyRotation{Phase: corev1beta1.RotationPrepared}}
	})
	requireStatus(t, patch(addDeployments), http.StatusUnprocessableEntity,
		fld+`.resources: Forbidden: resources cannot be changed when .status.credentials.rotation.etcdEncryptionKey.phase is not "Completed"`)

	setStatus(func(st *corev1beta1.ShootStatus) { st.IsHibernated = true })
	requireStatus(t, patch(addDeployments), http.StatusUnprocessableEntity, fld+".resources: Forbidden: resources cannot be changed when shoot is in hibernation")

	setStatus(func(st *corev1beta1.ShootStatus) {
		st.LastOperation.Type, st.LastOperation.State = "Create", "Processing"
	})
	requireStatus(t, patch(toAESGCM), http.StatusUnprocessableEntity,
		fld+".provider.type: Forbidden: provider type cannot be changed if resource was not yet created successfully or is not ready for reconciliation")

	setStatus(func(*corev1beta1.ShootStatus) {})
	requireStatus(t, patch(`{"spec":{"kubernetes":{"kubeAPIServer":{"encryptionConfig":{"resources":["configmaps","deployments.apps"],"provider":{"type":"aesgcm"}}}}}}`),
		http.StatusUnprocessableEntity, fld+".provider.type: Forbidden: provider type and resources cannot be changed simultaneously")
	require.NoError(t, patch(addDeployments), "settled shoot: one change at a time is accepted")
	requireStatus(t, patch(toAESGCM), http.StatusUnprocessableEntity, "previous encryption configuration change is currently being rolled out")
}
