package upgrade

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
	"k8s.io/apiserver/pkg/storage/value"

	"github.com/garden-apiserver/garden-apiserver/pkg/encryption"
	"github.com/garden-apiserver/garden-apiserver/pkg/storagecodec"
)

var storedResources = []string{"internalsecrets", "shoots"}

// storedFormats decrypts every stored value of our resources with the standalone encryption
// configuration in stateDir and counts them per format (storagecodec.StoredMediaType).
func storedFormats(t *testing.T, etcdURL, stateDir string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := encryptionconfig.LoadEncryptionConfig(ctx, filepath.Join(stateDir, encryption.StandaloneConfigFile), false, "upgrade-test")
	require.NoError(t, err)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{etcdURL}, DialTimeout: 10 * time.Second})
	require.NoError(t, err)
	defer cli.Close()
	out := map[string]int{}
	for _, resource := range storedResources {
		tr := encryptionconfig.StaticTransformers(cfg.Transformers).TransformerForResource(schema.GroupResource{Group: "core.gardener.cloud", Resource: resource})
		resp, err := cli.Get(ctx, "/registry-gardener/core.gardener.cloud/"+resource+"/", clientv3.WithPrefix())
		require.NoError(t, err)
		for _, kv := range resp.Kvs {
			plain, _, err := tr.TransformFromStorage(ctx, kv.Value, value.DefaultContext(kv.Key))
			require.NoError(t, err, string(kv.Key))
			out[storagecodec.StoredMediaType(plain)]++
		}
	}
	return out
}
