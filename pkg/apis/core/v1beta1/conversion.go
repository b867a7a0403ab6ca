package v1beta1

import (
	"fmt"

	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

// addFieldLabelConversions lists the fields usable in field selectors, per kind.
func addFieldLabelConversions(scheme *runtime.Scheme) error {
	if err := scheme.AddFieldLabelConversionFunc(SchemeGroupVersion.WithKind("InternalSecret"),
		func(label, value string) (string, string, error) {
			switch label {
			case "metadata.name", "metadata.namespace", "type":
				return label, value, nil
			}
			return "", "", fmt.Errorf("field label not supported for InternalSecret: %s (supported: metadata.name, metadata.namespace, type)", label)
		}); err != nil {
		return err
	}
	return scheme.AddFieldLabelConversionFunc(SchemeGroupVersion.WithKind("Shoot"),
		func(label, value string) (string, string, error) {
			switch label {
			case "metadata.name", "metadata.namespace":
				return label, value, nil
			}
			return "", "", fmt.Errorf("field label not supported for Shoot: %s (supported: metadata.name, metadata.namespace)", label)
		})
}

// Convert_v1beta1_InternalSecret_To_core_InternalSecret merges stringData into data,
// as core/v1 Secrets do; the internal type has no stringData, so it is never returned.
func Convert_v1beta1_InternalSecret_To_core_InternalSecret(in *InternalSecret, out *core.InternalSecret, s conversion.Scope) error {
	if err := autoConvert_v1beta1_InternalSecret_To_core_InternalSecret(in, out, s); err != nil {
		return err
	}
	if len(in.StringData) == 0 {
		return nil
	}
	// Copy: the generated conversion may share the map with the input.
	data := make(map[string][]byte, len(in.Data)+len(in.StringData))
	for k, v := range in.Data {
		data[k] = v
	}
	for k, v := range in.StringData {
		data[k] = []byte(v)
	}
	out.Data = data
	return nil
}
