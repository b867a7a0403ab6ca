package integration

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
)

// manyKeys is within every validation limit (840 KB of data) and stores in about 1.2 MB, but
// its managedFields list every key and push the stored object over etcd's 1.5 MiB limit.
func manyKeys() map[string]string {
	data := make(map[string]string, 40000)
	for i := range 40000 {
		data[fmt.Sprintf("key-%016d", i)] = "x"
	}
	return data
}

// The library retries a write that is too large for etcd without managedFields: the object is
// stored, without them. Only an object too large even without them is refused (413, see
// TestBadRequests).
func TestTooLargeWithManagedFieldsIsRetriedWithoutThem(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	secrets := s.Client.CoreV1beta1().InternalSecrets(ns)

	created, err := secrets.Create(ctx, newSecret("many-keys", manyKeys()), metav1.CreateOptions{})
	require.NoError(t, err, "create: the retry without managedFields fits")
	assert.Empty(t, created.ManagedFields, "stored by the retry without managedFields")
	assert.Len(t, created.Data, 40000)

	small, err := secrets.Create(ctx, newSecret("grows", map[string]string{"a": "b"}), metav1.CreateOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, small.ManagedFields, "a small object keeps its managedFields")
	small.Data = newSecret("", manyKeys()).Data
	updated, err := secrets.Update(ctx, small, metav1.UpdateOptions{})
	require.NoError(t, err, "update: the retry without managedFields fits")
	assert.Empty(t, updated.ManagedFields)

	got, err := secrets.Get(ctx, "grows", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Len(t, got.Data, 40000)
	assert.Equal(t, updated.ResourceVersion, got.ResourceVersion)
}
