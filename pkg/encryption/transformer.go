package encryption

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/storage/value"
)

// encPrefix starts every encrypted value; identity values are the serialized object.
var encPrefix = []byte("k8s:enc:")

// transformer is what the keyring hands the store of one resource. It encrypts with the
// configuration in effect; reads that configuration cannot decrypt fall back to the ones
// loaded earlier, so that removing a resource or key from the file does not strand data
// before the controller has rewritten it.
type transformer struct {
	gr   schema.GroupResource
	gens *atomic.Pointer[generations]

	writes    atomic.Uint64
	lastWrite atomic.Pointer[storedValue]
}

// storedValue is a value as a store wrote it or a scan found it.
type storedValue struct {
	data []byte
	ctx  value.Context
	gen  *generation // the configuration in effect when it was written or found current
	seq  uint64      // the transformer's write count when written
}

func (t *transformer) TransformFromStorage(ctx context.Context, data []byte, dataCtx value.Context) ([]byte, bool, error) {
	gens := t.gens.Load()
	out, stale, err := gens.current.transformer(t.gr).TransformFromStorage(ctx, data, dataCtx)
	if err == nil {
		return out, stale, nil
	}
	if !bytes.HasPrefix(data, encPrefix) {
		return out, stale, err
	}
	for _, g := range gens.previous {
		if out, _, ferr := g.transformer(t.gr).TransformFromStorage(ctx, data, dataCtx); ferr == nil {
			// Stale makes the store rewrite the object with the current write key.
			return out, true, nil
		}
	}
	return nil, false, fmt.Errorf("%s value stored with %q cannot be decrypted with the current encryption configuration "+
		"(add that provider or key back as a read key): %w", t.gr, StoredPrefix(data), err)
}

func (t *transformer) TransformToStorage(ctx context.Context, data []byte, dataCtx value.Context) ([]byte, error) {
	g := t.gens.Load().current
	out, err := g.transformer(t.gr).TransformToStorage(ctx, data, dataCtx)
	if err != nil {
		return nil, fmt.Errorf("encrypting %s failed, nothing was written (check the encryption provider, e.g. that the KMS plugin is reachable): %w: %w", t.gr, ErrNotEncrypted, err)
	}
	t.lastWrite.Store(&storedValue{data: out, ctx: dataCtx, gen: g, seq: t.writes.Add(1)})
	return out, nil
}

// isCurrent: v reads without error and is not stale, i.e. it is encrypted as a write now would
// be (its format is the storage codec's concern and cannot change while the server runs). It
// turns false when the write key changes without a new file, as on a KMS v2 key ID rotation.
func (t *transformer) isCurrent(ctx context.Context, v *storedValue) bool {
	_, stale, err := t.TransformFromStorage(ctx, v.data, v.ctx)
	return err == nil && !stale
}

// ErrNotEncrypted marks a write the encryption provider refused: nothing was stored, and
// the cause (a KMS plugin that is down, slow or has an expired key) is outside the request,
// so the stores answer 503 and clients retry.
var ErrNotEncrypted = errors.New("the encryption provider did not encrypt the value")

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
