package storagecodec

import (
	"bytes"
	"fmt"
	"io"
	"mime"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	serverstorage "k8s.io/apiserver/pkg/server/storage"
)

// Codec is the codec between stored values and objects. It writes one media type
// (--storage-media-type; protobuf values carry FieldsMarker) and reads every format the server
// has stored: JSON, YAML, protobuf with Gardener's field numbers and, renumbered first,
// protobuf without the marker. Stale names the stored values it would write differently.
type Codec struct {
	inner     runtime.Codec
	mediaType string // what Encode writes, as StoredMediaType names it
}

var _ runtime.Codec = &Codec{}

// New builds the storage codec that stores objects of memoryVersion as storageVersion in
// mediaType, with the library's storage codec underneath.
func New(mediaType string, serializer runtime.StorageSerializer, storageVersion, memoryVersion schema.GroupVersion) (*Codec, error) {
	inner, _, err := serverstorage.NewStorageCodec(serverstorage.StorageCodecConfig{
		StorageMediaType:  mediaType,
		StorageSerializer: serializer,
		StorageVersion:    storageVersion,
		MemoryVersion:     memoryVersion,
	})
	if err != nil {
		return nil, err
	}
	mt, _, err := mime.ParseMediaType(mediaType)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", mediaType, err)
	}
	return &Codec{inner: inner, mediaType: mt}, nil
}

// Stale reports whether a stored value (decrypted) is in another form than Encode writes:
// another media type, or protobuf with the earlier field numbers. Decode reads it all the same;
// a write of the object converts it, and the background rewrite of the encryption controller
// counts and rewrites such values.
func (c *Codec) Stale(stored []byte) bool { return StoredMediaType(stored) != c.mediaType }

func (c *Codec) Encode(obj runtime.Object, w io.Writer) error {
	var buf bytes.Buffer
	if err := c.inner.Encode(obj, &buf); err != nil {
		return err
	}
	out := buf.Bytes()
	if bytes.HasPrefix(out, protobufMagic) {
		var err error
		if out, err = mark(out); err != nil {
			return err
		}
	}
	_, err := w.Write(out)
	return err
}

func (c *Codec) Identifier() runtime.Identifier {
	return runtime.Identifier(string(c.inner.Identifier()) + ";fields=gardener")
}

func (c *Codec) Decode(data []byte, defaults *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	if bytes.HasPrefix(data, protobufMagic) && !marked(data) {
		var err error
		if data, err = fromLegacy(data); err != nil {
			return nil, nil, err
		}
	}
	return c.inner.Decode(data, defaults, into)
}
