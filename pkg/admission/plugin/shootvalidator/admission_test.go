package shootvalidator

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/utils/ptr"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

func newShoot(provider core.EncryptionProviderType, resources ...string) *core.Shoot {
	s := &core.Shoot{ObjectMeta: metav1.ObjectMeta{Name: "foo", Namespace: "garden-dev"}}
	s.Spec.Kubernetes.Version = "1.34.1"
	enc := &core.EncryptionConfig{Resources: resources}
	if provider != "" {
		enc.Provider.Type = ptr.To(provider)
	}
	s.Spec.Kubernetes.KubeAPIServer = &core.KubeAPIServerConfig{EncryptionConfig: enc}
	return s
}

// withStatus sets what the shoot's etcd encrypts now and the key rotation phase.
func withStatus(s *core.Shoot, phase core.CredentialsRotationPhase, provider core.EncryptionProviderType, resources ...string) *core.Shoot {
	s.Status.Credentials = &core.ShootCredentials{
		EncryptionAtRest: &core.EncryptionAtRest{Resources: resources, Provider: core.EncryptionProviderStatus{Type: provider}},
	}
	if phase != "" {
		s.Status.Credentials.Rotation = &core.ShootCredentialsRotation{ETCDEncryptionKey: &core.ETCDEncryptionKeyRotation{Phase: phase}}
	}
	return s
}

func attrs(op admission.Operation, obj, old *core.Shoot, subresource string) admission.Attributes {
	var oldObj runtime.Object // a nil *core.Shoot would be a non-nil interface
	if old != nil {
		oldObj = old
	}
	return admission.NewAttributesRecord(obj, oldObj, core.Kind("Shoot").WithVersion("v1beta1"), obj.Namespace, obj.Name,
		core.Resource("shoots").WithVersion("v1beta1"), subresource, op, nil, false, &user.DefaultInfo{Name: "alice"})
}

// check asserts a 422 whose message holds every substring, or admission when none are given.
func check(t *testing.T, err error, invalid ...string) {
	t.Helper()
	if len(invalid) == 0 {
		assert.NoError(t, err)
		return
	}
	require.Error(t, err)
	assert.True(t, apierrors.IsInvalid(err), "want 422, got %v", err)
	for _, s := range invalid {
		assert.Contains(t, err.Error(), s)
	}
}

func TestStandaloneAllowlist(t *testing.T) {
	p := New() // no cluster discovery: standalone
	p.SetClusterDiscovery(nil)
	tests := []struct {
		name      string
		resources []string
		invalid   []string
	}{
		{name: "core and grouped built-ins", resources: []string{"configmaps", "deployments.apps", "customresourcedefinitions.apiextensions.k8s.io"}},
		{name: "none", resources: nil},
		{
			name:      "unknown resource",
			resources: []string{"configmaps", "widgets.example.com"},
			invalid: []string{`Shoot.core.gardener.cloud "foo" is invalid`,
				`spec.kubernetes.kubeAPIServer.encryptionConfig.resources[1]: Invalid value: "widgets.example.com"`,
				"standalone mode", "docs/admission.md"},
		},
		{name: "wrong group for a core resource", resources: []string{"pods.apps"}, invalid: []string{`resources[0]: Invalid value: "pods.apps"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newShoot("", tt.resources...)
			check(t, p.Validate(context.Background(), attrs(admission.Create, s, nil, ""), nil), tt.invalid...)
		})
	}
}

func TestOnlyAddedEntriesAreChecked(t *testing.T) {
	p := New()
	// Stored before the resource went away; the status matches, so only served-ness matters.
	old := withStatus(newShoot("", "widgets.example.com"), "", "", "widgets.example.com")
	updated := old.DeepCopy()
	updated.Labels = map[string]string{"unrelated": "change"}
	check(t, p.Validate(context.Background(), attrs(admission.Update, updated, old, ""), nil))

	updated.Spec.Kubernetes.KubeAPIServer.EncryptionConfig.Resources = []string{"widgets.example.com", "gadgets.example.com"}
	check(t, p.Validate(context.Background(), attrs(admission.Update, updated, old, ""), nil), `resources[1]: Invalid value: "gadgets.example.com"`)
}

func TestIgnoresOtherRequests(t *testing.T) {
	p := New()
	s := newShoot("", "widgets.example.com")
	check(t, p.Validate(context.Background(), attrs(admission.Create, s, nil, "status"), nil))
	other := admission.NewAttributesRecord(&core.InternalSecret{}, nil, core.Kind("InternalSecret").WithVersion("v1beta1"), "garden-dev", "x",
		core.Resource("internalsecrets").WithVersion("v1beta1"), "", admission.Create, nil, false, &user.DefaultInfo{})
	check(t, p.Validate(context.Background(), other, nil))
	assert.False(t, p.Handles(admission.Delete))
}

func TestValidateNeedsTheRightKinds(t *testing.T) {
	err := New().Validate(context.Background(), admission.NewAttributesRecord(&core.InternalSecret{}, nil,
		core.Kind("Shoot").WithVersion("v1beta1"), "ns", "x", core.Resource("shoots").WithVersion("v1beta1"), "",
		admission.Create, nil, false, &user.DefaultInfo{}), nil)
	assert.True(t, apierrors.IsInternalError(err), "got %v", err)
}
