package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Configuration configures the InternalSecretLimit admission plugin.
type Configuration struct {
	metav1.TypeMeta `json:",inline"`

	// MaxInternalSecretsPerNamespace caps the number of InternalSecrets in one namespace.
	// Unset means no limit; 0 forbids creating any.
	// +optional
	MaxInternalSecretsPerNamespace *int32 `json:"maxInternalSecretsPerNamespace,omitempty"`
}
