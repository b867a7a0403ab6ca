package server

import (
	"fmt"
	"net"

	"k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/garden-apiserver/garden-apiserver/pkg/apiserver"
	generatedopenapi "github.com/garden-apiserver/garden-apiserver/pkg/generated/openapi"
)

// Config turns the options into a server configuration.
func (o *ServerOptions) Config() (*apiserver.Config, error) {
	if err := o.Recommended.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil,
		[]net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback}); err != nil {
		return nil, fmt.Errorf("creating self-signed serving certificate: %w", err)
	}

	c := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	// Before the recommended options: priority and fairness sizes itself from the in-flight
	// limits. Sets the effective version and feature gate from the component globals registry.
	if err := o.ServerRun.ApplyTo(&c.Config); err != nil {
		return nil, err
	}
	namer := openapi.NewDefinitionNamer(apiserver.Scheme)
	c.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(generatedopenapi.GetOpenAPIDefinitions, namer)
	c.OpenAPIConfig.Info.Title = "garden-apiserver"
	c.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(generatedopenapi.GetOpenAPIDefinitions, namer)
	c.OpenAPIV3Config.Info.Title = "garden-apiserver"

	if err := o.applyStorageMediaType(); err != nil {
		return nil, err
	}
	// Before the etcd options: the encryption keyring owns the configuration file and hands the
	// stores their transformers (c.ResourceTransformers).
	enc, err := o.Encryption.ApplyTo(c, o.Recommended.Etcd)
	if err != nil {
		return nil, err
	}
	if err := o.Recommended.ApplyTo(c); err != nil {
		return nil, err
	}
	return &apiserver.Config{
		GenericConfig: c,
		ExtraConfig: apiserver.ExtraConfig{
			Encryption: enc,
			Kubeconfig: *o.Kubeconfig,
		},
	}, nil
}
