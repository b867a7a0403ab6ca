package validation_test

import (
	"testing"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication"
	authv1alpha1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1"
	authvalidation "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/validation"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/validation"
	"github.com/garden-apiserver/garden-apiserver/pkg/apiserver"
)

const (
	coreAV = `"apiVersion":"core.gardener.cloud/v1beta1"`
	authAV = `"apiVersion":"authentication.gardener.cloud/v1alpha1"`
)

// seeds holds one JSON and one YAML document per served kind, plus hostile shapes.
var seeds = []string{
	`{` + coreAV + `,"kind":"InternalSecret","metadata":{"name":"s","namespace":"garden-p"},"type":"kubernetes.io/tls","data":{"tls.crt":"Qw==","tls.key":"Sw=="},"stringData":{"x":"y"}}`,
	`{` + coreAV + `,"kind":"InternalSecretList","items":[{"metadata":{"name":"a"},"data":{"../k":"AA=="}}]}`,
	`{` + coreAV + `,"kind":"Shoot","metadata":{"name":"prod","namespace":"garden-p"},"spec":{"kubernetes":{"version":"1.31.2","kubeAPIServer":{"encryptionConfig":{"resources":["secrets","configmaps.","*.apps"]}}}},"status":{"advertisedAddresses":[{"name":"external","url":"https://a"}]}}`,
	`{` + coreAV + `,"kind":"ShootList","items":[{"metadata":{"name":"x"}}]}`,
	`{` + authAV + `,"kind":"AdminKubeconfigRequest","spec":{"expirationSeconds":-1}}`,
	`{` + authAV + `,"kind":"ViewerKubeconfigRequest","spec":{"expirationSeconds":9223372036854775807}}`,
	"apiVersion: core.gardener.cloud/v1beta1\nkind: InternalSecret\nmetadata:\n  name: y\ndata:\n  \"\\xff\": AA==\n",
	"apiVersion: core.gardener.cloud/v1beta1\nkind: Shoot\nmetadata:\n  name: &a y\nspec:\n  kubernetes:\n    version: *a\n",
	"apiVersion: authentication.gardener.cloud/v1alpha1\nkind: AdminKubeconfigRequest\nspec:\n  expirationSeconds: 1e30\n",
	"apiVersion: authentication.gardener.cloud/v1alpha1\nkind: ViewerKubeconfigRequest\nspec: {}\n",
	`{` + coreAV + `,"kind":"InternalSecret","data":{"a":[[[[[[[[[[[[]]]]]]]]]]]]}}`,
	`{` + coreAV + `,"kind":"InternalSecret","metadata":{"name":"","generateName":"x-","labels":{"a/b/c":"\u0000"}},"data":null}`,
	`{"kind":"InternalSecret"}`, `{}`, ``, `null`, `[]`, "---\n---\n",
}

// FuzzDecodeAndValidate: no JSON or YAML body panics the decoders, the conversion to the
// internal version, or validation.
func FuzzDecodeAndValidate(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	deserializer := apiserver.Codecs.UniversalDeserializer()
	decoder := apiserver.Codecs.UniversalDecoder() // to the internal versions, defaulted
	// Request bodies stay in their wire version, defaulted, and are converted to the internal
	// KubeconfigRequest by the subresource.
	bodies := apiserver.Codecs.UniversalDecoder(authv1alpha1.SchemeGroupVersion)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _ = deserializer.Decode(data, nil, nil)
		if body, _, err := bodies.Decode(data, nil, nil); err == nil {
			req := &authentication.KubeconfigRequest{}
			if apiserver.Scheme.Convert(body, req, nil) == nil {
				_ = authvalidation.ValidateExpirationSeconds(req.Spec.ExpirationSeconds)
			}
		}
		obj, _, err := decoder.Decode(data, nil, nil)
		if err != nil {
			return
		}
		switch o := obj.(type) {
		case *core.InternalSecret:
			_ = validation.ValidateInternalSecret(o)
			_ = validation.ValidateInternalSecretUpdate(o, o.DeepCopy())
		case *core.InternalSecretList:
			for i := range o.Items {
				_ = validation.ValidateInternalSecret(&o.Items[i])
			}
		case *core.Shoot:
			_ = validation.ValidateShoot(o)
			_ = validation.ValidateShootUpdate(o, o.DeepCopy())
			_ = validation.ValidateShootStatusUpdate(o, o.DeepCopy())
		case *core.ShootList:
			for i := range o.Items {
				_ = validation.ValidateShoot(&o.Items[i])
			}
		}
	})
}
