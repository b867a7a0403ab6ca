// Package apiserver builds the server from its configuration: scheme, storage and the API group.
package apiserver

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	authinstall "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/install"
	coreinstall "github.com/garden-apiserver/garden-apiserver/pkg/apis/core/install"
)

var (
	// Scheme knows every kind the server decodes and encodes.
	Scheme = runtime.NewScheme()
	// Codecs serializes the kinds of Scheme.
	Codecs = serializer.NewCodecFactory(Scheme)
)

func init() {
	coreinstall.Install(Scheme)
	authinstall.Install(Scheme)

	// The generic server decodes options (ListOptions, ...) through the unversioned v1.
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	Scheme.AddUnversionedTypes(unversioned,
		&metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroupList{}, &metav1.APIGroup{}, &metav1.APIResourceList{},
	)
}
