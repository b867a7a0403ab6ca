package storagecodec

import (
	"bytes"

	"google.golang.org/protobuf/encoding/protowire"
	"k8s.io/apimachinery/pkg/runtime"
)

const (
	// FieldsMarker is the ContentType of the protobuf envelope (runtime.Unknown, field 4) of
	// every value this codec writes: the object inside has Gardener's field numbers. The
	// apimachinery protobuf serializer ignores the field on decode.
	FieldsMarker = runtime.ContentTypeProtobuf + ";fields=gardener"
	// LegacyProtobuf names protobuf values without the marker: they carry the earlier field
	// numbers and are read through the renumbering table.
	LegacyProtobuf = runtime.ContentTypeProtobuf + ";fields=legacy"
)

// protobufMagic starts every value the protobuf serializer writes.
var protobufMagic = []byte("k8s\x00")

// envelopeContentType is the field number of runtime.Unknown's contentType.
const envelopeContentType protowire.Number = 4

// StoredMediaType names the format of a decrypted stored value: protobuf (with Gardener's
// field numbers), LegacyProtobuf, JSON or YAML.
func StoredMediaType(v []byte) string {
	switch {
	case bytes.HasPrefix(v, protobufMagic) && !marked(v):
		return LegacyProtobuf
	case bytes.HasPrefix(v, protobufMagic):
		return runtime.ContentTypeProtobuf
	case bytes.HasPrefix(bytes.TrimLeft(v, " \t\r\n"), []byte("{")):
		return runtime.ContentTypeJSON
	default:
		return runtime.ContentTypeYAML
	}
}

// marked reports whether the envelope of the protobuf value v carries FieldsMarker. It only
// walks the envelope's top-level fields, copying nothing.
func marked(v []byte) bool {
	b := v[len(protobufMagic):]
	found := false
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return false
		}
		if num == envelopeContentType && typ == protowire.BytesType {
			ct, _ := protowire.ConsumeBytes(b[n : n+m])
			found = string(ct) == FieldsMarker // the last occurrence wins, as in protobuf
		}
		b = b[n+m:]
	}
	return found
}

// mark returns the protobuf value v with FieldsMarker as its envelope's content type.
func mark(v []byte) ([]byte, error) {
	out := make([]byte, len(protobufMagic), len(v)+len(FieldsMarker)+2)
	copy(out, protobufMagic)
	b := v[len(protobufMagic):]
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		if num != envelopeContentType {
			out = append(out, b[:n+m]...)
		}
		b = b[n+m:]
	}
	out = protowire.AppendTag(out, envelopeContentType, protowire.BytesType)
	return protowire.AppendString(out, FieldsMarker), nil
}
