// Package core is the internal (hub) version of the core.gardener.cloud API group.
// +k8s:deepcopy-gen=package
// +groupName=core.gardener.cloud
package core
