// Package fuzzer fills internal core.gardener.cloud objects for round-trip tests,
// keeping them in the shape decoding (with defaults) produces.
package fuzzer

import (
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/randfill"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

// Funcs returns the fuzzer functions of the group.
var Funcs = func(runtimeserializer.CodecFactory) []interface{} {
	return []interface{}{
		func(p *core.EncryptionProvider, c randfill.Continue) {
			c.FillNoCustom(p)
			if p.Type == nil { // defaulted on decode
				t := core.EncryptionProviderTypeAESCBC
				p.Type = &t
			}
		},
	}
}
