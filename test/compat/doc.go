// Package compat checks garden-apiserver against Gardener's published API module
// (github.com/gardener/gardener/pkg/apis, the version in this module's go.mod): the shared kinds
// have the same Go field names, JSON tags and protobuf field numbers; fuzzed objects round-trip
// between our types and Gardener's in JSON and protobuf, field by field; and Gardener's
// controller-runtime client, set up as Gardener's components set it up, works against a live
// server. It is its own Go module so the server's go.mod does not carry Gardener's API module.
package compat
