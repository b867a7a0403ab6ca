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

func TestEncryptionUpdateRules(t *testing.T) {
	const (
		aescbc    = core.EncryptionProviderTypeAESCBC
		aesgcm    = core.EncryptionProviderTypeAESGCM
		rolledOut = "previous encryption configuration change is currently being rolled out"
		rotating  = "etcd encryption key rotation is in phase"
	)
	resources := "spec.kubernetes.kubeAPIServer.encryptionConfig.resources: Forbidden"
	provider := "spec.kubernetes.kubeAPIServer.encryptionConfig.provider.type: Forbidden"
	tests := []struct {
		name     string
		old, new *core.Shoot
		invalid  []string
	}{
		{
			name: "adding a resource when the status matches the spec",
			old:  withStatus(newShoot("", "configmaps"), core.RotationCompleted, aescbc, "configmaps"),
			new:  newShoot("", "configmaps", "deployments.apps"),
		},
		{
			name: "reordering is not a change",
			old:  withStatus(newShoot("", "configmaps", "deployments.apps"), core.RotationPrepared, aescbc, "configmaps"),
			new:  newShoot("", "deployments.apps", "configmaps"),
		},
		{
			name: "first change of a new shoot without status",
			old:  newShoot(""),
			new:  newShoot("", "configmaps"),
		},
		{
			name: "changing the provider alone; an empty status provider is the default",
			old:  withStatus(newShoot(aescbc, "configmaps"), "", "", "configmaps"),
			new:  newShoot(aesgcm, "configmaps"),
		},
		{
			name:    "resources and provider in the same update",
			old:     withStatus(newShoot(aescbc, "configmaps"), "", aescbc, "configmaps"),
			new:     newShoot(aesgcm, "configmaps", "deployments.apps"),
			invalid: []string{"spec.kubernetes.kubeAPIServer.encryptionConfig: Forbidden: resources and provider.type cannot be changed in the same update"},
		},
		{
			name:    "resources during a key rotation",
			old:     withStatus(newShoot("", "configmaps"), core.RotationPreparing, aescbc, "configmaps"),
			new:     newShoot("", "configmaps", "deployments.apps"),
			invalid: []string{resources, rotating + ` "Preparing"`, `must be "Completed"`},
		},
		{
			name:    "provider during a key rotation",
			old:     withStatus(newShoot(aescbc), core.RotationCompleting, aescbc),
			new:     newShoot(aesgcm),
			invalid: []string{provider, rotating + ` "Completing"`},
		},
		{
			name:    "resources while a previous change rolls out",
			old:     withStatus(newShoot("", "configmaps", "deployments.apps"), "", aescbc, "configmaps"),
			new:     newShoot("", "configmaps"),
			invalid: []string{resources, rolledOut},
		},
		{
			name:    "provider while a previous provider change rolls out",
			old:     withStatus(newShoot(aesgcm), "", aescbc),
			new:     newShoot(core.EncryptionProviderTypeSecretbox),
			invalid: []string{provider, rolledOut},
		},
		{
			name:    "resources of a new shoot before the status reports them",
			old:     newShoot("", "configmaps"),
			new:     newShoot("", "configmaps", "deployments.apps"),
			invalid: []string{resources, rolledOut},
		},
		{
			name: "unrelated changes during a rotation and a rollout",
			old:  withStatus(newShoot("", "configmaps"), core.RotationPrepared, aescbc),
			new: func() *core.Shoot {
				s := newShoot("", "configmaps")
				s.Spec.Kubernetes.Version = "1.35.0"
				return s
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.new.Status = tt.old.Status // as the registry's PrepareForUpdate does
			check(t, New().Validate(context.Background(), attrs(admission.Update, tt.new, tt.old, ""), nil), tt.invalid...)
		})
	}
}

func TestValidateNeedsTheRightKinds(t *testing.T) {
	err := New().Validate(context.Background(), admission.NewAttributesRecord(&core.InternalSecret{}, nil,
		core.Kind("Shoot").WithVersion("v1beta1"), "ns", "x", core.Resource("shoots").WithVersion("v1beta1"), "",
		admission.Create, nil, false, &user.DefaultInfo{}), nil)
	assert.True(t, apierrors.IsInternalError(err), "got %v", err)
}
