package storagecodec

import (
	"bytes"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// New wraps the storage codec the library builds: protobuf values it writes carry
// FieldsMarker, and protobuf values without it are renumbered before they are decoded.
// Other formats pass through unchanged.
func New(inner runtime.Codec) runtime.Codec {
	return &codec{inner: inner}
}

type codec struct {
	inner runtime.Codec
}

func (c *codec) Encode(obj runtime.Object, w io.Writer) error {
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

func (c *codec) Identifier() runtime.Identifier {
	return runtime.Identifier(string(c.inner.Identifier()) + ";fields=gardener")
}

func (c *codec) Decode(data []byte, defaults *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	if bytes.HasPrefix(data, protobufMagic) && !marked(data) {
		var err error
		if data, err = fromLegacy(data); err != nil {
			return nil, nil, err
		}
	}
	return c.inner.Decode(data, defaults, into)
}
