package shoot

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

// The encryption update rules judge the stored status, even when the client sends none.
func TestValidateUpdateAppliesEncryptionRules(t *testing.T) {
	ctx := context.Background()
	st := NewStrategy(runtime.NewScheme())
	old := newShoot("1.31.0")
	old.ObjectMeta = metav1.ObjectMeta{Name: "s", Namespace: "garden-p", ResourceVersion: "1"}
	old.Status.IsHibernated = true

	write := old.DeepCopy()
	write.Status = core.ShootStatus{} // a client's spec write carries no status
	write.Spec.Kubernetes.KubeAPIServer = &core.KubeAPIServerConfig{EncryptionConfig: &core.EncryptionConfig{
		Resources: []string{"configmaps"}, Provider: core.EncryptionProvider{Type: ptr.To(core.EncryptionProviderTypeAESCBC)}}}
	st.PrepareForUpdate(ctx, write, old)
	errs := st.ValidateUpdate(ctx, write, old)
	if assert.Len(t, errs, 1) {
		assert.Equal(t, "spec.kubernetes.kubeAPIServer.encryptionConfig.resources: Forbidden: resources cannot be changed when shoot is in hibernation", errs[0].Error())
	}

	// Awake, the same write is accepted.
	old.Status.IsHibernated = false
	write.Status = core.ShootStatus{}
	st.PrepareForUpdate(ctx, write, old)
	assert.Empty(t, st.ValidateUpdate(ctx, write, old))
}
