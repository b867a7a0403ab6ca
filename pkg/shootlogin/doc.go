// Package shootlogin is kubectl-shootlogin: it prints shoot kubeconfigs whose user is a client-go
// exec credential plugin, and, run by kubectl as that plugin, hands out a client certificate from
// shoots/adminkubeconfig or shoots/viewerkubeconfig of the garden, cached on disk until it is
// about to expire.
package shootlogin
