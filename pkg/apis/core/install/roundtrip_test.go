package install

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/apitesting/roundtrip"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/fuzzer"
)

// TestRoundTripTypes fuzzes every kind through internal -> v1beta1 -> JSON/YAML and back.
func TestRoundTripTypes(t *testing.T) {
	roundtrip.RoundTripTestForAPIGroup(t, Install, fuzzer.Funcs)
}

// TestRoundTripTypesProtobuf does the same through protobuf (the storage and preferred wire format).
func TestRoundTripTypesProtobuf(t *testing.T) {
	roundtrip.RoundTripProtobufTestForAPIGroup(t, Install, fuzzer.Funcs)
}
