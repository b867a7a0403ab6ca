package authentication

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// AdminKubeconfigRequest asks for a short-lived admin kubeconfig for a Shoot.
type AdminKubeconfigRequest struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Spec   AdminKubeconfigRequestSpec
	Status AdminKubeconfigRequestStatus
}

// AdminKubeconfigRequestSpec is what the client asks for.
type AdminKubeconfigRequestSpec struct {
	// ExpirationSeconds is the requested validity; the server may grant less.
	ExpirationSeconds int64
}

// AdminKubeconfigRequestStatus is what the server issued.
type AdminKubeconfigRequestStatus struct {
	Kubeconfig          []byte
	ExpirationTimestamp metav1.Time
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ViewerKubeconfigRequest asks for a short-lived read-only kubeconfig for a Shoot.
type ViewerKubeconfigRequest struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Spec   ViewerKubeconfigRequestSpec
	Status ViewerKubeconfigRequestStatus
}

// ViewerKubeconfigRequestSpec is what the client asks for.
type ViewerKubeconfigRequestSpec struct {
	// ExpirationSeconds is the requested validity; the server may grant less.
	ExpirationSeconds int64
}

// ViewerKubeconfigRequestStatus is what the server issued.
type ViewerKubeconfigRequestStatus struct {
	Kubeconfig          []byte
	ExpirationTimestamp metav1.Time
}
