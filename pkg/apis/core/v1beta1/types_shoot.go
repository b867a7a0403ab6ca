package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +genclient:method=CreateAdminKubeconfigRequest,verb=create,subresource=adminkubeconfig,input=github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1.AdminKubeconfigRequest,result=github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1.AdminKubeconfigRequest
// +genclient:method=CreateViewerKubeconfigRequest,verb=create,subresource=viewerkubeconfig,input=github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1.ViewerKubeconfigRequest,result=github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1.ViewerKubeconfigRequest
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Shoot is the subset of Gardener's Shoot cluster resource this server serves.
type Shoot struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	// Specification of the Shoot cluster.
	// +optional
	Spec ShootSpec `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`
	// Most recently observed status of the Shoot cluster.
	// +optional
	Status ShootStatus `json:"status,omitempty" protobuf:"bytes,3,opt,name=status"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ShootList is a list of Shoots.
type ShootList struct {
	metav1.TypeMeta `json:",inline"`
	// Standard list object metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	// Items is the list of Shoots.
	Items []Shoot `json:"items" protobuf:"bytes,2,rep,name=items"`
}

// ShootSpec is the specification of a Shoot.
type ShootSpec struct {
	// Hibernation contains information whether the Shoot is suspended or not.
	// +optional
	Hibernation *Hibernation `json:"hibernation,omitempty" protobuf:"bytes,5,opt,name=hibernation"`
	// Kubernetes contains the version and configuration settings of the control plane components.
	Kubernetes Kubernetes `json:"kubernetes" protobuf:"bytes,6,opt,name=kubernetes"`
}

// Hibernation contains information whether the Shoot is suspended or not.
type Hibernation struct {
	// Enabled specifies whether the Shoot needs to be hibernated or not. If it is true, the Shoot's
	// desired state is to be hibernated. If it is false or nil, the Shoot's desired state is to be awakened.
	// +optional
	Enabled *bool `json:"enabled,omitempty" protobuf:"varint,1,opt,name=enabled"`
}

// Kubernetes contains the version and configuration settings of the control plane components.
type Kubernetes struct {
	// KubeAPIServer contains configuration settings for the kube-apiserver.
	// +optional
	KubeAPIServer *KubeAPIServerConfig `json:"kubeAPIServer,omitempty" protobuf:"bytes,3,opt,name=kubeAPIServer"`
	// Version is the semantic Kubernetes version to use for the Shoot cluster.
	Version string `json:"version" protobuf:"bytes,8,opt,name=version"`
}

// KubeAPIServerConfig contains configuration settings for the kube-apiserver.
type KubeAPIServerConfig struct {
	// EncryptionConfig contains customizable encryption configuration of the kube-apiserver.
	// +optional
	EncryptionConfig *EncryptionConfig `json:"encryptionConfig,omitempty" protobuf:"bytes,16,opt,name=encryptionConfig"`
}

// EncryptionConfig contains customizable encryption configuration of the API server.
type EncryptionConfig struct {
	// Resources contains the list of resources that shall be encrypted in addition to secrets.
	// Each item is a Kubernetes resource name in plural (resource or resource.group).
	// +optional
	// +listType=atomic
	Resources []string `json:"resources,omitempty" protobuf:"bytes,1,rep,name=resources"`
	// Provider contains information about the encryption provider.
	// +optional
	Provider EncryptionProvider `json:"provider,omitempty" protobuf:"bytes,2,opt,name=provider"`
}

// EncryptionProvider contains information about the encryption provider.
type EncryptionProvider struct {
	// Type is the type of the encryption provider: aescbc (default), aesgcm or secretbox.
	// +optional
	Type *EncryptionProviderType `json:"type,omitempty" protobuf:"bytes,1,opt,name=type,casttype=EncryptionProviderType"`
}

// EncryptionProviderType is the name of an encryption provider.
type EncryptionProviderType string

const (
	// EncryptionProviderTypeAESCBC is the default provider.
	EncryptionProviderTypeAESCBC EncryptionProviderType = "aescbc"
	// EncryptionProviderTypeAESGCM uses AES-GCM.
	EncryptionProviderTypeAESGCM EncryptionProviderType = "aesgcm"
	// EncryptionProviderTypeSecretbox uses XSalsa20 and Poly1305.
	EncryptionProviderTypeSecretbox EncryptionProviderType = "secretbox"
)

// ShootStatus holds the most recently observed status of the Shoot cluster.
type ShootStatus struct {
	// AdvertisedAddresses holds information about the entrypoints of the Shoot's API server.
	// Entries merge by name under strategic merge patch and server-side apply, as Gardener's.
	// +optional
	// +patchMergeKey=name
	// +patchStrategy=merge
	// +listType=map
	// +listMapKey=name
	AdvertisedAddresses []ShootAdvertisedAddress `json:"advertisedAddresses,omitempty" patchMergeKey:"name" patchStrategy:"merge" protobuf:"bytes,13,rep,name=advertisedAddresses"`
	// Credentials contains information about the shoot credentials.
	// +optional
	Credentials *ShootCredentials `json:"credentials,omitempty" protobuf:"bytes,15,opt,name=credentials"`
	// IsHibernated indicates whether the Shoot is currently hibernated.
	// +optional
	IsHibernated bool `json:"hibernated,omitempty" protobuf:"varint,4,opt,name=hibernated"`
	// LastOperation holds information about the last operation on the Shoot.
	// +optional
	LastOperation *LastOperation `json:"lastOperation,omitempty" protobuf:"bytes,5,opt,name=lastOperation"`
	// ObservedGeneration is the most recent generation observed for this Shoot.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty" protobuf:"varint,7,opt,name=observedGeneration"`
}

// ShootAdvertisedAddress contains information for the shoot's kube-apiserver endpoint.
type ShootAdvertisedAddress struct {
	// Name of the advertised address, e.g. external.
	Name string `json:"name" protobuf:"bytes,1,opt,name=name"`
	// URL of the API server, e.g. https://api.shoot.domain.
	URL string `json:"url" protobuf:"bytes,2,opt,name=url"`
}

// ShootCredentials contains information about the shoot credentials.
type ShootCredentials struct {
	// Rotation contains information about the credential rotations.
	// +optional
	Rotation *ShootCredentialsRotation `json:"rotation,omitempty" protobuf:"bytes,1,opt,name=rotation"`
	// EncryptionAtRest contains information about the Shoot data encryption at rest.
	// +optional
	EncryptionAtRest *EncryptionAtRest `json:"encryptionAtRest,omitempty" protobuf:"bytes,2,opt,name=encryptionAtRest"`
}

// ShootCredentialsRotation contains information about the rotation of credentials.
type ShootCredentialsRotation struct {
	// ETCDEncryptionKey contains information about the ETCD encryption key rotation.
	// +optional
	ETCDEncryptionKey *ETCDEncryptionKeyRotation `json:"etcdEncryptionKey,omitempty" protobuf:"bytes,6,opt,name=etcdEncryptionKey"`
}

// ETCDEncryptionKeyRotation contains information about the ETCD encryption key credential rotation.
type ETCDEncryptionKeyRotation struct {
	// Phase describes the phase of the ETCD encryption key credential rotation.
	// +optional
	Phase CredentialsRotationPhase `json:"phase,omitempty" protobuf:"bytes,1,opt,name=phase,casttype=CredentialsRotationPhase"`
	// LastInitiationTime is the most recent time when the rotation was initiated.
	// +optional
	LastInitiationTime *metav1.Time `json:"lastInitiationTime,omitempty" protobuf:"bytes,3,opt,name=lastInitiationTime"`
	// LastCompletionTime is the most recent time when the rotation was completed.
	// +optional
	LastCompletionTime *metav1.Time `json:"lastCompletionTime,omitempty" protobuf:"bytes,2,opt,name=lastCompletionTime"`
}

// CredentialsRotationPhase is a string alias for the phase of a credentials rotation.
type CredentialsRotationPhase string

const (
	RotationPreparing  CredentialsRotationPhase = "Preparing"
	RotationPrepared   CredentialsRotationPhase = "Prepared"
	RotationCompleting CredentialsRotationPhase = "Completing"
	RotationCompleted  CredentialsRotationPhase = "Completed"
)

// EncryptionAtRest contains information about the Shoot data encryption at rest.
type EncryptionAtRest struct {
	// Resources is the list of resources in the Shoot which are currently encrypted.
	// +optional
	// +listType=atomic
	Resources []string `json:"resources,omitempty" protobuf:"bytes,1,rep,name=resources"`
	// Provider contains information about the encryption provider in use.
	// +optional
	Provider EncryptionProviderStatus `json:"provider,omitempty" protobuf:"bytes,2,opt,name=provider"`
}

// EncryptionProviderStatus contains information about the active encryption provider.
type EncryptionProviderStatus struct {
	// Type is the used encryption provider type.
	// +optional
	Type EncryptionProviderType `json:"type,omitempty" protobuf:"bytes,1,opt,name=type,casttype=EncryptionProviderType"`
}

// LastOperation indicates the type and the state of the last operation.
type LastOperation struct {
	// A human readable message indicating details about the last operation.
	Description string `json:"description" protobuf:"bytes,1,opt,name=description"`
	// Last time the operation state transitioned from one to another.
	LastUpdateTime metav1.Time `json:"lastUpdateTime" protobuf:"bytes,2,opt,name=lastUpdateTime"`
	// The progress in percentage (0-100) of the last operation.
	Progress int32 `json:"progress" protobuf:"varint,3,opt,name=progress"`
	// Status of the last operation, one of Aborted, Processing, Succeeded, Error, Failed.
	State string `json:"state" protobuf:"bytes,4,opt,name=state"`
	// Type of the last operation, one of Create, Reconcile, Delete, Migrate, Restore.
	Type string `json:"type" protobuf:"bytes,5,opt,name=type"`
}
