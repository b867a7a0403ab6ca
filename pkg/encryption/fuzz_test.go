package encryption

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/storage/value"
)

// FuzzLoadConfig: any file content either fails to load with an error or gives transformers
// that round-trip a value for our resources; nothing panics or hangs. KMS entries are skipped:
// they dial a plugin socket, which is not what is being fuzzed (the KMS path has its own tests).
func FuzzLoadConfig(f *testing.F) {
	for _, p := range []string{"aescbc", "aesgcm", "secretbox"} {
		f.Add(providerConfig(keyed(p, "k1") + "  - identity: {}\n"))
	}
	f.Add(providerConfig("  - identity: {}\n"))
	f.Add("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n" +
		"- resources: ['*.core.gardener.cloud']\n  providers:\n" + keyed("aesgcm", "w") +
		"- resources: ['*.*']\n  providers:\n  - identity: {}\n")
	f.Add(providerConfig("  - aescbc:\n      keys:\n      - name: short\n        secret: c2hvcnQ=\n"))
	f.Add(providerConfig("  - secretbox:\n      keys:\n      - name: bad\n        secret: '%%%'\n"))
	f.Add(providerConfig(keyed("aescbc", "dup") + keyed("aescbc", "dup")))
	f.Add("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [internalsecrets.core.gardener.cloud, internalsecrets.core.gardener.cloud]\n  providers:\n  - identity: {}\n")
	f.Add("apiVersion: v1\nkind: ConfigMap\n")
	f.Add("{{{")
	f.Add("")

	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content string) {
		if strings.Contains(strings.ToLower(content), "kms") {
			t.Skip("KMS providers dial a plugin")
		}
		p := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		type result struct {
			l   *generation
			err error
		}
		done := make(chan result, 1)
		go func() {
			l, err := (&keyring{file: p, ctx: context.Background(), apiServerID: "fuzz"}).load(true)
			done <- result{l, err}
		}()
		var l *generation
		select {
		case r := <-done:
			if r.err != nil {
				return
			}
			l = r.l
		case <-time.After(10 * time.Second):
			t.Fatalf("loading hangs on:\n%s", content)
		}
		defer l.cancel()
		for _, gr := range []schema.GroupResource{secrets, {Group: "core.gardener.cloud", Resource: "shoots"}} {
			tr := l.transformer(gr)
			data := []byte("fuzz-marker")
			ctx := value.DefaultContext("/registry-gardener/x")
			stored, err := tr.TransformToStorage(context.Background(), data, ctx)
			if err != nil {
				continue // e.g. only identity-less read providers: writes fail cleanly
			}
			back, _, err := tr.TransformFromStorage(context.Background(), stored, ctx)
			if err != nil || !bytes.Equal(back, data) {
				t.Fatalf("%s: round trip gave %q, %v", gr, back, err)
			}
		}
	})
}
