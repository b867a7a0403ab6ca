// Package shootaccess issues the short-lived shoot kubeconfigs of shoots/adminkubeconfig
// and shoots/viewerkubeconfig: a fresh client key, a certificate signed by the shoot's
// client CA, one cluster and context per suitable advertised address.
package shootaccess

import (
	"fmt"
	"net/url"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	clientcmdlatest "k8s.io/client-go/tools/clientcmd/api/latest"
	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

// Address names that get a cluster in the kubeconfig; others (e.g. service-account-issuer)
// are not API server endpoints for users.
var usableAddresses = sets.New("external", "internal", "wildcard-tls-seed-bound", "unmanaged")

// wildcardAddress is served with a publicly trusted certificate: no CA data.
const wildcardAddress = "wildcard-tls-seed-bound"

// UsableAddresses returns the advertised addresses that get a cluster, in order.
func UsableAddresses(addrs []core.ShootAdvertisedAddress) []core.ShootAdvertisedAddress {
	var out []core.ShootAdvertisedAddress
	for _, a := range addrs {
		if usableAddresses.Has(a.Name) {
			out = append(out, a)
		}
	}
	return out
}

// Build renders a kubeconfig for the shoot with the given client certificate and key, with
// client-go's kubeconfig types and codec, as Gardener writes it. The v1 types are lists, so
// clusters and contexts keep the order of the advertised addresses (clientcmd.Write, taking
// the internal maps, would sort them by name).
func Build(shoot *core.Shoot, addrs []core.ShootAdvertisedAddress, clusterCA, certPEM, keyPEM []byte) ([]byte, error) {
	if len(addrs) == 0 {
		return nil, fmt.Errorf("no usable advertised address")
	}
	prefix := shoot.Namespace + "--" + shoot.Name
	user := prefix + "-" + addrs[0].Name
	cfg := &clientcmdv1.Config{
		CurrentContext: user,
		Clusters:       make([]clientcmdv1.NamedCluster, 0, len(addrs)),
		Contexts:       make([]clientcmdv1.NamedContext, 0, len(addrs)),
		AuthInfos: []clientcmdv1.NamedAuthInfo{{Name: user, AuthInfo: clientcmdv1.AuthInfo{
			ClientCertificateData: certPEM, ClientKeyData: keyPEM,
		}}},
	}
	for _, a := range addrs {
		server, err := serverURL(a.URL)
		if err != nil {
			return nil, err
		}
		name := prefix + "-" + a.Name
		cluster := clientcmdv1.Cluster{Server: server}
		if a.Name != wildcardAddress {
			cluster.CertificateAuthorityData = clusterCA
		}
		cfg.Clusters = append(cfg.Clusters, clientcmdv1.NamedCluster{Name: name, Cluster: cluster})
		cfg.Contexts = append(cfg.Contexts, clientcmdv1.NamedContext{Name: name, Context: clientcmdv1.Context{Cluster: name, AuthInfo: user}})
	}
	return runtime.Encode(clientcmdlatest.Codec, cfg)
}

// serverURL keeps scheme, host and port of an advertised URL: a path would make clients
// address the wrong endpoints.
func serverURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("advertised address %q is not an absolute URL", raw)
	}
	return "https://" + u.Host, nil
}
