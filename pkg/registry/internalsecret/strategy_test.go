package internalsecret

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

func TestPrepareForCreateDefaultsType(t *testing.T) {
	s := &core.InternalSecret{}
	NewStrategy(runtime.NewScheme()).PrepareForCreate(context.Background(), s)
	assert.Equal(t, corev1.SecretTypeOpaque, s.Type)

	tls := &core.InternalSecret{Type: corev1.SecretTypeTLS}
	NewStrategy(runtime.NewScheme()).PrepareForCreate(context.Background(), tls)
	assert.Equal(t, corev1.SecretTypeTLS, tls.Type)
}

func TestPrepareForUpdateKeepsStoredType(t *testing.T) {
	st := NewStrategy(runtime.NewScheme())
	old := &core.InternalSecret{Type: corev1.SecretTypeTLS}
	empty := &core.InternalSecret{}
	st.PrepareForUpdate(context.Background(), empty, old)
	assert.Equal(t, corev1.SecretTypeTLS, empty.Type)

	// An explicit change is left for validation to reject.
	changed := &core.InternalSecret{Type: corev1.SecretTypeOpaque}
	st.PrepareForUpdate(context.Background(), changed, old)
	assert.Equal(t, corev1.SecretTypeOpaque, changed.Type)
	assert.NotEmpty(t, st.ValidateUpdate(context.Background(), changed, old))
}

func TestSelectableFields(t *testing.T) {
	s := &core.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "n", Namespace: "ns"}, Type: corev1.SecretTypeTLS}
	_, f, err := GetAttrs(s)
	assert.NoError(t, err)
	assert.Equal(t, "n", f["metadata.name"])
	assert.Equal(t, "ns", f["metadata.namespace"])
	assert.Equal(t, "kubernetes.io/tls", f["type"])
	_, _, err = GetAttrs(&core.Shoot{})
	assert.Error(t, err)
}
