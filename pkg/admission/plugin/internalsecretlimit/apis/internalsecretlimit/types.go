package internalsecretlimit

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Configuration configures the InternalSecretLimit admission plugin.
type Configuration struct {
	metav1.TypeMeta

	// MaxInternalSecretsPerNamespace caps the number of InternalSecrets in one namespace;
	// nil means no limit.
	MaxInternalSecretsPerNamespace *int32
}
