// Package install registers the authentication.gardener.cloud body kinds in a scheme.
package install

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1"
)

// Install registers the internal and v1alpha1 versions.
func Install(scheme *runtime.Scheme) {
	utilruntime.Must(authentication.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	utilruntime.Must(scheme.SetVersionPriority(v1alpha1.SchemeGroupVersion))
}
