package internalsecret

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apiserver/pkg/storage"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

func TestTypeIndex(t *testing.T) {
	s := &core.InternalSecret{Type: corev1.SecretTypeTLS}
	got, err := (*Indexers())[storage.FieldIndex(TypeField)](s)
	require.NoError(t, err)
	assert.Equal(t, []string{"kubernetes.io/tls"}, got)
	assert.Equal(t, "kubernetes.io/tls", TypeTriggerFunc(s))
	_, err = TypeIndexFunc(&core.Shoot{})
	assert.Error(t, err)

	// A type selector uses the index; other selectors do not.
	p := Match(labels.Everything(), fields.OneTermEqualSelector(TypeField, "Opaque"))
	assert.Equal(t, []storage.MatchValue{{IndexName: "f:type", Value: "Opaque"}}, p.MatcherIndex(t.Context()))
	other := Match(labels.Everything(), fields.OneTermEqualSelector("metadata.name", "x"))
	assert.Empty(t, other.MatcherIndex(t.Context()))
}
