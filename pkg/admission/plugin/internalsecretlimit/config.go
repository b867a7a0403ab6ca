package internalsecretlimit

import (
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	internal "github.com/garden-apiserver/garden-apiserver/pkg/admission/plugin/internalsecretlimit/apis/internalsecretlimit"
	"github.com/garden-apiserver/garden-apiserver/pkg/admission/plugin/internalsecretlimit/apis/internalsecretlimit/install"
	"github.com/garden-apiserver/garden-apiserver/pkg/admission/plugin/internalsecretlimit/apis/internalsecretlimit/validation"
)

var (
	scheme = runtime.NewScheme()
	// Strict: a misspelt field must not silently leave the limit off.
	codecs = serializer.NewCodecFactory(scheme, serializer.EnableStrict)
)

func init() {
	install.Install(scheme)
}

// LoadConfiguration decodes and validates the plugin's entry of the AdmissionConfiguration;
// no entry (nil) means no limit.
func LoadConfiguration(config io.Reader) (*internal.Configuration, error) {
	if config == nil {
		return &internal.Configuration{}, nil
	}
	data, err := io.ReadAll(config)
	if err != nil {
		return nil, err
	}
	obj, err := runtime.Decode(codecs.UniversalDecoder(), data)
	if err != nil {
		return nil, fmt.Errorf("%s configuration: %w", PluginName, err)
	}
	cfg, ok := obj.(*internal.Configuration)
	if !ok {
		return nil, fmt.Errorf("%s configuration: unexpected kind %T", PluginName, obj)
	}
	if errs := validation.ValidateConfiguration(cfg); len(errs) > 0 {
		return nil, fmt.Errorf("%s configuration: %w", PluginName, errs.ToAggregate())
	}
	return cfg, nil
}
