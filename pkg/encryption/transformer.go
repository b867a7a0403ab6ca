package encryption

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage/value"
	"k8s.io/apiserver/pkg/storage/value/encrypt/identity"
)

// encPrefix starts every encrypted value; identity values are the serialized object.
var encPrefix = []byte("k8s:enc:")

// transformer wraps the library's transformer of one resource. Reads the current configuration
// cannot decrypt fall back to configurations loaded earlier by this process, so that removing a
// resource or key from the file does not strand data before the controller has rewritten it.
type transformer struct {
	gr       schema.GroupResource
	primary  value.Transformer // the library's, from the configuration the server serves with
	fallback func() []*loadedConfig
	// mediaType is what the storage codec writes (mediatype.go).
	mediaType string
}

func (t *transformer) TransformFromStorage(ctx context.Context, data []byte, dataCtx value.Context) ([]byte, bool, error) {
	out, stale, err := t.primary.TransformFromStorage(ctx, data, dataCtx)
	if err == nil {
		return out, stale || t.otherFormat(out), nil
	}
	if !bytes.HasPrefix(data, encPrefix) {
		return out, stale, err
	}
	for _, cfg := range t.fallback() {
		if out, _, ferr := cfg.transformer(t.gr).TransformFromStorage(ctx, data, dataCtx); ferr == nil {
			// Stale makes the store rewrite the object with the current write key.
			return out, true, nil
		}
	}
	return nil, false, fmt.Errorf("%s value stored with %q cannot be decrypted with the current encryption configuration "+
		"(add that provider or key back as a read key): %w", t.gr, StoredPrefix(data), err)
}

func (t *transformer) TransformToStorage(ctx context.Context, data []byte, dataCtx value.Context) ([]byte, error) {
	out, err := t.primary.TransformToStorage(ctx, data, dataCtx)
	if err != nil {
		return nil, fmt.Errorf("encrypting %s failed, nothing was written (check the encryption provider, e.g. that the KMS plugin is reachable): %w: %w", t.gr, ErrNotEncrypted, err)
	}
	return out, nil
}

// ErrNotEncrypted marks a write the encryption provider refused: nothing was stored, and
// the cause (a KMS plugin that is down, slow or has an expired key) is outside the request,
// so the stores answer 503 and clients retry.
var ErrNotEncrypted = errors.New("the encryption provider did not encrypt the value")

// restOptionsGetter puts a transformer wrapper into every resource's storage config and
// remembers the resources for the controller.
type restOptionsGetter struct {
	delegate  generic.RESTOptionsGetter
	c         *Controller
	mediaType string
}

func (g restOptionsGetter) GetRESTOptions(gr schema.GroupResource, example runtime.Object) (generic.RESTOptions, error) {
	opts, err := g.delegate.GetRESTOptions(gr, example)
	if err != nil || opts.StorageConfig == nil {
		return opts, err
	}
	cfg := *opts.StorageConfig
	primary := cfg.Transformer
	if primary == nil {
		primary = identity.NewEncryptCheckTransformer()
	}
	t := &transformer{gr: gr, primary: primary, fallback: g.c.config.fallbackConfigs, mediaType: g.mediaType}
	cfg.Transformer = t
	opts.StorageConfig = &cfg
	g.c.addResource(gr, t, cfg.Prefix, opts.ResourcePrefix)
	return opts, nil
}

// StoredPrefix names the provider and key of a stored value: "k8s:enc:<provider>:<version>:<key>:"
// or "identity". It never returns ciphertext.
func StoredPrefix(v []byte) string {
	if !bytes.HasPrefix(v, encPrefix) {
		return "identity"
	}
	colons := 0
	for i := 0; i < len(v) && i < 300; i++ {
		if v[i] == ':' {
			if colons++; colons == 5 {
				return string(v[:i+1])
			}
		}
	}
	return "k8s:enc:unknown"
}
