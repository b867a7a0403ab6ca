package v1beta1

// InternalSecret.type is defaulted by the registry strategy, not here: on update an
// empty type must keep the stored one, which a decode-time default cannot know.

// SetDefaults_EncryptionProvider sets aescbc, Gardener's default provider.
func SetDefaults_EncryptionProvider(obj *EncryptionProvider) {
	if obj.Type == nil {
		t := EncryptionProviderTypeAESCBC
		obj.Type = &t
	}
}
