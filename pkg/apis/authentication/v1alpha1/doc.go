// Package v1alpha1 is the external version of authentication.gardener.cloud (body kinds only).
// +k8s:openapi-gen=true
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-model-package=com.github.gardener.gardener.pkg.apis.authentication.v1alpha1
// +groupName=authentication.gardener.cloud
package v1alpha1
