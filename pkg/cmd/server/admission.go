package server

import (
	k8sadmission "k8s.io/apiserver/pkg/admission"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/dynamic"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
)

// applyAdmission builds the admission chain with the library's AdmissionOptions.ApplyTo. Its
// generic initializer needs a Kubernetes client and informers: the cluster's in delegated mode,
// where namespaces, webhook configurations, policies and quotas live; in standalone mode the
// loopback connection, as kube-apiserver's own admission uses, since the plugins that read the
// cluster are off there (Complete) and nothing reads Kubernetes objects through it.
func (o *ServerOptions) applyAdmission(c *genericapiserver.RecommendedConfig, initializers ...k8sadmission.PluginInitializer) error {
	kubeConfig, informers := c.ClientConfig, c.SharedInformerFactory
	if kubeConfig == nil {
		kubeConfig = c.LoopbackClientConfig
	}
	kube, err := kubernetes.NewForConfig(kubeConfig)
	if err != nil {
		return err
	}
	dynamicClient, err := dynamic.NewForConfig(kubeConfig)
	if err != nil {
		return err
	}
	if informers == nil {
		informers = kubeinformers.NewSharedInformerFactory(kube, 0)
	}
	return o.Admission.ApplyTo(&c.Config, informers, kube, dynamicClient, o.Recommended.FeatureGate, c.EffectiveVersion, initializers...)
}
