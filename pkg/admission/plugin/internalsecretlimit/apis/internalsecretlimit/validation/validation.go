// Package validation validates the InternalSecretLimit configuration.
package validation

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	internal "github.com/garden-apiserver/garden-apiserver/pkg/admission/plugin/internalsecretlimit/apis/internalsecretlimit"
)

// ValidateConfiguration checks that a configured limit is not negative.
func ValidateConfiguration(c *internal.Configuration) field.ErrorList {
	var allErrs field.ErrorList
	if m := c.MaxInternalSecretsPerNamespace; m != nil && *m < 0 {
		allErrs = append(allErrs, field.Invalid(field.NewPath("maxInternalSecretsPerNamespace"), *m, "must not be negative"))
	}
	return allErrs
}
