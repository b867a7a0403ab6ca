// Package e2e is garden-apiserver's end-to-end suite: real etcd and kube-apiserver binaries
// (built by `make tools` into _output/tools/bin), two replicas of the real server binary
// (_output/bin/garden-apiserver) in delegated mode behind the kube-aggregator, a second
// kube-apiserver playing a shoot cluster, and the installed kubectl as the client. Run it with
// `make e2e`; every process runs on free loopback ports and is stopped by the suite.
//
// Routing: an APIService points at one Service port, so the suite starts a small loopback TCP
// proxy (failoverProxy) in front of both replicas and points the ExternalName Service
// (localhost) and the APIService at it. Like a Service with one preferred endpoint, it sends
// every new connection to replica A while A accepts connections and to replica B otherwise;
// TLS passes through untouched, so the aggregator verifies the replicas' certificate against
// the APIService's caBundle.
package e2e
