package integration

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

const confirmedBy = "deletion.gardener.cloud/confirmed-by"

// The server records who confirmed a deletion; clients cannot set or move that record.
func TestDeletionConfirmedBy(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	const namespace = "garden-confirmedby"
	// system:masters may do everything in standalone mode; the user name is what counts.
	alice := versioned.NewForConfigOrDie(s.UserConfig(t, "alice", "system:masters")).CoreV1beta1().Shoots(namespace)
	bob := versioned.NewForConfigOrDie(s.UserConfig(t, "bob", "system:masters")).CoreV1beta1().Shoots(namespace)

	annotations := func() map[string]string {
		cur, err := alice.Get(ctx, "foo", metav1.GetOptions{})
		require.NoError(t, err)
		return cur.Annotations
	}

	admissionShoot(t, s.Client, namespace, "foo")
	_, err := bob.Patch(ctx, "foo", types.MergePatchType, []byte(`{"metadata":{"annotations":{"`+confirmedBy+`":"mallory"}}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	assert.NotContains(t, annotations(), confirmedBy, "no confirmation, no record")

	_, err = alice.Patch(ctx, "foo", types.MergePatchType, []byte(confirmDeletion), metav1.PatchOptions{})
	require.NoError(t, err)
	assert.Equal(t, "alice", annotations()[confirmedBy])

	_, err = bob.Patch(ctx, "foo", types.MergePatchType, []byte(`{"metadata":{"annotations":{"`+confirmedBy+`":"bob"}}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	assert.Equal(t, "alice", annotations()[confirmedBy], "the record stays with the confirming user")

	_, err = bob.Patch(ctx, "foo", types.MergePatchType, []byte(`{"metadata":{"annotations":{"confirmation.gardener.cloud/deletion":"false"}}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	assert.NotContains(t, annotations(), confirmedBy, "withdrawn with the confirmation")

	_, err = bob.Patch(ctx, "foo", types.MergePatchType, []byte(confirmDeletion), metav1.PatchOptions{})
	require.NoError(t, err)
	assert.Equal(t, "bob", annotations()[confirmedBy])
	require.NoError(t, bob.Delete(ctx, "foo", metav1.DeleteOptions{}))
}
