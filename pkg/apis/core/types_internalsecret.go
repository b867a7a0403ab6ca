package core

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// InternalSecret holds secret data like a core/v1 Secret, in a group end users are not granted.
type InternalSecret struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	// Immutable forbids changes to Data and Immutable once set to true.
	Immutable *bool
	// Data holds the secret data.
	// Data holds the secret data; the external stringData is merged into it by conversion.
	Data map[string][]byte
	// Type is used to facilitate programmatic handling of secret data.
	Type corev1.SecretType
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// InternalSecretList is a list of InternalSecrets.
type InternalSecretList struct {
	metav1.TypeMeta
	metav1.ListMeta

	Items []InternalSecret
}
