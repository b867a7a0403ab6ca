package admission

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	k8sadmission "k8s.io/apiserver/pkg/admission"
	genericinitializer "k8s.io/apiserver/pkg/admission/initializer"
	admissionmetrics "k8s.io/apiserver/pkg/admission/metrics"
	"k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle"
	mutatingadmissionpolicy "k8s.io/apiserver/pkg/admission/plugin/policy/mutating"
	validatingadmissionpolicy "k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/admission/plugin/resourcequota"
	mutatingwebhook "k8s.io/apiserver/pkg/admission/plugin/webhook/mutating"
	validatingwebhook "k8s.io/apiserver/pkg/admission/plugin/webhook/validating"
	apiserverapi "k8s.io/apiserver/pkg/apis/apiserver"
	apiserverapiv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	apiserverapiv1alpha1 "k8s.io/apiserver/pkg/apis/apiserver/v1alpha1"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/klog/v2"
)

// kubeDependentPlugins cannot run without a kube-apiserver: what they read lives there.
var kubeDependentPlugins = map[string]string{
	lifecycle.PluginName:                 "namespaces live in a kube-apiserver",
	mutatingwebhook.PluginName:           "MutatingWebhookConfigurations live in a kube-apiserver",
	validatingwebhook.PluginName:         "ValidatingWebhookConfigurations live in a kube-apiserver",
	mutatingadmissionpolicy.PluginName:   "MutatingAdmissionPolicies live in a kube-apiserver",
	validatingadmissionpolicy.PluginName: "ValidatingAdmissionPolicies live in a kube-apiserver",
	resourcequota.PluginName:             "ResourceQuotas live in a kube-apiserver",
}

// configScheme decodes AdmissionConfiguration files, as genericoptions does.
var configScheme = runtime.NewScheme()

func init() {
	utilruntime.Must(apiserverapi.AddToScheme(configScheme))
	utilruntime.Must(apiserverapiv1alpha1.AddToScheme(configScheme))
	utilruntime.Must(apiserverapiv1.AddToScheme(configScheme))
}

// StandaloneInitializers wraps ExtraAdmissionInitializers for standalone mode, where
// RecommendedOptions.Admission must be nil (its ApplyTo refuses to run without a kube client):
// it builds the chain from a itself with ApplyStandalone, at the point where ApplyTo would.
func StandaloneInitializers(a *genericoptions.AdmissionOptions,
	extra func(*genericapiserver.RecommendedConfig) ([]k8sadmission.PluginInitializer, error),
) func(*genericapiserver.RecommendedConfig) ([]k8sadmission.PluginInitializer, error) {
	return func(c *genericapiserver.RecommendedConfig) ([]k8sadmission.PluginInitializer, error) {
		initializers, err := extra(c)
		if err != nil {
			return nil, err
		}
		return nil, ApplyStandalone(a, &c.Config, initializers...)
	}
}

// ApplyStandalone is genericoptions.AdmissionOptions.ApplyTo without a kube-apiserver: the
// same flags, configuration file, order and decorators, minus the kube-dependent plugins.
func ApplyStandalone(a *genericoptions.AdmissionOptions, c *genericapiserver.Config, initializers ...k8sadmission.PluginInitializer) error {
	var names []string
	for _, name := range enabledPluginNames(a) {
		if why, ok := kubeDependentPlugins[name]; ok {
			klog.InfoS("Standalone mode: admission plugin is off", "plugin", name, "reason", why)
			continue
		}
		names = append(names, name)
	}
	configProvider, err := k8sadmission.ReadAdmissionConfiguration(names, a.ConfigFile, configScheme)
	if err != nil {
		return fmt.Errorf("reading --admission-control-config-file: %w", err)
	}
	// The generic initializer still provides the authorizer, features and drain notification.
	chainInitializers := k8sadmission.PluginInitializers{
		genericinitializer.NewAPIServerIDInitializer(c.APIServerID),
		genericinitializer.New(nil, nil, nil, c.Authorization.Authorizer, c.FeatureGate, c.EffectiveVersion, c.DrainedNotify(), nil),
	}
	chainInitializers = append(chainInitializers, initializers...)
	chain, err := a.Plugins.NewFromPlugins(names, configProvider, chainInitializers, a.Decorators)
	if err != nil {
		return err
	}
	c.AdmissionControl = admissionmetrics.WithStepMetrics(chain)
	klog.InfoS("Standalone mode: admission chain built", "plugins", names)
	return nil
}

// enabledPluginNames mirrors the unexported genericoptions.AdmissionOptions.enabledPluginNames.
func enabledPluginNames(a *genericoptions.AdmissionOptions) []string {
	disabled := sets.New(a.DisablePlugins...).Union(a.DefaultOffPlugins).Difference(sets.New(a.EnablePlugins...))
	var names []string
	for _, name := range a.RecommendedPluginOrder {
		if !disabled.Has(name) {
			names = append(names, name)
		}
	}
	return names
}
