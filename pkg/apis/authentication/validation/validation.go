// Package validation checks the kubeconfig request bodies.
package validation

import (
	"math"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// MinExpirationSeconds is the shortest validity a client may ask for.
const MinExpirationSeconds = 600

// ValidateExpirationSeconds checks spec.expirationSeconds of a kubeconfig request.
func ValidateExpirationSeconds(seconds int64) field.ErrorList {
	fld := field.NewPath("spec", "expirationSeconds")
	switch {
	case seconds < MinExpirationSeconds:
		return field.ErrorList{field.Invalid(fld, seconds, "may not specify a duration less than 10 minutes")}
	case seconds > math.MaxUint32:
		return field.ErrorList{field.Invalid(fld, seconds, "may not specify a duration larger than 2^32 seconds")}
	}
	return nil
}
