package admission

import (
	k8sadmission "k8s.io/apiserver/pkg/admission"
	genericinitializer "k8s.io/apiserver/pkg/admission/initializer"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"
)

// quotaInitializer gives the generic ResourceQuota plugin its configuration. No evaluator is
// registered: the plugin then counts each resource with an object-count evaluator, which is
// what count/internalsecrets.core.gardener.cloud and count/shoots.core.gardener.cloud need.
// It runs after the generic initializer, which the plugin needs first (drain notification).
type quotaInitializer struct{ config quota.Configuration }

// QuotaInitializer returns the initializer for WantsQuotaConfiguration plugins.
func QuotaInitializer() k8sadmission.PluginInitializer {
	return quotaInitializer{config: generic.NewConfiguration(nil, nil)}
}

func (q quotaInitializer) Initialize(plugin k8sadmission.Interface) {
	if wants, ok := plugin.(genericinitializer.WantsQuotaConfiguration); ok {
		wants.SetQuotaConfiguration(q.config)
	}
}
