package v1alpha1

import "k8s.io/apimachinery/pkg/runtime"

// No field has a default: an unset limit means no limit.
func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}
