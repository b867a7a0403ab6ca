package encryption

import (
	"mime"

	"github.com/garden-apiserver/garden-apiserver/pkg/storagecodec"
)

// The server also rewrites objects stored in another format than --storage-media-type (JSON
// written by an earlier release, before protobuf became the default): a decrypted value in
// another format reads as stale, exactly like one written with an old key, so the store writes
// it again on any update and the controller counts and rewrites it.

// storedMediaType names the format of a decrypted stored value; protobuf with the earlier
// field numbers is a format of its own (storagecodec.LegacyProtobuf), so it reads as stale too.
func storedMediaType(v []byte) string { return storagecodec.StoredMediaType(v) }

// writeMediaType is the media type the storage codec writes, without parameters; empty when
// unknown, which turns the format check off.
func writeMediaType(flag string) string {
	mt, _, err := mime.ParseMediaType(flag)
	if err != nil {
		return ""
	}
	return mt
}

// otherFormat: the decrypted value is not in the format new writes use.
func (t *transformer) otherFormat(decrypted []byte) bool {
	return t.mediaType != "" && storedMediaType(decrypted) != t.mediaType
}
