package integration

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	corev1beta1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

const confirmDeletion = `{"metadata":{"annotations":{"confirmation.gardener.cloud/deletion":"true"}}}`

// requireStatus asserts the HTTP status code and message parts of an API error.
func requireStatus(t *testing.T, err error, code int32, message ...string) {
	t.Helper()
	require.Error(t, err)
	status, ok := err.(apierrors.APIStatus)
	require.True(t, ok, "not an API error: %v", err)
	require.Equal(t, code, status.Status().Code, "status: %+v", status.Status())
	for _, m := range message {
		assert.Contains(t, status.Status().Message, m)
	}
}

func admissionShoot(t *testing.T, c versioned.Interface, namespace, name string, resources ...string) *corev1beta1.Shoot {
	t.Helper()
	return framework.CreateShoot(t, c, namespace, name, resources...)
}

func TestDeletionConfirmation(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	const namespace = "garden-confirm"
	shoots := s.Client.CoreV1beta1().Shoots(namespace)

	admissionShoot(t, s.Client, namespace, "foo")
	err := shoots.Delete(ctx, "foo", metav1.DeleteOptions{})
	requireStatus(t, err, http.StatusForbidden, `shoots.core.gardener.cloud "foo" is forbidden`,
		"confirmation.gardener.cloud/deletion=true", "kubectl annotate shoot foo -n garden-confirm")
	_, err = shoots.Get(ctx, "foo", metav1.GetOptions{})
	require.NoError(t, err, "the refused shoot still exists")

	// A false confirmation is no confirmation.
	_, err = shoots.Patch(ctx, "foo", types.MergePatchType,
		[]byte(`{"metadata":{"annotations":{"confirmation.gardener.cloud/deletion":"false"}}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	requireStatus(t, shoots.Delete(ctx, "foo", metav1.DeleteOptions{}), http.StatusForbidden, "not confirmed")

	// Confirmed right before the delete: the stored object decides, no cache lag.
	_, err = shoots.Patch(ctx, "foo", types.MergePatchType, []byte(confirmDeletion), metav1.PatchOptions{})
	require.NoError(t, err)
	require.NoError(t, shoots.Delete(ctx, "foo", metav1.DeleteOptions{}))
	_, err = shoots.Get(ctx, "foo", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "want 404 after the confirmed delete, got %v", err)

	// deletecollection: one unconfirmed shoot refuses the whole collection; nothing is deleted.
	admissionShoot(t, s.Client, namespace, "a")
	admissionShoot(t, s.Client, namespace, "b")
	_, err = shoots.Patch(ctx, "a", types.MergePatchType, []byte(confirmDeletion), metav1.PatchOptions{})
	require.NoError(t, err)
	err = shoots.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	requireStatus(t, err, http.StatusForbidden, "not confirmed", "b")
	list, err := shoots.List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	assert.Len(t, list.Items, 2, "a refused deletecollection deletes nothing")

	_, err = shoots.Patch(ctx, "b", types.MergePatchType, []byte(confirmDeletion), metav1.PatchOptions{})
	require.NoError(t, err)
	require.NoError(t, shoots.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}))
	list, err = shoots.List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	assert.Empty(t, list.Items)
}

func TestInternalSecretReferenceProtection(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	const namespace = "garden-protect"
	secrets := s.Client.CoreV1beta1().InternalSecrets(namespace)

	// The Shoot cache this plugin reads is synced before the server reports ready.
	body, err := s.Client.Discovery().RESTClient().Get().AbsPath("/readyz").Param("verbose", "true").DoRaw(ctx)
	require.NoError(t, err)
	assert.Contains(t, string(body), "[+]poststarthook/start-garden-apiserver-admission-informers ok")

	framework.CreateShootCAs(t, s.Client, namespace, "foo")
	_, err = secrets.Create(ctx, &corev1beta1.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "foo.ca-etcd", Namespace: namespace},
		Data: map[string][]byte{"ca.crt": []byte("cert"), "ca.key": []byte("key")}}, metav1.CreateOptions{})
	require.NoError(t, err)
	admissionShoot(t, s.Client, namespace, "foo")

	for _, name := range []string{"foo.ca-client", "foo.ca-cluster"} {
		err := secrets.Delete(ctx, name, metav1.DeleteOptions{})
		requireStatus(t, err, http.StatusForbidden, `internalsecrets.core.gardener.cloud "`+name+`" is forbidden`,
			`of Shoot "foo"`, "cannot be deleted while the Shoot exists")
	}
	_, err = secrets.Patch(ctx, "foo.ca-client", types.JSONPatchType, []byte(`[{"op":"remove","path":"/data/ca.key"}]`), metav1.PatchOptions{})
	requireStatus(t, err, http.StatusForbidden, `client CA of Shoot "foo"`, "removed or emptied: ca.key")
	_, err = secrets.Patch(ctx, "foo.ca-cluster", types.MergePatchType, []byte(`{"data":{"ca.crt":""}}`), metav1.PatchOptions{})
	requireStatus(t, err, http.StatusForbidden, `cluster CA of Shoot "foo"`, "removed or emptied: ca.crt")
	// A CA rotation changes values and adds keys: allowed.
	_, err = secrets.Patch(ctx, "foo.ca-client", types.MergePatchType, []byte(`{"data":{"ca.crt":"bmV3","ca-old.crt":"b2xk"}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	// deletecollection hits the protection item by item.
	err = secrets.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{FieldSelector: "metadata.name=foo.ca-client"})
	requireStatus(t, err, http.StatusForbidden, `"foo.ca-client" is forbidden`)
	// Other secrets of the shoot are not referenced by name.
	require.NoError(t, secrets.Delete(ctx, "foo.ca-etcd", metav1.DeleteOptions{}))

	// Once the shoot is gone, its CA secrets can go too.
	shoots := s.Client.CoreV1beta1().Shoots(namespace)
	_, err = shoots.Patch(ctx, "foo", types.MergePatchType, []byte(confirmDeletion), metav1.PatchOptions{})
	require.NoError(t, err)
	require.NoError(t, shoots.Delete(ctx, "foo", metav1.DeleteOptions{}))
	require.NoError(t, secrets.Delete(ctx, "foo.ca-client", metav1.DeleteOptions{}))
	require.NoError(t, secrets.Delete(ctx, "foo.ca-cluster", metav1.DeleteOptions{}))
}

func TestShootValidator(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	const namespace = "garden-validate"
	shoots := s.Client.CoreV1beta1().Shoots(namespace)
	const field = "spec.kubernetes.kubeAPIServer.encryptionConfig"

	// Standalone mode: resources are checked against the documented allowlist.
	bad := &corev1beta1.Shoot{ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: namespace},
		Spec: corev1beta1.ShootSpec{Kubernetes: corev1beta1.Kubernetes{Version: "1.34.1",
			KubeAPIServer: &corev1beta1.KubeAPIServerConfig{EncryptionConfig: &corev1beta1.EncryptionConfig{
				Resources: []string{"configmaps", "widgets.example.com"}}}}}}
	_, err := shoots.Create(ctx, bad, metav1.CreateOptions{})
	requireStatus(t, err, http.StatusUnprocessableEntity, field+`.resources[1]: Invalid value: "widgets.example.com"`, "standalone mode")
	requireInvalid(t, err, field+".resources[1]")

	admissionShoot(t, s.Client, namespace, "foo", "configmaps")
	// Entries already stored are not rechecked; the encryption update rules are the
	// registry's (shoot_rules_test.go).
	_, err = shoots.Patch(ctx, "foo", types.MergePatchType, []byte(`{"spec":{"kubernetes":{"version":"1.34.2"}}}`), metav1.PatchOptions{})
	require.NoError(t, err)
}

func TestAdmissionPluginsCanBeDisabled(t *testing.T) {
	s := framework.Start(t, "", "--disable-admission-plugins=DeletionConfirmation,InternalSecretReferenceProtection,ShootValidator")
	ctx := context.Background()
	const namespace = "garden-disabled"

	// ShootValidator off: no allowlist (the update rules stay: shoot_rules_test.go).
	admissionShoot(t, s.Client, namespace, "foo", "widgets.example.com")

	// InternalSecretReferenceProtection off: the CA of an existing shoot can go.
	framework.CreateShootCAs(t, s.Client, namespace, "foo")
	require.NoError(t, s.Client.CoreV1beta1().InternalSecrets(namespace).Delete(ctx, "foo.ca-client", metav1.DeleteOptions{}))

	// DeletionConfirmation off: unconfirmed shoots are deleted.
	require.NoError(t, s.Client.CoreV1beta1().Shoots(namespace).Delete(ctx, "foo", metav1.DeleteOptions{}))
}

func TestInternalSecretLimitFromConfigFile(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "admission.yaml")
	require.NoError(t, os.WriteFile(config, []byte(`apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: InternalSecretLimit
  configuration:
    apiVersion: internalsecretlimit.admission.gardener.cloud/v1alpha1
    kind: Configuration
    maxInternalSecretsPerNamespace: 2
`), 0o600))
	s := framework.Start(t, "", "--admission-control-config-file="+config)
	ctx := context.Background()
	secrets := s.Client.CoreV1beta1().InternalSecrets("garden-limit")
	create := func(name string) error {
		_, err := secrets.Create(ctx, &corev1beta1.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		return err
	}

	require.NoError(t, create("one"))
	require.NoError(t, create("two"))
	err := create("three")
	requireStatus(t, err, http.StatusForbidden, `internalsecrets.core.gardener.cloud "three" is forbidden`,
		"exceeded the limit of 2 InternalSecrets per namespace", `namespace "garden-limit" already has 2`)

	// Dry runs count the same; other namespaces have their own count.
	_, err = secrets.Create(ctx, &corev1beta1.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "three"}}, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	requireStatus(t, err, http.StatusForbidden, "already has 2")
	_, err = s.Client.CoreV1beta1().InternalSecrets("garden-other").Create(ctx,
		&corev1beta1.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "three"}}, metav1.CreateOptions{})
	require.NoError(t, err)

	// Updates are not limited; a delete makes room.
	_, err = secrets.Patch(ctx, "one", types.MergePatchType, []byte(`{"data":{"k":"dg=="}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	require.NoError(t, secrets.Delete(ctx, "one", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}))
	require.NoError(t, create("three"))
}

func TestInternalSecretLimitIsOffByDefault(t *testing.T) {
	s := framework.Start(t, "")
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		_, err := s.Client.CoreV1beta1().InternalSecrets("garden-nolimit").Create(context.Background(),
			&corev1beta1.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
}
