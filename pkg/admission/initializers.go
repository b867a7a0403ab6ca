package admission

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	k8sadmission "k8s.io/apiserver/pkg/admission"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/garden-apiserver/garden-apiserver/pkg/admission/initializer"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/informers/externalversions"
)

// InformersHook starts the informers of our own API and waits for their caches; until then
// /readyz fails and plugins depending on the caches wait (ReadyFunc).
const InformersHook = "start-garden-apiserver-admission-informers"

// ExtraInitializers is RecommendedOptions.ExtraAdmissionInitializers: informers and clients of
// our own API on the loopback connection, and the kube-apiserver's discovery when there is one
// (c.ClientConfig is nil in standalone mode).
func ExtraInitializers(c *genericapiserver.RecommendedConfig) ([]k8sadmission.PluginInitializer, error) {
	loopback := rest.CopyConfig(c.LoopbackClientConfig)
	// As kube-apiserver's loopback client: protobuf, the server's cheapest encoding of our kinds.
	loopback.ContentType = runtime.ContentTypeProtobuf
	loopback.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	client, err := versioned.NewForConfig(loopback)
	if err != nil {
		return nil, fmt.Errorf("admission: core client: %w", err)
	}
	metadataClient, err := metadata.NewForConfig(c.LoopbackClientConfig)
	if err != nil {
		return nil, fmt.Errorf("admission: metadata client: %w", err)
	}
	var clusterDiscovery discovery.ServerResourcesInterfaceWithContext
	if c.ClientConfig != nil {
		d, err := discovery.NewDiscoveryClientForConfig(c.ClientConfig)
		if err != nil {
			return nil, fmt.Errorf("admission: cluster discovery: %w", err)
		}
		clusterDiscovery = d
	}

	// Informers are requested by the plugins while the chain is built, before this hook runs.
	informers := externalversions.NewSharedInformerFactory(client, 0)
	err = c.AddPostStartHook(InformersHook, func(ctx genericapiserver.PostStartHookContext) error {
		informers.Start(ctx.Done())
		for typ, synced := range informers.WaitForCacheSync(ctx.Done()) {
			if !synced {
				return fmt.Errorf("cache of %v did not sync", typ)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return []k8sadmission.PluginInitializer{initializer.New(informers, client, metadataClient, clusterDiscovery), QuotaInitializer()}, nil
}
