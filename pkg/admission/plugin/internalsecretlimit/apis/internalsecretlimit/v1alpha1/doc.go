// Package v1alpha1 is the versioned configuration of the InternalSecretLimit plugin, as
// written in the plugin's entry of an AdmissionConfiguration.
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/garden-apiserver/garden-apiserver/pkg/admission/plugin/internalsecretlimit/apis/internalsecretlimit
// +k8s:defaulter-gen=TypeMeta
// +groupName=internalsecretlimit.admission.gardener.cloud
package v1alpha1
