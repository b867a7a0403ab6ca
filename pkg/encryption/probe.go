package encryption

import (
	"context"
	"fmt"
	"net/http"

	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/apiserver/pkg/storage/value"
)

// checkHealth runs the KMS probes (cached by the library), which also rotates the KMS v2 DEK
// when the plugin reports a new key ID.
func checkHealth(h healthz.HealthChecker) error {
	if h == nil {
		return nil
	}
	req, _ := http.NewRequest(http.MethodGet, "/healthz/"+h.Name(), nil)
	return h.Check(req)
}

var probeData = []byte(`{"kind":"EncryptionProbe","apiVersion":"v1"}`)

// sameWriteKey reports whether a and b encrypt with the same provider and key: each reads what
// the other wrote, and neither finds it stale.
func sameWriteKey(ctx context.Context, a, b value.Transformer, key string) (bool, error) {
	dataCtx := value.DefaultContext(key)
	for _, pair := range [][2]value.Transformer{{a, b}, {b, a}} {
		stored, err := pair[0].TransformToStorage(ctx, probeData, dataCtx)
		if err != nil {
			return false, fmt.Errorf("probing the encryption provider: %w", err)
		}
		if _, stale, err := pair[1].TransformFromStorage(ctx, stored, dataCtx); err != nil || stale {
			return false, nil
		}
	}
	return true, nil
}

// writeFingerprint returns a value written now; if it reads as stale later, the write key
// changed in between.
func writeFingerprint(ctx context.Context, t value.Transformer, key string) ([]byte, error) {
	return t.TransformToStorage(ctx, probeData, value.DefaultContext(key))
}

func fingerprintCurrent(ctx context.Context, t value.Transformer, key string, fp []byte) bool {
	_, stale, err := t.TransformFromStorage(ctx, fp, value.DefaultContext(key))
	return err == nil && !stale
}
