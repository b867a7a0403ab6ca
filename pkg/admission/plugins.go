// Package admission assembles garden-apiserver's admission chain: the plugin names and their
// fixed order, the initializer with our informers and clients, and the plugins that need a
// Kubernetes cluster (off in standalone mode).
package admission

import (
	k8sadmission "k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle"
	mutatingadmissionpolicy "k8s.io/apiserver/pkg/admission/plugin/policy/mutating"
	validatingadmissionpolicy "k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/admission/plugin/resourcequota"
	mutatingwebhook "k8s.io/apiserver/pkg/admission/plugin/webhook/mutating"
	validatingwebhook "k8s.io/apiserver/pkg/admission/plugin/webhook/validating"
	genericoptions "k8s.io/apiserver/pkg/server/options"

	"github.com/garden-apiserver/garden-apiserver/pkg/admission/plugin/deletionconfirmation"
	"github.com/garden-apiserver/garden-apiserver/pkg/admission/plugin/internalsecretlimit"
	"github.com/garden-apiserver/garden-apiserver/pkg/admission/plugin/internalsecretreferenceprotection"
	"github.com/garden-apiserver/garden-apiserver/pkg/admission/plugin/shootvalidator"
)

// AllOrderedPlugins is the fixed order of the chain (docs/admission.md). The chain runs every
// mutating plugin (NamespaceLifecycle, the mutating policies and webhooks) before any
// validating one; within each phase this order holds. Webhooks and policies come last, as in
// kube-apiserver, so they see what our plugins admitted.
var AllOrderedPlugins = []string{
	lifecycle.PluginName,               // NamespaceLifecycle
	mutatingadmissionpolicy.PluginName, // MutatingAdmissionPolicy
	mutatingwebhook.PluginName,         // MutatingAdmissionWebhook
	deletionconfirmation.PluginName,
	internalsecretreferenceprotection.PluginName,
	shootvalidator.PluginName,
	internalsecretlimit.PluginName,
	validatingadmissionpolicy.PluginName, // ValidatingAdmissionPolicy
	validatingwebhook.PluginName,         // ValidatingAdmissionWebhook
	resourcequota.PluginName,             // ResourceQuota: last, as in kube-apiserver, to charge only admitted requests
}

// ClusterPlugins cannot run without a kube-apiserver: what they read lives there. Standalone
// mode turns them off.
var ClusterPlugins = map[string]string{
	lifecycle.PluginName:                 "namespaces live in a kube-apiserver",
	mutatingwebhook.PluginName:           "MutatingWebhookConfigurations live in a kube-apiserver",
	validatingwebhook.PluginName:         "ValidatingWebhookConfigurations live in a kube-apiserver",
	mutatingadmissionpolicy.PluginName:   "MutatingAdmissionPolicies live in a kube-apiserver",
	validatingadmissionpolicy.PluginName: "ValidatingAdmissionPolicies live in a kube-apiserver",
	resourcequota.PluginName:             "ResourceQuotas live in a kube-apiserver",
}

// RegisterAllAdmissionPlugins registers our plugins; the generic ones are registered by
// genericoptions.NewAdmissionOptions.
func RegisterAllAdmissionPlugins(plugins *k8sadmission.Plugins) {
	deletionconfirmation.Register(plugins)
	internalsecretreferenceprotection.Register(plugins)
	shootvalidator.Register(plugins)
	internalsecretlimit.Register(plugins)
	resourcequota.Register(plugins)
}

// Configure registers our plugins in the options and fixes the order. Call it before the flags
// are added, so their help lists the plugins. ExtraInitializers hands our informers and clients
// to the plugins.
func Configure(a *genericoptions.AdmissionOptions) {
	RegisterAllAdmissionPlugins(a.Plugins)
	a.RecommendedPluginOrder = AllOrderedPlugins
}
