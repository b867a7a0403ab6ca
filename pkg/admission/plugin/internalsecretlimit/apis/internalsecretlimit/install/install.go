// Package install adds the InternalSecretLimit configuration kinds to a scheme.
package install

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	internal "github.com/garden-apiserver/garden-apiserver/pkg/admission/plugin/internalsecretlimit/apis/internalsecretlimit"
	"github.com/garden-apiserver/garden-apiserver/pkg/admission/plugin/internalsecretlimit/apis/internalsecretlimit/v1alpha1"
)

// Install registers the internal and versioned kinds.
func Install(scheme *runtime.Scheme) {
	utilruntime.Must(internal.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	utilruntime.Must(scheme.SetVersionPriority(v1alpha1.SchemeGroupVersion))
}
