package core

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Shoot is the subset of Gardener's Shoot this server serves.
type Shoot struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Spec   ShootSpec
	Status ShootStatus
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ShootList is a list of Shoots.
type ShootList struct {
	metav1.TypeMeta
	metav1.ListMeta

	Items []Shoot
}

// ShootSpec is the specification of a Shoot.
type ShootSpec struct {
	Hibernation *Hibernation
	Kubernetes  Kubernetes
}

// Hibernation says whether the shoot should be hibernated.
type Hibernation struct {
	Enabled *bool
}

// Kubernetes contains the version and configuration of the shoot's control plane.
type Kubernetes struct {
	KubeAPIServer *KubeAPIServerConfig
	Version       string
}

// KubeAPIServerConfig configures the shoot's kube-apiserver.
type KubeAPIServerConfig struct {
	EncryptionConfig *EncryptionConfig
}

// EncryptionConfig says which resources the shoot's etcd encrypts besides secrets.
type EncryptionConfig struct {
	Resources []string
	Provider  EncryptionProvider
}

// EncryptionProvider selects the encryption provider.
type EncryptionProvider struct {
	Type *EncryptionProviderType
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

// ShootStatus is the observed state of a Shoot.
type ShootStatus struct {
	AdvertisedAddresses []ShootAdvertisedAddress
	Credentials         *ShootCredentials
	IsHibernated        bool
	LastOperation       *LastOperation
	ObservedGeneration  int64
}

// ShootAdvertisedAddress is an address under which the shoot's API server is reachable.
type ShootAdvertisedAddress struct {
	Name string
	URL  string
}

// ShootCredentials describes the state of the shoot's credentials.
type ShootCredentials struct {
	Rotation         *ShootCredentialsRotation
	EncryptionAtRest *EncryptionAtRest
}

// ShootCredentialsRotation describes credential rotations.
type ShootCredentialsRotation struct {
	ETCDEncryptionKey *ETCDEncryptionKeyRotation
}

// ETCDEncryptionKeyRotation describes the rotation of the etcd encryption key.
type ETCDEncryptionKeyRotation struct {
	Phase              CredentialsRotationPhase
	LastInitiationTime *metav1.Time
	LastCompletionTime *metav1.Time
}

// CredentialsRotationPhase is the phase of a credentials rotation.
type CredentialsRotationPhase string

const (
	RotationPreparing  CredentialsRotationPhase = "Preparing"
	RotationPrepared   CredentialsRotationPhase = "Prepared"
	RotationCompleting CredentialsRotationPhase = "Completing"
	RotationCompleted  CredentialsRotationPhase = "Completed"
)

// EncryptionAtRest is what the shoot's etcd currently encrypts.
type EncryptionAtRest struct {
	Resources []string
	Provider  EncryptionProviderStatus
}

// EncryptionProviderStatus is the provider currently in use.
type EncryptionProviderStatus struct {
	Type EncryptionProviderType
}

// Types and states of LastOperation that the update rules look at.
const (
	LastOperationTypeCreate     = "Create"
	LastOperationTypeReconcile  = "Reconcile"
	LastOperationTypeRestore    = "Restore"
	LastOperationStateSucceeded = "Succeeded"
)

// LastOperation is the last operation performed on the shoot.
type LastOperation struct {
	Description    string
	LastUpdateTime metav1.Time
	Progress       int32
	State          string
	Type           string
}
