package validation

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

func shoot(name, namespace string, resources ...string) *core.Shoot {
	s := &core.Shoot{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: core.ShootSpec{Kubernetes: core.Kubernetes{Version: "1.31.2"}}}
	if resources != nil {
		s.Spec.Kubernetes.KubeAPIServer = &core.KubeAPIServerConfig{EncryptionConfig: &core.EncryptionConfig{Resources: resources}}
	}
	return s
}

func TestValidateShootEncryptionResources(t *testing.T) {
	tests := map[string]struct {
		resources []string
		wantErr   string
	}{
		"core and grouped":     {[]string{"configmaps", "deployments.apps", "foos.example.com"}, ""},
		"secrets":              {[]string{"secrets"}, `resources[0]: Forbidden: "secrets" are always encrypted`},
		"duplicate":            {[]string{"configmaps", "configmaps"}, "resources[1]: Duplicate value"},
		"duplicate group":      {[]string{"deployments.apps", "deployments.apps"}, "resources[1]: Duplicate value"},
		"wildcard":             {[]string{"*.apps"}, "wildcards are not supported"},
		"trailing dot":         {[]string{"configmaps."}, "resource should not end with '.'"},
		"events.k8s.io":        {[]string{"events.events.k8s.io"}, "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead"},
		"extensions":           {[]string{"ingresses.extensions"}, "'extensions' group has been removed and cannot be used for encryption"},
		"apiserveripinfo":      {[]string{"apiserveripinfo"}, "resources which do not have REST API/s cannot be encrypted"},
		"serviceipallocations": {[]string{"serviceipallocations"}, "resources which do not have REST API/s cannot be encrypted"},
		"nodeportallocations":  {[]string{"servicenodeportallocations"}, "resources which do not have REST API/s cannot be encrypted"},
		"uppercase":            {[]string{"ConfigMaps"}, "resource must be lower case"},
		"malformed":            {[]string{"config_maps"}, "resource name a lowercase RFC 1123 label"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := fields(ValidateShoot(shoot("s", "garden-p", tc.resources...)))
			if tc.wantErr == "" {
				assert.Empty(t, got)
			} else {
				assert.Contains(t, got, tc.wantErr)
				assert.Contains(t, got, "spec.kubernetes.kubeAPIServer.encryptionConfig")
			}
		})
	}
}

func TestValidateShootProviderAndVersion(t *testing.T) {
	s := shoot("s", "garden-p", "configmaps")
	bad := core.EncryptionProviderType("rot13")
	s.Spec.Kubernetes.KubeAPIServer.EncryptionConfig.Provider.Type = &bad
	assert.Contains(t, fields(ValidateShoot(s)), "provider.type: Unsupported value")
	s.Spec.Kubernetes.KubeAPIServer.EncryptionConfig.Provider.Type = ptr.To(core.EncryptionProviderTypeSecretbox)
	assert.Empty(t, fields(ValidateShoot(s)))

	for v, want := range map[string]string{"": "Required", "1.31": "semantic version", "latest": "semantic version", "1.31.2": ""} {
		s := shoot("s", "garden-p")
		s.Spec.Kubernetes.Version = v
		got := fields(ValidateShoot(s))
		if want == "" {
			assert.Empty(t, got, v)
		} else {
			assert.Contains(t, got, "spec.kubernetes.version", v)
			assert.Contains(t, got, want, v)
		}
	}
}

func TestValidateShootName(t *testing.T) {
	assert.Contains(t, fields(ValidateShoot(shoot("a--b", "garden-p"))), "two consecutive hyphens")
	assert.Contains(t, fields(ValidateShoot(shoot("a.b", "garden-p"))), "metadata.name")
	// shoot--<project>--<name> must fit 63 characters; the garden- prefix does not count.
	project := strings.Repeat("p", 20)
	fits := strings.Repeat("s", 63-len("shoot--"+project+"--"))
	assert.Empty(t, fields(ValidateShoot(shoot(fits, "garden-"+project))))
	assert.Contains(t, fields(ValidateShoot(shoot(fits+"s", "garden-"+project))), "metadata.name: Too long")
	assert.Equal(t, "shoot--dev--s", TechnicalID("garden-dev", "s"))
}

func TestValidateShootStatus(t *testing.T) {
	s := shoot("s", "garden-p")
	s.Status.AdvertisedAddresses = []core.ShootAdvertisedAddress{
		{Name: "external", URL: "https://api.example.com"},
		{Name: "external", URL: "https://other.example.com"},
		{Name: "", URL: "http://plain"},
	}
	got := fields(ValidateShootStatus(&s.Status, nil))
	assert.Contains(t, got, "advertisedAddresses[1].name: Duplicate value")
	assert.Contains(t, got, "advertisedAddresses[2].name: Required")
	assert.Contains(t, got, "advertisedAddresses[2].url: Invalid value")
}

func TestValidateAdvertisedURL(t *testing.T) {
	for url, want := range map[string]string{
		"https://api.example.com":           "",
		"https://api.example.com:8443/path": "",
		"http://api.example.com":            "absolute https URL",
		"https:///path":                     "absolute https URL",
		"https://user:pw@api.example.com":   "user info",
		"https://api.example.com?x=1":       "query",
		"https://api.example.com?":          "query",
		"https://api.example.com#frag":      "fragment",
		"https://api.example.com#":          "fragment",
	} {
		s := shoot("s", "garden-p")
		s.Status.AdvertisedAddresses = []core.ShootAdvertisedAddress{{Name: "external", URL: url}}
		got := fields(ValidateShootStatus(&s.Status, field.NewPath("status")))
		if want == "" {
			assert.Empty(t, got, url)
			continue
		}
		assert.Contains(t, got, "status.advertisedAddresses[0].url", url)
		assert.Contains(t, got, want, url)
	}
}
