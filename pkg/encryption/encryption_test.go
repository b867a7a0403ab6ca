package encryption

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
	"k8s.io/apiserver/pkg/storage/value"

	"github.com/garden-apiserver/garden-apiserver/test/kmsplugin"
)

var secrets = schema.GroupResource{Group: "core.gardener.cloud", Resource: "internalsecrets"}

func key() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// providerConfig returns a configuration for internalsecrets with one provider.
func providerConfig(provider string) string {
	return "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n" +
		"- resources: [internalsecrets.core.gardener.cloud]\n  providers:\n" + provider
}

func keyed(provider, name string) string {
	return fmt.Sprintf("  - %s:\n      keys:\n      - name: %s\n        secret: %s\n", provider, name, key())
}

func writeFile(t testing.TB, p, content string) {
	t.Helper()
	if err := os.WriteFile(p+".tmp", []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		t.Fatal(err)
	}
}

// load loads one generation of a configuration with the keyring's loader.
func load(t testing.TB, content string) *generation {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, p, content)
	k := &keyring{file: p, ctx: context.Background(), apiServerID: "test"}
	g, err := k.load(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.cancel)
	return g
}

// unencrypted is the generation without a configuration file.
var unencrypted = &generation{transformers: encryptionconfig.StaticTransformers{}, cancel: func() {}}

// over returns a store's transformer that writes with current and reads through previous too.
func over(current *generation, previous ...*generation) *transformer {
	var gens atomic.Pointer[generations]
	gens.Store(&generations{current: current, previous: previous})
	return &transformer{gr: secrets, gens: &gens}
}

func TestStoredPrefix(t *testing.T) {
	for in, want := range map[string]string{
		`{"kind":"InternalSecret"}`:           "identity",
		"k8s:enc:aescbc:v1:key1:\x00\x01\xff": "k8s:enc:aescbc:v1:key1:",
		"k8s:enc:kms:v2:my-kms:\x0a\x05":      "k8s:enc:kms:v2:my-kms:",
		"k8s:enc:garbage":                     "k8s:enc:unknown",
	} {
		if got := StoredPrefix([]byte(in)); got != want {
			t.Errorf("StoredPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEnsureStandaloneConfig(t *testing.T) {
	dir := t.TempDir()
	p, err := EnsureStandaloneConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	first, _ := os.ReadFile(p)
	if _, err := EnsureStandaloneConfig(dir); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(p); !bytes.Equal(first, again) {
		t.Error("the key was regenerated")
	}
	k := &keyring{file: p, ctx: context.Background(), apiServerID: "test"}
	g, err := k.load(true)
	if err != nil {
		t.Fatalf("generated configuration does not load: %v", err)
	}
	defer g.cancel()
	out, err := g.transformer(secrets).TransformToStorage(context.Background(), []byte("{}"), value.DefaultContext("k"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(StoredPrefix(out), "k8s:enc:secretbox:v1:key-") {
		t.Errorf("internalsecrets written with %q", StoredPrefix(out))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// A value the current configuration cannot decrypt is read through an earlier one, as stale,
// and the error without one names the key but never the data.
func TestTransformerFallback(t *testing.T) {
	ctx, dataCtx := context.Background(), value.DefaultContext("/registry-gardener/core.gardener.cloud/internalsecrets/ns/a")
	old := load(t, providerConfig(keyed("aescbc", "old")))
	stored, err := old.transformer(secrets).TransformToStorage(ctx, []byte(`{"secret":"MARKER"}`), dataCtx)
	if err != nil {
		t.Fatal(err)
	}

	_, _, err = over(unencrypted).TransformFromStorage(ctx, stored, dataCtx)
	if err == nil || !strings.Contains(err.Error(), "k8s:enc:aescbc:v1:old:") || strings.Contains(err.Error(), "MARKER") {
		t.Fatalf("want an error naming the key, got %v", err)
	}
	tr := over(unencrypted, old)
	out, stale, err := tr.TransformFromStorage(ctx, stored, dataCtx)
	if err != nil || !stale || string(out) != `{"secret":"MARKER"}` {
		t.Fatalf("fallback read: %q stale=%v err=%v", out, stale, err)
	}
	// Plain data never goes to the fallback.
	if _, stale, err := tr.TransformFromStorage(ctx, []byte(`{}`), dataCtx); err != nil || stale {
		t.Fatalf("plain read: stale=%v err=%v", stale, err)
	}
}

// BenchmarkTransformerRoundTrip encrypts and decrypts a 1 KiB object with each provider as the
// storage layer does (KMS v2 through the test plugin; its DEK is cached, as in steady state).
func BenchmarkTransformerRoundTrip(b *testing.B) {
	plugin, err := kmsplugin.New(filepath.Join(b.TempDir(), "kms.sock"), "kek-1", nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := plugin.Start(); err != nil {
		b.Fatal(err)
	}
	defer plugin.Stop()
	data := bytes.Repeat([]byte("x"), 1024)
	for _, p := range []struct{ name, provider string }{
		{"identity", "  - identity: {}\n"},
		{"aescbc", keyed("aescbc", "k")},
		{"aesgcm", keyed("aesgcm", "k")},
		{"secretbox", keyed("secretbox", "k")},
		{"kmsv2", fmt.Sprintf("  - kms:\n      apiVersion: v2\n      name: bench\n      endpoint: unix://%s\n      timeout: 3s\n", plugin.Socket)},
	} {
		b.Run(p.name, func(b *testing.B) {
			tr := load(b, providerConfig(p.provider)).transformer(secrets)
			ctx, dataCtx := context.Background(), value.DefaultContext("/registry-gardener/core.gardener.cloud/internalsecrets/ns/name")
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				out, err := tr.TransformToStorage(ctx, data, dataCtx)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := tr.TransformFromStorage(ctx, out, dataCtx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
