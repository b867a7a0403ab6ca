// Package authentication is the internal version of authentication.gardener.cloud:
// the bodies of the shoots/adminkubeconfig and shoots/viewerkubeconfig subresources.
// +k8s:deepcopy-gen=package
// +groupName=authentication.gardener.cloud
package authentication
