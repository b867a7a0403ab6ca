// Package validation checks core.gardener.cloud objects; rules follow core/v1 Secrets
// and Gardener's Shoot validation.
package validation

import (
	"encoding/json"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

// MaxSecretSize is the largest total data size of an InternalSecret, as for Secrets.
const MaxSecretSize = 1 * 1024 * 1024

// ValidateInternalSecret validates a new InternalSecret.
func ValidateInternalSecret(s *core.InternalSecret) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&s.ObjectMeta, true,
		apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))

	dataPath := field.NewPath("data")
	total := 0
	for key, value := range s.Data {
		for _, msg := range validation.IsConfigMapKey(key) {
			allErrs = append(allErrs, field.Invalid(dataPath.Key(key), key, msg))
		}
		total += len(value)
	}
	if total > MaxSecretSize {
		allErrs = append(allErrs, field.TooLong(dataPath, "", MaxSecretSize))
	}
	return append(allErrs, validateType(s)...)
}

// validateType applies the rules of kube-apiserver's Secret validation per type, with the
// same field paths and messages. Other types, including bootstrap tokens, have no rules there.
func validateType(s *core.InternalSecret) field.ErrorList {
	var allErrs field.ErrorList
	dataPath := field.NewPath("data")
	required := func(key string) { allErrs = append(allErrs, field.Required(dataPath.Key(key), "")) }
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		// The token itself may be added later by a controller.
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			allErrs = append(allErrs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	case corev1.SecretTypeDockercfg, corev1.SecretTypeDockerConfigJson:
		key := corev1.DockerConfigKey
		if s.Type == corev1.SecretTypeDockerConfigJson {
			key = corev1.DockerConfigJsonKey
		}
		raw, ok := s.Data[key]
		if !ok {
			required(key)
			break
		}
		// A JSON object, as kubelets read it.
		if err := json.Unmarshal(raw, &map[string]any{}); err != nil {
			allErrs = append(allErrs, field.Invalid(dataPath.Key(key), "<secret contents redacted>", err.Error()))
		}
	case corev1.SecretTypeBasicAuth:
		// Either may be empty, but one must be there.
		_, hasUser := s.Data[corev1.BasicAuthUsernameKey]
		_, hasPassword := s.Data[corev1.BasicAuthPasswordKey]
		if !hasUser && !hasPassword {
			required(corev1.BasicAuthUsernameKey)
			required(corev1.BasicAuthPasswordKey)
		}
	case corev1.SecretTypeSSHAuth:
		if len(s.Data[corev1.SSHAuthPrivateKey]) == 0 {
			required(corev1.SSHAuthPrivateKey)
		}
	case corev1.SecretTypeTLS:
		for _, key := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
			if _, ok := s.Data[key]; !ok {
				required(key)
			}
		}
	}
	return allErrs
}

// ValidateInternalSecretUpdate validates an update: type and immutable data cannot change.
func ValidateInternalSecretUpdate(newS, oldS *core.InternalSecret) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newS.ObjectMeta, &oldS.ObjectMeta, field.NewPath("metadata"))
	if newS.Type != oldS.Type {
		allErrs = append(allErrs, field.Invalid(field.NewPath("type"), newS.Type, "field is immutable"))
	}
	if oldS.Immutable != nil && *oldS.Immutable {
		if newS.Immutable == nil || !*newS.Immutable {
			allErrs = append(allErrs, field.Forbidden(field.NewPath("immutable"), "field is immutable when `immutable` is set"))
		}
		if !reflect.DeepEqual(newS.Data, oldS.Data) {
			allErrs = append(allErrs, field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"))
		}
	}
	return append(allErrs, ValidateInternalSecret(newS)...)
}
