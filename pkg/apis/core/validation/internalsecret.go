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

// requiredKeys lists, per typed secret, keys of which at least one group must all be present.
var requiredKeys = map[corev1.SecretType][]string{
	corev1.SecretTypeTLS:              {corev1.TLSCertKey, corev1.TLSPrivateKeyKey},
	corev1.SecretTypeSSHAuth:          {corev1.SSHAuthPrivateKey},
	corev1.SecretTypeDockerConfigJson: {corev1.DockerConfigJsonKey},
	corev1.SecretTypeDockercfg:        {corev1.DockerConfigKey},
}

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

func validateType(s *core.InternalSecret) field.ErrorList {
	var allErrs field.ErrorList
	dataPath := field.NewPath("data")
	for _, key := range requiredKeys[s.Type] {
		if _, ok := s.Data[key]; !ok {
			allErrs = append(allErrs, field.Required(dataPath.Key(key), "required for type "+string(s.Type)))
		}
	}
	switch s.Type {
	case corev1.SecretTypeBasicAuth:
		_, hasUser := s.Data[corev1.BasicAuthUsernameKey]
		_, hasPassword := s.Data[corev1.BasicAuthPasswordKey]
		if !hasUser && !hasPassword {
			allErrs = append(allErrs, field.Required(dataPath.Key(corev1.BasicAuthUsernameKey),
				"either username or password is required for type "+string(s.Type)))
		}
	case corev1.SecretTypeDockerConfigJson, corev1.SecretTypeDockercfg:
		for _, key := range requiredKeys[s.Type] {
			if raw, ok := s.Data[key]; ok && !json.Valid(raw) {
				allErrs = append(allErrs, field.Invalid(dataPath.Key(key), "<secret contents redacted>", "must be valid JSON"))
			}
		}
	case corev1.SecretTypeServiceAccountToken:
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			allErrs = append(allErrs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
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
