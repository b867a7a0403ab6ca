package shootvalidator

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

// validateEncryptionUpdate applies Gardener's rules for changing what a shoot's etcd encrypts:
// the gardenlet rewrites all affected data on each change, so changes go one at a time and
// never during a key rotation.
func validateEncryptionUpdate(shoot, old *core.Shoot) field.ErrorList {
	oldResources, oldProvider := encryption(old)
	newResources, newProvider := encryption(shoot)
	var changed []*field.Path
	if !oldResources.Equal(newResources) {
		changed = append(changed, encryptionPath.Child("resources"))
	}
	if oldProvider != newProvider {
		changed = append(changed, encryptionPath.Child("provider", "type"))
	}
	if len(changed) == 0 {
		return nil
	}

	var allErrs field.ErrorList
	if len(changed) == 2 {
		allErrs = append(allErrs, field.Forbidden(encryptionPath,
			"resources and provider.type cannot be changed in the same update: change one, wait until status.credentials.encryptionAtRest reports it, then change the other"))
	}
	phase := rotationPhase(old)
	rollingOut := rollingOut(old, oldResources, oldProvider)
	for _, fld := range changed {
		if phase != "" && phase != core.RotationCompleted {
			allErrs = append(allErrs, field.Forbidden(fld, fmt.Sprintf(
				"cannot be changed while the etcd encryption key rotation is in phase %q: status.credentials.rotation.etcdEncryptionKey.phase must be %q",
				phase, core.RotationCompleted)))
		}
		if rollingOut {
			allErrs = append(allErrs, field.Forbidden(fld,
				"cannot be changed because a previous encryption configuration change is currently being rolled out: status.credentials.encryptionAtRest does not match the spec yet"))
		}
	}
	return allErrs
}

// encryption returns the resources and the provider a Shoot's spec asks for.
func encryption(s *core.Shoot) (sets.Set[string], core.EncryptionProviderType) {
	provider := core.EncryptionProviderTypeAESCBC
	if k := s.Spec.Kubernetes.KubeAPIServer; k != nil && k.EncryptionConfig != nil && k.EncryptionConfig.Provider.Type != nil {
		provider = *k.EncryptionConfig.Provider.Type
	}
	return sets.New(encryptionResources(s)...), provider
}

func rotationPhase(s *core.Shoot) core.CredentialsRotationPhase {
	if c := s.Status.Credentials; c != nil && c.Rotation != nil && c.Rotation.ETCDEncryptionKey != nil {
		return c.Rotation.ETCDEncryptionKey.Phase
	}
	return ""
}

// rollingOut reports whether the status has not caught up with the stored spec. No status
// means nothing encrypted beyond secrets, with the default provider.
func rollingOut(s *core.Shoot, resources sets.Set[string], provider core.EncryptionProviderType) bool {
	current, currentProvider := sets.New[string](), core.EncryptionProviderTypeAESCBC
	if c := s.Status.Credentials; c != nil && c.EncryptionAtRest != nil {
		current.Insert(c.EncryptionAtRest.Resources...)
		if t := c.EncryptionAtRest.Provider.Type; t != "" {
			currentProvider = t
		}
	}
	return !current.Equal(resources) || currentProvider != provider
}
