package server

import (
	"k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"

	gardenadmission "github.com/garden-apiserver/garden-apiserver/pkg/admission"
	"github.com/garden-apiserver/garden-apiserver/pkg/apiserver"
	generatedopenapi "github.com/garden-apiserver/garden-apiserver/pkg/generated/openapi"
)

// Config turns the completed options into a server configuration; it changes none of them.
func (o *ServerOptions) Config() (*apiserver.Config, error) {
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

	// Before the recommended options: the encryption keyring owns the configuration file and
	// hands the stores their transformers (c.ResourceTransformers), so the etcd options do not
	// load the file themselves.
	enc, err := o.Encryption.ApplyTo(c, o.Recommended.Etcd)
	if err != nil {
		return nil, err
	}
	if err := o.Recommended.ApplyTo(c); err != nil {
		return nil, err
	}
	// After ApplyTo: our initializers use the loopback connection it sets up.
	initializers, err := gardenadmission.ExtraInitializers(c)
	if err != nil {
		return nil, err
	}
	if err := o.applyAdmission(c, initializers...); err != nil {
		return nil, err
	}
	return &apiserver.Config{
		GenericConfig: c,
		ExtraConfig: apiserver.ExtraConfig{
			Encryption:  enc,
			ShootAccess: *o.ShootAccess,
		},
	}, nil
}
