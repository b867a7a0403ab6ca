// Package kubeconfig issues the short-lived shoot kubeconfigs of shoots/adminkubeconfig
// and shoots/viewerkubeconfig: a fresh client key, a certificate signed by the shoot's
// client CA, one cluster and context per suitable advertised address.
package kubeconfig

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

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

// Build renders a kubeconfig for the shoot with the given client certificate and key.
func Build(shoot *core.Shoot, addrs []core.ShootAdvertisedAddress, clusterCA, certPEM, keyPEM []byte) ([]byte, error) {
	if len(addrs) == 0 {
		return nil, fmt.Errorf("no usable advertised address")
	}
	prefix := shoot.Namespace + "--" + shoot.Name
	cfg := clientcmdapi.NewConfig()
	authInfo := prefix
	cfg.AuthInfos[authInfo] = &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}
	for i, a := range addrs {
		name := prefix + "-" + a.Name
		cluster := &clientcmdapi.Cluster{Server: a.URL}
		if a.Name != wildcardAddress {
			cluster.CertificateAuthorityData = clusterCA
		}
		cfg.Clusters[name] = cluster
		cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: authInfo}
		if i == 0 {
			cfg.CurrentContext = name
		}
	}
	return clientcmd.Write(*cfg)
}
