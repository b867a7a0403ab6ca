package validation

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

var encryptionConfigPath = field.NewPath("spec", "kubernetes", "kubeAPIServer", "encryptionConfig")

// encryptionState is what a spec asks the shoot's etcd to encrypt, or what the status reports.
type encryptionState struct {
	resources sets.Set[schema.GroupResource]
	provider  core.EncryptionProviderType
}

// ValidateEncryptionConfigUpdate applies Gardener's rules for changing what a shoot's etcd
// encrypts. Each change makes the gardenlet rewrite the affected data, so changes go one at a
// time, not during a key rotation, not while hibernated (nothing runs to rewrite the data),
// and a provider change needs a shoot that was created successfully. newS carries the stored
// status (the strategy keeps it on spec updates).
func ValidateEncryptionConfigUpdate(newS, oldS *core.Shoot) field.ErrorList {
	oldSpec, newSpec := specEncryption(oldS), specEncryption(newS)
	resourcesChanged := !oldSpec.resources.Equal(newSpec.resources)
	providerChanged := oldSpec.provider != newSpec.provider
	if !resourcesChanged && !providerChanged {
		return nil
	}

	phase := rotationPhase(newS)
	rotating := phase != "" && phase != core.RotationCompleted
	current := statusEncryption(newS)
	rollingOut := !oldSpec.resources.Equal(current.resources) || oldSpec.provider != current.provider
	hibernated := isHibernated(newS)

	var allErrs field.ErrorList
	forbid := func(bad bool, fld *field.Path, msg string) {
		if bad {
			allErrs = append(allErrs, field.Forbidden(fld, msg))
		}
	}
	if resourcesChanged {
		fld := encryptionConfigPath.Child("resources")
		forbid(rotating, fld, fmt.Sprintf("resources cannot be changed when .status.credentials.rotation.etcdEncryptionKey.phase is not %q", core.RotationCompleted))
		forbid(rollingOut, fld, "resources cannot be changed because a previous encryption configuration change is currently being rolled out")
		forbid(hibernated, fld, "resources cannot be changed when shoot is in hibernation")
	}
	if providerChanged {
		fld := encryptionConfigPath.Child("provider", "type")
		forbid(!readyForRotationStart(newS.Status.LastOperation), fld, "provider type cannot be changed if resource was not yet created successfully or is not ready for reconciliation")
		forbid(rotating, fld, fmt.Sprintf("provider type cannot be changed when .status.credentials.rotation.etcdEncryptionKey.phase is not %q", core.RotationCompleted))
		forbid(rollingOut, fld, "provider type cannot be changed because a previous encryption configuration change is currently being rolled out")
		forbid(hibernated, fld, "provider type cannot be changed when shoot is in hibernation")
		forbid(resourcesChanged, fld, "provider type and resources cannot be changed simultaneously")
	}
	return allErrs
}

// validateHibernationUpdate: hibernating stops the control plane, so not in the middle of a key
// rotation step nor while an encryption change has not been rolled out (Gardener's rules for
// the fields this server serves).
func validateHibernationUpdate(newS, oldS *core.Shoot) field.ErrorList {
	if hibernationEnabled(oldS) || !hibernationEnabled(newS) {
		return nil
	}
	var allErrs field.ErrorList
	fld := field.NewPath("spec", "hibernation", "enabled")
	if phase := rotationPhase(newS); phase == core.RotationPreparing || phase == core.RotationCompleting {
		allErrs = append(allErrs, field.Forbidden(fld, fmt.Sprintf("shoot cannot be hibernated when .status.credentials.rotation.etcdEncryptionKey.phase is %q", phase)))
	}
	if !specEncryption(oldS).resources.Equal(statusEncryption(oldS).resources) {
		allErrs = append(allErrs, field.Forbidden(fld, "shoot cannot be hibernated when spec.kubernetes.kubeAPIServer.encryptionConfig.resources and status.credentials.encryptionAtRest.resources are not equal"))
	}
	return allErrs
}

// specEncryption: no encryptionConfig and an unset provider both mean the default, aescbc, so
// that adding an empty encryptionConfig is no provider change.
func specEncryption(s *core.Shoot) encryptionState {
	st := encryptionState{resources: sets.New[schema.GroupResource](), provider: core.EncryptionProviderTypeAESCBC}
	if k := s.Spec.Kubernetes.KubeAPIServer; k != nil && k.EncryptionConfig != nil {
		st.resources = groupResources(k.EncryptionConfig.Resources)
		if t := k.EncryptionConfig.Provider.Type; t != nil {
			st.provider = *t
		}
	}
	return st
}

// statusEncryption: no status means secrets only with the default provider, which is what a
// new shoot starts with.
func statusEncryption(s *core.Shoot) encryptionState {
	st := encryptionState{resources: sets.New[schema.GroupResource](), provider: core.EncryptionProviderTypeAESCBC}
	if c := s.Status.Credentials; c != nil && c.EncryptionAtRest != nil {
		st.resources = groupResources(c.EncryptionAtRest.Resources)
		if t := c.EncryptionAtRest.Provider.Type; t != "" {
			st.provider = t
		}
	}
	return st
}

func groupResources(resources []string) sets.Set[schema.GroupResource] {
	out := sets.New[schema.GroupResource]()
	for _, r := range resources {
		out.Insert(schema.ParseGroupResource(r))
	}
	return out
}

func rotationPhase(s *core.Shoot) core.CredentialsRotationPhase {
	if c := s.Status.Credentials; c != nil && c.Rotation != nil && c.Rotation.ETCDEncryptionKey != nil {
		return c.Rotation.ETCDEncryptionKey.Phase
	}
	return ""
}

func hibernationEnabled(s *core.Shoot) bool {
	return s.Spec.Hibernation != nil && ptr.Deref(s.Spec.Hibernation.Enabled, false)
}

// isHibernated: hibernation is wanted, or the shoot has not woken up yet.
func isHibernated(s *core.Shoot) bool {
	return hibernationEnabled(s) || s.Status.IsHibernated
}

// readyForRotationStart: the shoot was created or restored successfully, or is reconciled.
func readyForRotationStart(op *core.LastOperation) bool {
	if op == nil {
		return false
	}
	switch op.Type {
	case core.LastOperationTypeCreate, core.LastOperationTypeRestore:
		return op.State == core.LastOperationStateSucceeded
	case core.LastOperationTypeReconcile:
		return true
	}
	return false
}
