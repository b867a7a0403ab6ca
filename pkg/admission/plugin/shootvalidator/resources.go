package shootvalidator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/discovery"
)

// servedResources says whether the cluster serves a resource, named "resource" (core group)
// or "resource.group" as in encryptionConfig.resources.
type servedResources interface {
	Served(ctx context.Context, resource string) (bool, error)
	NotServedMessage() string
}

// StandaloneAllowlist is what standalone mode (no cluster to ask) accepts: the GA, stored
// resources of Kubernetes 1.34 and later that encryption can apply to. Documented in
// docs/admission.md; keep both in sync.
var StandaloneAllowlist = sets.New(
	"configmaps", "endpoints", "events", "limitranges", "namespaces", "nodes", "persistentvolumeclaims",
	"persistentvolumes", "pods", "podtemplates", "replicationcontrollers", "resourcequotas", "serviceaccounts", "services",
	"mutatingwebhookconfigurations.admissionregistration.k8s.io", "validatingwebhookconfigurations.admissionregistration.k8s.io",
	"validatingadmissionpolicies.admissionregistration.k8s.io", "validatingadmissionpolicybindings.admissionregistration.k8s.io",
	"customresourcedefinitions.apiextensions.k8s.io",
	"apiservices.apiregistration.k8s.io",
	"controllerrevisions.apps", "daemonsets.apps", "deployments.apps", "replicasets.apps", "statefulsets.apps",
	"horizontalpodautoscalers.autoscaling",
	"cronjobs.batch", "jobs.batch",
	"certificatesigningrequests.certificates.k8s.io",
	"leases.coordination.k8s.io",
	"endpointslices.discovery.k8s.io",
	"flowschemas.flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations.flowcontrol.apiserver.k8s.io",
	"ingressclasses.networking.k8s.io", "ingresses.networking.k8s.io", "networkpolicies.networking.k8s.io",
	"ipaddresses.networking.k8s.io", "servicecidrs.networking.k8s.io",
	"runtimeclasses.node.k8s.io",
	"poddisruptionbudgets.policy",
	"clusterrolebindings.rbac.authorization.k8s.io", "clusterroles.rbac.authorization.k8s.io",
	"rolebindings.rbac.authorization.k8s.io", "roles.rbac.authorization.k8s.io",
	"deviceclasses.resource.k8s.io", "resourceclaims.resource.k8s.io", "resourceclaimtemplates.resource.k8s.io",
	"resourceslices.resource.k8s.io",
	"priorityclasses.scheduling.k8s.io",
	"csidrivers.storage.k8s.io", "csinodes.storage.k8s.io", "csistoragecapacities.storage.k8s.io",
	"storageclasses.storage.k8s.io", "volumeattachments.storage.k8s.io", "volumeattributesclasses.storage.k8s.io",
)

type standaloneResources struct{}

func (standaloneResources) Served(_ context.Context, r string) (bool, error) {
	return StandaloneAllowlist.Has(r), nil
}

func (standaloneResources) NotServedMessage() string {
	return "not a built-in Kubernetes resource; without a cluster to ask (standalone mode) only the allowlist in docs/admission.md is accepted"
}

const (
	// A miss refreshes discovery at most this often, so a CRD installed a moment ago is found
	// without every bad entry costing a discovery round trip.
	minRefresh = 10 * time.Second
	// Entries older than this are refreshed anyway, so removed resources do not linger.
	maxAge = 10 * time.Minute
)

// clusterResources caches the resources the kube-apiserver's discovery lists.
type clusterResources struct {
	client discovery.ServerResourcesInterfaceWithContext
	now    func() time.Time

	mu      sync.Mutex
	served  sets.Set[string]
	failed  map[string]error // groups whose discovery failed in the last refresh
	fetched time.Time
}

func newClusterResources(client discovery.ServerResourcesInterfaceWithContext) *clusterResources {
	return &clusterResources{client: client, now: time.Now}
}

func (c *clusterResources) NotServedMessage() string {
	return "the cluster does not serve this resource (checked against the kube-apiserver's discovery)"
}

// Served refreshes on a miss (rate limited) before answering no.
func (c *clusterResources) Served(ctx context.Context, r string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	age := c.now().Sub(c.fetched)
	if c.served == nil || age > maxAge || (!c.served.Has(r) && age > minRefresh) {
		if err := c.refresh(ctx); err != nil {
			return false, err
		}
	}
	if c.served.Has(r) {
		return true, nil
	}
	_, group, _ := strings.Cut(r, ".")
	if err, ok := c.failed[group]; ok {
		return false, fmt.Errorf("discovery of API group %q failed: %w", group, err)
	}
	return false, nil
}

func (c *clusterResources) refresh(ctx context.Context) error {
	_, lists, err := c.client.ServerGroupsAndResourcesWithContext(ctx)
	failed := map[string]error{}
	if err != nil {
		var partial *discovery.ErrGroupDiscoveryFailed
		if !errors.As(err, &partial) {
			return fmt.Errorf("discovery of the Kubernetes API failed: %w", err)
		}
		// Aggregated APIs that are down: the rest of the answer is still good.
		for gv, gvErr := range partial.Groups {
			failed[gv.Group] = gvErr
		}
	}
	served := sets.New[string]()
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, res := range list.APIResources {
			if strings.Contains(res.Name, "/") { // subresources are stored with their parent
				continue
			}
			served.Insert(key(res.Name, gv.Group))
		}
	}
	c.served, c.failed, c.fetched = served, failed, c.now()
	return nil
}

func key(resource, group string) string {
	if group == "" {
		return resource
	}
	return resource + "." + group
}
