package validation

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

func secret(typ corev1.SecretType, data map[string]string) *core.InternalSecret {
	s := &core.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, Type: typ, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func fields(errs field.ErrorList) string {
	if agg := errs.ToAggregate(); agg != nil {
		return agg.Error()
	}
	return ""
}

func TestValidateInternalSecret(t *testing.T) {
	tests := []struct {
		name    string
		secret  *core.InternalSecret
		wantErr string // substring of the aggregated error; "" means valid
	}{
		{"opaque", secret(corev1.SecretTypeOpaque, map[string]string{"a.b-c_d": "x"}), ""},
		{"empty type", secret("", map[string]string{"a": "x"}), ""},
		{"custom type needs nothing", secret("example.com/custom", nil), ""},
		{"bad key", secret(corev1.SecretTypeOpaque, map[string]string{"a/b": "x"}), "data[a/b]"},
		{"dot key", secret(corev1.SecretTypeOpaque, map[string]string{".": "x"}), "data[.]"},
		{"dotdot key", secret(corev1.SecretTypeOpaque, map[string]string{"..": "x"}), "data[..]"},
		{"tls complete", secret(corev1.SecretTypeTLS, map[string]string{"tls.crt": "c", "tls.key": "k"}), ""},
		{"tls missing key", secret(corev1.SecretTypeTLS, map[string]string{"tls.crt": "c"}), "data[tls.key]"},
		{"basic-auth password only", secret(corev1.SecretTypeBasicAuth, map[string]string{"password": "p"}), ""},
		{"basic-auth empty", secret(corev1.SecretTypeBasicAuth, nil), "data[username]"},
		{"ssh-auth", secret(corev1.SecretTypeSSHAuth, nil), "data[ssh-privatekey]"},
		{"dockerconfigjson invalid JSON", secret(corev1.SecretTypeDockerConfigJson, map[string]string{".dockerconfigjson": "{"}), "data[.dockerconfigjson]: Invalid value"},
		{"dockerconfigjson not an object", secret(corev1.SecretTypeDockerConfigJson, map[string]string{".dockerconfigjson": "[]"}), "data[.dockerconfigjson]: Invalid value"},
		{"ssh-auth empty key", secret(corev1.SecretTypeSSHAuth, map[string]string{"ssh-privatekey": ""}), "data[ssh-privatekey]: Required"},
		{"dockerconfigjson missing", secret(corev1.SecretTypeDockerConfigJson, nil), "data[.dockerconfigjson]"},
		{"dockerconfigjson ok", secret(corev1.SecretTypeDockerConfigJson, map[string]string{".dockerconfigjson": "{}"}), ""},
		{"too large", secret(corev1.SecretTypeOpaque, map[string]string{"a": strings.Repeat("x", MaxSecretSize/2+1), "b": strings.Repeat("x", MaxSecretSize/2)}), "data: Too long"},
		{"exactly 1 MiB", secret(corev1.SecretTypeOpaque, map[string]string{"a": strings.Repeat("x", MaxSecretSize)}), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := fields(ValidateInternalSecret(tc.secret))
			if tc.wantErr == "" {
				assert.Empty(t, got)
			} else {
				assert.Contains(t, got, tc.wantErr)
			}
		})
	}
}

func TestValidateInternalSecretName(t *testing.T) {
	s := secret(corev1.SecretTypeOpaque, nil)
	s.Name = "Not_A_DNS_Name"
	assert.Contains(t, fields(ValidateInternalSecret(s)), "metadata.name")
	s.Name, s.Namespace = "ok", ""
	assert.Contains(t, fields(ValidateInternalSecret(s)), "metadata.namespace")
}

func TestValidateInternalSecretUpdate(t *testing.T) {
	old := secret(corev1.SecretTypeOpaque, map[string]string{"a": "1"})
	old.ResourceVersion = "1"

	changedType := old.DeepCopy()
	changedType.Type = corev1.SecretTypeTLS
	changedType.Data = map[string][]byte{"tls.crt": nil, "tls.key": nil}
	assert.Contains(t, fields(ValidateInternalSecretUpdate(changedType, old)), "type: Invalid value")

	immutable := old.DeepCopy()
	immutable.Immutable = ptr.To(true)
	data := immutable.DeepCopy()
	data.Data["a"] = []byte("2")
	assert.Contains(t, fields(ValidateInternalSecretUpdate(data, immutable)), "data: Forbidden")

	unset := immutable.DeepCopy()
	unset.Immutable = nil
	assert.Contains(t, fields(ValidateInternalSecretUpdate(unset, immutable)), "immutable: Forbidden")

	labels := immutable.DeepCopy()
	labels.Labels = map[string]string{"ok": "yes"}
	assert.Empty(t, fields(ValidateInternalSecretUpdate(labels, immutable)), "metadata may change on an immutable secret")

	// Mutable secret: data may change, and immutable may be set.
	mutable := old.DeepCopy()
	mutable.Data["b"] = []byte("new")
	mutable.Immutable = ptr.To(true)
	assert.Empty(t, fields(ValidateInternalSecretUpdate(mutable, old)))
}
