// Package v1beta1 is the external version of core.gardener.cloud, Gardener's wire format.
// +k8s:openapi-gen=true
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/garden-apiserver/garden-apiserver/pkg/apis/core
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-model-package=com.github.gardener.gardener.pkg.apis.core.v1beta1
// +groupName=core.gardener.cloud
package v1beta1
