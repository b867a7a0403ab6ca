package authentication

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// KubeconfigRequest asks for a short-lived kubeconfig for a Shoot. It is the internal form of
// both AdminKubeconfigRequest and ViewerKubeconfigRequest: the subresource that receives it
// decides the kind of kubeconfig, not the body.
type KubeconfigRequest struct {
	metav1.TypeMeta
	metav1.ObjectMeta
	Spec   KubeconfigRequestSpec
	Status KubeconfigRequestStatus
}

// KubeconfigRequestSpec is what the client asks for.
type KubeconfigRequestSpec struct {
	// ExpirationSeconds is the requested validity; the server may grant less.
	ExpirationSeconds int64
}

// KubeconfigRequestStatus is what the server issued.
type KubeconfigRequestStatus struct {
	Kubeconfig          []byte
	ExpirationTimestamp metav1.Time
}
