package install

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/apitesting/roundtrip"
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
)

// TestRoundTripTypes fuzzes the request kinds through internal -> v1alpha1 -> JSON/YAML and back.
func TestRoundTripTypes(t *testing.T) {
	roundtrip.RoundTripTestForAPIGroup(t, Install, func(runtimeserializer.CodecFactory) []interface{} { return nil })
}

// TestRoundTripTypesProtobuf does the same through protobuf.
func TestRoundTripTypesProtobuf(t *testing.T) {
	roundtrip.RoundTripProtobufTestForAPIGroup(t, Install, func(runtimeserializer.CodecFactory) []interface{} { return nil })
}
