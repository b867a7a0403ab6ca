package v1alpha1

// DefaultExpirationSeconds is Gardener's default validity of an issued kubeconfig (one hour).
const DefaultExpirationSeconds int64 = 60 * 60

// SetDefaults_AdminKubeconfigRequestSpec defaults the requested validity.
func SetDefaults_AdminKubeconfigRequestSpec(obj *AdminKubeconfigRequestSpec) {
	if obj.ExpirationSeconds == nil {
		v := DefaultExpirationSeconds
		obj.ExpirationSeconds = &v
	}
}

// SetDefaults_ViewerKubeconfigRequestSpec defaults the requested validity.
func SetDefaults_ViewerKubeconfigRequestSpec(obj *ViewerKubeconfigRequestSpec) {
	if obj.ExpirationSeconds == nil {
		v := DefaultExpirationSeconds
		obj.ExpirationSeconds = &v
	}
}
