package validation

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

const (
	resourcesPath = "spec.kubernetes.kubeAPIServer.encryptionConfig.resources"
	providerPath  = "spec.kubernetes.kubeAPIServer.encryptionConfig.provider.type"
	aescbc        = core.EncryptionProviderTypeAESCBC
	aesgcm        = core.EncryptionProviderTypeAESGCM
)

// stored is a reconciled shoot whose status reports exactly what its spec asks for.
func stored(provider core.EncryptionProviderType, resources ...string) *core.Shoot {
	s := shoot("s", "garden-p", resources...)
	s.ResourceVersion = "1"
	if s.Spec.Kubernetes.KubeAPIServer == nil {
		s.Spec.Kubernetes.KubeAPIServer = &core.KubeAPIServerConfig{EncryptionConfig: &core.EncryptionConfig{}}
	}
	s.Spec.Kubernetes.KubeAPIServer.EncryptionConfig.Provider.Type = ptr.To(provider)
	s.Status.Credentials = &core.ShootCredentials{EncryptionAtRest: &core.EncryptionAtRest{
		Resources: resources, Provider: core.EncryptionProviderStatus{Type: provider}}}
	s.Status.LastOperation = &core.LastOperation{Type: core.LastOperationTypeReconcile, State: core.LastOperationStateSucceeded}
	return s
}

// update returns a copy of old with new encryption settings and the stored status, as the
// registry's PrepareForUpdate leaves it.
func update(old *core.Shoot, provider core.EncryptionProviderType, resources ...string) *core.Shoot {
	s := old.DeepCopy()
	s.Spec.Kubernetes.KubeAPIServer.EncryptionConfig = &core.EncryptionConfig{Resources: resources}
	if provider != "" {
		s.Spec.Kubernetes.KubeAPIServer.EncryptionConfig.Provider.Type = ptr.To(provider)
	}
	return s
}

func withPhase(s *core.Shoot, phase core.CredentialsRotationPhase) *core.Shoot {
	s.Status.Credentials.Rotation = &core.ShootCredentialsRotation{ETCDEncryptionKey: &core.ETCDEncryptionKeyRotation{Phase: phase}}
	return s
}

func withLastOperation(s *core.Shoot, typ, state string) *core.Shoot {
	s.Status.LastOperation = &core.LastOperation{Type: typ, State: state}
	if typ == "" {
		s.Status.LastOperation = nil
	}
	return s
}

func forbidden(path, detail string) *field.Error { return field.Forbidden(field.NewPath(path), detail) }

// encryptionUpdateCase is an update of a stored Shoot and the errors it must get.
type encryptionUpdateCase struct {
	name   string
	shoots func() (newShoot, oldShoot *core.Shoot)
	want   []*field.Error
}

// encryptionUpdateCases has, per rule, a refused case and the closest accepted one.
var encryptionUpdateCases = []encryptionUpdateCase{
	{name: "add a resource", shoots: pair(stored(aescbc, "configmaps"), aescbc, "configmaps", "deployments.apps")},
	{name: "reordering is no change, even during a rollout", shoots: pair(withPhase(stored(aescbc, "configmaps", "deployments.apps"), core.RotationPreparing), aescbc, "deployments.apps", "configmaps")},
	{name: "change the provider", shoots: pair(stored(aescbc, "configmaps"), aesgcm, "configmaps")},
	{name: "unset provider is aescbc", shoots: pair(stored(aescbc, "configmaps"), "", "configmaps")},
	{
		name: "resources and provider at once", shoots: pair(stored(aescbc, "configmaps"), aesgcm, "configmaps", "deployments.apps"),
		want: []*field.Error{forbidden(providerPath, "provider type and resources cannot be changed simultaneously")},
	},
	{name: "resources after the rotation completed", shoots: pair(withPhase(stored(aescbc), core.RotationCompleted), aescbc, "configmaps")},
	{
		name: "resources during a rotation", shoots: pair(withPhase(stored(aescbc), core.RotationPrepared), aescbc, "configmaps"),
		want: []*field.Error{forbidden(resourcesPath, `resources cannot be changed when .status.credentials.rotation.etcdEncryptionKey.phase is not "Completed"`)},
	},
	{
		name: "provider during a rotation", shoots: pair(withPhase(stored(aescbc), core.RotationCompleting), aesgcm),
		want: []*field.Error{forbidden(providerPath, `provider type cannot be changed when .status.credentials.rotation.etcdEncryptionKey.phase is not "Completed"`)},
	},
	{
		name: "resources while the previous change rolls out", shoots: pair(rollingOut(stored(aescbc, "configmaps")), aescbc),
		want: []*field.Error{forbidden(resourcesPath, "resources cannot be changed because a previous encryption configuration change is currently being rolled out")},
	},
	{
		name: "provider while the previous provider change rolls out", shoots: pair(providerRollingOut(stored(aesgcm)), core.EncryptionProviderTypeSecretbox),
		want: []*field.Error{forbidden(providerPath, "provider type cannot be changed because a previous encryption configuration change is currently being rolled out")},
	},
	{name: "first change of a shoot without status", shoots: pair(withLastOperation(shootWithoutStatus(), core.LastOperationTypeCreate, core.LastOperationStateSucceeded), aescbc, "configmaps")},
	{
		name: "resources while hibernation is enabled", shoots: pair(hibernating(stored(aescbc)), aescbc, "configmaps"),
		want: []*field.Error{forbidden(resourcesPath, "resources cannot be changed when shoot is in hibernation")},
	},
	{
		name: "provider while the shoot is still hibernated", shoots: pair(hibernated(stored(aescbc)), aesgcm),
		want: []*field.Error{forbidden(providerPath, "provider type cannot be changed when shoot is in hibernation")},
	},
	{name: "provider after a successful create", shoots: pair(withLastOperation(stored(aescbc), core.LastOperationTypeCreate, core.LastOperationStateSucceeded), aesgcm)},
	{name: "provider after a successful restore", shoots: pair(withLastOperation(stored(aescbc), core.LastOperationTypeRestore, core.LastOperationStateSucceeded), aesgcm)},
	{name: "provider during a failing reconcile", shoots: pair(withLastOperation(stored(aescbc), core.LastOperationTypeReconcile, "Error"), aesgcm)},
	{
		name: "provider while the create is processing", shoots: pair(withLastOperation(stored(aescbc), core.LastOperationTypeCreate, "Processing"), aesgcm),
		want: []*field.Error{forbidden(providerPath, "provider type cannot be changed if resource was not yet created successfully or is not ready for reconciliation")},
	},
	{
		name: "provider without a last operation", shoots: pair(withLastOperation(stored(aescbc), "", ""), aesgcm),
		want: []*field.Error{forbidden(providerPath, "provider type cannot be changed if resource was not yet created successfully or is not ready for reconciliation")},
	},
	{name: "resources without a last operation", shoots: pair(withLastOperation(stored(aescbc), "", ""), aescbc, "configmaps")},
}

func hibernating(s *core.Shoot) *core.Shoot {
	s.Spec.Hibernation = &core.Hibernation{Enabled: ptr.To(true)}
	return s
}

func hibernated(s *core.Shoot) *core.Shoot { s.Status.IsHibernated = true; return s }

func TestEncryptionConfigUpdate(t *testing.T) {
	for _, tt := range encryptionUpdateCases {
		t.Run(tt.name, func(t *testing.T) {
			newS, oldS := tt.shoots()
			assert.Equal(t, fieldList(tt.want), fieldList(ValidateEncryptionConfigUpdate(newS, oldS)))
			if len(tt.want) == 0 {
				assert.Empty(t, ValidateShootUpdate(newS, oldS), "the whole update validation")
			} else {
				assert.Subset(t, fieldList(ValidateShootUpdate(newS, oldS)), fieldList(tt.want), "ValidateShootUpdate applies the rule")
			}
		})
	}
}

func pair(old *core.Shoot, provider core.EncryptionProviderType, resources ...string) func() (*core.Shoot, *core.Shoot) {
	return func() (*core.Shoot, *core.Shoot) { return update(old, provider, resources...), old }
}

// rollingOut: the spec asks for more than the status reports.
func rollingOut(s *core.Shoot) *core.Shoot {
	s.Status.Credentials.EncryptionAtRest.Resources = nil
	return s
}

func providerRollingOut(s *core.Shoot) *core.Shoot {
	s.Status.Credentials.EncryptionAtRest.Provider.Type = aescbc
	return s
}

func shootWithoutStatus() *core.Shoot {
	s := shoot("s", "garden-p")
	s.ResourceVersion = "1"
	s.Spec.Kubernetes.KubeAPIServer = &core.KubeAPIServerConfig{EncryptionConfig: &core.EncryptionConfig{Provider: core.EncryptionProvider{Type: ptr.To(aescbc)}}}
	return s
}

func TestHibernationUpdate(t *testing.T) {
	const path = "spec.hibernation.enabled"
	hibernate := func(old *core.Shoot) (*core.Shoot, *core.Shoot) {
		s := old.DeepCopy()
		s.Spec.Hibernation = &core.Hibernation{Enabled: ptr.To(true)}
		return s, old
	}
	tests := []struct {
		name string
		old  *core.Shoot
		want []*field.Error
	}{
		{name: "settled shoot", old: stored(aescbc, "configmaps")},
		{name: "rotation prepared", old: withPhase(stored(aescbc), core.RotationPrepared)},
		{
			name: "rotation preparing", old: withPhase(stored(aescbc), core.RotationPreparing),
			want: []*field.Error{forbidden(path, `shoot cannot be hibernated when .status.credentials.rotation.etcdEncryptionKey.phase is "Preparing"`)},
		},
		{
			name: "rotation completing", old: withPhase(stored(aescbc), core.RotationCompleting),
			want: []*field.Error{forbidden(path, `shoot cannot be hibernated when .status.credentials.rotation.etcdEncryptionKey.phase is "Completing"`)},
		},
		{
			name: "encryption change rolling out", old: rollingOut(stored(aescbc, "configmaps")),
			want: []*field.Error{forbidden(path, "shoot cannot be hibernated when spec.kubernetes.kubeAPIServer.encryptionConfig.resources and status.credentials.encryptionAtRest.resources are not equal")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newS, oldS := hibernate(tt.old)
			assert.Equal(t, fieldList(tt.want), fieldList(ValidateShootUpdate(newS, oldS)))
		})
	}
	// Already hibernated: staying so is no new request to hibernate.
	old := withPhase(stored(aescbc), core.RotationPreparing)
	old.Spec.Hibernation = &core.Hibernation{Enabled: ptr.To(true)}
	newS := old.DeepCopy()
	newS.Labels = map[string]string{"a": "b"}
	assert.Empty(t, ValidateShootUpdate(newS, old))
}

// fieldList renders errors as "path: Type: detail" for exact comparison.
func fieldList(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}
