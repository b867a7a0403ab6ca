// Package initializer hands garden-apiserver's admission plugins what they need from the
// server: the informers and clients of our own API (on the loopback connection) and, when
// running behind a kube-apiserver, that cluster's discovery.
package initializer

import (
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"

	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/informers/externalversions"
)

// WantsCoreInformerFactory is implemented by plugins that read core.gardener.cloud objects
// from the shared informer cache.
type WantsCoreInformerFactory interface {
	SetCoreInformerFactory(externalversions.SharedInformerFactory)
	admission.InitializationValidator
}

// WantsCoreClientSet is implemented by plugins that need live reads of core.gardener.cloud
// objects, e.g. when the cache has not seen an object created a moment ago.
type WantsCoreClientSet interface {
	SetCoreClientSet(versioned.Interface)
	admission.InitializationValidator
}

// WantsMetadataClient is implemented by plugins that need exact, live lists of object
// metadata (names, labels) without transferring object contents such as secret data.
type WantsMetadataClient interface {
	SetMetadataClient(metadata.Interface)
	admission.InitializationValidator
}

// WantsClusterDiscovery is implemented by plugins that check what the Kubernetes cluster
// serves. The discovery client is nil in standalone mode (no cluster).
type WantsClusterDiscovery interface {
	SetClusterDiscovery(discovery.ServerResourcesInterfaceWithContext)
}

// Initializer passes the server's clients and informers to the plugins that want them.
type Initializer struct {
	informers externalversions.SharedInformerFactory
	client    versioned.Interface
	metadata  metadata.Interface
	discovery discovery.ServerResourcesInterfaceWithContext
}

var _ admission.PluginInitializer = Initializer{}

// New returns an initializer; clusterDiscovery may be nil (standalone mode).
func New(informers externalversions.SharedInformerFactory, client versioned.Interface, metadataClient metadata.Interface,
	clusterDiscovery discovery.ServerResourcesInterfaceWithContext) Initializer {
	return Initializer{informers: informers, client: client, metadata: metadataClient, discovery: clusterDiscovery}
}

// Initialize sets what the plugin asks for through the Wants interfaces.
func (i Initializer) Initialize(plugin admission.Interface) {
	if wants, ok := plugin.(WantsCoreInformerFactory); ok {
		wants.SetCoreInformerFactory(i.informers)
	}
	if wants, ok := plugin.(WantsCoreClientSet); ok {
		wants.SetCoreClientSet(i.client)
	}
	if wants, ok := plugin.(WantsMetadataClient); ok {
		wants.SetMetadataClient(i.metadata)
	}
	if wants, ok := plugin.(WantsClusterDiscovery); ok {
		wants.SetClusterDiscovery(i.discovery)
	}
}
