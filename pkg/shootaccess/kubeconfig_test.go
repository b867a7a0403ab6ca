package shootaccess

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"
	"sigs.k8s.io/yaml"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

func TestBuildKeepsAddressOrder(t *testing.T) {
	shoot := &core.Shoot{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "garden-p"}}
	addrs := UsableAddresses([]core.ShootAdvertisedAddress{
		{Name: "unmanaged", URL: "https://u"},
		{Name: "service-account-issuer", URL: "https://i"},
		{Name: "external", URL: "https://e"},
		{Name: "wildcard-tls-seed-bound", URL: "https://w"},
	})
	raw, err := Build(shoot, addrs, []byte("CA"), []byte("CERT"), []byte("KEY"))
	require.NoError(t, err)

	cfg, err := clientcmd.Load(raw)
	require.NoError(t, err)
	assert.Equal(t, "garden-p--s-unmanaged", cfg.CurrentContext)
	assert.Len(t, cfg.Clusters, 3)
	assert.Equal(t, []byte("CA"), cfg.Clusters["garden-p--s-external"].CertificateAuthorityData)
	assert.Empty(t, cfg.Clusters["garden-p--s-wildcard-tls-seed-bound"].CertificateAuthorityData)
	assert.Equal(t, []byte("CERT"), cfg.AuthInfos["garden-p--s-unmanaged"].ClientCertificateData, "one user, named after the first address")
	assert.Len(t, cfg.AuthInfos, 1)

	// Every field a client needs, per advertised address.
	for name, server := range map[string]string{"unmanaged": "https://u", "external": "https://e", "wildcard-tls-seed-bound": "https://w"} {
		full := "garden-p--s-" + name
		assert.Equal(t, server, cfg.Clusters[full].Server, name)
		if assert.Contains(t, cfg.Contexts, full) {
			assert.Equal(t, full, cfg.Contexts[full].Cluster)
			assert.Equal(t, "garden-p--s-unmanaged", cfg.Contexts[full].AuthInfo)
		}
	}
	assert.Len(t, cfg.Contexts, 3)
	assert.Equal(t, []byte("KEY"), cfg.AuthInfos["garden-p--s-unmanaged"].ClientKeyData)

	// The YAML lists clusters and contexts in address order, not sorted by name.
	var ordered clientcmdv1.Config
	require.NoError(t, yaml.Unmarshal(raw, &ordered))
	want := []string{"garden-p--s-unmanaged", "garden-p--s-external", "garden-p--s-wildcard-tls-seed-bound"}
	require.Len(t, ordered.Contexts, len(ordered.Clusters))
	var clusters, contexts []string
	for i := range ordered.Clusters {
		clusters = append(clusters, ordered.Clusters[i].Name)
		contexts = append(contexts, ordered.Contexts[i].Name)
	}
	assert.Equal(t, want, clusters, "order kept: %s", raw)
	assert.Equal(t, want, contexts, "order kept: %s", raw)

	_, err = Build(shoot, nil, nil, nil, nil)
	assert.Error(t, err)
}

func TestBuildQuotesHostileValues(t *testing.T) {
	shoot := &core.Shoot{ObjectMeta: metav1.ObjectMeta{Name: "s\n  user: x\"", Namespace: "garden-p"}}
	raw, err := Build(shoot, []core.ShootAdvertisedAddress{{Name: "external", URL: "https://api.example.com"}}, nil, []byte("C"), []byte("K"))
	require.NoError(t, err)
	cfg, err := clientcmd.Load(raw)
	require.NoError(t, err)
	assert.Contains(t, cfg.Clusters, "garden-p--s\n  user: x\"-external", "the value round-trips unchanged")

	_, err = Build(shoot, []core.ShootAdvertisedAddress{{Name: "external", URL: "https://x\n  server: https://evil"}}, nil, []byte("C"), []byte("K"))
	assert.Error(t, err, "a URL that does not parse is refused")
}

func TestBuildDropsThePath(t *testing.T) {
	shoot := &core.Shoot{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "garden-p"}}
	raw, err := Build(shoot, []core.ShootAdvertisedAddress{{Name: "external", URL: "https://api.example.com:8443/some/path"}}, nil, []byte("C"), []byte("K"))
	require.NoError(t, err)
	cfg, err := clientcmd.Load(raw)
	require.NoError(t, err)
	assert.Equal(t, "https://api.example.com:8443", cfg.Clusters["garden-p--s-external"].Server)
}
