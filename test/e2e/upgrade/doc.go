// Package upgrade tests upgrading from the previous build: it builds that commit of this
// repository from git history, lets it store objects in a real etcd, and starts the current
// build (`make build`) on the same etcd. Run with `make e2e`.
package upgrade
