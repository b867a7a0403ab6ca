// Package internalsecretlimit is the internal version of the InternalSecretLimit plugin's
// configuration.
// +k8s:deepcopy-gen=package
// +groupName=internalsecretlimit.admission.gardener.cloud
package internalsecretlimit
