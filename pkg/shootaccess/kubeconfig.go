// Package shootaccess issues the short-lived shoot kubeconfigs of shoots/adminkubeconfig
// and shoots/viewerkubeconfig: a fresh client key, a certificate signed by the shoot's
// client CA, one cluster and context per suitable advertised address.
package shootaccess

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"

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
// Clusters and contexts keep the order of the advertised addresses. It is written directly:
// client-go's kubeconfig codec (JSON, then a generic JSON-to-YAML conversion) costs 1.2 ms,
// 60% of an issuance with a pooled key (docs/performance.md). Every value is a JSON string
// literal, which YAML reads as a double-quoted scalar, so no input can break the document's
// structure; FuzzBuild checks that clientcmd.Load reads what the codec would have written.
func Build(shoot *core.Shoot, addrs []core.ShootAdvertisedAddress, clusterCA, certPEM, keyPEM []byte) ([]byte, error) {
	if len(addrs) == 0 {
		return nil, fmt.Errorf("no usable advertised address")
	}
	prefix := shoot.Namespace + "--" + shoot.Name
	caData := base64.StdEncoding.EncodeToString(clusterCA)

	var b bytes.Buffer
	b.Grow(2048 + len(caData)*len(addrs) + 2*len(certPEM) + 2*len(keyPEM))
	b.WriteString("apiVersion: v1\nkind: Config\nclusters:\n")
	for _, a := range addrs {
		server, err := serverURL(a.URL)
		if err != nil {
			return nil, err
		}
		b.WriteString("- name: " + quote(prefix+"-"+a.Name) + "\n  cluster:\n    server: " + quote(server) + "\n")
		if a.Name != wildcardAddress {
			b.WriteString("    certificate-authority-data: " + quote(caData) + "\n")
		}
	}
	user := prefix + "-" + addrs[0].Name
	b.WriteString("contexts:\n")
	for _, a := range addrs {
		b.WriteString("- name: " + quote(prefix+"-"+a.Name) + "\n  context:\n    cluster: " + quote(prefix+"-"+a.Name) +
			"\n    user: " + quote(user) + "\n")
	}
	b.WriteString("current-context: " + quote(prefix+"-"+addrs[0].Name) + "\n")
	b.WriteString("users:\n- name: " + quote(user) + "\n  user:\n")
	b.WriteString("    client-certificate-data: " + quote(base64.StdEncoding.EncodeToString(certPEM)) + "\n")
	b.WriteString("    client-key-data: " + quote(base64.StdEncoding.EncodeToString(keyPEM)) + "\n")
	b.WriteString("preferences: {}\n")
	return b.Bytes(), nil
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

// quote returns s as a JSON string literal that is also a valid YAML double-quoted scalar:
// JSON leaves DEL and C1 control characters raw, which YAML rejects, so those are escaped.
func quote(s string) string {
	out, _ := json.Marshal(s) // a string always marshals (invalid UTF-8 becomes U+FFFD)
	q := string(out)
	if !strings.ContainsFunc(q, notYAMLPrintable) {
		return q
	}
	var b strings.Builder
	for _, r := range q {
		if notYAMLPrintable(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// notYAMLPrintable reports runes outside YAML 1.2's printable set (tab and newlines never
// occur here: JSON escapes them).
func notYAMLPrintable(r rune) bool {
	switch {
	case r >= 0x20 && r <= 0x7e, r == 0x85, r >= 0xa0 && r <= 0xd7ff,
		r >= 0xe000 && r <= 0xfffd, r >= 0x10000 && r <= 0x10ffff:
		return false
	}
	return true
}
