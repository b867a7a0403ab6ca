package validation

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

// The cases of Kubernetes' own Secret validation tests (TestValidateSecret,
// TestValidateSecretUpdate, TestValidateDockerConfigSecret, TestValidateBasicAuthSecret,
// TestValidateSSHAuthSecret, TestValidateTLSSecret in k8s.io/kubernetes
// pkg/apis/core/validation), applied to InternalSecrets: the same verdict, and the field paths
// kube-apiserver reports for them.

func kubeValidSecret() *core.InternalSecret {
	return &core.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "foo", Namespace: "bar"},
		Data: map[string][]byte{"data-1": []byte("bar")}}
}

func kubeSecret(mutate func(*core.InternalSecret)) *core.InternalSecret {
	s := kubeValidSecret()
	mutate(s)
	return s
}

func kubeTyped(typ corev1.SecretType, data map[string]string, mutate ...func(*core.InternalSecret)) *core.InternalSecret {
	s := &core.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "foo", Namespace: "bar"}, Type: typ, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	for _, m := range mutate {
		m(s)
	}
	return s
}

func saToken(mutate func(*core.InternalSecret)) *core.InternalSecret {
	return kubeTyped(corev1.SecretTypeServiceAccountToken, map[string]string{"data-1": "bar"}, func(s *core.InternalSecret) {
		s.Annotations = map[string]string{corev1.ServiceAccountNameKey: "foo"}
		mutate(s)
	})
}

const (
	dockercfg  = `{"https://index.docker.io/v1/": {"auth": "Y2x1ZWRyb29sZXIwMDAxOnBhc3N3b3Jk","email": "fake@example.com"}}`
	dockerjson = `{"auths":{"https://index.docker.io/v1/": {"auth": "Y2x1ZWRyb29sZXIwMDAxOnBhc3N3b3Jk","email": "fake@example.com"}}}`
)

func TestKubernetesSecretCases(t *testing.T) {
	tests := map[string]struct {
		secret *core.InternalSecret
		fields []string // the paths kube-apiserver reports; none means valid
	}{
		// TestValidateSecret
		"valid":                              {kubeValidSecret(), nil},
		"empty name":                         {kubeSecret(func(s *core.InternalSecret) { s.Name = "" }), []string{"metadata.name"}},
		"invalid name":                       {kubeSecret(func(s *core.InternalSecret) { s.Name = "NoUppercaseOrSpecialCharsLike=Equals" }), []string{"metadata.name"}},
		"empty namespace":                    {kubeSecret(func(s *core.InternalSecret) { s.Namespace = "" }), []string{"metadata.namespace"}},
		"invalid namespace":                  {kubeSecret(func(s *core.InternalSecret) { s.Namespace = "NoUppercaseOrSpecialCharsLike=Equals" }), []string{"metadata.namespace"}},
		"over max size":                      {kubeSecret(func(s *core.InternalSecret) { s.Data = map[string][]byte{"over": make([]byte, MaxSecretSize+1)} }), []string{"data"}},
		"invalid key":                        {kubeSecret(func(s *core.InternalSecret) { s.Data["a*b"] = []byte("whoops") }), []string{"data[a*b]"}},
		"valid service-account-token secret": {saToken(func(*core.InternalSecret) {}), nil},
		"empty service-account-token annotation": {saToken(func(s *core.InternalSecret) { s.Annotations[corev1.ServiceAccountNameKey] = "" }),
			[]string{"metadata.annotations[kubernetes.io/service-account.name]"}},
		"missing service-account-token annotation": {saToken(func(s *core.InternalSecret) { delete(s.Annotations, corev1.ServiceAccountNameKey) }),
			[]string{"metadata.annotations[kubernetes.io/service-account.name]"}},
		"missing service-account-token annotations": {saToken(func(s *core.InternalSecret) { s.Annotations = nil }),
			[]string{"metadata.annotations[kubernetes.io/service-account.name]"}},
		"leading dot key": {kubeSecret(func(s *core.InternalSecret) { s.Data[".key"] = []byte("bar") }), nil},
		"dot key":         {kubeSecret(func(s *core.InternalSecret) { s.Data["."] = []byte("bar") }), []string{"data[.]"}},
		"double dot key":  {kubeSecret(func(s *core.InternalSecret) { s.Data[".."] = []byte("bar") }), []string{"data[..]"}},

		// TestValidateDockerConfigSecret
		"valid dockercfg":     {kubeTyped(corev1.SecretTypeDockercfg, map[string]string{".dockercfg": dockercfg}), nil},
		"missing dockercfg":   {kubeTyped(corev1.SecretTypeDockercfg, nil), []string{"data[.dockercfg]"}},
		"empty dockercfg":     {kubeTyped(corev1.SecretTypeDockercfg, map[string]string{".dockercfg": ""}), []string{"data[.dockercfg]"}},
		"invalid dockercfg":   {kubeTyped(corev1.SecretTypeDockercfg, map[string]string{".dockercfg": "bad"}), []string{"data[.dockercfg]"}},
		"valid config.json":   {kubeTyped(corev1.SecretTypeDockerConfigJson, map[string]string{".dockerconfigjson": dockerjson}), nil},
		"missing config.json": {kubeTyped(corev1.SecretTypeDockerConfigJson, nil), []string{"data[.dockerconfigjson]"}},
		"empty config.json":   {kubeTyped(corev1.SecretTypeDockerConfigJson, map[string]string{".dockerconfigjson": ""}), []string{"data[.dockerconfigjson]"}},
		"invalid config.json": {kubeTyped(corev1.SecretTypeDockerConfigJson, map[string]string{".dockerconfigjson": "bad"}), []string{"data[.dockerconfigjson]"}},

		// TestValidateBasicAuthSecret
		"valid basic-auth": {kubeTyped(corev1.SecretTypeBasicAuth, map[string]string{"username": "username", "password": "password"}), nil},
		"missing username and password": {kubeTyped(corev1.SecretTypeBasicAuth, nil),
			[]string{"data[username]", "data[password]"}},

		// TestValidateSSHAuthSecret
		"valid ssh-auth":      {kubeTyped(corev1.SecretTypeSSHAuth, map[string]string{"ssh-privatekey": "foo-bar-baz"}), nil},
		"missing private key": {kubeTyped(corev1.SecretTypeSSHAuth, nil), []string{"data[ssh-privatekey]"}},

		// TestValidateTLSSecret: its cases carry no type (so Opaque rules apply) and no
		// namespace in the error cases, hence the Required on metadata.namespace.
		"empty certificate chain": {kubeTyped("", map[string]string{"tls.crt": "public key", "tls.key": "private key"},
			func(s *core.InternalSecret) { s.Name, s.Namespace = "tls-cert", "namespace" }), nil},
		"tls missing public key": {kubeTyped("", map[string]string{"tls.crt": "public key"},
			func(s *core.InternalSecret) { s.Name, s.Namespace = "tls-cert", "" }), []string{"metadata.namespace"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, e := range ValidateInternalSecret(tc.secret) {
				got = append(got, e.Field)
			}
			assert.Equal(t, tc.fields, got)
		})
	}
}

func TestKubernetesSecretUpdateCases(t *testing.T) {
	valid := func(immutable *bool, data ...string) *core.InternalSecret {
		s := kubeValidSecret()
		s.ResourceVersion = "20"
		s.Immutable = immutable
		if len(data) == 2 {
			s.Data[data[0]] = []byte(data[1])
		}
		return s
	}
	secret, immutable, mutable := valid(nil), valid(ptr.To(true)), valid(ptr.To(false))
	tests := []struct {
		name     string
		old, new *core.InternalSecret
		fields   []string
	}{
		{"mark secret immutable", secret, immutable, nil},
		{"revert immutable secret", immutable, secret, []string{"immutable"}},
		{"makr immutable secret mutable", immutable, mutable, []string{"immutable"}},
		{"add data in secret", secret, valid(nil, "data-2", "baz"), nil},
		{"add data in immutable secret", immutable, valid(ptr.To(true), "data-2", "baz"), []string{"data"}},
		{"change data in secret", secret, valid(nil, "data-1", "foo"), nil},
		{"change data in immutable secret", immutable, valid(ptr.To(true), "data-1", "foo"), []string{"data"}},
		// ValidateSecretUpdate's type rule.
		{"change type", secret, kubeTyped(corev1.SecretTypeSSHAuth, map[string]string{"ssh-privatekey": "k"}, func(s *core.InternalSecret) { s.ResourceVersion = "20" }), []string{"type"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range ValidateInternalSecretUpdate(tc.new, tc.old) {
				got = append(got, e.Field)
			}
			assert.Equal(t, tc.fields, got)
		})
	}
}
